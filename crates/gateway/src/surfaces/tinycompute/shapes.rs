//! TinyCompute request shapes (`tinycompute-llms.txt` § API Reference) and their mapping to
//! the provider-neutral specs. Unknown fields are rejected: only the allow-listed
//! configuration reaches a provider (no `files`, `metadata`, GPUs or `processes`).

use std::collections::BTreeMap;

use compute_core::provider::{
    CpuKind, MachineSize, MachineSpec, MountSpec, PortSpec, RestartPolicy, ServiceSpec, TransportProtocol,
};
use serde::Deserialize;

/// `POST /api/machines` body.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MachineRequest {
    /// Machine name (default: a random `m-…`).
    pub(crate) name: Option<String>,
    /// Fly region (default: the provider's default region).
    pub(crate) region: Option<String>,
    /// Paid minutes (default and bounds from the price book).
    pub(crate) ttl_minutes: Option<u64>,
    /// The machine configuration.
    pub(crate) config: MachineConfig,
}

/// The allow-listed machine configuration.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MachineConfig {
    image: String,
    #[serde(default)]
    env: BTreeMap<String, String>,
    guest: Option<Guest>,
    init: Option<Init>,
    #[serde(default)]
    services: Vec<Service>,
    restart: Option<Restart>,
    #[serde(default)]
    auto_destroy: bool,
    #[serde(default)]
    mounts: Vec<Mount>,
}

/// Guest size: CPU kind, vCPUs, memory in **MB** (default shared, 1 vCPU, 256 MB).
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Guest {
    cpu_kind: CpuKind,
    cpus: u32,
    memory_mb: u32,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Init {
    cmd: Option<Vec<String>>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Service {
    protocol: TransportProtocol,
    internal_port: u16,
    ports: Vec<Port>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Port {
    port: u16,
    #[serde(default)]
    handlers: Vec<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Restart {
    policy: RestartPolicy,
}

/// A mount of the caller's own volume (`vol_…`) at an absolute path.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Mount {
    volume: String,
    path: String,
}

impl MachineRequest {
    /// The provider-neutral spec (empty name and region: the service fills the defaults).
    pub(crate) fn to_spec(&self) -> MachineSpec {
        let c = &self.config;
        let g = c.guest.unwrap_or(Guest { cpu_kind: CpuKind::Shared, cpus: 1, memory_mb: 256 });
        MachineSpec {
            name: self.name.clone().unwrap_or_default(),
            region: self.region.clone().unwrap_or_default(),
            image: c.image.trim().to_owned(),
            size: MachineSize::Guest { cpu_kind: g.cpu_kind, cpus: g.cpus, memory_mb: g.memory_mb },
            env: c.env.clone(),
            command: c.init.as_ref().and_then(|i| i.cmd.clone()),
            services: c
                .services
                .iter()
                .map(|s| ServiceSpec {
                    protocol: s.protocol,
                    internal_port: s.internal_port,
                    ports: s.ports.iter().map(|p| PortSpec { port: p.port, handlers: p.handlers.clone() }).collect(),
                })
                .collect(),
            mounts: c.mounts.iter().map(|m| MountSpec { volume_id: m.volume.clone(), path: m.path.clone() }).collect(),
            restart: c.restart.as_ref().map(|r| r.policy),
            auto_destroy: c.auto_destroy,
            ssh_keys: Vec::new(),
            user_data: None,
            labels: BTreeMap::new(),
        }
    }
}

/// `POST /api/machines/{id}/start` and `/restart` body: how many minutes to buy.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Period {
    pub(crate) ttl_minutes: Option<u64>,
}

/// `POST /api/machines/{id}/exec` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExecBody {
    pub(crate) command: Vec<String>,
    pub(crate) timeout: Option<u32>,
}

/// `POST /api/machines/{id}/wait` query.
#[derive(Debug, Deserialize)]
pub(crate) struct WaitQuery {
    pub(crate) state: Option<String>,
    pub(crate) timeout: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_example_maps_to_a_spec() {
        let req: MachineRequest = serde_json::from_str(
            r#"{"name":"my-server","region":"sjc","config":{"image":"ubuntu:latest","init":{"cmd":["sleep","infinity"]},"guest":{"cpu_kind":"shared","cpus":1,"memory_mb":512}}}"#,
        )
        .unwrap();
        let spec = req.to_spec();
        assert_eq!(spec.command, Some(vec!["sleep".to_owned(), "infinity".to_owned()]));
        assert_eq!(spec.size.key(), "shared/1/512");
        assert_eq!((spec.name.as_str(), spec.region.as_str()), ("my-server", "sjc"));
    }

    #[test]
    fn passthrough_fields_are_rejected() {
        for bad in [
            r#"{"config":{"image":"x","files":[{"guest_path":"/a","raw_value":"eA=="}]}}"#,
            r#"{"config":{"image":"x","metadata":{"a":"b"}}}"#,
            r#"{"config":{"image":"x","guest":{"cpu_kind":"shared","cpus":1,"memory_mb":256,"gpu_kind":"a100-pcie-40gb"}}}"#,
            r#"{"config":{"image":"x","processes":[]}}"#,
        ] {
            assert!(serde_json::from_str::<MachineRequest>(bad).is_err(), "{bad}");
        }
    }
}
