//! The pure, network-free checks of what DigitalOcean accepts for a droplet (the rules of
//! `POST /v2/droplets`, `droplets/models/droplet_create.yml` and `droplet_single_create.yml`),
//! run by the gateway through [`compute_core::provider::Machines::check`] before it prices a
//! request, and by the adapter again before it creates anything.

use compute_core::provider::{Limits, MachineSize, MachineSpec};
use compute_core::{Error, ErrorKind, Result};

use crate::COMPONENT;
use crate::config::{DoConfig, is_region_slug};

/// Largest `user_data`, in bytes (64 KiB, the API's limit).
pub const MAX_USER_DATA_BYTES: usize = 64 * 1024;

/// Longest droplet name (the spec's `maxLength`).
pub const MAX_NAME_LEN: usize = 255;

/// What this adapter offers: the default region and the largest droplet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Offering {
    /// Region slug of a request that names none.
    pub default_region: String,
    /// Most vCPUs and memory (**MB**); DigitalOcean has no volumes here, so no volume limit.
    pub limits: Limits,
}

impl Offering {
    /// The offering configured in `config`.
    pub fn from_config(config: &DoConfig) -> Self {
        Offering {
            default_region: config.default_region.clone(),
            limits: Limits { max_vcpus: config.max_vcpus, max_memory_mb: config.max_memory_mb, max_volume_gb: None },
        }
    }

    /// The region a spec is created in: its own, or the default when it names none.
    pub fn region_for<'a>(&'a self, spec: &'a MachineSpec) -> &'a str {
        if spec.region.is_empty() { &self.default_region } else { &spec.region }
    }
}

fn invalid(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidInput, msg).with_component(COMPONENT)
}

/// Whether `name` is a valid droplet hostname: at most 255 characters of dot-separated labels,
/// each 1–63 ASCII letters, digits or `-`, not starting or ending with `-` (within the spec's
/// pattern `^[a-zA-Z0-9]?[a-z0-9A-Z.\-]*[a-z0-9A-Z]$`).
pub fn is_hostname(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name.split('.').all(|label| {
            (1..=63).contains(&label.len())
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

/// Whether `slug` looks like a DigitalOcean size slug (`s-1vcpu-1gb`, `c-2`, `so1_5-2vcpu-16gb`,
/// `gpu-h100x1-80gb`): 1–64 of `a-z`, `0-9`, `-`, `_`, starting and ending with a letter or digit.
pub fn is_size_slug(slug: &str) -> bool {
    let edge = |b: Option<u8>| b.is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    (1..=64).contains(&slug.len())
        && slug.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        && edge(slug.bytes().next())
        && edge(slug.bytes().last())
}

/// Whether `image` is a public image slug (`ubuntu-24-04-x64`: 1–128 of `a-z`, `0-9`, `.`,
/// `_`, `-`, starting with a letter or digit) or a positive numeric image or snapshot id.
pub fn is_image_ref(image: &str) -> bool {
    if !image.is_empty() && image.bytes().all(|b| b.is_ascii_digit()) {
        return image.parse::<u64>().is_ok_and(|n| n > 0);
    }
    (1..=128).contains(&image.len())
        && image.bytes().next().is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && image.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-'))
}

/// Whether `fp` is an MD5 key fingerprint as DigitalOcean prints it: 16 hex pairs joined by `:`.
pub fn is_md5_fingerprint(fp: &str) -> bool {
    let pairs: Vec<&str> = fp.split(':').collect();
    pairs.len() == 16 && pairs.iter().all(|p| p.len() == 2 && p.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Whether `key` is an account key reference: a positive numeric id or an MD5 fingerprint.
pub fn is_key_ref(key: &str) -> bool {
    key.parse::<u64>().is_ok_and(|n| n > 0) && key.bytes().all(|b| b.is_ascii_digit()) || is_md5_fingerprint(key)
}

/// The vCPUs and memory (**MB**) a size slug spells out (`s-2vcpu-4gb` → 2 and 4096,
/// `s-1vcpu-512mb-10gb` → 1 and 512), or `None` for slugs that do not (`c-2`, GPU sizes).
pub fn slug_shape(slug: &str) -> Option<(u32, u32)> {
    let parts: Vec<&str> = slug.split('-').collect();
    let at = parts.iter().position(|p| p.ends_with("vcpu") && p.len() > 4)?;
    let vcpus: u32 = parts[at].strip_suffix("vcpu")?.parse().ok()?;
    let mem = parts.get(at + 1)?;
    let memory_mb = if let Some(gb) = mem.strip_suffix("gb") {
        gb.parse::<u32>().ok()?.checked_mul(1024)?
    } else {
        mem.strip_suffix("mb")?.parse::<u32>().ok()?
    };
    Some((vcpus, memory_mb))
}

/// Checks a droplet spec without calling DigitalOcean:
///
/// - `name`: a hostname ([`is_hostname`]);
/// - `region`: empty (the default region is used) or a region slug such as `nyc1`;
/// - `size`: a [`MachineSize::Plan`] with a size slug ([`is_size_slug`]); when the slug spells
///   out vCPUs and memory ([`slug_shape`]) they must be within the offered limits (other slugs
///   are checked against the catalog, which lists only sizes within the limits);
/// - `image`: a public image slug or a numeric image/snapshot id ([`is_image_ref`]);
/// - `ssh_keys`: numeric key ids or MD5 fingerprints ([`is_key_ref`]);
/// - `user_data`: at most 64 KiB;
/// - `env`, `command`, `services`, `mounts`, `restart`, `auto_destroy`: droplets have none of
///   them, so they must be empty (cloud-init `user_data` configures a droplet). `labels` are
///   accepted and not sent (see the crate docs).
///
/// # Errors
/// [`ErrorKind::InvalidInput`] naming the field and the rule broken.
pub fn check_machine(offering: &Offering, spec: &MachineSpec) -> Result<()> {
    if !is_hostname(&spec.name) {
        return Err(invalid(format!(
            "name {:?} must be a hostname: at most 255 characters of dot-separated labels of 1–63 letters, digits \
             or '-', not starting or ending with '-'",
            spec.name
        )));
    }
    if !spec.region.is_empty() && !is_region_slug(&spec.region) {
        return Err(invalid(format!("region {:?} is not a DigitalOcean region slug like nyc1", spec.region)));
    }
    let MachineSize::Plan(slug) = &spec.size else {
        return Err(invalid("size must be a DigitalOcean size slug like s-1vcpu-1gb, not an explicit guest"));
    };
    if !is_size_slug(slug) {
        return Err(invalid(format!("size {slug:?} is not a DigitalOcean size slug like s-1vcpu-1gb")));
    }
    if let Some((vcpus, memory_mb)) = slug_shape(slug) {
        let Limits { max_vcpus, max_memory_mb, .. } = offering.limits;
        if max_vcpus.is_some_and(|m| vcpus > m) || max_memory_mb.is_some_and(|m| memory_mb > m) {
            return Err(invalid(format!(
                "size {slug} is larger than offered: at most {} vCPUs and {} MB per droplet",
                max_vcpus.map_or("any".to_owned(), |m| m.to_string()),
                max_memory_mb.map_or("any".to_owned(), |m| m.to_string())
            )));
        }
    }
    if !is_image_ref(&spec.image) {
        return Err(invalid(format!(
            "image {:?} must be a public image slug like ubuntu-24-04-x64 or a numeric image or snapshot id",
            spec.image
        )));
    }
    if let Some(bad) = spec.ssh_keys.iter().find(|k| !is_key_ref(k)) {
        return Err(invalid(format!("ssh_keys entry {bad:?} must be a numeric key id or an MD5 fingerprint")));
    }
    if let Some(u) = &spec.user_data
        && u.len() > MAX_USER_DATA_BYTES
    {
        return Err(invalid(format!("user_data is {} bytes; at most {MAX_USER_DATA_BYTES} (64 KiB)", u.len())));
    }
    let unsupported = [
        ("env", !spec.env.is_empty()),
        ("command", spec.command.is_some()),
        ("services", !spec.services.is_empty()),
        ("mounts", !spec.mounts.is_empty()),
        ("restart", spec.restart.is_some()),
        ("auto_destroy", spec.auto_destroy),
    ];
    if let Some((field, _)) = unsupported.iter().find(|(_, set)| *set) {
        return Err(invalid(format!(
            "{field} is not supported by DigitalOcean droplets; configure the droplet with cloud-init user_data"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use compute_core::http::SecretString;
    use compute_core::provider::{CpuKind, RestartPolicy};

    use super::*;

    fn offering() -> Offering {
        Offering::from_config(&DoConfig::new(SecretString::from("t")).with_limits(Some(4), Some(8192)))
    }

    fn spec() -> MachineSpec {
        MachineSpec {
            ssh_keys: vec!["289794".into(), "3b:16:e4:bf:8b:00:8b:b8:59:8c:a9:d3:f0:19:fa:45".into()],
            user_data: Some("#cloud-config\n".into()),
            labels: BTreeMap::from([("cg_owner".into(), "0xabc".into())]),
            ..MachineSpec::of_plan("web-1.example.com", "nyc1", "ubuntu-24-04-x64", "s-1vcpu-1gb")
        }
    }

    #[test]
    fn a_good_spec_passes_and_defaults_its_region() {
        let o = offering();
        assert!(check_machine(&o, &spec()).is_ok());
        let mut s = spec();
        s.region = String::new();
        s.image = "63663980".into();
        assert!(check_machine(&o, &s).is_ok());
        assert_eq!(o.region_for(&s), "nyc1");
    }

    #[test]
    fn every_rule_is_enforced() {
        let o = offering();
        type Change = Box<dyn Fn(&mut MachineSpec)>;
        let cases: Vec<(Change, &str)> = vec![
            (Box::new(|s| s.name = "-bad".into()), "hostname"),
            (Box::new(|s| s.name = "under_score".into()), "hostname"),
            (Box::new(|s| s.name = "a".repeat(64)), "hostname"),
            (Box::new(|s| s.name = String::new()), "hostname"),
            (Box::new(|s| s.region = "New York".into()), "region"),
            (Box::new(|s| s.size = MachineSize::Guest { cpu_kind: CpuKind::Shared, cpus: 1, memory_mb: 256 }), "slug"),
            (Box::new(|s| s.size = MachineSize::Plan("S 1".into())), "slug"),
            (Box::new(|s| s.size = MachineSize::Plan("s-8vcpu-16gb".into())), "at most 4 vCPUs and 8192 MB"),
            (Box::new(|s| s.size = MachineSize::Plan("s-4vcpu-16gb".into())), "larger than offered"),
            (Box::new(|s| s.image = String::new()), "image"),
            (Box::new(|s| s.image = "Ubuntu 24".into()), "image"),
            (Box::new(|s| s.image = "0".into()), "image"),
            (Box::new(|s| s.ssh_keys = vec!["ssh-ed25519 AAAA".into()]), "ssh_keys"),
            (Box::new(|s| s.user_data = Some("x".repeat(MAX_USER_DATA_BYTES + 1))), "64 KiB"),
            (Box::new(|s| s.env = BTreeMap::from([("A".into(), "b".into())])), "env is not supported"),
            (Box::new(|s| s.command = Some(vec!["sh".into()])), "command"),
            (Box::new(|s| s.restart = Some(RestartPolicy::Always)), "restart"),
            (Box::new(|s| s.auto_destroy = true), "auto_destroy"),
        ];
        for (change, needle) in cases {
            let mut s = spec();
            change(&mut s);
            let e = check_machine(&o, &s).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidInput);
            assert!(e.message().contains(needle), "{needle}: {e}");
        }
        let mut at_limit = spec();
        at_limit.size = MachineSize::Plan("s-4vcpu-8gb".into());
        assert!(check_machine(&o, &at_limit).is_ok());
        let mut unshaped = spec();
        unshaped.size = MachineSize::Plan("gpu-h100x8-640gb".into());
        assert!(check_machine(&o, &unshaped).is_ok(), "slugs without a vcpu part are left to the catalog");
        let mut max_data = spec();
        max_data.user_data = Some("x".repeat(MAX_USER_DATA_BYTES));
        assert!(check_machine(&o, &max_data).is_ok());
    }

    #[test]
    fn slugs_spell_their_shape() {
        assert_eq!(slug_shape("s-1vcpu-1gb"), Some((1, 1024)));
        assert_eq!(slug_shape("s-1vcpu-512mb-10gb"), Some((1, 512)));
        assert_eq!(slug_shape("so1_5-2vcpu-16gb"), Some((2, 16384)));
        assert_eq!(slug_shape("c-2"), None);
        assert_eq!(slug_shape("gpu-h100x1-80gb"), None);
        assert!(is_size_slug("so1_5-2vcpu-16gb") && !is_size_slug("-s") && !is_size_slug("s-"));
        assert!(is_key_ref("1") && !is_key_ref("0") && !is_key_ref("+1") && !is_key_ref("3b:16"));
    }
}
