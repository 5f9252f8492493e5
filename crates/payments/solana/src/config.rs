//! [`SolanaConfig`]: the gateway's `[payments.solana]` section, and its validation into the
//! parsed values a [`crate::SolanaRail`] runs on.
//!
//! ```toml
//! [payments.solana]
//! network = "solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1"   # default: devnet
//! rpc_url = "https://…"                  # secret: often embeds an API key
//! pay_to = "…"                           # merchant wallet (base58); its USDC ATA receives
//! fee_payer_key = "…"                    # secret: base58 64-byte keypair or a JSON byte array
//! # mint = "…"                           # default: USDC of the network
//! # decimals = 6
//! # max_compute_unit_price = 5000000     # micro-lamports per compute unit
//! # max_compute_unit_limit = 200000      # compute units
//! # max_timeout_seconds = 60
//! # confirmation_timeout_seconds = 30
//! # confirmation_poll_ms = 400
//! # rpc_timeout_seconds = 10
//! # memo = "…"                           # optional `extra.memo`, at most 256 bytes
//! ```

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use compute_core::money::MAX_DECIMALS;
use compute_core::{Error, ErrorKind, Result};
use compute_pay_x402::network;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use solana_keypair::Keypair;
use solana_pubkey::Pubkey;
use solana_signer::Signer;
use zeroize::Zeroizing;

use crate::COMPONENT;

/// USDC on Solana mainnet (SPL Token, 6 decimals).
pub const MAINNET_USDC: &str = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v";
/// USDC on Solana devnet (SPL Token, 6 decimals).
pub const DEVNET_USDC: &str = "4zMMC9srt5Ri5X14GAgXhaHii3GnPAEERYPJgZJDncDU";
/// Default cap on `SetComputeUnitPrice`: 5 lamports per compute unit, in **micro-lamports**
/// (payments-x402.md §2, the reference facilitators' limit). The clients ask for 1.
pub const DEFAULT_MAX_COMPUTE_UNIT_PRICE: u64 = 5_000_000;
/// Default cap on `SetComputeUnitLimit`, in compute units (the clients ask for 20 000). With
/// the price cap the priority fee the fee payer can be made to pay is at most
/// 200 000 × 5 lamports = 0.001 SOL per payment, plus 5 000 lamports per signature.
pub const DEFAULT_MAX_COMPUTE_UNIT_LIMIT: u32 = 200_000;
/// Default `maxTimeoutSeconds` of the offers. A Solana blockhash lives about 60–90 s
/// (150 blocks), which bounds how long a signed payment can be settled anyway.
pub const DEFAULT_MAX_TIMEOUT_SECONDS: u64 = 60;
/// Default bound on the wait for confirmation after `sendTransaction`; past it the outcome is
/// `Unknown`.
pub const DEFAULT_CONFIRMATION_TIMEOUT_SECONDS: u64 = 30;
/// Default interval between two `getSignatureStatuses` polls, in milliseconds.
pub const DEFAULT_CONFIRMATION_POLL_MS: u64 = 400;
/// Default timeout of one JSON-RPC request, in seconds.
pub const DEFAULT_RPC_TIMEOUT_SECONDS: u64 = 10;
/// Longest `extra.memo` (bytes), as in the `exact` SVM scheme.
pub const MAX_MEMO_BYTES: usize = 256;

fn default_network() -> String {
    network::SOLANA_DEVNET.to_owned()
}
fn default_decimals() -> u8 {
    6
}
fn default_max_price() -> u64 {
    DEFAULT_MAX_COMPUTE_UNIT_PRICE
}
fn default_max_limit() -> u32 {
    DEFAULT_MAX_COMPUTE_UNIT_LIMIT
}
fn default_max_timeout() -> u64 {
    DEFAULT_MAX_TIMEOUT_SECONDS
}
fn default_confirmation_timeout() -> u64 {
    DEFAULT_CONFIRMATION_TIMEOUT_SECONDS
}
fn default_poll_ms() -> u64 {
    DEFAULT_CONFIRMATION_POLL_MS
}
fn default_rpc_timeout() -> u64 {
    DEFAULT_RPC_TIMEOUT_SECONDS
}
fn default_rail() -> String {
    "solana".to_owned()
}

/// The `[payments.solana]` section: one Solana network, one SPL mint, one merchant wallet and
/// the gateway's fee-payer key. `Debug` redacts the RPC URL and the key.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SolanaConfig {
    /// Rail id reported in [`compute_core::payment::RailInfo::rail`] (default `solana`).
    #[serde(default = "default_rail")]
    pub rail: String,
    /// CAIP-2 network: devnet `solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1` (default), mainnet
    /// `solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp` or testnet
    /// `solana:4uhcVJyU9pJkvQyS88uRDiswHXSCkY3z` (the three the x402 clients know).
    #[serde(default = "default_network")]
    pub network: String,
    /// JSON-RPC endpoint, http(s). Secret: it often embeds an API key; never logged.
    pub rpc_url: SecretString,
    /// The SPL mint paid with (default: USDC of mainnet or devnet; required on testnet).
    #[serde(default)]
    pub mint: Option<String>,
    /// The mint's decimals (default 6, USDC). Checked against `TransferChecked`.
    #[serde(default = "default_decimals")]
    pub decimals: u8,
    /// The merchant wallet (base58). Payments go to its associated token account for the
    /// mint, which must exist ([`crate::SolanaRail::merchant_ata_exists`]).
    pub pay_to: String,
    /// The fee payer's keypair: the gateway co-signs every payment with it and pays the
    /// network fees in SOL. Accepted forms: the base58 string of the 64-byte keypair (secret
    /// ‖ public, as wallets export it) or the JSON byte array of `solana-keygen` files
    /// (`[12,34,…]`, 64 numbers). It never receives payments.
    pub fee_payer_key: SecretString,
    /// Cap on `SetComputeUnitPrice`, in micro-lamports per compute unit (default 5 000 000).
    #[serde(default = "default_max_price")]
    pub max_compute_unit_price: u64,
    /// Cap on `SetComputeUnitLimit`, in compute units (default 200 000).
    #[serde(default = "default_max_limit")]
    pub max_compute_unit_limit: u32,
    /// `maxTimeoutSeconds` of the offers (default 60).
    #[serde(default = "default_max_timeout")]
    pub max_timeout_seconds: u64,
    /// How long `settle` waits for `confirmed` before answering `Unknown` (default 30 s).
    #[serde(default = "default_confirmation_timeout")]
    pub confirmation_timeout_seconds: u64,
    /// Interval between confirmation polls, in milliseconds (default 400).
    #[serde(default = "default_poll_ms")]
    pub confirmation_poll_ms: u64,
    /// Timeout of one JSON-RPC request, in seconds (default 10).
    #[serde(default = "default_rpc_timeout")]
    pub rpc_timeout_seconds: u64,
    /// An `extra.memo` put in every offer and required in the payment's Memo instruction.
    #[serde(default)]
    pub memo: Option<String>,
}

impl fmt::Debug for SolanaConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SolanaConfig")
            .field("rail", &self.rail)
            .field("network", &self.network)
            .field("rpc_url", &"[redacted]")
            .field("mint", &self.mint)
            .field("decimals", &self.decimals)
            .field("pay_to", &self.pay_to)
            .field("fee_payer_key", &"[redacted]")
            .field("max_compute_unit_price", &self.max_compute_unit_price)
            .field("max_compute_unit_limit", &self.max_compute_unit_limit)
            .field("max_timeout_seconds", &self.max_timeout_seconds)
            .field("confirmation_timeout_seconds", &self.confirmation_timeout_seconds)
            .field("memo", &self.memo)
            .finish_non_exhaustive()
    }
}

impl SolanaConfig {
    /// A configuration with every default (devnet USDC) for `pay_to`, paid through `rpc_url`
    /// with `fee_payer_key`.
    pub fn new(rpc_url: SecretString, pay_to: impl Into<String>, fee_payer_key: SecretString) -> Self {
        SolanaConfig {
            rail: default_rail(),
            network: default_network(),
            rpc_url,
            mint: None,
            decimals: default_decimals(),
            pay_to: pay_to.into(),
            fee_payer_key,
            max_compute_unit_price: DEFAULT_MAX_COMPUTE_UNIT_PRICE,
            max_compute_unit_limit: DEFAULT_MAX_COMPUTE_UNIT_LIMIT,
            max_timeout_seconds: DEFAULT_MAX_TIMEOUT_SECONDS,
            confirmation_timeout_seconds: DEFAULT_CONFIRMATION_TIMEOUT_SECONDS,
            confirmation_poll_ms: DEFAULT_CONFIRMATION_POLL_MS,
            rpc_timeout_seconds: DEFAULT_RPC_TIMEOUT_SECONDS,
            memo: None,
        }
    }

    /// Checks every value without building a rail or touching the network (for `config
    /// check`).
    ///
    /// # Errors
    /// As [`crate::SolanaRail::new`].
    pub fn validate(&self) -> Result<()> {
        Parsed::from_config(self).map(|_| ())
    }

    /// The fee payer's public key (base58), to fund it with SOL.
    ///
    /// # Errors
    /// [`ErrorKind::Config`] when the key does not parse.
    pub fn fee_payer_address(&self) -> Result<String> {
        Ok(parse_keypair(&self.fee_payer_key)?.pubkey().to_string())
    }
}

/// The validated configuration.
pub(crate) struct Parsed {
    pub(crate) network: String,
    pub(crate) v1_network: Option<&'static str>,
    pub(crate) rpc_url: reqwest::Url,
    pub(crate) mint: Pubkey,
    pub(crate) decimals: u8,
    pub(crate) pay_to: Pubkey,
    pub(crate) fee_payer: Keypair,
    pub(crate) max_price: u64,
    pub(crate) max_limit: u32,
    pub(crate) max_timeout_seconds: u64,
    pub(crate) confirmation_timeout: Duration,
    pub(crate) poll_interval: Duration,
    pub(crate) rpc_timeout: Duration,
    pub(crate) memo: Option<String>,
}

pub(crate) fn config_error(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::Config, msg).with_component(COMPONENT)
}

fn parse_pubkey(s: &str, what: &str) -> Result<Pubkey> {
    Pubkey::from_str(s.trim()).map_err(|_| config_error(format!("{what} is not a base58 Solana address")))
}

/// Parses the fee payer key: base58 of the 64 keypair bytes, or a JSON array of 64 numbers.
/// The intermediate bytes are zeroed; errors never echo the key.
fn parse_keypair(key: &SecretString) -> Result<Keypair> {
    let s = key.expose_secret().trim();
    let bad = || {
        config_error(
            "fee_payer_key is not a 64-byte keypair (base58 string or JSON byte array) whose public half matches its secret",
        )
    };
    if s.starts_with('[') {
        let bytes: Zeroizing<Vec<u8>> = Zeroizing::new(serde_json::from_str(s).map_err(|_| bad())?);
        Keypair::try_from(bytes.as_slice()).map_err(|_| bad())
    } else {
        Keypair::try_from_base58_string(s).map_err(|_| bad())
    }
}

impl Parsed {
    pub(crate) fn from_config(c: &SolanaConfig) -> Result<Parsed> {
        let known = [network::SOLANA, network::SOLANA_DEVNET, network::SOLANA_TESTNET];
        if !known.contains(&c.network.as_str()) {
            return Err(config_error(format!(
                "network {:?} is not one of {known:?} (the Solana networks the x402 clients know)",
                c.network
            )));
        }
        let rpc_url = reqwest::Url::parse(c.rpc_url.expose_secret().trim())
            .map_err(|_| config_error("rpc_url is not a valid URL"))?;
        if !matches!(rpc_url.scheme(), "http" | "https") {
            return Err(config_error("rpc_url must be http or https"));
        }
        let mint = match (&c.mint, c.network.as_str()) {
            (Some(m), _) => parse_pubkey(m, "mint")?,
            (None, n) if n == network::SOLANA => parse_pubkey(MAINNET_USDC, "mint")?,
            (None, n) if n == network::SOLANA_DEVNET => parse_pubkey(DEVNET_USDC, "mint")?,
            (None, _) => return Err(config_error("mint: required on this network (no known USDC)")),
        };
        if c.decimals > MAX_DECIMALS {
            return Err(config_error(format!("decimals above {MAX_DECIMALS}")));
        }
        let pay_to = parse_pubkey(&c.pay_to, "pay_to")?;
        let fee_payer = parse_keypair(&c.fee_payer_key)?;
        if fee_payer.pubkey() == pay_to {
            return Err(config_error("pay_to is the fee payer: payments must go to a wallet other than the hot key"));
        }
        if c.max_compute_unit_price == 0 || c.max_compute_unit_limit == 0 {
            return Err(config_error("max_compute_unit_price and max_compute_unit_limit must be positive"));
        }
        if c.max_timeout_seconds == 0
            || c.confirmation_timeout_seconds == 0
            || c.confirmation_poll_ms == 0
            || c.rpc_timeout_seconds == 0
        {
            return Err(config_error("timeouts and the poll interval must be positive"));
        }
        if let Some(memo) = &c.memo
            && (memo.is_empty() || memo.len() > MAX_MEMO_BYTES)
        {
            return Err(config_error(format!("memo must be 1 to {MAX_MEMO_BYTES} bytes")));
        }
        if c.rail.trim().is_empty() {
            return Err(config_error("rail must not be empty"));
        }
        Ok(Parsed {
            network: c.network.clone(),
            v1_network: network::v1_name(&c.network),
            rpc_url,
            mint,
            decimals: c.decimals,
            pay_to,
            fee_payer,
            max_price: c.max_compute_unit_price,
            max_limit: c.max_compute_unit_limit,
            max_timeout_seconds: c.max_timeout_seconds,
            confirmation_timeout: Duration::from_secs(c.confirmation_timeout_seconds),
            poll_interval: Duration::from_millis(c.confirmation_poll_ms),
            rpc_timeout: Duration::from_secs(c.rpc_timeout_seconds),
            memo: c.memo.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAY_TO: &str = "9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin";

    fn toml_like(extra: &str) -> String {
        let kp = Keypair::new();
        format!(
            r#"{{"rpc_url":"http://127.0.0.1:8899","pay_to":"{PAY_TO}","fee_payer_key":"{}"{extra}}}"#,
            kp.to_base58_string()
        )
    }

    #[test]
    fn defaults_are_devnet_usdc_and_debug_redacts_secrets() {
        let c: SolanaConfig = serde_json::from_str(&toml_like("")).unwrap();
        let p = Parsed::from_config(&c).unwrap();
        assert_eq!(p.network, network::SOLANA_DEVNET);
        assert_eq!(p.v1_network, Some("solana-devnet"));
        assert_eq!(p.mint.to_string(), DEVNET_USDC);
        assert_eq!((p.decimals, p.max_price, p.max_limit), (6, 5_000_000, 200_000));
        let key = c.fee_payer_key.expose_secret().to_owned();
        let debug = format!("{c:?}");
        assert!(!debug.contains(&key) && !debug.contains("127.0.0.1"), "{debug}");
        assert!(serde_json::from_str::<SolanaConfig>(&toml_like(r#","typo":1"#)).is_err());
    }

    #[test]
    fn the_key_is_accepted_as_base58_or_a_json_byte_array() {
        let kp = Keypair::new();
        let json = serde_json::to_string(&kp.to_bytes().to_vec()).unwrap();
        let mut c = SolanaConfig::new("http://x".to_owned().into(), PAY_TO, json.into());
        assert_eq!(c.fee_payer_address().unwrap(), kp.pubkey().to_string());
        c.fee_payer_key = kp.to_base58_string().into();
        assert_eq!(c.fee_payer_address().unwrap(), kp.pubkey().to_string());
        // A keypair whose public half is another key's.
        let mut bytes = kp.to_bytes();
        bytes[32..].copy_from_slice(&Keypair::new().pubkey().to_bytes());
        let mismatched = serde_json::to_string(&bytes.to_vec()).unwrap();
        c.fee_payer_key = mismatched.clone().into();
        let e = c.validate().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config);
        assert!(!format!("{e} {e:?}").contains(&mismatched[1..20]), "no key material in {e:?}");
        c.fee_payer_key = kp.to_base58_string()[..40].to_owned().into();
        let e = c.validate().unwrap_err();
        assert!(!format!("{e} {e:?}").contains(&kp.to_base58_string()[..40]), "no key material in {e:?}");
    }

    #[test]
    fn invalid_values_are_config_errors() {
        let base = || serde_json::from_str::<SolanaConfig>(&toml_like("")).unwrap();
        type Mutation = Box<dyn Fn(&mut SolanaConfig)>;
        let cases: Vec<(&str, Mutation)> = vec![
            ("network", Box::new(|c| c.network = "solana:unknown".into())),
            ("network", Box::new(|c| c.network = "eip155:8453".into())),
            ("rpc_url", Box::new(|c| c.rpc_url = "ftp://x".to_owned().into())),
            ("mint", Box::new(|c| c.mint = Some("not-base58-0OIl".into()))),
            ("mint", Box::new(|c| c.network = network::SOLANA_TESTNET.into())),
            ("pay_to", Box::new(|c| c.pay_to = "0x1234".into())),
            ("fee_payer_key", Box::new(|c| c.fee_payer_key = "abc".to_owned().into())),
            ("positive", Box::new(|c| c.max_compute_unit_price = 0)),
            ("positive", Box::new(|c| c.confirmation_timeout_seconds = 0)),
            ("memo", Box::new(|c| c.memo = Some("m".repeat(257)))),
            ("decimals", Box::new(|c| c.decimals = 19)),
        ];
        for (what, mutate) in cases {
            let mut c = base();
            mutate(&mut c);
            let e = c.validate().unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Config, "{what}");
            assert!(e.message().contains(what), "{what}: {e}");
        }
        let mut c = base();
        c.pay_to = c.fee_payer_address().unwrap();
        assert!(c.validate().unwrap_err().message().contains("fee payer"));
        let mut mainnet = base();
        mainnet.network = network::SOLANA.into();
        assert_eq!(Parsed::from_config(&mainnet).unwrap().mint.to_string(), MAINNET_USDC);
    }
}
