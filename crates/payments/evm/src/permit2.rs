//! The signed Permit2 `exact` payment in chain types (payments-x402.md §2 "EVM with
//! Permit2"): strict parsing of `payload.permit2Authorization` and of the optional
//! `extensions.eip2612GasSponsoring.info`, their EIP-712 signing hashes, the semantic replay
//! key, the rail-private settlement data and the proxy calldata.
//!
//! Wire shapes (numbers are decimal strings, addresses `0x` hex), as @x402/evm 2.27 sends them:
//! - `payload = {signature, permit2Authorization: {from, permitted: {token, amount}, spender,
//!   nonce, deadline, witness: {to, validAfter}}}`;
//! - `extensions.eip2612GasSponsoring.info = {from, asset, spender, amount, nonce, deadline,
//!   signature, version}` (the client merges it into the server's advertised `info`, so extra
//!   keys such as `description` are ignored).

use alloy::primitives::{Address, B256, Bytes, Signature, U256};
use alloy::sol_types::{Eip712Domain, SolCall, SolStruct};
use compute_core::{Error, ErrorKind, Result};
use compute_pay_x402::{EIP2612_GAS_SPONSORING, Reason};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::auth::{parse_address, parse_hex, parse_uint};
use crate::contracts::{
    EIP2612Permit, IX402ExactPermit2Proxy, Permit, PermitTransferFrom, PermitWitnessTransferFrom, TokenPermissions,
    Witness,
};

/// x402 reason codes of the Permit2 family that [`Reason`] does not name: the @x402/evm 2.27
/// facilitator's strings (`exact/facilitator/errors.ts`), except `invalid_eip2612_signature`
/// and `invalid_eip2612_nonce`, which the gateway checks before simulating (the reference
/// facilitator leaves both to the simulation).
pub(crate) mod reasons {
    pub(crate) const INVALID_SPENDER: &str = "invalid_permit2_spender";
    pub(crate) const RECIPIENT_MISMATCH: &str = "invalid_permit2_recipient_mismatch";
    pub(crate) const NOT_YET_VALID: &str = "permit2_not_yet_valid";
    pub(crate) const AMOUNT_MISMATCH: &str = "permit2_amount_mismatch";
    pub(crate) const TOKEN_MISMATCH: &str = "permit2_token_mismatch";
    pub(crate) const NONCE_USED: &str = "permit2_invalid_nonce";
    pub(crate) const SIMULATION_FAILED: &str = "permit2_simulation_failed";
    pub(crate) const INSUFFICIENT_BALANCE: &str = "permit2_insufficient_balance";
    pub(crate) const PROXY_NOT_DEPLOYED: &str = "permit2_proxy_not_deployed";
    pub(crate) const EIP2612_FORMAT: &str = "invalid_eip2612_extension_format";
    pub(crate) const EIP2612_FROM_MISMATCH: &str = "eip2612_from_mismatch";
    pub(crate) const EIP2612_ASSET_MISMATCH: &str = "eip2612_asset_mismatch";
    pub(crate) const EIP2612_SPENDER: &str = "eip2612_spender_not_permit2";
    pub(crate) const EIP2612_DEADLINE_EXPIRED: &str = "eip2612_deadline_expired";
    pub(crate) const EIP2612_AMOUNT_MISMATCH: &str = "permit2_2612_amount_mismatch";
    pub(crate) const EIP2612_SIGNATURE: &str = "invalid_eip2612_signature";
    pub(crate) const EIP2612_NONCE: &str = "invalid_eip2612_nonce";
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WirePayload {
    signature: String,
    permit2_authorization: WireAuthorization,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireAuthorization {
    from: String,
    permitted: WirePermitted,
    spender: String,
    nonce: String,
    deadline: String,
    witness: WireWitness,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct WirePermitted {
    token: String,
    amount: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireWitness {
    to: String,
    valid_after: String,
}

/// The `info` fields of `eip2612GasSponsoring` the facilitator needs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct WireSponsoring {
    from: String,
    asset: String,
    spender: String,
    amount: String,
    nonce: String,
    deadline: String,
    signature: String,
    version: String,
}

/// A signed Permit2 authorization: the payer and the `PermitWitnessTransferFrom` it signed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SignedPermit2 {
    /// The payer (`permit2Authorization.from`), who must be the signer.
    pub(crate) from: Address,
    /// The signed struct (`spender` must be x402ExactPermit2Proxy).
    pub(crate) permit: PermitWitnessTransferFrom,
    /// The payer's signature over [`SignedPermit2::signing_hash`].
    pub(crate) signature: Bytes,
}

/// The payer's EIP-2612 `permit(from, Permit2, amount)` of `eip2612GasSponsoring`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Sponsoring {
    /// The token it approves on.
    pub(crate) asset: Address,
    /// The signed `Permit` (owner = `from`, spender = Permit2, value = `amount`).
    pub(crate) permit: Permit,
    /// 65-byte `r‖s‖v` signature under the token's EIP-712 domain.
    pub(crate) signature: Signature,
    /// The extension's schema version (`"1"`).
    pub(crate) version: String,
}

/// A Permit2 payment: the authorization and, when the payer sent one, its sponsoring permit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Permit2Payment {
    pub(crate) signed: SignedPermit2,
    pub(crate) sponsoring: Option<Sponsoring>,
}

fn malformed(what: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::InvalidInput, format!("malformed Permit2 payload: {what}"))
        .with_reason(Reason::InvalidPayload)
}

impl Permit2Payment {
    /// Parses the scheme `payload` and the v2 `extensions` of a Permit2 payment.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`]: `invalid_payload` for the payload, and
    /// `invalid_eip2612_extension_format` for a complete but malformed sponsoring `info`. An
    /// `info` that lacks a field (e.g. the server's advertisement echoed back) is no sponsoring.
    pub(crate) fn parse(payload: &Value, extensions: Option<&Map<String, Value>>) -> Result<Self> {
        let wire = WirePayload::deserialize(payload).map_err(malformed)?;
        let a = &wire.permit2_authorization;
        let signed = SignedPermit2 {
            from: parse_address(&a.from, "permit2Authorization.from")?,
            permit: PermitWitnessTransferFrom {
                permitted: TokenPermissions {
                    token: parse_address(&a.permitted.token, "permitted.token")?,
                    amount: parse_uint(&a.permitted.amount, "permitted.amount")?,
                },
                spender: parse_address(&a.spender, "permit2Authorization.spender")?,
                nonce: parse_uint(&a.nonce, "permit2Authorization.nonce")?,
                deadline: parse_uint(&a.deadline, "permit2Authorization.deadline")?,
                witness: Witness {
                    to: parse_address(&a.witness.to, "witness.to")?,
                    validAfter: parse_uint(&a.witness.valid_after, "witness.validAfter")?,
                },
            },
            signature: parse_hex(&wire.signature, "signature")?,
        };
        let info = extensions.and_then(|e| e.get(EIP2612_GAS_SPONSORING)).and_then(|s| s.get("info"));
        let sponsoring = match info.and_then(|i| serde_json::from_value::<WireSponsoring>(i.clone()).ok()) {
            Some(w) => Some(Sponsoring::parse(&w).map_err(|e| {
                Error::new(ErrorKind::InvalidInput, format!("eip2612GasSponsoring: {}", e.message()))
                    .with_reason(reasons::EIP2612_FORMAT)
            })?),
            None => None,
        };
        Ok(Permit2Payment { signed, sponsoring })
    }

    /// The rail-private data `settle` needs ([`compute_core::payment::Verified::settlement`]):
    /// the normalised payload and sponsoring info.
    pub(crate) fn to_settlement(&self) -> Value {
        json!({
            "x402Version": 2,
            "assetTransferMethod": "permit2",
            "payload": self.signed.to_wire(),
            "eip2612": self.sponsoring.as_ref().map(Sponsoring::to_wire),
        })
    }

    /// Reads back what [`Permit2Payment::to_settlement`] wrote.
    pub(crate) fn from_settlement(settlement: &Value) -> Result<Self> {
        let bad = || Error::new(ErrorKind::Internal, "settlement data of another rail or transfer method");
        if settlement.get("assetTransferMethod").and_then(Value::as_str) != Some("permit2") {
            return Err(bad());
        }
        let mut extensions = Map::new();
        if let Some(info) = settlement.get("eip2612").filter(|v| !v.is_null()) {
            extensions.insert(EIP2612_GAS_SPONSORING.to_owned(), json!({ "info": info }));
        }
        let payment =
            Permit2Payment::parse(settlement.get("payload").ok_or_else(bad)?, Some(&extensions)).map_err(|_| bad())?;
        if settlement.get("eip2612").is_some_and(|v| !v.is_null()) && payment.sponsoring.is_none() {
            return Err(bad());
        }
        Ok(payment)
    }

    /// Calldata of the settlement: `proxy.settleWithPermit(permit2612, permit, owner, witness,
    /// sig)` with a sponsoring permit, `proxy.settle(permit, owner, witness, sig)` without.
    pub(crate) fn proxy_calldata(&self) -> Bytes {
        let p = &self.signed.permit;
        let permit = PermitTransferFrom {
            permitted: TokenPermissions { token: p.permitted.token, amount: p.permitted.amount },
            nonce: p.nonce,
            deadline: p.deadline,
        };
        let witness = Witness { to: p.witness.to, validAfter: p.witness.validAfter };
        let (owner, signature) = (self.signed.from, self.signed.signature.clone());
        let data = match &self.sponsoring {
            None => IX402ExactPermit2Proxy::settleCall { permit, owner, witness, signature }.abi_encode(),
            Some(s) => {
                let permit2612 = EIP2612Permit {
                    value: s.permit.value,
                    deadline: s.permit.deadline,
                    r: B256::from(s.signature.r()),
                    s: B256::from(s.signature.s()),
                    v: 27 + u8::from(s.signature.v()),
                };
                IX402ExactPermit2Proxy::settleWithPermitCall { permit2612, permit, owner, witness, signature }
                    .abi_encode()
            }
        };
        Bytes::from(data)
    }
}

impl SignedPermit2 {
    /// The EIP-712 hash the payer signed: domain `{name: "Permit2", chainId, verifyingContract:
    /// permit2}` (no version).
    pub(crate) fn signing_hash(&self, chain_id: u64, permit2: Address) -> B256 {
        let domain = Eip712Domain::new(Some("Permit2".into()), None, Some(U256::from(chain_id)), Some(permit2), None);
        self.permit.eip712_signing_hash(&domain)
    }

    /// The semantic replay key: SHA-256 of `("x402-permit2", chain id, token, from, nonce)`.
    /// Permit2 nonces are single-use per owner, so this identifies one payment whatever its
    /// encoding; the tag keeps it apart from EIP-3009 keys of the same numbers.
    pub(crate) fn replay_key(&self, chain_id: u64) -> B256 {
        let mut h = Sha256::new();
        h.update(b"x402-permit2");
        h.update(chain_id.to_be_bytes());
        h.update(self.permit.permitted.token.as_slice());
        h.update(self.from.as_slice());
        h.update(self.permit.nonce.to_be_bytes::<32>());
        B256::from_slice(&h.finalize())
    }

    /// Permit2's bitmap coordinates of the nonce: `(word = nonce >> 8, bit = 1 << (nonce & 0xff))`.
    pub(crate) fn nonce_position(&self) -> (U256, U256) {
        let nonce = self.permit.nonce;
        (nonce >> 8, U256::from(1u8) << (nonce & U256::from(0xffu16)).to::<usize>())
    }

    fn to_wire(&self) -> WirePayload {
        let p = &self.permit;
        WirePayload {
            signature: self.signature.to_string(),
            permit2_authorization: WireAuthorization {
                from: self.from.to_checksum(None),
                permitted: WirePermitted {
                    token: p.permitted.token.to_checksum(None),
                    amount: p.permitted.amount.to_string(),
                },
                spender: p.spender.to_checksum(None),
                nonce: p.nonce.to_string(),
                deadline: p.deadline.to_string(),
                witness: WireWitness {
                    to: p.witness.to.to_checksum(None),
                    valid_after: p.witness.validAfter.to_string(),
                },
            },
        }
    }
}

impl Sponsoring {
    fn parse(w: &WireSponsoring) -> Result<Self> {
        let raw = parse_hex(&w.signature, "signature")?;
        let signature = (raw.len() == 65)
            .then(|| Signature::from_raw(&raw).ok())
            .flatten()
            .ok_or_else(|| malformed("the EIP-2612 signature is not 65 bytes r‖s‖v"))?;
        let version_ok = !w.version.is_empty()
            && w.version.split('.').all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
        if !version_ok {
            return Err(malformed("version is not a dotted number"));
        }
        Ok(Sponsoring {
            asset: parse_address(&w.asset, "asset")?,
            permit: Permit {
                owner: parse_address(&w.from, "from")?,
                spender: parse_address(&w.spender, "spender")?,
                value: parse_uint(&w.amount, "amount")?,
                nonce: parse_uint(&w.nonce, "nonce")?,
                deadline: parse_uint(&w.deadline, "deadline")?,
            },
            signature,
            version: w.version.clone(),
        })
    }

    /// The EIP-712 hash of the `Permit` under the token's domain `{name, version, chainId,
    /// verifyingContract: token}`.
    pub(crate) fn signing_hash(&self, token_domain: &Eip712Domain) -> B256 {
        self.permit.eip712_signing_hash(token_domain)
    }

    fn to_wire(&self) -> WireSponsoring {
        let p = &self.permit;
        let mut sig = self.signature.as_bytes();
        sig[64] = 27 + u8::from(self.signature.v());
        WireSponsoring {
            from: p.owner.to_checksum(None),
            asset: self.asset.to_checksum(None),
            spender: p.spender.to_checksum(None),
            amount: p.value.to_string(),
            nonce: p.nonce.to_string(),
            deadline: p.deadline.to_string(),
            signature: Bytes::from(sig.to_vec()).to_string(),
            version: self.version.clone(),
        }
    }
}

#[cfg(test)]
#[path = "permit2_tests.rs"]
mod tests;
