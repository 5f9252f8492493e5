//! Configuration of the Tempo rail.

use std::fmt;
use std::time::Duration;

use compute_core::{Error, ErrorKind, Result};
use secrecy::{ExposeSecret, SecretString};

/// pathUSD, the TIP-20 USD token every Tempo network (and anvil `--network tempo`) has.
pub const PATH_USD: &str = "0x20c0000000000000000000000000000000000000";

/// Smallest challenge HMAC secret, in bytes (mppx and mpp-rs enforce 32).
pub const MIN_SECRET_BYTES: usize = 32;

/// Settings of a [`crate::TempoRail`].
#[derive(Clone)]
pub struct TempoConfig {
    /// JSON-RPC URL of a Tempo node (secret: it often embeds a provider key).
    pub rpc_url: SecretString,
    /// Chain id: 4217 mainnet, 42431 Moderato, 1337 localnet.
    pub chain_id: u64,
    /// TIP-20 currencies offered, one challenge each (default: pathUSD).
    pub currencies: Vec<String>,
    /// Token decimals (TIP-20 USD tokens have 6).
    pub decimals: u8,
    /// Address that receives payments.
    pub recipient: String,
    /// Realm: must be the same on every replica.
    pub realm: String,
    /// HMAC secret for challenge ids, at least 32 bytes.
    pub secret_key: SecretString,
    /// How long a challenge stays valid (keep it under 25 s for pympp on anvil).
    pub challenge_ttl: Duration,
    /// How long a zero-amount proof challenge stays valid (wallet authentication; short, as a
    /// proof is a bearer credential until it is used).
    pub proof_ttl: Duration,
    /// How long replay markers are kept.
    pub marker_ttl: Duration,
}

impl fmt::Debug for TempoConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TempoConfig")
            .field("rpc_url", &"[redacted]")
            .field("chain_id", &self.chain_id)
            .field("currencies", &self.currencies)
            .field("decimals", &self.decimals)
            .field("recipient", &self.recipient)
            .field("realm", &self.realm)
            .field("secret_key", &"[redacted]")
            .field("challenge_ttl", &self.challenge_ttl)
            .field("proof_ttl", &self.proof_ttl)
            .finish()
    }
}

impl TempoConfig {
    /// Checks the settings.
    ///
    /// # Errors
    /// [`ErrorKind::Config`] for a short secret, an empty realm or currency list, a bad
    /// recipient or a zero expiry.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: &str| Err(Error::new(ErrorKind::Config, m.to_owned()).with_component("pay-tempo"));
        if self.secret_key.expose_secret().len() < MIN_SECRET_BYTES {
            return bad("secret_key must be at least 32 bytes");
        }
        if self.realm.trim().is_empty() {
            return bad("realm must not be empty");
        }
        if self.currencies.is_empty() {
            return bad("at least one currency is required");
        }
        if self.recipient.parse::<compute_core::WalletAddress>().map(|w| !w.is_evm()).unwrap_or(true) {
            return bad("recipient must be an EVM address");
        }
        if self.challenge_ttl.is_zero() || self.proof_ttl.is_zero() {
            return bad("challenge_ttl and proof_ttl must be positive");
        }
        Ok(())
    }
}
