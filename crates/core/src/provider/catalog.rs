//! Catalog types: what a provider sells and what it costs **the operator** (provider cost,
//! before margin). Sale prices come from [`crate::billing::Billing`].

use serde::{Deserialize, Serialize};

use crate::Usd;

/// A provider's catalog.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Catalog {
    /// Sizes (Fly guest presets) or plans (DigitalOcean size slugs, Vultr plan ids).
    pub sizes: Vec<SizeOffer>,
    /// Regions.
    pub regions: Vec<Region>,
    /// Images (OS or container images the provider offers by id).
    pub images: Vec<Image>,
    /// The region used when a request names none.
    pub default_region: Option<String>,
    /// The largest machine and volume offered.
    pub limits: Limits,
    /// Provider cost of volume storage, per **GB**, when the provider sells volumes.
    pub storage_per_gb: Option<ProviderCost>,
    /// Provider cost of a dedicated public IPv4, when the provider sells them.
    pub dedicated_ipv4: Option<ProviderCost>,
    /// Whether a stopped (powered-off) machine bills like a running one (DigitalOcean
    /// droplets, Vultr instances; a stopped Fly machine bills only its root filesystem). When
    /// it does, expiry snapshots and destroys a machine instead of stopping it.
    #[serde(default)]
    pub stopped_machines_billed: bool,
}

impl Catalog {
    /// The region `id`, if offered.
    pub fn region(&self, id: &str) -> Option<&Region> {
        self.regions.iter().find(|r| r.id == id)
    }

    /// The size or plan `id`, if offered.
    pub fn size(&self, id: &str) -> Option<&SizeOffer> {
        self.sizes.iter().find(|s| s.id == id)
    }
}

/// The largest machine and volume a provider (as configured) offers; `None` is no limit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Most vCPUs of one machine.
    pub max_vcpus: Option<u32>,
    /// Most memory of one machine, in **MB**.
    pub max_memory_mb: Option<u32>,
    /// Largest volume, in **GB**.
    pub max_volume_gb: Option<u32>,
}

/// CPU class of a machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CpuKind {
    /// Shared vCPUs (Fly `shared`, DigitalOcean basic).
    Shared,
    /// Dedicated vCPUs (Fly `performance`, DigitalOcean CPU-optimised).
    Performance,
}

impl CpuKind {
    /// `shared` or `performance`.
    pub fn as_str(&self) -> &'static str {
        match self {
            CpuKind::Shared => "shared",
            CpuKind::Performance => "performance",
        }
    }
}

/// GPU details of a size.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GpuInfo {
    /// Number of GPUs (fractions of a GPU are expressed by `vram_gb`).
    pub count: u32,
    /// Model, e.g. `"NVIDIA A100"`.
    pub model: String,
    /// GPU memory in **GB**.
    pub vram_gb: u32,
}

/// The period a [`Rate`] is quoted for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RatePeriod {
    /// Per minute.
    Minute,
    /// Per hour (60 minutes).
    Hour,
    /// Per day (1 440 minutes).
    Day,
    /// Per month, counted as 730 hours (43 800 minutes) as DigitalOcean and Vultr do.
    Month,
}

impl RatePeriod {
    /// `minute`, `hour`, `day` or `month`.
    pub fn as_str(&self) -> &'static str {
        match self {
            RatePeriod::Minute => "minute",
            RatePeriod::Hour => "hour",
            RatePeriod::Day => "day",
            RatePeriod::Month => "month",
        }
    }

    /// Length of the period in **minutes**.
    pub fn minutes(&self) -> u64 {
        match self {
            RatePeriod::Minute => 1,
            RatePeriod::Hour => 60,
            RatePeriod::Day => 1_440,
            RatePeriod::Month => 43_800,
        }
    }
}

/// A recurring price: `amount` USD per `per`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rate {
    /// USD per period.
    pub amount: Usd,
    /// The period.
    pub per: RatePeriod,
}

/// What the provider charges the operator for one unit: a one-off amount and a rate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderCost {
    /// One-off USD cost at creation (usually zero).
    pub setup: Usd,
    /// Recurring USD cost.
    pub rate: Rate,
}

/// One size or plan.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SizeOffer {
    /// The provider's id: a Fly preset like `shared-cpu-1x`, a DigitalOcean slug
    /// (`s-1vcpu-1gb`) or a Vultr plan (`vc2-1c-1gb`).
    pub id: String,
    /// CPU class, when the provider distinguishes it.
    pub cpu_kind: Option<CpuKind>,
    /// vCPUs.
    pub vcpus: u32,
    /// Memory in **MB**.
    pub memory_mb: u32,
    /// Disk in **GB**, when the size includes one.
    pub disk_gb: Option<u32>,
    /// GPU, when the size has one.
    pub gpu: Option<GpuInfo>,
    /// Provider cost (before margin).
    pub cost: ProviderCost,
    /// Region ids where it is offered (empty means every region).
    pub regions: Vec<String>,
}

/// A region.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Region {
    /// The provider's id, e.g. `sjc`, `nyc1`, `ewr`.
    pub id: String,
    /// Human-readable name.
    pub name: String,
    /// Whether new resources can be created there now.
    pub available: bool,
}

/// An image.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Image {
    /// The provider's id or slug, e.g. `ubuntu-24-04-x64` or a Vultr `os_id` as a string.
    pub id: String,
    /// Human-readable name.
    pub name: String,
    /// Family, e.g. `ubuntu`, `debian`.
    pub family: Option<String>,
}
