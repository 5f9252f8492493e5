//! Configuration of one EVM `exact` rail: its chain, token, transfer method and keys.

use std::time::Duration;

use secrecy::SecretString;
use serde::Deserialize;

/// USDC on Base mainnet (chain 8453), EIP-712 domain `"USD Coin"` / `"2"`.
pub const BASE_USDC: &str = "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913";
/// USDC on Base Sepolia (chain 84532), EIP-712 domain `"USDC"` / `"2"`.
pub const BASE_SEPOLIA_USDC: &str = "0x036CbD53842c5426634e7929541eC2318f3dCF7e";

/// USDm ("MegaUSD") on MegaETH mainnet (chain 4326): 18 decimals, EIP-712 domain `"MegaUSD"` /
/// `"1"`, EIP-2612 `permit` and no EIP-3009, so it is paid through Permit2
/// (payments-x402.md §2 "MegaETH").
pub const MEGAETH_USDM: &str = "0xFAfDdbb3FC7688494971a79cc65DCa3EF82079E7";
/// Uniswap's canonical Permit2, the same address on every EVM chain (payments-x402.md §2 "EVM
/// with Permit2"): the EIP-712 `verifyingContract` of the payer's Permit2 signature.
pub const PERMIT2: &str = "0x000000000022D473030F116dDEE9F6B43aC78BA3";
/// x402ExactPermit2Proxy, the same CREATE2 address on every EVM chain: the `spender` a Permit2
/// `exact` payment must name, and the contract settlements call (payments-x402.md §2).
pub const X402_EXACT_PERMIT2_PROXY: &str = "0x402085c248EeA27D92E8b30b2C58ed07f9E20001";

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

/// How the payer's signature moves the token: the `extra.assetTransferMethod` of the x402
/// `exact` scheme on EVM (payments-x402.md §2).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TransferMethod {
    /// EIP-3009 `transferWithAuthorization` on the token (USDC); the default.
    #[default]
    Eip3009,
    /// A Permit2 `PermitWitnessTransferFrom` signature settled through x402ExactPermit2Proxy,
    /// with the `eip2612GasSponsoring` extension for tokens with EIP-2612 `permit` (USDm).
    Permit2,
}

impl TransferMethod {
    /// The wire name: `eip3009` or `permit2`.
    pub fn as_str(&self) -> &'static str {
        match self {
            TransferMethod::Eip3009 => "eip3009",
            TransferMethod::Permit2 => "permit2",
        }
    }
}

/// A USD-pegged EVM token: its contract, EIP-712 domain and decimals.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EvmToken {
    /// The token contract.
    pub address: String,
    /// The token's EIP-712 domain `name` (`"USD Coin"` on Base, `"USDC"` on Base Sepolia,
    /// `"MegaUSD"` for USDm); the EIP-3009 domain, or the EIP-2612 `permit` domain on Permit2
    /// rails.
    pub name: String,
    /// The token's EIP-712 domain `version` (`"2"` for USDC, `"1"` for USDm).
    pub version: String,
    /// Token decimals (6 for USDC, 18 for USDm): one token (one USD) is `10^decimals` base
    /// units.
    pub decimals: u8,
}

/// The former name of [`EvmToken`], from when every rail was EIP-3009.
pub type Eip3009Token = EvmToken;

impl EvmToken {
    /// USDC on Base mainnet.
    pub fn base_usdc() -> Self {
        EvmToken { address: BASE_USDC.to_owned(), name: "USD Coin".to_owned(), version: "2".to_owned(), decimals: 6 }
    }

    /// USDC on Base Sepolia.
    pub fn base_sepolia_usdc() -> Self {
        EvmToken {
            address: BASE_SEPOLIA_USDC.to_owned(),
            name: "USDC".to_owned(),
            version: "2".to_owned(),
            decimals: 6,
        }
    }

    /// USDm on MegaETH mainnet (18 decimals; paid through Permit2).
    pub fn megaeth_usdm() -> Self {
        EvmToken { address: MEGAETH_USDM.to_owned(), name: "MegaUSD".to_owned(), version: "1".to_owned(), decimals: 18 }
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
    pub token: EvmToken,
    /// How the token moves: EIP-3009 (default) or Permit2.
    pub transfer_method: TransferMethod,
    /// The address that receives the payments.
    pub pay_to: String,
    /// Private key (hex) of the hot wallet that submits the settlements
    /// (`transferWithAuthorization`, or the proxy's `settle` / `settleWithPermit`) and pays the
    /// gas. It never receives payments.
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
    /// An EIP-3009 rail on `network` (`eip155:<chain_id>`) for `token`, with the default
    /// timeouts; set [`EvmConfig::transfer_method`] for Permit2.
    pub fn new(
        network: impl Into<String>,
        chain_id: u64,
        rpc_url: SecretString,
        token: EvmToken,
        pay_to: impl Into<String>,
        signer_key: SecretString,
    ) -> Self {
        EvmConfig {
            rail: "base".to_owned(),
            network: network.into(),
            chain_id,
            rpc_url,
            token,
            transfer_method: TransferMethod::Eip3009,
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
        EvmConfig::new("eip155:8453", 8453, rpc_url, EvmToken::base_usdc(), pay_to, signer_key)
    }

    /// USDC on Base Sepolia (`eip155:84532`).
    pub fn base_sepolia(rpc_url: SecretString, pay_to: impl Into<String>, signer_key: SecretString) -> Self {
        EvmConfig::new("eip155:84532", 84532, rpc_url, EvmToken::base_sepolia_usdc(), pay_to, signer_key)
    }

    /// USDm on MegaETH mainnet (`eip155:4326`) through Permit2, rail id `megaeth`.
    pub fn megaeth(rpc_url: SecretString, pay_to: impl Into<String>, signer_key: SecretString) -> Self {
        let mut c = EvmConfig::new("eip155:4326", 4326, rpc_url, EvmToken::megaeth_usdm(), pay_to, signer_key);
        c.transfer_method = TransferMethod::Permit2;
        c.rail = "megaeth".to_owned();
        c
    }
}
