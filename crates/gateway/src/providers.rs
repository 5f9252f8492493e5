//! Composes the enabled providers from configuration and the provider crates compiled in
//! (Cargo features). The provider id enum always has every variant; only construction is
//! gated, so a configured provider whose crate is not compiled in is a clear start-up error.

use std::collections::BTreeMap;

use compute_core::provider::{ProviderHandle, ProviderId};

use crate::config::{Config, ConfigError};

/// The provider crates compiled into this binary.
#[allow(clippy::vec_init_then_push)] // One push per compiled feature.
pub fn compiled() -> Vec<ProviderId> {
    #[allow(unused_mut)]
    let mut v = Vec::new();
    #[cfg(feature = "fly")]
    v.push(ProviderId::Fly);
    v
}

/// Builds a handle for every configured provider.
///
/// # Errors
/// [`ConfigError`] naming `providers.<id>` when its crate is not compiled in or its settings
/// are rejected by the provider crate.
pub fn build(config: &Config) -> Result<BTreeMap<ProviderId, ProviderHandle>, ConfigError> {
    let compiled = compiled();
    #[allow(unused_mut)]
    let mut providers = BTreeMap::new();
    for id in config.providers.configured() {
        if !compiled.contains(&id) {
            return Err(ConfigError(format!(
                "providers.{id}: this binary was built without the `{id}` feature (compiled in: {})",
                if compiled.is_empty() {
                    "none".to_owned()
                } else {
                    compiled.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(", ")
                }
            )));
        }
    }
    #[cfg(feature = "fly")]
    if let Some(fly) = &config.providers.fly {
        let mut c = compute_fly::FlyConfig::new(fly.token.clone(), fly.org_slug.clone())
            .with_app_prefix(fly.app_prefix.clone().unwrap_or_else(|| "cg-".to_owned()));
        if let Some(url) = &fly.base_url {
            c = c.with_base_url(url.as_str().trim_end_matches('/'));
        }
        let handle = compute_fly::handle(c).map_err(|e| ConfigError(format!("providers.fly: {}", e.message())))?;
        providers.insert(ProviderId::Fly, handle);
    }
    Ok(providers)
}
