//! The signed EIP-3009 authorization in chain types: strict parsing of the wire strings, the
//! EIP-712 signing hash, the semantic replay key and the rail-private settlement data.

use alloy::primitives::{Address, B256, Bytes, U256, keccak256};
use alloy::sol_types::SolStruct;
use compute_core::{Error, ErrorKind, Result};
use compute_pay_x402::Reason;
use compute_pay_x402::exact_evm::{Eip3009Authorization, ExactEvmPayload};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::contracts::TransferWithAuthorization;

/// An authorization and its signature, parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SignedAuthorization {
    pub(crate) auth: TransferWithAuthorization,
    pub(crate) signature: Bytes,
}

impl SignedAuthorization {
    /// Parses the wire payload: addresses and the nonce as `0x` hex, numbers as decimal
    /// strings, the signature as `0x` hex.
    pub(crate) fn parse(p: &ExactEvmPayload) -> Result<Self> {
        let a = &p.authorization;
        Ok(SignedAuthorization {
            auth: TransferWithAuthorization {
                from: parse_address(&a.from, "from")?,
                to: parse_address(&a.to, "to")?,
                value: parse_uint(&a.value, "value")?,
                validAfter: parse_uint(&a.valid_after, "validAfter")?,
                validBefore: parse_uint(&a.valid_before, "validBefore")?,
                nonce: parse_b256(&a.nonce, "nonce")?,
            },
            signature: parse_hex(&p.signature, "signature")?,
        })
    }

    /// The EIP-712 hash the payer signed, under the domain whose separator is
    /// `domain_separator` (the rail keeps it: it is the same for every payment).
    pub(crate) fn signing_hash(&self, domain_separator: B256) -> B256 {
        eip712_hash(domain_separator, self.auth.eip712_hash_struct())
    }

    /// The semantic replay key: SHA-256 of `(chain id, token, from, nonce)`. EIP-3009 nonces are
    /// single-use per token and authorizer, so this identifies one authorization whatever its
    /// encoding (address case, v1 or v2 envelope, extra JSON fields).
    pub(crate) fn replay_key(&self, chain_id: u64, asset: Address) -> B256 {
        let mut h = Sha256::new();
        h.update(chain_id.to_be_bytes());
        h.update(asset.as_slice());
        h.update(self.auth.from.as_slice());
        h.update(self.auth.nonce.as_slice());
        B256::from_slice(&h.finalize())
    }

    /// The normalised wire form (checksummed addresses, decimal numbers).
    pub(crate) fn to_payload(&self) -> ExactEvmPayload {
        let a = &self.auth;
        ExactEvmPayload {
            signature: self.signature.to_string(),
            authorization: Eip3009Authorization {
                from: a.from.to_checksum(None),
                to: a.to.to_checksum(None),
                value: a.value.to_string(),
                valid_after: a.validAfter.to_string(),
                valid_before: a.validBefore.to_string(),
                nonce: a.nonce.to_string(),
            },
        }
    }

    /// The rail-private data `settle` needs ([`compute_core::payment::Verified::settlement`]).
    pub(crate) fn to_settlement(&self, x402_version: u8) -> Value {
        json!({"x402Version": x402_version, "payload": self.to_payload()})
    }

    /// Reads back what [`SignedAuthorization::to_settlement`] wrote.
    pub(crate) fn from_settlement(settlement: &Value) -> Result<(Self, u8)> {
        let bad = || Error::new(ErrorKind::Internal, "settlement data of another rail or version");
        let version = match settlement.get("x402Version").and_then(Value::as_u64) {
            Some(1) => 1,
            Some(2) => 2,
            _ => return Err(bad()),
        };
        let payload = ExactEvmPayload::from_json(settlement.get("payload").ok_or_else(bad)?).map_err(|_| bad())?;
        Ok((SignedAuthorization::parse(&payload).map_err(|_| bad())?, version))
    }
}

/// `keccak256(0x19 ‖ 0x01 ‖ domainSeparator ‖ hashStruct(message))` (EIP-712 § Specification).
fn eip712_hash(domain_separator: B256, struct_hash: B256) -> B256 {
    let mut data = [0u8; 66];
    data[..2].copy_from_slice(&[0x19, 0x01]);
    data[2..34].copy_from_slice(domain_separator.as_slice());
    data[34..].copy_from_slice(struct_hash.as_slice());
    keccak256(data)
}

fn invalid(field: &str, what: &str) -> Error {
    Error::new(ErrorKind::InvalidInput, format!("payment field `{field}` is not {what}"))
        .with_reason(Reason::InvalidPayload)
}

fn hex_body<'a>(s: &'a str, field: &str, what: &str) -> Result<&'a str> {
    let body = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")).ok_or_else(|| invalid(field, what))?;
    if body.bytes().all(|b| b.is_ascii_hexdigit()) { Ok(body) } else { Err(invalid(field, what)) }
}

pub(crate) fn parse_address(s: &str, field: &str) -> Result<Address> {
    let body = hex_body(s, field, "a 0x-prefixed 20-byte address")?;
    if body.len() != 40 {
        return Err(invalid(field, "a 0x-prefixed 20-byte address"));
    }
    let bytes = hex::decode(body).map_err(|_| invalid(field, "a 0x-prefixed 20-byte address"))?;
    Ok(Address::from_slice(&bytes))
}

fn parse_b256(s: &str, field: &str) -> Result<B256> {
    let body = hex_body(s, field, "a 0x-prefixed 32-byte hex string")?;
    if body.len() != 64 {
        return Err(invalid(field, "a 0x-prefixed 32-byte hex string"));
    }
    let bytes = hex::decode(body).map_err(|_| invalid(field, "a 0x-prefixed 32-byte hex string"))?;
    Ok(B256::from_slice(&bytes))
}

pub(crate) fn parse_hex(s: &str, field: &str) -> Result<Bytes> {
    let body = hex_body(s, field, "0x-prefixed hex")?;
    let bytes = hex::decode(body).map_err(|_| invalid(field, "0x-prefixed hex"))?;
    if bytes.is_empty() {
        return Err(invalid(field, "a non-empty signature"));
    }
    Ok(Bytes::from(bytes))
}

pub(crate) fn parse_uint(s: &str, field: &str) -> Result<U256> {
    if s.is_empty() || s.len() > 78 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid(field, "a decimal string"));
    }
    U256::from_str_radix(s, 10).map_err(|_| invalid(field, "a uint256 decimal string"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload() -> ExactEvmPayload {
        ExactEvmPayload {
            signature: format!("0x{}", "11".repeat(65)),
            authorization: Eip3009Authorization {
                from: "0x857b06519E91e3A54538791bDbb0E22373e36b66".into(),
                to: "0x209693Bc6afc0C5328bA36FaF03C514EF312287C".into(),
                value: "10000".into(),
                valid_after: "0".into(),
                valid_before: "1740672154".into(),
                nonce: "0xf3746613c2d920b5fdabc0856f2aeb2d4f88ee6037b8cc5d04a71a4462f13480".into(),
            },
        }
    }

    #[test]
    fn parses_and_normalises() {
        let s = SignedAuthorization::parse(&payload()).unwrap();
        assert_eq!(s.auth.value, U256::from(10_000u64));
        assert_eq!(s.signature.len(), 65);
        assert_eq!(s.to_payload(), payload());
        let (back, v) = SignedAuthorization::from_settlement(&s.to_settlement(1)).unwrap();
        assert_eq!((back, v), (s, 1));
    }

    #[test]
    fn the_signing_hash_from_a_kept_separator_is_alloys() {
        let s = SignedAuthorization::parse(&payload()).unwrap();
        let domain = alloy::sol_types::eip712_domain! {
            name: "USDC", version: "2", chain_id: 84532, verifying_contract: Address::repeat_byte(7),
        };
        assert_eq!(s.signing_hash(domain.separator()), s.auth.eip712_signing_hash(&domain));
    }

    #[test]
    fn the_replay_key_ignores_the_encoding() {
        let a = SignedAuthorization::parse(&payload()).unwrap();
        let mut lower = payload();
        lower.authorization.from = lower.authorization.from.to_ascii_lowercase();
        lower.authorization.nonce = lower.authorization.nonce.to_ascii_uppercase().replacen("0X", "0x", 1);
        let b = SignedAuthorization::parse(&lower).unwrap();
        let token = Address::repeat_byte(7);
        assert_eq!(a.replay_key(84532, token), b.replay_key(84532, token));
        assert_ne!(a.replay_key(84532, token), a.replay_key(8453, token));
        assert_ne!(a.replay_key(84532, token), a.replay_key(84532, Address::repeat_byte(8)));
    }

    #[test]
    fn malformed_fields_are_invalid_payload() {
        let cases: [fn(&mut ExactEvmPayload); 8] = [
            |p| p.authorization.from = "857b06519E91e3A54538791bDbb0E22373e36b66".into(),
            |p| p.authorization.to = "0x209693".into(),
            |p| p.authorization.value = "0x10".into(),
            |p| p.authorization.value = "-1".into(),
            |p| p.authorization.valid_before = "1e9".into(),
            |p| p.authorization.nonce = "0x1234".into(),
            |p| p.signature = "0xzz".into(),
            |p| p.signature = "0x".into(),
        ];
        for (i, tamper) in cases.iter().enumerate() {
            let mut p = payload();
            tamper(&mut p);
            let e = SignedAuthorization::parse(&p).unwrap_err();
            assert_eq!((e.kind(), e.reason()), (ErrorKind::InvalidInput, Some("invalid_payload")), "case {i}");
        }
        let mut huge = payload();
        huge.authorization.value = "9".repeat(78);
        assert!(SignedAuthorization::parse(&huge).is_err(), "overflows uint256");
    }
}
