//! The `mpp` crate's replay [`mpp::Store`] on a [`MarkerStore`] (the gateway's database), so
//! every gateway process sees the same markers. Values are JSON text, compared byte for byte.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use compute_core::markers::MarkerStore;
use mpp::StoreError;

/// Adapts a [`MarkerStore`] to [`mpp::Store`]; every key lives for `ttl`.
#[derive(Clone)]
pub struct MarkerStoreAdapter {
    inner: Arc<dyn MarkerStore>,
    ttl: Duration,
}

impl MarkerStoreAdapter {
    /// Wraps `inner`.
    pub fn new(inner: Arc<dyn MarkerStore>, ttl: Duration) -> Self {
        MarkerStoreAdapter { inner, ttl }
    }
}

type Fut<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

fn internal(e: compute_core::Error) -> StoreError {
    StoreError::Internal(e.to_string())
}

fn text(v: &serde_json::Value) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|e| StoreError::Serialization(e.to_string()))
}

impl mpp::Store for MarkerStoreAdapter {
    fn get(&self, key: &str) -> Fut<'_, Option<serde_json::Value>> {
        let key = key.to_owned();
        Box::pin(async move {
            match self.inner.get(&key).await.map_err(internal)? {
                None => Ok(None),
                Some(s) => serde_json::from_str(&s).map(Some).map_err(|e| StoreError::Serialization(e.to_string())),
            }
        })
    }

    fn put(&self, key: &str, value: serde_json::Value) -> Fut<'_, ()> {
        let key = key.to_owned();
        Box::pin(async move { self.inner.put(&key, &text(&value)?, self.ttl).await.map_err(internal) })
    }

    fn delete(&self, key: &str) -> Fut<'_, ()> {
        let key = key.to_owned();
        Box::pin(async move { self.inner.delete(&key).await.map_err(internal) })
    }

    fn compare_exchange(
        &self,
        key: &str,
        expected: Option<serde_json::Value>,
        value: Option<serde_json::Value>,
    ) -> Fut<'_, bool> {
        let key = key.to_owned();
        Box::pin(async move {
            let expected = expected.as_ref().map(text).transpose()?;
            let value = value.as_ref().map(text).transpose()?;
            self.inner.compare_exchange(&key, expected.as_deref(), value.as_deref(), self.ttl).await.map_err(internal)
        })
    }

    fn put_if_absent(&self, key: &str, value: serde_json::Value) -> Fut<'_, bool> {
        let key = key.to_owned();
        Box::pin(async move { self.inner.put_if_absent(&key, &text(&value)?, self.ttl).await.map_err(internal) })
    }
}
