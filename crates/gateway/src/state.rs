//! Shared application state: configuration, the store, prices, the enabled providers, rails
//! and wallet-authentication methods, the route table and the catalog cache. Cheap to clone.

use std::collections::BTreeMap;
use std::sync::Arc;

use compute_core::auth::WalletAuth;
use compute_core::billing::{Billing, BookBilling, PriceBooks};
use compute_core::payment::Payment;
use compute_core::provider::{ProviderHandle, ProviderId};
use compute_store::Store;

use crate::config::Config;
use crate::payments::Rails;
use crate::routes::RouteSpec;
use crate::services::catalog::CatalogCache;

/// The state every handler sees.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    store: Store,
    billing: BookBilling,
    providers: BTreeMap<ProviderId, ProviderHandle>,
    rails: Rails,
    auth: Vec<Arc<dyn WalletAuth>>,
    credits: Arc<dyn Payment>,
    routes: Vec<Arc<RouteSpec>>,
    catalogs: CatalogCache,
}

impl AppState {
    /// The state over composed parts: `rails` and `auth` come from the rail crates (the
    /// gateway adds its own API-key method and the credits rail), `books` are the price books.
    pub fn new(
        config: Config,
        store: Store,
        providers: BTreeMap<ProviderId, ProviderHandle>,
        rails: Rails,
        auth: Vec<Arc<dyn WalletAuth>>,
        books: PriceBooks,
    ) -> Self {
        let billing = crate::pricing::billing(&config, books);
        let mut methods: Vec<Arc<dyn WalletAuth>> = vec![Arc::new(crate::auth::ApiKeyAuth::new(store.clone()))];
        methods.extend(auth);
        let credits = Arc::new(crate::payments::credits::CreditsRail::new(store.clone()));
        let routes = crate::routes::all_routes().into_iter().map(Arc::new).collect();
        AppState {
            inner: Arc::new(Inner {
                config,
                store,
                billing,
                providers,
                rails,
                auth: methods,
                credits,
                routes,
                catalogs: CatalogCache::default(),
            }),
        }
    }

    /// Configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// Billing (price books plus margin).
    pub fn billing(&self) -> &dyn Billing {
        &self.inner.billing
    }

    /// The price books.
    pub fn books(&self) -> &PriceBooks {
        &self.inner.billing.books
    }

    /// Enabled providers.
    pub fn providers(&self) -> &BTreeMap<ProviderId, ProviderHandle> {
        &self.inner.providers
    }

    /// Enabled on-chain payment rails.
    pub fn rails(&self) -> &Rails {
        &self.inner.rails
    }

    /// Wallet-authentication methods, in the order they are tried.
    pub fn auth_methods(&self) -> &[Arc<dyn WalletAuth>] {
        &self.inner.auth
    }

    /// The credit-balance rail.
    pub fn credits(&self) -> &Arc<dyn Payment> {
        &self.inner.credits
    }

    /// The route table.
    pub fn routes(&self) -> &[Arc<RouteSpec>] {
        &self.inner.routes
    }

    /// Provider catalogs, cached.
    pub fn catalogs(&self) -> &CatalogCache {
        &self.inner.catalogs
    }
}
