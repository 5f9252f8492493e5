//! Provider catalogs, cached per provider for a few minutes: prices before a 402 read the
//! catalog (sizes with provider cost, regions, default region, limits) without a provider call
//! on every request.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use compute_core::Result;
use compute_core::provider::{Catalog, ProviderHandle, ProviderId};
use tokio::sync::RwLock;

/// How long a catalog is reused.
pub const CATALOG_TTL: Duration = Duration::from_secs(600);

/// Catalogs by provider.
#[derive(Default)]
pub struct CatalogCache {
    entries: RwLock<HashMap<ProviderId, (Instant, Arc<Catalog>)>>,
}

impl CatalogCache {
    /// The catalog of `handle`'s provider, from the cache when fresh.
    ///
    /// # Errors
    /// The provider's error when the catalog has to be fetched and cannot be.
    pub async fn get(&self, handle: &ProviderHandle) -> Result<Arc<Catalog>> {
        let id = handle.id();
        if let Some((at, c)) = self.entries.read().await.get(&id)
            && at.elapsed() < CATALOG_TTL
        {
            return Ok(c.clone());
        }
        let fresh = Arc::new(handle.provider().catalog().await?);
        self.entries.write().await.insert(id, (Instant::now(), fresh.clone()));
        Ok(fresh)
    }
}
