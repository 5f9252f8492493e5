//! Providers: the [`Provider`] base trait, the capability traits, and [`ProviderHandle`], which
//! bundles one provider with the capabilities it implements.
//!
//! # Contract
//! - A provider crate implements [`Provider`] (id and catalog) and **only** the capability
//!   traits it really supports: [`Machines`] (+ [`MachineExec`], [`MachineEvents`],
//!   [`MachineSuspend`], [`MachineResize`]), [`Tenancy`], [`IpAddresses`], [`Volumes`],
//!   [`Snapshots`], [`SshKeys`], [`Hosting`], [`Domains`], [`Dns`], [`KeyValue`].
//! - Each capability with inputs has a **pure check** ([`Machines::check`],
//!   [`Volumes::check_volume`]) the gateway runs before pricing, and names come from the
//!   provider ([`Tenancy::space_name`]); limits, regions, the default region, images and
//!   provider cost come from [`Provider::catalog`].
//! - It registers them on a [`ProviderHandle`]; [`ProviderHandle::capabilities`] is derived
//!   from what was registered, so a missing capability is visible **before** a request is
//!   priced, never discovered as a run-time "unsupported" error.
//! - Every trait is object safe (`#[async_trait]`) and used as `Arc<dyn …>`.
//! - Provider crates know nothing of payments, HTTP routing or the database: ownership,
//!   prices and persistence are the gateway's. Compute resources live in a [`Tenant`], the
//!   isolation unit the gateway derives from the owner (a Fly app, a DigitalOcean tag, …).

pub mod catalog;
pub mod domains;
pub mod hosting;
pub mod keys;
pub mod kv;
pub mod machines;
pub mod storage;

mod handle;

use std::fmt;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

pub use catalog::{Catalog, CpuKind, GpuInfo, Image, Limits, ProviderCost, Rate, RatePeriod, Region, SizeOffer};
pub use domains::{Dns, DnsRecord, DnsRecordSpec, Domain, DomainAvailability, DomainPrice, DomainPurchase, Domains};
pub use handle::{Capabilities, Capability, MachineCapabilities, ProviderHandle};
pub use hosting::{
    Deployment, DeploymentFilter, DeploymentSpec, EnvVar, EnvVarSpec, Hosting, Project, ProjectDomain, ProjectSpec,
};
pub use keys::{SshKey, SshKeys};
pub use kv::{KeyValue, KvDatabase, KvDatabaseSpec, KvEndpoint};
pub use machines::{
    ExecRequest, ExecResult, IpAddresses, IpAssignment, IpKind, Machine, MachineEvent, MachineEvents, MachineExec,
    MachineResize, MachineSize, MachineSpec, MachineState, MachineSuspend, Machines, MountSpec, PortSpec,
    RestartPolicy, ServiceSpec, Tenancy, TransportProtocol,
};
pub use storage::{Snapshot, SnapshotSpec, Snapshots, Volume, VolumeSpec, Volumes};

use crate::Result;

/// A provider's stable identifier: `fly`, `digitalocean`, `vultr`, `vercel`, `upstash`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderId {
    /// Fly.io Machines.
    Fly,
    /// DigitalOcean droplets.
    Digitalocean,
    /// Vultr instances (including GPU plans).
    Vultr,
    /// Vercel projects, deployments, domains and DNS.
    Vercel,
    /// Upstash Redis-compatible key-value databases.
    Upstash,
}

impl ProviderId {
    /// Every provider the gateway knows, whether or not its crate is compiled in.
    pub const ALL: [ProviderId; 5] =
        [ProviderId::Fly, ProviderId::Digitalocean, ProviderId::Vultr, ProviderId::Vercel, ProviderId::Upstash];

    /// The lowercase name.
    pub fn as_str(&self) -> &'static str {
        match self {
            ProviderId::Fly => "fly",
            ProviderId::Digitalocean => "digitalocean",
            ProviderId::Vultr => "vultr",
            ProviderId::Vercel => "vercel",
            ProviderId::Upstash => "upstash",
        }
    }
}

impl fmt::Display for ProviderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The isolation unit of a tenant's compute resources at a provider, chosen by the caller
/// (the gateway derives one per owner wallet). Fly maps it to an app name, DigitalOcean and
/// Vultr to a tag. Lowercase letters, digits and `-`, 3–63 characters.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Tenant(String);

impl Tenant {
    /// Validates a tenant name.
    ///
    /// # Errors
    /// [`crate::ErrorKind::InvalidInput`] for names outside `[a-z0-9-]{3,63}` or starting or
    /// ending with `-`.
    pub fn new(name: impl Into<String>) -> Result<Self> {
        let name = name.into();
        let ok = (3..=63).contains(&name.len())
            && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !name.starts_with('-')
            && !name.ends_with('-');
        if ok {
            Ok(Tenant(name))
        } else {
            Err(crate::Error::new(crate::ErrorKind::InvalidInput, format!("invalid tenant name {name:?}")))
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The base trait every provider implements.
#[async_trait]
pub trait Provider: Send + Sync + fmt::Debug {
    /// Which provider this is.
    fn id(&self) -> ProviderId;

    /// The provider's current catalog: sizes or plans with **provider cost**, regions, images.
    ///
    /// # Errors
    /// Provider errors mapped to [`crate::ErrorKind`]; temporary ones may be retried.
    async fn catalog(&self) -> Result<Catalog>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_names_are_validated() {
        assert!(Tenant::new("cg-0a1b2c").is_ok());
        for bad in ["", "ab", "-abc", "abc-", "ABC", "a/b", "a.b"] {
            assert!(Tenant::new(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn provider_ids_round_trip() {
        for p in ProviderId::ALL {
            let s = serde_json::to_string(&p).unwrap();
            assert_eq!(s, format!("\"{}\"", p.as_str()));
            assert_eq!(serde_json::from_str::<ProviderId>(&s).unwrap(), p);
        }
    }
}
