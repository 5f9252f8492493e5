//! Key-value databases (Upstash Redis): management and data operations.

use std::fmt;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use crate::Result;

/// A database to create.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KvDatabaseSpec {
    /// Name.
    pub name: String,
    /// Primary region, e.g. `us-east-1`.
    pub region: String,
}

/// How to reach a database's data API. The token is secret (redacted in `Debug`).
#[derive(Clone)]
pub struct KvEndpoint {
    /// REST URL, e.g. `https://xyz.upstash.io`.
    pub rest_url: String,
    /// REST token.
    pub rest_token: SecretString,
}

impl fmt::Debug for KvEndpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KvEndpoint").field("rest_url", &self.rest_url).field("rest_token", &"[redacted]").finish()
    }
}

/// A database.
#[derive(Clone, Debug)]
pub struct KvDatabase {
    /// The provider's id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Region.
    pub region: String,
    /// State, verbatim (`active`, …).
    pub state: String,
    /// Data endpoint and token.
    pub endpoint: KvEndpoint,
    /// Creation time.
    pub created_at: Option<DateTime<Utc>>,
}

/// Key-value databases.
#[async_trait]
pub trait KeyValue: Send + Sync {
    /// Creates a database.
    async fn create_database(&self, spec: &KvDatabaseSpec) -> Result<KvDatabase>;
    /// Gets a database.
    async fn get_database(&self, id: &str) -> Result<KvDatabase>;
    /// Deletes a database.
    async fn delete_database(&self, id: &str) -> Result<()>;
    /// `GET key`.
    async fn get(&self, db: &KvEndpoint, key: &str) -> Result<Option<String>>;
    /// `SET key value [EX seconds]`.
    async fn set(&self, db: &KvEndpoint, key: &str, value: &str, expire_secs: Option<u64>) -> Result<()>;
    /// `DEL key`; returns how many keys were removed.
    async fn del(&self, db: &KvEndpoint, key: &str) -> Result<u64>;
    /// Keys matching a glob `pattern` (via `SCAN`, never a blocking `KEYS`).
    async fn keys(&self, db: &KvEndpoint, pattern: &str) -> Result<Vec<String>>;
}
