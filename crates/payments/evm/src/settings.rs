//! [`EvmSettings`]: one entry of the gateway's `[[payments.evm]]` list, turned into an
//! [`EvmConfig`] with the token filled in for the chains whose stablecoin is known (USDC on
//! Base and Base Sepolia, USDm on MegaETH). Entries of different chains and transfer methods
//! sit side by side in one list.
//!
//! ```toml
//! [[payments.evm]]
//! chain_id = 8453                 # 84532 Base Sepolia, 4326 MegaETH; any eip155 chain with token_* set
//! rpc_url = "https://…"           # secret: often embeds an API key
//! pay_to = "0x…"                  # receives payments
//! signer_key = "0x…"              # hot wallet that submits settlements and pays gas
//! # transfer_method = "eip3009"   # or "permit2" (default: permit2 on 4326, eip3009 elsewhere)
//! # token_address, token_name, token_version, decimals: defaults for 8453, 84532 and 4326
//! # max_timeout_seconds = 300
//! # rail = "base"                 # the rail id (default: base on 8453/84532, megaeth on 4326, evm-<chain> elsewhere)
//!
//! [[payments.evm]]                # MegaETH next to Base: USDm (18 decimals) through Permit2
//! chain_id = 4326
//! rpc_url = "https://…"
//! pay_to = "0x…"
//! signer_key = "0x…"
//! ```

use secrecy::SecretString;
use serde::Deserialize;

use crate::{COMPONENT, EvmConfig, EvmToken, TransferMethod};
use compute_core::{Error, ErrorKind, Result};

/// One EVM chain of `[[payments.evm]]` (x402 `exact` with EIP-3009 or Permit2;
/// payments-x402.md §2).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvmSettings {
    /// Chain id: 8453 Base, 84532 Base Sepolia, 4326 MegaETH, or another eip155 chain.
    pub chain_id: u64,
    /// `eip3009` (`transferWithAuthorization`) or `permit2` (Permit2 through
    /// x402ExactPermit2Proxy, with EIP-2612 gas sponsoring). Default: `permit2` on 4326 (USDm
    /// has no EIP-3009), `eip3009` elsewhere.
    pub transfer_method: Option<TransferMethod>,
    /// JSON-RPC URL (secret: it often embeds an API key).
    pub rpc_url: SecretString,
    /// Token address (default: USDC of Base or Base Sepolia, USDm of MegaETH, for those chain
    /// ids).
    pub token_address: Option<String>,
    /// The token's EIP-712 domain name, of EIP-3009 or of EIP-2612 `permit` (default: `USD
    /// Coin` on Base, `USDC` on Base Sepolia, `MegaUSD` on MegaETH).
    pub token_name: Option<String>,
    /// The token's EIP-712 domain version (default: the known token's, else `2`).
    pub token_version: Option<String>,
    /// Token decimals: one USD is `10^decimals` base units (default: the known token's, else 6).
    pub decimals: Option<u8>,
    /// Address that receives payments (`payTo`).
    pub pay_to: String,
    /// Private key of the hot wallet that submits settlements and pays gas.
    pub signer_key: SecretString,
    /// `maxTimeoutSeconds` of the offers (default 300).
    pub max_timeout_seconds: Option<u64>,
    /// The rail id (default: `base` on 8453 and 84532, `megaeth` on 4326, `evm-<chain_id>`
    /// elsewhere).
    pub rail: Option<String>,
}

/// The default rail id of `chain_id` (also its `X-Auth-Chain` name).
pub fn rail_name(chain_id: u64) -> String {
    match chain_id {
        8453 | 84532 => "base".to_owned(),
        4326 => "megaeth".to_owned(),
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
        let (known, default_method) = match self.chain_id {
            8453 => (Some(EvmToken::base_usdc()), TransferMethod::Eip3009),
            84532 => (Some(EvmToken::base_sepolia_usdc()), TransferMethod::Eip3009),
            4326 => (Some(EvmToken::megaeth_usdm()), TransferMethod::Permit2),
            _ => (None, TransferMethod::Eip3009),
        };
        let token = match (&self.token_address, known) {
            (None, Some(t)) => EvmToken {
                name: self.token_name.clone().unwrap_or(t.name),
                version: self.token_version.clone().unwrap_or(t.version),
                decimals: self.decimals.unwrap_or(t.decimals),
                address: t.address,
            },
            (Some(address), known) => EvmToken {
                address: address.clone(),
                name: self
                    .token_name
                    .clone()
                    .or_else(|| known.as_ref().map(|t| t.name.clone()))
                    .ok_or_else(|| missing("token_name", "required for a token other than a known one"))?,
                version: self
                    .token_version
                    .clone()
                    .or_else(|| known.as_ref().map(|t| t.version.clone()))
                    .unwrap_or_else(|| "2".to_owned()),
                decimals: self.decimals.or_else(|| known.as_ref().map(|t| t.decimals)).unwrap_or(6),
            },
            (None, None) => {
                return Err(missing("token_address", "required on chains other than 8453, 84532 and 4326"));
            }
        };
        let mut c = EvmConfig::new(
            format!("eip155:{}", self.chain_id),
            self.chain_id,
            self.rpc_url,
            token,
            self.pay_to,
            self.signer_key,
        );
        c.transfer_method = self.transfer_method.unwrap_or(default_method);
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
        let e = settings(r#"{"chain_id":6343,"rpc_url":"http://x","pay_to":"0x1","signer_key":"k"}"#)
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

    #[test]
    fn megaeth_defaults_to_usdm_through_permit2_next_to_base() {
        let list: Vec<EvmSettings> = serde_json::from_str(
            r#"[{"chain_id":8453,"rpc_url":"http://a","pay_to":"0x1","signer_key":"k"},
                {"chain_id":4326,"rpc_url":"http://b","pay_to":"0x1","signer_key":"k"}]"#,
        )
        .unwrap();
        let [base, mega]: [EvmConfig; 2] =
            list.into_iter().map(|s| s.into_config().unwrap()).collect::<Vec<_>>().try_into().unwrap();
        assert_eq!((base.rail.as_str(), base.transfer_method), ("base", TransferMethod::Eip3009));
        assert_eq!((mega.rail.as_str(), mega.network.as_str()), ("megaeth", "eip155:4326"));
        assert_eq!((mega.transfer_method, &mega.token), (TransferMethod::Permit2, &EvmToken::megaeth_usdm()));
        assert_eq!(mega.token.decimals, 18);

        // Any token through Permit2, with its own EIP-712 domain; a known token keeps its defaults.
        let c = settings(
            r#"{"chain_id":31337,"rpc_url":"http://x","pay_to":"0x1","signer_key":"k","transfer_method":"permit2",
                "token_address":"0x2","token_name":"T","token_version":"7","decimals":18}"#,
        )
        .into_config()
        .unwrap();
        assert_eq!((c.transfer_method, c.token.version.as_str(), c.token.decimals), (TransferMethod::Permit2, "7", 18));
        let c =
            settings(r#"{"chain_id":4326,"rpc_url":"http://x","pay_to":"0x1","signer_key":"k","token_address":"0x3"}"#)
                .into_config()
                .unwrap();
        assert_eq!((c.token.name.as_str(), c.token.version.as_str(), c.token.decimals), ("MegaUSD", "1", 18));
        let bad =
            r#"{"chain_id":4326,"rpc_url":"http://x","pay_to":"0x1","signer_key":"k","transfer_method":"permit"}"#;
        assert!(serde_json::from_str::<EvmSettings>(bad).is_err());
    }
}
