//! [`EvmSettings`]: one entry of the gateway's `[[payments.evm]]` list, turned into an
//! [`EvmConfig`] with the token filled in for the chains whose USDC is known.
//!
//! ```toml
//! [[payments.evm]]
//! chain_id = 8453                 # 84532 Base Sepolia; any eip155 chain with token_* set
//! rpc_url = "https://…"           # secret: often embeds an API key
//! pay_to = "0x…"                  # receives payments
//! signer_key = "0x…"              # hot wallet that submits settlements and pays gas
//! # token_address, token_name, token_version, decimals: defaults for 8453 and 84532
//! # max_timeout_seconds = 300
//! # rail = "base"                 # the rail id (default: base on 8453/84532, evm-<chain> elsewhere)
//! ```

use secrecy::SecretString;
use serde::Deserialize;

use crate::{COMPONENT, Eip3009Token, EvmConfig};
use compute_core::{Error, ErrorKind, Result};

/// One EVM chain of `[[payments.evm]]` (x402 `exact` with EIP-3009; payments-x402.md §2).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvmSettings {
    /// Chain id: 8453 Base, 84532 Base Sepolia, or another eip155 chain with an EIP-3009 token.
    pub chain_id: u64,
    /// JSON-RPC URL (secret: it often embeds an API key).
    pub rpc_url: SecretString,
    /// Token address (default: USDC of Base or Base Sepolia for those chain ids).
    pub token_address: Option<String>,
    /// The token's EIP-712 domain name (default: `USD Coin` on Base, `USDC` on Base Sepolia).
    pub token_name: Option<String>,
    /// The token's EIP-712 domain version (default `2`).
    pub token_version: Option<String>,
    /// Token decimals (default 6).
    pub decimals: Option<u8>,
    /// Address that receives payments (`payTo`).
    pub pay_to: String,
    /// Private key of the hot wallet that submits settlements and pays gas.
    pub signer_key: SecretString,
    /// `maxTimeoutSeconds` of the offers (default 300).
    pub max_timeout_seconds: Option<u64>,
    /// The rail id (default: `base` on 8453 and 84532, `evm-<chain_id>` elsewhere).
    pub rail: Option<String>,
}

/// The default rail id of `chain_id`.
pub fn rail_name(chain_id: u64) -> String {
    match chain_id {
        8453 | 84532 => "base".to_owned(),
        other => format!("evm-{other}"),
    }
}

impl EvmSettings {
    /// The rail configuration, with the known token of the chain filled in.
    ///
    /// # Errors
    /// [`ErrorKind::Config`] naming the missing key when the token is not known for the chain.
    pub fn into_config(self) -> Result<EvmConfig> {
        let missing =
            |key: &str, why: &str| Error::new(ErrorKind::Config, format!("{key}: {why}")).with_component(COMPONENT);
        let known = match self.chain_id {
            8453 => Some(Eip3009Token::base_usdc()),
            84532 => Some(Eip3009Token::base_sepolia_usdc()),
            _ => None,
        };
        let token = match (&self.token_address, known) {
            (None, Some(t)) => Eip3009Token {
                name: self.token_name.clone().unwrap_or(t.name),
                version: self.token_version.clone().unwrap_or(t.version),
                decimals: self.decimals.unwrap_or(t.decimals),
                address: t.address,
            },
            (Some(address), known) => Eip3009Token {
                address: address.clone(),
                name: self
                    .token_name
                    .clone()
                    .or_else(|| known.as_ref().map(|t| t.name.clone()))
                    .ok_or_else(|| missing("token_name", "required for a token other than Base USDC"))?,
                version: self.token_version.clone().unwrap_or_else(|| "2".to_owned()),
                decimals: self.decimals.unwrap_or(6),
            },
            (None, None) => return Err(missing("token_address", "required on chains other than 8453 and 84532")),
        };
        let mut c = EvmConfig::new(
            format!("eip155:{}", self.chain_id),
            self.chain_id,
            self.rpc_url,
            token,
            self.pay_to,
            self.signer_key,
        );
        c.rail = self.rail.unwrap_or_else(|| rail_name(self.chain_id));
        if let Some(t) = self.max_timeout_seconds {
            c.max_timeout_seconds = t;
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(json: &str) -> EvmSettings {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn known_chains_get_their_usdc_and_others_need_a_token() {
        let c = settings(r#"{"chain_id":84532,"rpc_url":"http://x","pay_to":"0x1","signer_key":"k"}"#)
            .into_config()
            .unwrap();
        assert_eq!((c.rail.as_str(), c.token.name.as_str()), ("base", "USDC"));
        let e = settings(r#"{"chain_id":4326,"rpc_url":"http://x","pay_to":"0x1","signer_key":"k"}"#)
            .into_config()
            .unwrap_err();
        assert!(e.message().contains("token_address"), "{e}");
        let c = settings(
            r#"{"chain_id":31337,"rpc_url":"http://x","pay_to":"0x1","signer_key":"k","token_address":"0x2","token_name":"T"}"#,
        )
        .into_config()
        .unwrap();
        assert_eq!((c.rail.as_str(), c.network.as_str()), ("evm-31337", "eip155:31337"));
        assert!(serde_json::from_str::<EvmSettings>(r#"{"chain_id":1,"typo":1}"#).is_err());
    }
}
