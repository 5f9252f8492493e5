//! Domains (registrar) and DNS records (Vercel). Ownership is the gateway's.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use crate::{Result, Usd};

/// Whether a domain can be bought.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainAvailability {
    /// The domain.
    pub name: String,
    /// Whether it is available.
    pub available: bool,
}

/// Registrar prices for a domain, in **USD**, for `period_years`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainPrice {
    /// The domain.
    pub name: String,
    /// Purchase price (provider cost).
    pub purchase: Usd,
    /// Renewal price (provider cost).
    pub renewal: Usd,
    /// Years covered by the prices.
    pub period_years: u32,
}

/// A purchase order. `expected_price` is the quoted provider price; the provider must refuse
/// if the price changed (Vercel `expectedPrice`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainPurchase {
    /// The domain.
    pub name: String,
    /// Years.
    pub years: u32,
    /// The price the buyer was quoted, USD.
    pub expected_price: Usd,
    /// Auto-renew.
    pub auto_renew: bool,
}

/// A registered domain.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Domain {
    /// The domain.
    pub name: String,
    /// Expiry.
    pub expires_at: Option<DateTime<Utc>>,
    /// Whether it auto-renews.
    pub auto_renew: bool,
    /// The provider's own object.
    pub raw: serde_json::Value,
}

/// Registrar operations.
#[async_trait]
pub trait Domains: Send + Sync {
    /// Checks availability.
    async fn check(&self, name: &str) -> Result<DomainAvailability>;
    /// Gets prices.
    async fn price(&self, name: &str, years: u32) -> Result<DomainPrice>;
    /// Buys a domain at the expected price.
    async fn buy(&self, order: &DomainPurchase) -> Result<Domain>;
    /// Renews a domain at the expected price.
    async fn renew(&self, name: &str, years: u32, expected_price: Usd) -> Result<Domain>;
    /// Gets a domain.
    async fn get_domain(&self, name: &str) -> Result<Domain>;
    /// The transfer authorisation code (a secret).
    async fn transfer_code(&self, name: &str) -> Result<SecretString>;
}

/// A DNS record to add.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DnsRecordSpec {
    /// Type: `A`, `AAAA`, `CNAME`, `TXT`, `MX`, `CAA`, `SRV`, `NS`.
    pub kind: String,
    /// Name relative to the domain (`@` for the apex).
    pub name: String,
    /// Value.
    pub value: String,
    /// TTL in **seconds**.
    pub ttl: Option<u32>,
}

/// A DNS record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DnsRecord {
    /// The provider's id.
    pub id: String,
    /// Type.
    pub kind: String,
    /// Name.
    pub name: String,
    /// Value.
    pub value: String,
    /// TTL in **seconds**.
    pub ttl: Option<u32>,
}

/// DNS records of a domain.
#[async_trait]
pub trait Dns: Send + Sync {
    /// Lists records.
    async fn list_records(&self, domain: &str) -> Result<Vec<DnsRecord>>;
    /// Adds a record.
    async fn add_record(&self, domain: &str, spec: &DnsRecordSpec) -> Result<DnsRecord>;
    /// Deletes a record.
    async fn delete_record(&self, domain: &str, id: &str) -> Result<()>;
}
