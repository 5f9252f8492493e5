//! Typed resource kinds and gateway states, stored as lowercase strings.

use std::fmt;
use std::str::FromStr;

use compute_core::{Error, ErrorKind, Result};

/// What a resource row is. The provider is a separate column, so a kind is provider-agnostic.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ResourceKind {
    /// A machine, droplet or instance.
    Machine,
    /// A block volume.
    Volume,
    /// A dedicated public IP address.
    Ip,
    /// A snapshot of a machine.
    Snapshot,
    /// An SSH public key registered at the provider.
    SshKey,
    /// A hosting project.
    Project,
    /// A deployment of a project.
    Deployment,
    /// A registered domain.
    Domain,
    /// A DNS record.
    DnsRecord,
    /// A key-value database.
    KvDatabase,
}

impl ResourceKind {
    /// Every kind.
    pub const ALL: [ResourceKind; 10] = [
        ResourceKind::Machine,
        ResourceKind::Volume,
        ResourceKind::Ip,
        ResourceKind::Snapshot,
        ResourceKind::SshKey,
        ResourceKind::Project,
        ResourceKind::Deployment,
        ResourceKind::Domain,
        ResourceKind::DnsRecord,
        ResourceKind::KvDatabase,
    ];

    /// The stored name, e.g. `machine`, `ssh_key`.
    pub fn as_str(&self) -> &'static str {
        match self {
            ResourceKind::Machine => "machine",
            ResourceKind::Volume => "volume",
            ResourceKind::Ip => "ip",
            ResourceKind::Snapshot => "snapshot",
            ResourceKind::SshKey => "ssh_key",
            ResourceKind::Project => "project",
            ResourceKind::Deployment => "deployment",
            ResourceKind::Domain => "domain",
            ResourceKind::DnsRecord => "dns_record",
            ResourceKind::KvDatabase => "kv_database",
        }
    }
}

/// Where a resource stands, as the gateway tracks it (the provider's own state is read live).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ResourceState {
    /// Recorded; the provider call is under way.
    Creating,
    /// Running (machines) and billed against its paid time.
    Running,
    /// Stopped (machines).
    Stopped,
    /// Suspended to a memory snapshot (machines).
    Suspended,
    /// Exists and is usable (volumes, IPs, keys, snapshots, …).
    Active,
    /// The provider call failed; nothing exists at the provider.
    Failed,
    /// Gone at the provider.
    Destroyed,
}

impl ResourceState {
    /// Every state.
    pub const ALL: [ResourceState; 7] = [
        ResourceState::Creating,
        ResourceState::Running,
        ResourceState::Stopped,
        ResourceState::Suspended,
        ResourceState::Active,
        ResourceState::Failed,
        ResourceState::Destroyed,
    ];

    /// The stored name.
    pub fn as_str(&self) -> &'static str {
        match self {
            ResourceState::Creating => "creating",
            ResourceState::Running => "running",
            ResourceState::Stopped => "stopped",
            ResourceState::Suspended => "suspended",
            ResourceState::Active => "active",
            ResourceState::Failed => "failed",
            ResourceState::Destroyed => "destroyed",
        }
    }

    /// Whether the resource still exists (or may) at the provider.
    pub fn is_live(&self) -> bool {
        !matches!(self, ResourceState::Failed | ResourceState::Destroyed)
    }
}

macro_rules! string_enum {
    ($t:ty, $what:literal) => {
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $t {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self> {
                Self::ALL.into_iter().find(|k| k.as_str() == s).ok_or_else(|| {
                    Error::new(ErrorKind::Internal, format!(concat!("unknown ", $what, " {:?}"), s))
                        .with_component("store")
                })
            }
        }
    };
}

string_enum!(ResourceKind, "resource kind");
string_enum!(ResourceState, "resource state");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for k in ResourceKind::ALL {
            assert_eq!(k.as_str().parse::<ResourceKind>().unwrap(), k);
        }
        for s in ResourceState::ALL {
            assert_eq!(s.to_string().parse::<ResourceState>().unwrap(), s);
        }
        assert!("fly.machine".parse::<ResourceKind>().is_err());
    }
}
