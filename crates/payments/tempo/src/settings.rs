//! [`TempoSettings`]: the gateway's `[payments.tempo]` section, turned into a [`TempoConfig`].
//!
//! ```toml
//! [payments.tempo]
//! rpc_url = "https://rpc.tempo.xyz"
//! chain_id = 4217                      # 42431 Moderato, 1337 localnet
//! currencies = ["0x20c0…"]             # TIP-20 tokens offered (default: pathUSD)
//! recipient = "0x…"                    # receives payments
//! realm = "gateway.example"            # the same on every replica (default: the public host)
//! secret_key = "…"                     # challenge HMAC secret, ≥ 32 bytes
//! challenge_ttl_secs = 300
//! proof_ttl_secs = 60                  # zero-amount proofs (wallet authentication)
//! ```

use std::time::Duration;

use secrecy::SecretString;
use serde::Deserialize;

use crate::config::{PATH_USD, TempoConfig};

/// How long replay markers of settled credentials are kept.
pub const MARKER_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

/// `[payments.tempo]` (MPP `tempo` charges; payments-mpp.md §2).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TempoSettings {
    /// Tempo JSON-RPC URL (secret: it often embeds a provider key).
    pub rpc_url: SecretString,
    /// Chain id: 4217 mainnet, 42431 Moderato, 1337 localnet.
    pub chain_id: u64,
    /// TIP-20 currencies offered (default: pathUSD).
    #[serde(default)]
    pub currencies: Vec<String>,
    /// Address that receives payments.
    pub recipient: String,
    /// Realm shared by every replica (default: the gateway's public host).
    pub realm: Option<String>,
    /// Challenge HMAC secret, at least 32 bytes.
    pub secret_key: SecretString,
    /// Challenge lifetime in **seconds** (default 300; keep it under 25 for pympp on anvil).
    #[serde(default = "default_challenge_ttl")]
    pub challenge_ttl_secs: u64,
    /// Lifetime of a zero-amount proof challenge in **seconds** (default 60, at most 300).
    #[serde(default = "default_proof_ttl")]
    pub proof_ttl_secs: u64,
}

fn default_challenge_ttl() -> u64 {
    300
}

fn default_proof_ttl() -> u64 {
    60
}

impl TempoSettings {
    /// The rail configuration; `default_realm` is used when the section names none.
    pub fn into_config(self, default_realm: &str) -> TempoConfig {
        TempoConfig {
            rpc_url: self.rpc_url,
            chain_id: self.chain_id,
            currencies: if self.currencies.is_empty() { vec![PATH_USD.to_owned()] } else { self.currencies },
            decimals: 6,
            recipient: self.recipient,
            realm: self.realm.unwrap_or_else(|| default_realm.to_owned()),
            secret_key: self.secret_key,
            challenge_ttl: Duration::from_secs(self.challenge_ttl_secs),
            proof_ttl: Duration::from_secs(self.proof_ttl_secs.min(300)),
            marker_ttl: MARKER_TTL,
        }
    }
}
