//! Payments in the gateway: the enabled rails ([`Rails`]), the 402 ([`challenge`]), reading
//! credentials ([`credential`]), the paid-request flow ([`flow`]), paying from the credit
//! balance ([`credits`]), wallet authentication for
//! free calls ([`auth`]) and the reconciler of unknown settlements ([`reconcile`]).

pub mod auth;
pub mod challenge;
pub mod credential;
pub mod credits;
pub mod flow;
pub mod reconcile;

use std::fmt;
use std::sync::Arc;

use compute_core::payment::Payment;
use compute_store::Store;

use crate::config::{Config, ConfigError};

/// The payment rails compiled in (Cargo features).
#[allow(clippy::vec_init_then_push)] // One push per compiled feature.
pub fn compiled() -> Vec<&'static str> {
    #[allow(unused_mut)]
    let mut v = Vec::new();
    #[cfg(feature = "tempo")]
    v.push("tempo");
    #[cfg(feature = "base")]
    v.push("base");
    v
}

/// The enabled rails, in offer order.
#[derive(Clone, Default)]
pub struct Rails {
    all: Vec<Arc<dyn Payment>>,
    #[cfg(feature = "tempo")]
    tempo: Option<Arc<compute_pay_tempo::TempoRail>>,
}

impl fmt::Debug for Rails {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.all.iter().map(|r| r.rail().rail.clone())).finish()
    }
}

impl Rails {
    /// Rails from already-built verifiers (for embedding the gateway with other rails, and
    /// for tests). Wallet proofs need the Tempo rail, which only [`build`] registers.
    pub fn from_rails(all: Vec<Arc<dyn Payment>>) -> Rails {
        Rails { all, ..Rails::default() }
    }

    /// Every enabled rail.
    pub fn all(&self) -> &[Arc<dyn Payment>] {
        &self.all
    }

    /// The rail named `name` (`tempo`, `base`, …).
    pub fn by_name(&self, name: &str) -> Option<&Arc<dyn Payment>> {
        self.all.iter().find(|r| r.rail().rail == name)
    }

    /// The Tempo rail, which also authenticates wallets with zero-amount proofs.
    #[cfg(feature = "tempo")]
    pub fn tempo(&self) -> Option<&Arc<compute_pay_tempo::TempoRail>> {
        self.tempo.as_ref()
    }
}

/// Builds the rails configured in `[payments.*]`; replay markers live in `store`.
///
/// # Errors
/// [`ConfigError`] naming `payments.<rail>` when its feature is not compiled in or the rail
/// rejects its settings.
pub fn build(config: &Config, store: &Store) -> Result<Rails, ConfigError> {
    #[allow(unused_mut)]
    let mut rails = Rails::default();
    if let Some(t) = &config.payments.tempo {
        #[cfg(feature = "tempo")]
        {
            let realm = t.realm.clone().unwrap_or_else(|| {
                url::Url::parse(&config.server.public_base())
                    .ok()
                    .and_then(|u| u.host_str().map(str::to_owned))
                    .unwrap_or_else(|| "compute-gateway".to_owned())
            });
            let currencies = if t.currencies.is_empty() {
                vec![compute_pay_tempo::PATH_USD.to_owned()]
            } else {
                t.currencies.clone()
            };
            let rail_config = compute_pay_tempo::TempoConfig {
                rpc_url: t.rpc_url.clone(),
                chain_id: t.chain_id,
                currencies,
                decimals: 6,
                recipient: t.recipient.clone(),
                realm,
                secret_key: t.secret_key.clone(),
                challenge_ttl: std::time::Duration::from_secs(t.challenge_ttl_secs),
                marker_ttl: std::time::Duration::from_secs(7 * 24 * 3600),
            };
            let rail = compute_pay_tempo::TempoRail::new(rail_config, Arc::new(store.clone()))
                .map_err(|e| ConfigError(format!("payments.tempo: {}", e.message())))?;
            let rail = Arc::new(rail);
            rails.all.push(rail.clone());
            rails.tempo = Some(rail);
        }
        #[cfg(not(feature = "tempo"))]
        {
            let _ = (t, store);
            return Err(ConfigError("payments.tempo: this binary was built without the `tempo` feature".into()));
        }
    }
    if let Some(b) = &config.payments.base {
        #[cfg(feature = "base")]
        rails.all.push(base_rail(b)?);
        #[cfg(not(feature = "base"))]
        {
            let _ = b;
            return Err(ConfigError("payments.base: this binary was built without the `base` feature".into()));
        }
    }
    Ok(rails)
}

#[cfg(feature = "base")]
fn base_rail(b: &crate::config::BaseRailConfig) -> Result<Arc<dyn Payment>, ConfigError> {
    use compute_pay_base::{BaseConfig, BaseRail, Eip3009Token};
    let known = match b.chain_id {
        8453 => Some(Eip3009Token::base_usdc()),
        84532 => Some(Eip3009Token::base_sepolia_usdc()),
        _ => None,
    };
    let token = match (&b.token_address, known) {
        (None, Some(t)) => Eip3009Token {
            name: b.token_name.clone().unwrap_or(t.name),
            version: b.token_version.clone().unwrap_or(t.version),
            decimals: b.decimals.unwrap_or(t.decimals),
            address: t.address,
        },
        (Some(address), known) => Eip3009Token {
            address: address.clone(),
            name: b.token_name.clone().or_else(|| known.as_ref().map(|t| t.name.clone())).ok_or_else(|| {
                ConfigError("payments.base.token_name: required for a token other than Base USDC".into())
            })?,
            version: b.token_version.clone().unwrap_or_else(|| "2".to_owned()),
            decimals: b.decimals.unwrap_or(6),
        },
        (None, None) => {
            return Err(ConfigError(
                "payments.base.token_address: required on chains other than 8453 and 84532".into(),
            ));
        }
    };
    let mut c = BaseConfig::new(
        format!("eip155:{}", b.chain_id),
        b.chain_id,
        b.rpc_url.clone(),
        token,
        b.pay_to.clone(),
        b.signer_key.clone(),
    );
    if let Some(t) = b.max_timeout_seconds {
        c.max_timeout_seconds = t;
    }
    let rail = BaseRail::new(c).map_err(|e| ConfigError(format!("payments.base: {}", e.message())))?;
    Ok(Arc::new(rail))
}
