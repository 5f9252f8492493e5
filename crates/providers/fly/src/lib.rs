//! `compute-fly`: the Fly.io Machines provider of compute-gateway.
//!
//! A thin, typed `reqwest` client for the Fly Machines API (`https://api.machines.dev/v1/...`)
//! and the compute-core capability traits on top of it:
//!
//! | capability | Fly API |
//! |---|---|
//! | [`Tenancy`](compute_core::provider::Tenancy) | one app per tenant (`POST /v1/apps`, get-or-create) |
//! | [`Machines`](compute_core::provider::Machines) | `/v1/apps/{app}/machines[/{id}[/start,stop,restart,wait]]` |
//! | [`MachineExec`](compute_core::provider::MachineExec) | `…/exec`, `…/ps` |
//! | [`MachineEvents`](compute_core::provider::MachineEvents) | `…/events` |
//! | [`MachineSuspend`](compute_core::provider::MachineSuspend) | `…/suspend` |
//! | [`MachineResize`](compute_core::provider::MachineResize) | `POST …/machines/{id}` with the full config |
//! | [`Volumes`](compute_core::provider::Volumes) | `/v1/apps/{app}/volumes[/{id}[/extend]]` |
//! | [`IpAddresses`](compute_core::provider::IpAddresses) | `/v1/apps/{app}/ip_assignments` |
//!
//! Snapshots are not registered (Fly's API can list and take volume snapshots but not delete
//! them). The catalog ([`catalog()`]) is static: Fly publishes no prices in its API.
//!
//! # Embedding
//! ```
//! use compute_core::http::SecretString;
//! use compute_fly::FlyConfig;
//!
//! let config = FlyConfig::new(SecretString::from("fo1_example"), "my-org").with_app_prefix("cg-");
//! let handle = compute_fly::handle(config)?;
//! assert!(handle.capabilities().machines.is_some_and(|m| m.exec && m.resize));
//! # Ok::<(), compute_core::Error>(())
//! ```
//!
//! # Architecture invariants
//! - No globals: everything hangs off a [`FlyConfig`]; build as many adapters as needed.
//! - The crate knows nothing of payments, HTTP routing or databases.
//! - The token is a `SecretString`, sent only in the `Authorization` header (marked
//!   sensitive), never in `Debug`, logs or errors.
//! - Every request goes through [`compute_core::http::HttpClient::execute`]; a machine create
//!   is sent once and, when its outcome is unknown, reconciled by name instead of retried.
//!   Each call runs in a `provider_call` tracing span and is reported to the configuration's
//!   observer, if any ([`FlyConfig::with_observer`]).
//! - Requests carry only what the caller's spec holds.

#![deny(missing_docs)]

mod apps;
pub mod catalog;
pub mod check;
mod client;
pub mod config;
mod convert;
mod ips;
mod machines;
pub mod types;
mod volumes;

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use compute_core::Result;
use compute_core::provider::{Catalog, Provider, ProviderHandle, ProviderId};

pub use catalog::{
    PRESETS, PRICING_AS_OF, PRICING_SOURCE, REGIONS, catalog, guest_cost, ip_cost, validate_guest, volume_cost,
};
pub use check::Offering;
pub use client::{FlyClient, LONG_CALL_SLACK, parse_error};
pub use config::{DEFAULT_APP_PREFIX, DEFAULT_BASE_URL, DEFAULT_REGION, FlyConfig};
pub use ips::ip_type;
pub use machines::{MAX_EVENTS, MAX_WAIT_PER_CALL, WaitOutcome};

/// Component name in errors and logs.
pub const COMPONENT: &str = "fly";

/// The Fly provider: [`Provider`] and every capability this crate implements.
#[derive(Clone)]
pub struct FlyProvider {
    client: FlyClient,
    offering: Offering,
}

impl FlyProvider {
    /// Builds the provider (no network call).
    ///
    /// # Errors
    /// [`compute_core::ErrorKind::Config`] when the configuration is invalid.
    pub fn new(config: &FlyConfig) -> Result<Self> {
        Ok(FlyProvider { client: FlyClient::new(config)?, offering: Offering::from_config(config) })
    }

    /// What this adapter offers (default region, limits).
    pub fn offering(&self) -> &Offering {
        &self.offering
    }

    /// The underlying typed client.
    pub fn client(&self) -> &FlyClient {
        &self.client
    }
}

impl fmt::Debug for FlyProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FlyProvider").field("client", &self.client).field("offering", &self.offering).finish()
    }
}

#[async_trait]
impl Provider for FlyProvider {
    fn id(&self) -> ProviderId {
        ProviderId::Fly
    }

    /// The static catalog with this adapter's default region and limits, and the cost of volume
    /// storage per GB and of a dedicated IPv4.
    async fn catalog(&self) -> Result<Catalog> {
        Ok(Catalog {
            default_region: Some(self.offering.default_region.clone()),
            limits: self.offering.limits,
            storage_per_gb: catalog::volume_cost(1).ok(),
            dedicated_ipv4: Some(catalog::ip_cost(compute_core::provider::IpKind::V4)),
            ..catalog::catalog()
        })
    }
}

/// Builds a [`ProviderHandle`] with every capability of this crate registered: machines
/// (with exec, events, suspend and resize), tenancy, IP addresses and volumes.
///
/// # Errors
/// [`compute_core::ErrorKind::Config`] when the configuration is invalid.
pub fn handle(config: FlyConfig) -> Result<ProviderHandle> {
    let fly = Arc::new(FlyProvider::new(&config)?);
    Ok(ProviderHandle::new(fly.clone())
        .with_machines(fly.clone())
        .with_exec(fly.clone())
        .with_events(fly.clone())
        .with_suspend(fly.clone())
        .with_resize(fly.clone())
        .with_tenancy(fly.clone())
        .with_ips(fly.clone())
        .with_volumes(fly))
}
