//! Wallet addresses: the identity of a payer and the owner of every resource.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::{Error, ErrorKind, Result};

/// A payer's wallet address in a canonical, comparable form.
///
/// - EVM (Base, Tempo, MegaETH): `0x` + 40 lowercase hex digits (the checksum case is dropped
///   so two spellings of one address are one owner).
/// - Solana: the base58 public key as given (32–44 base58 characters; base58 is case
///   sensitive, so it is kept as is).
///
/// It only ever comes from a **verified** payer or signature, never from a client-written field.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct WalletAddress(String);

impl WalletAddress {
    /// The canonical string.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this is an EVM address.
    pub fn is_evm(&self) -> bool {
        self.0.starts_with("0x")
    }
}

impl FromStr for WalletAddress {
    type Err = Error;
    /// Parses and canonicalises an EVM or Solana address.
    fn from_str(s: &str) -> Result<Self> {
        let s = s.trim();
        if let Some(hex) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
            if hex.len() == 40 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Ok(WalletAddress(format!("0x{}", hex.to_ascii_lowercase())));
            }
        } else if (32..=44).contains(&s.len())
            && s.bytes().all(|b| b.is_ascii_alphanumeric() && !matches!(b, b'0' | b'O' | b'I' | b'l'))
        {
            return Ok(WalletAddress(s.to_owned()));
        }
        Err(Error::new(ErrorKind::InvalidInput, "not an EVM or Solana wallet address"))
    }
}

impl TryFrom<String> for WalletAddress {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        s.parse()
    }
}

impl From<WalletAddress> for String {
    fn from(w: WalletAddress) -> String {
        w.0
    }
}

impl fmt::Display for WalletAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evm_addresses_are_lowercased_and_solana_kept() {
        let a: WalletAddress = "0xAbCdEf0000000000000000000000000000000001".parse().unwrap();
        assert_eq!(a.as_str(), "0xabcdef0000000000000000000000000000000001");
        assert!(a.is_evm());
        let s: WalletAddress = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v".parse().unwrap();
        assert_eq!(s.as_str(), "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v");
        for bad in
            ["", "0x12", "0xZZcdef0000000000000000000000000000000001", "short", "0OIl0OIl0OIl0OIl0OIl0OIl0OIl0OIl"]
        {
            assert!(bad.parse::<WalletAddress>().is_err(), "{bad}");
        }
    }
}
