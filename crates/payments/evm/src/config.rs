//! Configuration of one EVM `exact` rail.

use std::time::Duration;

use secrecy::SecretString;

/// USDC on Base mainnet (chain 8453), EIP-712 domain `"USD Coin"` / `"2"`.
pub const BASE_USDC: &str = "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913";
/// USDC on Base Sepolia (chain 84532), EIP-712 domain `"USDC"` / `"2"`.
pub const BASE_SEPOLIA_USDC: &str = "0x036CbD53842c5426634e7929541eC2318f3dCF7e";

/// Default `maxTimeoutSeconds` of the offers: how long the payer's authorization must stay
/// valid for the gateway to settle it.
pub const DEFAULT_MAX_TIMEOUT_SECONDS: u64 = 300;
/// Default bound on the wait for a settlement receipt; past it the outcome is `Unknown`.
pub const DEFAULT_RECEIPT_TIMEOUT: Duration = Duration::from_secs(45);
/// Default timeout of one JSON-RPC request.
pub const DEFAULT_RPC_TIMEOUT: Duration = Duration::from_secs(10);
/// Default interval between two receipt polls.
pub const DEFAULT_RECEIPT_POLL_INTERVAL: Duration = Duration::from_millis(500);
/// An authorization must stay valid at least this long after verification (`validBefore >=
/// now + 6 s`), so that it cannot expire between verify and the settlement's block.
pub const VALID_BEFORE_MARGIN_SECONDS: u64 = 6;

/// An EIP-3009 token: its contract, EIP-712 domain and decimals.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Eip3009Token {
    /// The token contract.
    pub address: String,
    /// The token's EIP-712 domain `name` (`"USD Coin"` on Base, `"USDC"` on Base Sepolia).
    pub name: String,
    /// The token's EIP-712 domain `version` (`"2"` for USDC).
    pub version: String,
    /// Token decimals (6 for USDC).
    pub decimals: u8,
}

impl Eip3009Token {
    /// USDC on Base mainnet.
    pub fn base_usdc() -> Self {
        Eip3009Token {
            address: BASE_USDC.to_owned(),
            name: "USD Coin".to_owned(),
            version: "2".to_owned(),
            decimals: 6,
        }
    }

    /// USDC on Base Sepolia.
    pub fn base_sepolia_usdc() -> Self {
        Eip3009Token {
            address: BASE_SEPOLIA_USDC.to_owned(),
            name: "USDC".to_owned(),
            version: "2".to_owned(),
            decimals: 6,
        }
    }
}

/// Everything a [`crate::EvmRail`] needs. Secrets (the RPC URL, which often embeds an API key,
/// and the settlement key) are [`SecretString`]s, so `Debug` redacts them.
#[derive(Clone, Debug)]
pub struct EvmConfig {
    /// Rail id reported in [`compute_core::payment::RailInfo::rail`] (default `base`).
    pub rail: String,
    /// CAIP-2 network id, `eip155:<chain_id>`.
    pub network: String,
    /// EVM chain id (8453 Base, 84532 Base Sepolia, or any chain with an EIP-3009 token).
    pub chain_id: u64,
    /// JSON-RPC endpoint (http or https).
    pub rpc_url: SecretString,
    /// The token paid with.
    pub token: Eip3009Token,
    /// The address that receives the payments.
    pub pay_to: String,
    /// Private key (hex) of the hot wallet that submits `transferWithAuthorization` and pays
    /// the gas. It never receives payments.
    pub signer_key: SecretString,
    /// `maxTimeoutSeconds` of the offers (default 300).
    pub max_timeout_seconds: u64,
    /// How long `settle` waits for the receipt before answering `Unknown` (default 45 s).
    pub receipt_timeout: Duration,
    /// Timeout of each JSON-RPC request (default 10 s).
    pub rpc_timeout: Duration,
    /// Interval between receipt polls (default 500 ms).
    pub receipt_poll_interval: Duration,
}

impl EvmConfig {
    /// A rail on `network` (`eip155:<chain_id>`) for `token`, with the default timeouts.
    pub fn new(
        network: impl Into<String>,
        chain_id: u64,
        rpc_url: SecretString,
        token: Eip3009Token,
        pay_to: impl Into<String>,
        signer_key: SecretString,
    ) -> Self {
        EvmConfig {
            rail: "base".to_owned(),
            network: network.into(),
            chain_id,
            rpc_url,
            token,
            pay_to: pay_to.into(),
            signer_key,
            max_timeout_seconds: DEFAULT_MAX_TIMEOUT_SECONDS,
            receipt_timeout: DEFAULT_RECEIPT_TIMEOUT,
            rpc_timeout: DEFAULT_RPC_TIMEOUT,
            receipt_poll_interval: DEFAULT_RECEIPT_POLL_INTERVAL,
        }
    }

    /// USDC on Base mainnet (`eip155:8453`).
    pub fn base_mainnet(rpc_url: SecretString, pay_to: impl Into<String>, signer_key: SecretString) -> Self {
        EvmConfig::new("eip155:8453", 8453, rpc_url, Eip3009Token::base_usdc(), pay_to, signer_key)
    }

    /// USDC on Base Sepolia (`eip155:84532`).
    pub fn base_sepolia(rpc_url: SecretString, pay_to: impl Into<String>, signer_key: SecretString) -> Self {
        EvmConfig::new("eip155:84532", 84532, rpc_url, Eip3009Token::base_sepolia_usdc(), pay_to, signer_key)
    }
}
