//! Shared application state: configuration, the store, prices, the enabled providers, rails
//! and wallet-authentication methods, the route table and the catalog cache. Cheap to clone.

use std::collections::BTreeMap;
use std::sync::Arc;

use compute_core::auth::WalletAuth;
use compute_core::billing::{Billing, BookBilling, MarginBilling, PriceBooks};
use compute_core::http::SecretString;
use compute_core::payment::Payment;
use compute_core::provider::{ProviderHandle, ProviderId};
use compute_store::Store;

use crate::compose::Composed;
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
    expiry_retries: crate::services::expiry::retries::Retries,
    instance_id: String,
    tenancy_secret: tokio::sync::OnceCell<SecretString>,
    data_key: tokio::sync::OnceCell<SecretString>,
    metrics: crate::system::metrics::Metrics,
}

impl AppState {
    /// The state over composed parts: `rails` and `auth` come from the rail crates (the
    /// gateway adds its own API-key method and the credits rail), `books` are the price books.
    /// Its metrics registry is a new one, which sees no provider call: use
    /// [`AppState::from_composed`] for the registry the providers report to.
    pub fn new(
        config: Config,
        store: Store,
        providers: BTreeMap<ProviderId, ProviderHandle>,
        rails: Rails,
        auth: Vec<Arc<dyn WalletAuth>>,
        books: PriceBooks,
    ) -> Self {
        let composed = Composed { providers, rails: rails.all().to_vec(), auth, ..Composed::default() };
        Self::from_composed(config, store, composed, books)
    }

    /// The state over what [`crate::compose::compose`] made: its providers, rails (in offer
    /// order), wallet-authentication methods and the metrics registry the providers' calls are
    /// counted in; `books` are the price books.
    pub fn from_composed(config: Config, store: Store, composed: Composed, books: PriceBooks) -> Self {
        let Composed { providers, rails, auth, metrics, .. } = composed;
        let rails = Rails::new(rails);
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
                expiry_retries: Default::default(),
                instance_id: uuid::Uuid::new_v4().to_string(),
                tenancy_secret: tokio::sync::OnceCell::new(),
                data_key: tokio::sync::OnceCell::new(),
                metrics,
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

    /// The margin, rounding and minimum charge of prices sold at provider cost.
    pub fn margin(&self) -> &MarginBilling {
        &self.inner.billing.margin
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

    /// The secret tenant names derive from: `[tenancy] secret`, or the one kept in the
    /// database (generated on first use, the same for every replica).
    ///
    /// # Errors
    /// Database errors reading it.
    pub async fn tenancy_secret(&self) -> compute_core::Result<&SecretString> {
        let configured = self.inner.config.tenancy.secret.as_ref();
        self.configured_or_stored(&self.inner.tenancy_secret, configured, crate::services::tenancy::SECRET_NAME).await
    }

    /// The key that seals data kept encrypted at rest (root passwords): `[secrets] data_key`,
    /// or one kept in the database.
    ///
    /// # Errors
    /// Database errors reading it.
    pub async fn data_key(&self) -> compute_core::Result<&SecretString> {
        let configured = self.inner.config.secrets.data_key.as_ref();
        self.configured_or_stored(&self.inner.data_key, configured, crate::services::passwords::KEY_NAME).await
    }

    async fn configured_or_stored<'a>(
        &'a self,
        cell: &'a tokio::sync::OnceCell<SecretString>,
        configured: Option<&SecretString>,
        name: &str,
    ) -> compute_core::Result<&'a SecretString> {
        cell.get_or_try_init(|| async {
            match configured {
                Some(s) => Ok(s.clone()),
                None => self.inner.store.server_secret(name).await,
            }
        })
        .await
    }

    /// This gateway's metrics (`GET /metrics`).
    pub fn metrics(&self) -> &crate::system::metrics::Metrics {
        &self.inner.metrics
    }

    /// This process's id (the holder of its leases).
    pub fn instance_id(&self) -> &str {
        &self.inner.instance_id
    }

    /// Provider catalogs, cached.
    pub fn catalogs(&self) -> &CatalogCache {
        &self.inner.catalogs
    }

    /// Due resources the expiry worker failed to act on, waiting to be retried (this process).
    pub fn expiry_retries(&self) -> &crate::services::expiry::retries::Retries {
        &self.inner.expiry_retries
    }
}
