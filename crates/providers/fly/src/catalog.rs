//! The static Fly catalog: guest presets with **provider cost**, regions, guest validation and
//! the cost of any valid guest. Fly's API publishes no prices, so they live here.
//!
//! # Price source
//! Fly's published usage-based prices for its base (cheapest) regions, quoted per 30 days
//! (720 hours): <https://fly.io/docs/about/pricing/>, and the same figures in Fly's post
//! "New VMs: more RAM, extra CPU, and a dollar menu" (shared-cpu-1x 256 MB $1.94, 1 GB $5.70,
//! 2 GB $10.70; performance-1x 2 GB $31.00, 4 GB $41.01; performance-8x 16 GB $248.00;
//! extra RAM $5 per GB). They decompose exactly into a per-vCPU part and a per-GB RAM part:
//!
//! | component | USD per 30 days |
//! |---|---|
//! | shared vCPU | 0.694 |
//! | performance vCPU | 21.00 |
//! | RAM, per GB (1024 MB) | 5.00 |
//! | volume, per GB | 0.15 |
//! | dedicated IPv4 | 2.00 |
//!
//! so shared-cpu-1x with 256 MB is `0.694 + 0.25 × 5 = 1.944` ($0.0027 per hour) and
//! performance-1x with 2 GB is `21 + 2 × 5 = 31`. Hourly rates are the 30-day figure divided by
//! 720 and rounded **up** to six decimal places, so a quote never undershoots.
//!
//! Table compiled on [`PRICING_AS_OF`] from stored copies of those pages, not from the live
//! site. **Caveats:** Fly multiplies these base prices by a per-region factor (for example
//! about 1.2 in `sjc`), and a 2026 third-party check puts shared-cpu-1x 256 MB at about $2.02
//! in the cheapest regions (about 4 % above this table). The gateway's margin must cover both;
//! re-verify the figures before relying on them.

use compute_core::provider::{Catalog, CpuKind, IpKind, ProviderCost, Rate, RatePeriod, Region, SizeOffer};
use compute_core::{Error, ErrorKind, Result, Usd};
use rust_decimal::Decimal;

use crate::COMPONENT;

/// Where the prices come from.
pub const PRICING_SOURCE: &str = "https://fly.io/docs/about/pricing/ (base regions, USD per 30 days)";

/// When the price table was compiled (see the module docs for its caveats).
pub const PRICING_AS_OF: &str = "2026-11-22";

/// Hours in Fly's 30-day billing month.
const HOURS_PER_FLY_MONTH: u32 = 720;

/// Decimal places hourly rates are rounded up to.
const RATE_SCALE: u32 = 6;

/// A named Fly guest size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Preset {
    /// Fly's name, e.g. `shared-cpu-1x`.
    pub name: &'static str,
    /// CPU class.
    pub cpu_kind: CpuKind,
    /// vCPUs.
    pub cpus: u32,
    /// Memory in **MB** (Fly's default for the preset).
    pub memory_mb: u32,
}

/// The presets the catalog offers.
pub const PRESETS: [Preset; 8] = [
    Preset { name: "shared-cpu-1x", cpu_kind: CpuKind::Shared, cpus: 1, memory_mb: 256 },
    Preset { name: "shared-cpu-2x", cpu_kind: CpuKind::Shared, cpus: 2, memory_mb: 512 },
    Preset { name: "shared-cpu-4x", cpu_kind: CpuKind::Shared, cpus: 4, memory_mb: 1024 },
    Preset { name: "shared-cpu-8x", cpu_kind: CpuKind::Shared, cpus: 8, memory_mb: 2048 },
    Preset { name: "performance-1x", cpu_kind: CpuKind::Performance, cpus: 1, memory_mb: 2048 },
    Preset { name: "performance-2x", cpu_kind: CpuKind::Performance, cpus: 2, memory_mb: 4096 },
    Preset { name: "performance-4x", cpu_kind: CpuKind::Performance, cpus: 4, memory_mb: 8192 },
    Preset { name: "performance-8x", cpu_kind: CpuKind::Performance, cpus: 8, memory_mb: 16384 },
];

/// Fly regions offered: `(id, name)`.
pub const REGIONS: [(&str, &str); 35] = [
    ("ams", "Amsterdam, Netherlands"),
    ("arn", "Stockholm, Sweden"),
    ("atl", "Atlanta, Georgia (US)"),
    ("bog", "Bogotá, Colombia"),
    ("bom", "Mumbai, India"),
    ("bos", "Boston, Massachusetts (US)"),
    ("cdg", "Paris, France"),
    ("den", "Denver, Colorado (US)"),
    ("dfw", "Dallas, Texas (US)"),
    ("ewr", "Secaucus, NJ (US)"),
    ("eze", "Ezeiza, Argentina"),
    ("fra", "Frankfurt, Germany"),
    ("gdl", "Guadalajara, Mexico"),
    ("gig", "Rio de Janeiro, Brazil"),
    ("gru", "Sao Paulo, Brazil"),
    ("hkg", "Hong Kong, Hong Kong"),
    ("iad", "Ashburn, Virginia (US)"),
    ("jnb", "Johannesburg, South Africa"),
    ("lax", "Los Angeles, California (US)"),
    ("lhr", "London, United Kingdom"),
    ("mad", "Madrid, Spain"),
    ("mia", "Miami, Florida (US)"),
    ("nrt", "Tokyo, Japan"),
    ("ord", "Chicago, Illinois (US)"),
    ("otp", "Bucharest, Romania"),
    ("phx", "Phoenix, Arizona (US)"),
    ("qro", "Querétaro, Mexico"),
    ("scl", "Santiago, Chile"),
    ("sea", "Seattle, Washington (US)"),
    ("sin", "Singapore, Singapore"),
    ("sjc", "San Jose, California (US)"),
    ("syd", "Sydney, Australia"),
    ("waw", "Warsaw, Poland"),
    ("yul", "Montreal, Canada"),
    ("yyz", "Toronto, Canada"),
];

/// The preset called `name`, if it is one of [`PRESETS`].
pub fn preset(name: &str) -> Option<&'static Preset> {
    PRESETS.iter().find(|p| p.name == name)
}

/// Fly's name for a CPU kind (`shared`, `performance`).
pub fn cpu_kind_name(kind: CpuKind) -> &'static str {
    match kind {
        CpuKind::Shared => "shared",
        CpuKind::Performance => "performance",
    }
}

/// Checks a guest against Fly's sizing rules.
///
/// - shared: 1, 2, 4 or 8 vCPUs; memory a multiple of 256 MB, 256–2048 MB per vCPU;
/// - performance: 1, 2, 4, 8 or 16 vCPUs; memory a multiple of 2048 MB, 2048–8192 MB per
///   vCPU (Fly's machine-sizing guide; older flyctl docs allowed 1024 MB steps, so this is the
///   stricter reading).
///
/// # Errors
/// [`ErrorKind::InvalidInput`] naming the rule that failed.
pub fn validate_guest(cpu_kind: CpuKind, cpus: u32, memory_mb: u32) -> Result<()> {
    let (allowed_cpus, step, min_per_cpu, max_per_cpu): (&[u32], u32, u32, u32) = match cpu_kind {
        CpuKind::Shared => (&[1, 2, 4, 8], 256, 256, 2048),
        CpuKind::Performance => (&[1, 2, 4, 8, 16], 2048, 2048, 8192),
    };
    let kind = cpu_kind_name(cpu_kind);
    let invalid = |msg: String| Err(Error::new(ErrorKind::InvalidInput, msg).with_component(COMPONENT));
    if !allowed_cpus.contains(&cpus) {
        return invalid(format!("{kind} guests have {allowed_cpus:?} vCPUs, not {cpus}"));
    }
    if memory_mb == 0 || !memory_mb.is_multiple_of(step) {
        return invalid(format!("{kind} guest memory must be a multiple of {step} MB, not {memory_mb} MB"));
    }
    let (min, max) = (min_per_cpu * cpus, max_per_cpu * cpus);
    if !(min..=max).contains(&memory_mb) {
        return invalid(format!(
            "a {kind} guest with {cpus} vCPU(s) needs {min}–{max} MB of memory ({min_per_cpu}–{max_per_cpu} MB per vCPU), not {memory_mb} MB"
        ));
    }
    Ok(())
}

/// USD per 30 days of one vCPU of `kind`.
fn cpu_month(kind: CpuKind) -> Decimal {
    match kind {
        CpuKind::Shared => Decimal::new(694, 3),
        CpuKind::Performance => Decimal::new(21, 0),
    }
}

/// USD per 30 days of one GB (1024 MB) of RAM.
fn ram_gb_month() -> Decimal {
    Decimal::new(5, 0)
}

/// A 30-day USD amount as an hourly [`ProviderCost`], rounded up.
fn hourly(month: Decimal) -> Result<ProviderCost> {
    let per_hour = Usd::new(month / Decimal::from(HOURS_PER_FLY_MONTH))?.round_up_to_scale(RATE_SCALE);
    Ok(ProviderCost { setup: Usd::ZERO, rate: Rate { amount: per_hour, per: RatePeriod::Hour } })
}

/// The provider cost of a running guest, per hour (see the module docs for the source).
/// A stopped machine costs only its root filesystem, which is not included.
///
/// # Errors
/// [`ErrorKind::InvalidInput`] when the guest breaks [`validate_guest`].
pub fn guest_cost(cpu_kind: CpuKind, cpus: u32, memory_mb: u32) -> Result<ProviderCost> {
    validate_guest(cpu_kind, cpus, memory_mb)?;
    let month =
        cpu_month(cpu_kind) * Decimal::from(cpus) + ram_gb_month() * Decimal::from(memory_mb) / Decimal::from(1024u32);
    hourly(month)
}

/// The provider cost of a volume of `size_gb` GB, per hour ($0.15 per GB per 30 days).
///
/// # Errors
/// [`ErrorKind::InvalidInput`] for a zero size.
pub fn volume_cost(size_gb: u32) -> Result<ProviderCost> {
    if size_gb == 0 {
        return Err(Error::new(ErrorKind::InvalidInput, "volume size must be at least 1 GB").with_component(COMPONENT));
    }
    hourly(Decimal::new(15, 2) * Decimal::from(size_gb))
}

/// The provider cost of a public IP address, per hour: $2 per 30 days for a dedicated IPv4,
/// nothing for a shared IPv4 or a dedicated IPv6.
pub fn ip_cost(kind: IpKind) -> ProviderCost {
    let month = match kind {
        IpKind::V4 => Decimal::new(2, 0),
        _ => Decimal::ZERO,
    };
    hourly(month).unwrap_or(ProviderCost { setup: Usd::ZERO, rate: Rate { amount: Usd::ZERO, per: RatePeriod::Hour } })
}

/// The static catalog: [`PRESETS`] with their hourly cost and [`REGIONS`] (all marked
/// available; Fly may still refuse a region without capacity). No images: Fly runs any OCI
/// image reference. No default region or limits: those are an adapter's configuration
/// ([`crate::FlyProvider`]'s catalog adds them).
pub fn catalog() -> Catalog {
    let sizes = PRESETS
        .iter()
        .filter_map(|p| {
            let cost = guest_cost(p.cpu_kind, p.cpus, p.memory_mb).ok()?;
            Some(SizeOffer {
                id: p.name.to_owned(),
                cpu_kind: Some(p.cpu_kind),
                vcpus: p.cpus,
                memory_mb: p.memory_mb,
                disk_gb: None,
                gpu: None,
                cost,
                regions: Vec::new(),
            })
        })
        .collect();
    let regions = REGIONS
        .iter()
        .map(|(id, name)| Region { id: (*id).to_owned(), name: (*name).to_owned(), available: true })
        .collect();
    Catalog { sizes, regions, ..Catalog::default() }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    fn usd(s: &str) -> Usd {
        Usd::from_str(s).unwrap()
    }

    #[test]
    fn every_preset_is_valid_and_priced_from_the_published_table() {
        let c = catalog();
        assert_eq!(c.sizes.len(), PRESETS.len());
        let hourly = |id: &str| c.sizes.iter().find(|s| s.id == id).unwrap().cost.rate;
        assert_eq!(hourly("shared-cpu-1x"), Rate { amount: usd("0.0027"), per: RatePeriod::Hour });
        // $31.00 / 720 h = 0.0430555…, rounded up.
        assert_eq!(hourly("performance-1x").amount, usd("0.043056"));
        assert_eq!(hourly("performance-8x").amount, usd("0.344445"));
        assert_eq!(hourly("shared-cpu-8x").amount, usd("0.0216"));
        assert!(c.sizes.iter().all(|s| s.cost.setup.is_zero()));
    }

    #[test]
    fn arbitrary_guests_are_priced_by_component() {
        // shared-cpu-1x with 1 GB: 0.694 + 5 = 5.694 per 30 days.
        assert_eq!(guest_cost(CpuKind::Shared, 1, 1024).unwrap().rate.amount, usd("0.007909"));
        // performance-1x with 4 GB: 21 + 20 = 41 per 30 days.
        assert_eq!(guest_cost(CpuKind::Performance, 1, 4096).unwrap().rate.amount, usd("0.056945"));
        assert_eq!(volume_cost(10).unwrap().rate.amount, usd("0.002084"));
        assert_eq!(ip_cost(IpKind::V4).rate.amount, usd("0.002778"));
        assert!(ip_cost(IpKind::SharedV4).rate.amount.is_zero());
        assert!(volume_cost(0).is_err());
    }

    #[test]
    fn guest_rules_are_enforced_with_clear_messages() {
        assert!(validate_guest(CpuKind::Shared, 1, 256).is_ok());
        assert!(validate_guest(CpuKind::Shared, 8, 16384).is_ok());
        assert!(validate_guest(CpuKind::Performance, 16, 32768).is_ok());
        for (kind, cpus, mem, needle) in [
            (CpuKind::Shared, 3, 768, "vCPUs"),
            (CpuKind::Shared, 16, 4096, "vCPUs"),
            (CpuKind::Shared, 1, 300, "multiple of 256"),
            (CpuKind::Shared, 1, 4096, "256–2048 MB per vCPU"),
            (CpuKind::Shared, 2, 256, "512–4096 MB"),
            (CpuKind::Performance, 1, 1024, "multiple of 2048"),
            (CpuKind::Performance, 1, 10240, "2048–8192 MB"),
            (CpuKind::Performance, 0, 2048, "vCPUs"),
            (CpuKind::Shared, 1, 0, "multiple of 256"),
        ] {
            let e = validate_guest(kind, cpus, mem).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidInput);
            assert!(e.message().contains(needle), "{e}");
        }
    }

    #[test]
    fn regions_are_unique_and_presets_resolve() {
        let mut ids: Vec<_> = REGIONS.iter().map(|r| r.0).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), REGIONS.len());
        assert_eq!(preset("performance-2x").unwrap().memory_mb, 4096);
        assert!(preset("gpu-a100").is_none());
    }
}
