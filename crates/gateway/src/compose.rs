//! The composition point: the one place that names provider crates and payment rails. Each
//! crate parses its own configuration section (`[providers.<id>]`, `[payments.<rail>]`) and
//! builds its values; the rest of the gateway only sees `ProviderHandle`s, `Payment` rails and
//! `WalletAuth` methods. The [`Metrics`] registry is made here too, so every provider client
//! reports its calls to it ([`Metrics::provider_observer`]); the state takes it over.
//!
//! The provider id enum always has every variant; only construction is gated by Cargo
//! features, so a configured provider or rail whose crate is not compiled in is a clear
//! start-up error that names the section.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::sync::Arc;

use compute_core::auth::WalletAuth;
use compute_core::payment::Payment;
use compute_core::provider::{ProviderHandle, ProviderId};
use compute_pay_x402::signed_headers::{SignatureVerifier, SignedHeaderAuth};
use compute_store::Store;

use crate::config::{Config, ConfigError};
use crate::system::metrics::Metrics;

/// The provider crates compiled into this binary.
#[allow(clippy::vec_init_then_push)] // One push per compiled feature.
pub fn compiled_providers() -> Vec<ProviderId> {
    #[allow(unused_mut)]
    let mut v = Vec::new();
    #[cfg(feature = "fly")]
    v.push(ProviderId::Fly);
    #[cfg(feature = "digitalocean")]
    v.push(ProviderId::Digitalocean);
    v
}

/// The payment rail crates compiled in, by section name.
#[allow(clippy::vec_init_then_push)] // One push per compiled feature.
pub fn compiled_rails() -> Vec<&'static str> {
    #[allow(unused_mut)]
    let mut v = Vec::new();
    #[cfg(feature = "tempo")]
    v.push("tempo");
    #[cfg(feature = "evm")]
    v.push("evm");
    #[cfg(feature = "solana")]
    v.push("solana");
    v
}

/// Every rail section name the gateway knows, compiled in or not.
pub const RAIL_SECTIONS: [&str; 3] = ["tempo", "evm", "solana"];

/// What was composed: provider handles, rails and wallet-authentication methods, the metrics
/// registry the providers report to, plus the parsed settings (redacted by their own `Debug`)
/// for `config check`.
#[derive(Default)]
pub struct Composed {
    /// Enabled providers.
    pub providers: BTreeMap<ProviderId, ProviderHandle>,
    /// Enabled rails, in offer order.
    pub rails: Vec<Arc<dyn Payment>>,
    /// Wallet-authentication methods the rails bring (the API key method is the gateway's own).
    pub auth: Vec<Arc<dyn WalletAuth>>,
    /// Each parsed section's `Debug`, secrets redacted by the owning crate.
    pub settings: Vec<(String, String)>,
    /// The registry every provider's calls are counted in (for [`crate::state::AppState::from_composed`]).
    pub metrics: Metrics,
}

fn not_compiled(section: &str, feature: &str, compiled: &[&str]) -> ConfigError {
    let list = if compiled.is_empty() { "none".to_owned() } else { compiled.join(", ") };
    ConfigError(format!("{section}: this binary was built without the `{feature}` feature (compiled in: {list})"))
}

#[allow(dead_code)] // Used by the provider and rail features.
fn crate_error(section: &str, e: &compute_core::Error) -> ConfigError {
    ConfigError(format!("{section}: {}", e.message()))
}

#[allow(dead_code)] // Used by the provider and rail features.
fn record(out: &mut Composed, section: &str, settings: &impl Debug) {
    out.settings.push((section.to_owned(), format!("{settings:#?}")));
}

/// Builds every configured provider, rail and wallet-authentication method. Replay markers and
/// nonces of the rails live in `store`.
///
/// # Errors
/// [`ConfigError`] naming the section when it is unknown, its crate is not compiled in, or
/// the crate rejects its settings.
pub fn compose(config: &Config, store: &Store) -> Result<Composed, ConfigError> {
    let mut out = Composed::default();
    providers(config, &mut out)?;
    rails(config, store, &mut out)?;
    Ok(out)
}

fn providers(config: &Config, out: &mut Composed) -> Result<(), ConfigError> {
    let compiled = compiled_providers();
    let compiled_names: Vec<&str> = compiled.iter().map(ProviderId::as_str).collect();
    for name in config.providers.names() {
        let Some(id) = ProviderId::ALL.into_iter().find(|p| p.as_str() == name) else {
            let known: Vec<&str> = ProviderId::ALL.iter().map(ProviderId::as_str).collect();
            return Err(ConfigError(format!("providers.{name}: unknown provider (known: {})", known.join(", "))));
        };
        if !compiled.contains(&id) {
            return Err(not_compiled(&format!("providers.{name}"), name, &compiled_names));
        }
    }
    #[cfg(feature = "fly")]
    if let Some(fly) = config.providers.parse::<compute_fly::FlyConfig>("providers", "fly")? {
        record(out, "providers.fly", &fly);
        let fly = fly.with_observer(out.metrics.provider_observer());
        let handle = compute_fly::handle(fly).map_err(|e| crate_error("providers.fly", &e))?;
        out.providers.insert(ProviderId::Fly, handle);
    }
    #[cfg(feature = "digitalocean")]
    if let Some(c) = config.providers.parse::<compute_digitalocean::DoConfig>("providers", "digitalocean")? {
        record(out, "providers.digitalocean", &c);
        let c = c.with_observer(out.metrics.provider_observer());
        let handle = compute_digitalocean::handle(c).map_err(|e| crate_error("providers.digitalocean", &e))?;
        out.providers.insert(ProviderId::Digitalocean, handle);
    }
    let _ = out;
    Ok(())
}

fn rails(config: &Config, store: &Store, out: &mut Composed) -> Result<(), ConfigError> {
    let compiled = compiled_rails();
    #[allow(unused_mut)]
    let mut verifiers: Vec<Arc<dyn SignatureVerifier>> = Vec::new();
    for name in config.payments.names() {
        if !RAIL_SECTIONS.contains(&name) {
            return Err(ConfigError(format!(
                "payments.{name}: unknown payment rail (known: {})",
                RAIL_SECTIONS.join(", ")
            )));
        }
        if !compiled.contains(&name) {
            return Err(not_compiled(&format!("payments.{name}"), name, &compiled));
        }
    }
    #[cfg(feature = "tempo")]
    if let Some(t) = config.payments.parse::<compute_pay_tempo::TempoSettings>("payments", "tempo")? {
        let host = url::Url::parse(&config.server.public_base()).ok().and_then(|u| u.host_str().map(str::to_owned));
        let rail_config = t.into_config(host.as_deref().unwrap_or("compute-gateway"));
        record(out, "payments.tempo", &rail_config);
        let rail = compute_pay_tempo::TempoRail::new(rail_config, Arc::new(store.clone()))
            .map_err(|e| crate_error("payments.tempo", &e))?;
        let rail = Arc::new(rail);
        out.auth.push(Arc::new(compute_pay_tempo::ProofAuth::new(rail.clone())));
        out.rails.push(rail);
    }
    #[cfg(feature = "evm")]
    if let Some(chains) = config.payments.parse::<Vec<compute_pay_evm::EvmSettings>>("payments", "evm")? {
        let mut names = Vec::new();
        for (i, chain) in chains.into_iter().enumerate() {
            let section = format!("payments.evm[{i}]");
            let c = chain.into_config().map_err(|e| crate_error(&section, &e))?;
            record(out, &section, &c);
            let rail = compute_pay_evm::EvmRail::new(c).map_err(|e| crate_error(&section, &e))?;
            names.push(rail.rail().rail.clone());
            out.rails.push(Arc::new(rail));
        }
        verifiers.push(Arc::new(compute_pay_evm::EvmSignatureVerifier::new(names)));
    }
    #[cfg(feature = "solana")]
    if let Some(c) = config.payments.parse::<compute_pay_solana::SolanaConfig>("payments", "solana")? {
        record(out, "payments.solana", &c);
        let rail = compute_pay_solana::SolanaRail::new(c).map_err(|e| crate_error("payments.solana", &e))?;
        out.rails.push(Arc::new(rail));
        verifiers.push(Arc::new(compute_pay_solana::SolanaSignatureVerifier::new()));
    }
    if !verifiers.is_empty() {
        let window = std::time::Duration::from_secs(config.auth.signed_header_window_secs);
        out.auth.push(Arc::new(SignedHeaderAuth::new(verifiers, Arc::new(store.clone()), window)));
    }
    Ok(())
}
