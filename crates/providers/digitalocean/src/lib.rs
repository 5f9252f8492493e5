#![doc = include_str!("../README.md")]
//!
//! # Architecture invariants
//! - No globals: everything hangs off a [`DoConfig`]; build as many adapters as needed. The
//!   only state a client keeps is the last rate-limit window it was told about.
//! - The crate knows nothing of payments, HTTP routing or databases and depends only on
//!   `compute-core` among the workspace's crates.
//! - The token is a `SecretString`, sent only in the `Authorization` header (marked
//!   sensitive), never in `Debug`, logs or errors; errors never carry URLs.
//! - Every request goes through [`compute_core::http::HttpClient::execute`] with an explicit
//!   idempotency; a droplet create is sent once and, when its outcome is unknown, reconciled
//!   by name and tag instead of retried; each call runs in a `provider_call` tracing span and
//!   is reported to the configuration's observer, if any ([`DoConfig::with_observer`]).
//! - A tenant sees only what carries its tag (droplets) or its name prefix (snapshots, SSH
//!   keys): anything else is `NotFound`, exactly like an absent resource.

#![deny(missing_docs)]

mod actions;
pub mod catalog;
pub mod check;
mod client;
pub mod config;
pub mod convert;
mod droplets;
mod keys;
mod snapshots;
mod tenancy;
pub mod types;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use compute_core::Result;
use compute_core::provider::ProviderHandle;

pub use actions::MAX_POLL_INTERVAL;
pub use check::{MAX_USER_DATA_BYTES, Offering};
pub use client::{DoClient, MAX_PAGES, PER_PAGE, parse_error};
pub use config::{DEFAULT_BASE_URL, DEFAULT_REGION, DEFAULT_SNAPSHOT_TIMEOUT_SECS, DEFAULT_TAG_PREFIX, DoConfig};
pub use droplets::RECONCILE_LOOKUPS;
pub use keys::{MAX_KEY_NAME_LEN, MAX_PUBLIC_KEY_LEN};
pub use snapshots::MAX_SNAPSHOT_NAME_LEN;
pub use tenancy::{MAX_TAG_LEN, name_prefix, tenant_tag};

/// Component name in errors and logs.
pub const COMPONENT: &str = "digitalocean";

/// The DigitalOcean provider: [`compute_core::provider::Provider`] and every capability this
/// crate implements.
#[derive(Clone)]
pub struct DoProvider {
    client: DoClient,
    offering: Offering,
    tag_prefix: String,
    snapshot_timeout: Duration,
}

impl DoProvider {
    /// Builds the provider (no network call).
    ///
    /// # Errors
    /// [`compute_core::ErrorKind::Config`] when the configuration is invalid.
    pub fn new(config: &DoConfig) -> Result<Self> {
        Ok(DoProvider {
            client: DoClient::new(config)?,
            offering: Offering::from_config(config),
            tag_prefix: config.tag_prefix.clone(),
            snapshot_timeout: config.snapshot_timeout(),
        })
    }

    /// What this adapter offers (default region, limits).
    pub fn offering(&self) -> &Offering {
        &self.offering
    }

    /// The underlying typed client.
    pub fn client(&self) -> &DoClient {
        &self.client
    }
}

impl fmt::Debug for DoProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DoProvider")
            .field("client", &self.client)
            .field("offering", &self.offering)
            .field("tag_prefix", &self.tag_prefix)
            .field("snapshot_timeout", &self.snapshot_timeout)
            .finish()
    }
}

/// Builds a [`ProviderHandle`] with every capability of this crate registered: machines (with
/// resize), tenancy, snapshots and SSH keys. IP addresses and volumes are not registered.
///
/// # Errors
/// [`compute_core::ErrorKind::Config`] when the configuration is invalid.
pub fn handle(config: DoConfig) -> Result<ProviderHandle> {
    let provider = Arc::new(DoProvider::new(&config)?);
    Ok(ProviderHandle::new(provider.clone())
        .with_machines(provider.clone())
        .with_resize(provider.clone())
        .with_tenancy(provider.clone())
        .with_snapshots(provider.clone())
        .with_ssh_keys(provider))
}
