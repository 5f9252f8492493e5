//! The pure, network-free checks of what Fly accepts: machine specs (regions, guest rules, the
//! offered limits, image references) and volume specs (name, size, region). The gateway runs
//! them before it prices a request, through [`compute_core::provider::Machines::check`] and
//! [`compute_core::provider::Volumes::check_volume`].

use compute_core::provider::{Limits, MachineSize, MachineSpec, VolumeSpec};
use compute_core::{Error, ErrorKind, Result};

use crate::catalog::{REGIONS, preset, validate_guest};
use crate::{COMPONENT, FlyConfig};

/// What this adapter offers: the default region and the largest machine and volume.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Offering {
    /// Region of a request that names none.
    pub default_region: String,
    /// Most vCPUs, memory (MB) and volume size (GB).
    pub limits: Limits,
}

impl Offering {
    /// The offering configured in `config`.
    pub fn from_config(config: &FlyConfig) -> Self {
        Offering {
            default_region: config.default_region.clone(),
            limits: Limits {
                max_vcpus: Some(config.max_cpus),
                max_memory_mb: Some(config.max_memory_mb),
                max_volume_gb: Some(config.max_volume_gb),
            },
        }
    }
}

/// The organisation's private image registry: a tenant's machine may not pull from it (it
/// would run the operator's own images).
const OPERATOR_REGISTRY: &str = "registry.fly.io/";

fn invalid(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidInput, msg).with_component(COMPONENT)
}

/// A Fly region id, or an error listing them.
fn check_region(region: &str) -> Result<()> {
    if region.is_empty() || REGIONS.iter().any(|(id, _)| *id == region) {
        return Ok(());
    }
    let ids: Vec<&str> = REGIONS.iter().map(|(id, _)| *id).collect();
    Err(invalid(format!("unknown region {region:?}; regions: {}", ids.join(", "))))
}

/// Checks a machine spec: region, size (Fly's guest rules and the offered limits; a plan must
/// be a preset), and the image reference (1–256 characters, no whitespace, not from the
/// operator's `registry.fly.io`).
///
/// # Errors
/// [`ErrorKind::InvalidInput`] naming the rule broken.
pub fn check_machine(offering: &Offering, spec: &MachineSpec) -> Result<()> {
    check_region(&spec.region)?;
    let (cpus, memory_mb) = match &spec.size {
        MachineSize::Guest { cpu_kind, cpus, memory_mb } => {
            validate_guest(*cpu_kind, *cpus, *memory_mb)?;
            (*cpus, *memory_mb)
        }
        MachineSize::Plan(name) => {
            let p = preset(name).ok_or_else(|| invalid(format!("unknown Fly size {name:?}")))?;
            (p.cpus, p.memory_mb)
        }
    };
    let (max_cpus, max_mb) = (offering.limits.max_vcpus, offering.limits.max_memory_mb);
    if max_cpus.is_some_and(|m| cpus > m) || max_mb.is_some_and(|m| memory_mb > m) {
        return Err(invalid(format!(
            "at most {} vCPUs and {} MB per machine",
            max_cpus.map_or("any".to_owned(), |m| m.to_string()),
            max_mb.map_or("any".to_owned(), |m| m.to_string())
        )));
    }
    let image = spec.image.as_str();
    if image.is_empty() || image.len() > 256 || image.chars().any(char::is_whitespace) {
        return Err(invalid("config.image must be an image reference like ubuntu:latest"));
    }
    if image.to_ascii_lowercase().starts_with(OPERATOR_REGISTRY) {
        return Err(invalid("config.image may not come from the operator's registry (registry.fly.io)"));
    }
    Ok(())
}

/// Checks a volume spec: name (1–30 of `a-z`, `0-9`, `_`), size (1 GB up to the offered
/// largest volume) and region.
///
/// # Errors
/// [`ErrorKind::InvalidInput`] naming the rule broken.
pub fn check_volume(offering: &Offering, spec: &VolumeSpec) -> Result<()> {
    let name_ok = !spec.name.is_empty()
        && spec.name.len() <= 30
        && spec.name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if !name_ok {
        return Err(invalid("name must be 1–30 lowercase letters, digits or _"));
    }
    check_region(&spec.region)?;
    let max = offering.limits.max_volume_gb.unwrap_or(u32::MAX);
    if !(1..=max).contains(&spec.size_gb) {
        return Err(invalid(format!("size_gb must be 1–{max}")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use compute_core::provider::CpuKind;

    use super::*;

    fn offering() -> Offering {
        let config = FlyConfig::new(compute_core::http::SecretString::from("t"), "o");
        Offering::from_config(&config)
    }

    fn spec(region: &str, size: MachineSize, image: &str) -> MachineSpec {
        MachineSpec {
            name: "m".into(),
            region: region.into(),
            image: image.into(),
            size,
            env: BTreeMap::new(),
            command: None,
            services: vec![],
            mounts: vec![],
            restart: None,
            auto_destroy: false,
            ssh_keys: vec![],
            user_data: None,
            labels: BTreeMap::new(),
        }
    }

    fn guest(cpus: u32, memory_mb: u32) -> MachineSize {
        MachineSize::Guest { cpu_kind: CpuKind::Shared, cpus, memory_mb }
    }

    #[test]
    fn machines_are_checked_against_regions_guest_rules_limits_and_images() {
        let o = offering();
        assert!(check_machine(&o, &spec("sjc", guest(1, 512), "ubuntu:latest")).is_ok());
        assert!(check_machine(&o, &spec("", MachineSize::Plan("shared-cpu-1x".into()), "nginx")).is_ok());
        for (s, needle) in [
            (spec("mars", guest(1, 256), "x"), "region"),
            (spec("sjc", guest(1, 300), "x"), "multiple"),
            (spec("sjc", guest(8, 16384), "x"), "at most 8 vCPUs and 8192 MB"),
            (spec("sjc", MachineSize::Plan("performance-8x".into()), "x"), "at most"),
            (spec("sjc", MachineSize::Plan("gpu".into()), "x"), "unknown Fly size"),
            (spec("sjc", guest(1, 256), ""), "image"),
            (spec("sjc", guest(1, 256), "a b"), "image"),
            (spec("sjc", guest(1, 256), "registry.fly.io/operator-app:deployment-1"), "operator's registry"),
            (spec("sjc", guest(1, 256), "REGISTRY.FLY.IO/other"), "operator's registry"),
        ] {
            let e = check_machine(&o, &s).unwrap_err();
            assert!(e.message().contains(needle), "{needle}: {e}");
        }
    }

    #[test]
    fn volumes_are_checked() {
        let o = offering();
        let v =
            |name: &str, size_gb| VolumeSpec { name: name.into(), region: "sjc".into(), size_gb, snapshot_id: None };
        assert!(check_volume(&o, &v("my_data", 1)).is_ok());
        assert!(check_volume(&o, &v("My-Data", 1)).is_err());
        assert!(check_volume(&o, &v("data", 0)).is_err());
        assert!(check_volume(&o, &v("data", 501)).is_err());
    }
}
