//! Shared application state: configuration, the store, billing, the enabled providers and the
//! route table. Cheap to clone.

use std::collections::BTreeMap;
use std::sync::Arc;

use compute_core::billing::{Billing, MarginBilling};
use compute_core::provider::{ProviderHandle, ProviderId};
use compute_store::Store;

use crate::config::Config;
use crate::payments::Rails;
use crate::routes::RouteSpec;

/// The state every handler sees.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    store: Store,
    billing: Arc<dyn Billing>,
    providers: BTreeMap<ProviderId, ProviderHandle>,
    rails: Rails,
    routes: Vec<RouteSpec>,
}

impl AppState {
    /// Builds the state. `providers` are the handles the binary composed from its features.
    pub fn new(
        config: Config,
        store: Store,
        providers: BTreeMap<ProviderId, ProviderHandle>,
        rails: Rails,
        routes: Vec<RouteSpec>,
    ) -> Self {
        let billing = Arc::new(MarginBilling {
            margin: config.pricing.margin,
            minimum_charge: config.pricing.minimum_charge_usd,
            price_scale: config.pricing.price_scale,
        });
        AppState { inner: Arc::new(Inner { config, store, billing, providers, rails, routes }) }
    }

    /// Configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// Billing.
    pub fn billing(&self) -> &Arc<dyn Billing> {
        &self.inner.billing
    }

    /// Enabled providers.
    pub fn providers(&self) -> &BTreeMap<ProviderId, ProviderHandle> {
        &self.inner.providers
    }

    /// Enabled payment rails.
    pub fn rails(&self) -> &Rails {
        &self.inner.rails
    }

    /// The route table.
    pub fn routes(&self) -> &[RouteSpec] {
        &self.inner.routes
    }

    /// The spec of the route `method path` (path in `{param}` syntax).
    ///
    /// # Panics
    /// When the route is not in the table: a handler registered for a route that is not
    /// declared is a programming error caught by the tests.
    pub fn route(&self, method: &axum::http::Method, path: &str) -> &RouteSpec {
        self.inner
            .routes
            .iter()
            .find(|r| r.method == *method && r.path == path)
            .unwrap_or_else(|| panic!("route {method} {path} is not in the route table"))
    }
}
