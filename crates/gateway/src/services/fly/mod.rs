//! Fly machines: the allow-listed machine request, its validation, and its price.
//!
//! # Price (TinyCompute table, `docs/API.md`)
//! - per-minute rate = vCPUs × ($0.003 shared | $0.006 performance) + $0.001 per 256 MB;
//! - setup fee: the published price for the published sizes (shared 1/256 $0.10, 1/512 $0.11,
//!   2/2048 $0.17, 2/4096 $0.21, 4/8192 $0.37, performance 2/4096 $0.21), otherwise
//!   $0.10 + $0.02 per vCPU beyond the first + $0.01 per 256 MB beyond the first;
//! - create and start charge setup fee (create only) + rate × `ttl_minutes`
//!   (default [`DEFAULT_TTL_MINUTES`], 1–[`MAX_TTL_MINUTES`]).

use std::collections::BTreeMap;

use compute_core::billing::Quote;
use compute_core::provider::{
    CpuKind, MachineSize, MachineSpec, MountSpec, PortSpec, Rate, RatePeriod, RestartPolicy, ServiceSpec,
    TransportProtocol,
};
use compute_core::{Error, ErrorKind, Result, Usd};
use serde::Deserialize;

/// Paid minutes when the request names none.
pub const DEFAULT_TTL_MINUTES: u64 = 10;
/// Most minutes one payment buys (24 h).
pub const MAX_TTL_MINUTES: u64 = 1440;
/// Most vCPUs per machine offered.
pub const MAX_CPUS: u32 = 8;
/// Most memory per machine offered, MB.
pub const MAX_MEMORY_MB: u32 = 8192;
/// Fly regions offered (the TinyCompute list).
pub const REGIONS: [&str; 35] = [
    "ams", "arn", "atl", "bog", "bom", "bos", "cdg", "den", "dfw", "ewr", "eze", "fra", "gdl", "gig", "gru", "hkg",
    "iad", "jnb", "lax", "lhr", "mad", "mia", "nrt", "ord", "otp", "phx", "qro", "scl", "sea", "sin", "sjc", "syd",
    "waw", "yul", "yyz",
];

/// `POST /api/machines` body (TinyCompute). Unknown fields are rejected: only the
/// allow-listed configuration reaches Fly.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MachineRequest {
    /// Machine name (unique for the wallet).
    pub name: Option<String>,
    /// Fly region (default `sjc`).
    pub region: Option<String>,
    /// Paid minutes (default 10, 1–1440).
    pub ttl_minutes: Option<u64>,
    /// The machine configuration.
    pub config: MachineConfig,
}

/// The allow-listed machine configuration: image, env, guest, init, services, restart,
/// auto_destroy, and mounts of the caller's own volumes. No files, metadata, GPUs or processes.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MachineConfig {
    /// Container image.
    pub image: String,
    /// Environment variables.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Guest size (default shared 1 vCPU, 256 MB).
    pub guest: Option<Guest>,
    /// Init override.
    pub init: Option<Init>,
    /// Exposed services.
    #[serde(default)]
    pub services: Vec<Service>,
    /// Restart policy.
    pub restart: Option<Restart>,
    /// Destroy when the process exits.
    #[serde(default)]
    pub auto_destroy: bool,
    /// Volume mounts; each volume must belong to the caller.
    #[serde(default)]
    pub mounts: Vec<Mount>,
}

/// Guest size.
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Guest {
    /// `shared` or `performance`.
    pub cpu_kind: CpuKind,
    /// vCPUs.
    pub cpus: u32,
    /// Memory, MB.
    pub memory_mb: u32,
}

/// Init override.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Init {
    /// Command replacing the image's default.
    pub cmd: Option<Vec<String>>,
}

/// A service.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Service {
    /// `tcp` or `udp`.
    pub protocol: TransportProtocol,
    /// Port inside the machine.
    pub internal_port: u16,
    /// Public ports.
    pub ports: Vec<Port>,
}

/// A public port.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Port {
    /// Port number.
    pub port: u16,
    /// Handlers (`tls`, `http`); none for raw TCP.
    #[serde(default)]
    pub handlers: Vec<String>,
}

/// Restart policy.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Restart {
    /// `no`, `always` or `on-failure`.
    pub policy: RestartPolicy,
}

/// A volume mount.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mount {
    /// Volume id (`vol_…`).
    pub volume: String,
    /// Absolute path.
    pub path: String,
}

fn invalid(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidInput, msg)
}

/// The guest a request asks for (default shared, 1 vCPU, 256 MB), validated against Fly's
/// rules and the gateway's limits.
///
/// # Errors
/// `InvalidInput` with the rule broken.
pub fn guest_of(config: &MachineConfig) -> Result<Guest> {
    let g = config.guest.unwrap_or(Guest { cpu_kind: CpuKind::Shared, cpus: 1, memory_mb: 256 });
    if g.cpus > MAX_CPUS || g.memory_mb > MAX_MEMORY_MB {
        return Err(invalid(format!("at most {MAX_CPUS} vCPUs and {MAX_MEMORY_MB} MB per machine")));
    }
    compute_fly::validate_guest(g.cpu_kind, g.cpus, g.memory_mb)?;
    Ok(g)
}

/// Paid minutes of a request.
///
/// # Errors
/// `InvalidInput` outside 1–1440.
pub fn ttl_minutes(ttl: Option<u64>) -> Result<u64> {
    let t = ttl.unwrap_or(DEFAULT_TTL_MINUTES);
    if !(1..=MAX_TTL_MINUTES).contains(&t) {
        return Err(invalid(format!("ttl_minutes must be 1–{MAX_TTL_MINUTES}, not {t}")));
    }
    Ok(t)
}

/// Per-minute rate of a guest, USD.
pub fn rate_per_minute(g: &Guest) -> Usd {
    let per_cpu = match g.cpu_kind {
        CpuKind::Shared => Usd::from_parts(3, 3),
        CpuKind::Performance => Usd::from_parts(6, 3),
    };
    per_cpu.times(u64::from(g.cpus)) + Usd::from_parts(1, 3).times(u64::from(g.memory_mb / 256))
}

/// Setup fee of a guest, USD.
pub fn setup_fee(g: &Guest) -> Usd {
    let published = match (g.cpu_kind, g.cpus, g.memory_mb) {
        (CpuKind::Shared, 1, 256) => Some(10),
        (CpuKind::Shared, 1, 512) => Some(11),
        (CpuKind::Shared, 2, 2048) => Some(17),
        (CpuKind::Shared | CpuKind::Performance, 2, 4096) => Some(21),
        (CpuKind::Shared, 4, 8192) => Some(37),
        _ => None,
    };
    match published {
        Some(cents) => Usd::from_parts(cents, 2),
        None => {
            Usd::from_parts(10, 2)
                + Usd::from_parts(2, 2).times(u64::from(g.cpus.saturating_sub(1)))
                + Usd::from_parts(1, 2).times(u64::from((g.memory_mb / 256).saturating_sub(1)))
        }
    }
}

/// The quote for `minutes` of `g`, with the setup fee when `with_setup` (create) and without
/// (start of a stopped machine).
pub fn quote(g: &Guest, minutes: u64, with_setup: bool) -> Quote {
    let rate = rate_per_minute(g);
    let setup = if with_setup { setup_fee(g) } else { Usd::ZERO };
    Quote {
        setup_fee: setup,
        rate: Some(Rate { amount: rate, per: RatePeriod::Minute }),
        periods: minutes,
        total: setup + rate.times(minutes),
    }
}

/// Validates a create request into a provider spec. `owned_volume` says whether the caller
/// owns a volume id (checked by the caller against the database).
///
/// # Errors
/// `InvalidInput` naming the field; `NotFound` for a volume the caller does not own.
pub fn validate(
    req: &MachineRequest,
    owned_volume: impl Fn(&str) -> bool,
    labels: BTreeMap<String, String>,
) -> Result<(MachineSpec, Guest, u64)> {
    let c = &req.config;
    let image = c.image.trim();
    if image.is_empty() || image.len() > 256 || image.chars().any(char::is_whitespace) {
        return Err(invalid("config.image must be an image reference like ubuntu:latest"));
    }
    let name = req.name.clone().unwrap_or_else(|| format!("m-{}", &uuid_like()));
    if name.is_empty() || name.len() > 63 || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(invalid("name must be 1–63 letters, digits, - or _"));
    }
    let region = req.region.clone().unwrap_or_else(|| "sjc".to_owned());
    if !REGIONS.contains(&region.as_str()) {
        return Err(invalid(format!("unknown region {region:?}; regions: {}", REGIONS.join(", "))));
    }
    if c.env.len() > 64
        || c.env.iter().any(|(k, v)| {
            k.is_empty()
                || k.len() > 128
                || v.len() > 4096
                || !k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        })
    {
        return Err(invalid("config.env: at most 64 variables, keys of letters, digits and _"));
    }
    if c.services.len() > 8
        || c.services.iter().any(|s| s.ports.is_empty() || s.ports.len() > 8 || s.internal_port == 0)
    {
        return Err(invalid("config.services: at most 8 services, each with 1–8 ports and an internal_port"));
    }
    for m in &c.mounts {
        if !m.path.starts_with('/') {
            return Err(invalid("config.mounts[].path must be absolute"));
        }
        if !owned_volume(&m.volume) {
            return Err(Error::new(ErrorKind::NotFound, format!("volume {} not found", m.volume)));
        }
    }
    let guest = guest_of(c)?;
    let minutes = ttl_minutes(req.ttl_minutes)?;
    let command = c.init.as_ref().and_then(|i| i.cmd.clone());
    if command.as_ref().is_some_and(|cmd| cmd.is_empty() || cmd.len() > 64) {
        return Err(invalid("config.init.cmd must have 1–64 arguments"));
    }
    let spec = MachineSpec {
        name,
        region,
        image: image.to_owned(),
        size: MachineSize::Guest { cpu_kind: guest.cpu_kind, cpus: guest.cpus, memory_mb: guest.memory_mb },
        env: c.env.clone(),
        command,
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
        labels,
    };
    Ok((spec, guest, minutes))
}

fn uuid_like() -> String {
    use rand::RngCore;
    let mut b = [0u8; 6];
    rand::rng().fill_bytes(&mut b);
    hex::encode(b)
}

#[cfg(test)]
mod tests;
