//! [`MarkerStore`]: atomic, expiring single-use markers shared by every gateway process.
//!
//! Payment rails use it for replay protection (the MPP `Store`, x402 nonces) without knowing
//! which database is behind it; `compute-store` implements it on SQLite and PostgreSQL.

use std::time::Duration;

use async_trait::async_trait;

use crate::Result;

/// Key-value markers with a time to live. Every operation is atomic across processes.
#[async_trait]
pub trait MarkerStore: Send + Sync {
    /// The live value of `key`, or `None` when absent or expired.
    async fn get(&self, key: &str) -> Result<Option<String>>;
    /// Sets `key` to `value` for `ttl`, whatever was there.
    async fn put(&self, key: &str, value: &str, ttl: Duration) -> Result<()>;
    /// Removes `key`.
    async fn delete(&self, key: &str) -> Result<()>;
    /// Sets `key` only when it is absent or expired; `true` for exactly one of concurrent callers.
    async fn put_if_absent(&self, key: &str, value: &str, ttl: Duration) -> Result<bool>;
    /// Replaces the value of `key` with `new` (`None`: delete) only when it is `expected`
    /// (`None`: absent); returns whether it did.
    async fn compare_exchange(
        &self,
        key: &str,
        expected: Option<&str>,
        new: Option<&str>,
        ttl: Duration,
    ) -> Result<bool>;
}

#[cfg(test)]
mod tests {
    #[allow(dead_code)]
    fn object_safe(_: &dyn super::MarkerStore) {}
}
