//! Composes the enabled providers from configuration and the provider crates compiled in
//! (Cargo features). The provider id enum always has every variant; only construction is
//! gated, so a configured provider whose crate is not compiled in is a clear start-up error.

use std::collections::BTreeMap;

use compute_core::provider::{ProviderHandle, ProviderId};

use crate::config::{Config, ConfigError};

/// The provider crates compiled into this binary.
pub fn compiled() -> Vec<ProviderId> {
    #[allow(unused_mut)]
    let mut v = Vec::new();
    v
}

/// Builds a handle for every configured provider.
///
/// # Errors
/// [`ConfigError`] naming `providers.<id>` when its crate is not compiled in or its settings
/// are rejected by the provider crate.
pub fn build(config: &Config) -> Result<BTreeMap<ProviderId, ProviderHandle>, ConfigError> {
    let compiled = compiled();
    let providers = BTreeMap::new();
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
    Ok(providers)
}
