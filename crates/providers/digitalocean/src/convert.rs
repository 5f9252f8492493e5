//! Conversions from DigitalOcean's wire types to compute-core's: droplets to machines (state
//! mapping, addresses), sizes to catalog offers with exact decimal prices, snapshots and keys.

use chrono::{DateTime, Utc};
use compute_core::provider::{
    CpuKind, GpuInfo, Image, Machine, MachineSize, MachineState, ProviderCost, Rate, RatePeriod, Region, SizeOffer,
    Snapshot, SshKey,
};
use compute_core::{Error, ErrorKind, Result, Usd};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde_json::Value;

use crate::COMPONENT;
use crate::client::decode;
use crate::types::{DoImage, DoRegion, DoSize, DoSnapshot, DoSshKey, Droplet};

/// Parses a JSON number **exactly** into a decimal: from the number's own text (`0.00893`
/// stays `0.00893`; with serde_json's default float storage the text is the shortest form that
/// round-trips, so no binary noise is added), never through `f64` arithmetic.
///
/// # Errors
/// [`ErrorKind::Provider`] for a number outside `rust_decimal`'s range.
pub fn decimal(n: &serde_json::Number) -> Result<Decimal> {
    let text = n.to_string();
    Decimal::from_str_exact(&text).or_else(|_| Decimal::from_scientific(&text)).map_err(|e| {
        Error::new(ErrorKind::Provider, format!("cannot read DigitalOcean number {text}: {e}"))
            .with_component(COMPONENT)
    })
}

/// DigitalOcean's droplet `status` as a [`MachineState`]: `new` → `Creating`, `active` →
/// `Started`, `off` → `Stopped`, `archive` → `Destroyed`, anything else verbatim.
pub fn machine_state(status: &str) -> MachineState {
    match status {
        "new" => MachineState::Creating,
        "active" => MachineState::Started,
        "off" => MachineState::Stopped,
        "archive" => MachineState::Destroyed,
        other => MachineState::Other(other.to_owned()),
    }
}

fn time(s: Option<&str>) -> Option<DateTime<Utc>> {
    s.and_then(|t| DateTime::parse_from_rfc3339(t).ok()).map(|t| t.with_timezone(&Utc))
}

/// A droplet object as a [`Machine`] (`raw` is the object itself) and its typed view.
///
/// Public addresses are the `public` entries of `networks.v4` then `networks.v6` (empty until
/// the droplet is `active`); the private address is the first `private` IPv4.
///
/// # Errors
/// [`ErrorKind::Provider`] when the object is not a droplet.
pub fn machine_from_value(raw: Value) -> Result<(Droplet, Machine)> {
    let d: Droplet = decode("read droplet", raw.clone())?;
    if d.id == 0 {
        return Err(
            Error::new(ErrorKind::Provider, "DigitalOcean sent a droplet without an id").with_component(COMPONENT)
        );
    }
    let public = |nets: &[crate::types::Network]| -> Vec<String> {
        nets.iter().filter(|n| n.kind == "public").map(|n| n.ip_address.clone()).collect()
    };
    let mut public_ips = public(&d.networks.v4);
    public_ips.extend(public(&d.networks.v6));
    let private_ip = d.networks.v4.iter().find(|n| n.kind == "private").map(|n| n.ip_address.clone());
    let machine = Machine {
        id: d.id.to_string(),
        name: d.name.clone(),
        state: machine_state(&d.status),
        region: d.region.slug.clone(),
        size: (!d.size_slug.is_empty()).then(|| MachineSize::Plan(d.size_slug.clone())),
        public_ips,
        private_ip,
        created_at: time(d.created_at.as_deref()),
        raw,
    };
    Ok((d, machine))
}

/// The CPU class of a size: `Basic` sizes (slugs `s-…`) share vCPUs; every other class
/// (General Purpose, CPU-, Memory-, Storage-Optimized, GPU) has dedicated vCPUs.
pub fn cpu_kind(size: &DoSize) -> CpuKind {
    if size.description.starts_with("Basic") || size.slug.starts_with("s-") {
        CpuKind::Shared
    } else {
        CpuKind::Performance
    }
}

/// A size as a catalog offer. The provider cost is `price_hourly` **USD per hour** with no
/// setup cost (DigitalOcean bills droplets by the hour, capped at `price_monthly` USD per
/// month; the cap is not part of the catalog). Memory stays in **MB**, disk in **GB**.
///
/// # Errors
/// [`ErrorKind::Provider`] for a size without an hourly price or with one that does not parse.
pub fn size_offer(size: &DoSize) -> Result<SizeOffer> {
    let price = size.price_hourly.as_ref().ok_or_else(|| {
        Error::new(ErrorKind::Provider, format!("size {} has no price_hourly", size.slug)).with_component(COMPONENT)
    })?;
    let amount = Usd::new(decimal(price)?).map_err(|e| {
        Error::new(ErrorKind::Provider, format!("size {}: {}", size.slug, e.message())).with_component(COMPONENT)
    })?;
    let u32_of = |n: u64| u32::try_from(n).unwrap_or(u32::MAX);
    Ok(SizeOffer {
        id: size.slug.clone(),
        cpu_kind: Some(cpu_kind(size)),
        vcpus: u32_of(size.vcpus),
        memory_mb: u32_of(size.memory),
        disk_gb: (size.disk > 0).then(|| u32_of(size.disk)),
        gpu: size.gpu_info.as_ref().filter(|g| g.count > 0).map(|g| GpuInfo {
            count: g.count,
            model: g.model.clone(),
            vram_gb: g.vram.as_ref().map_or(0, |v| u32_of(v.amount)),
        }),
        cost: ProviderCost { setup: Usd::ZERO, rate: Rate { amount, per: RatePeriod::Hour } },
        regions: size.regions.clone(),
    })
}

/// A region as a catalog region.
pub fn region(r: &DoRegion) -> Region {
    Region { id: r.slug.clone(), name: r.name.clone(), available: r.available }
}

/// A public image as a catalog image: its slug (or numeric id when it has none), the
/// distribution and name (`Ubuntu 24.04 (LTS) x64`), the distribution in lowercase as family.
pub fn image(i: &DoImage) -> Image {
    let id = i.slug.clone().filter(|s| !s.is_empty()).unwrap_or_else(|| i.id.to_string());
    let name = match &i.distribution {
        Some(d) if !d.is_empty() && !i.name.starts_with(d.as_str()) => format!("{d} {}", i.name),
        _ => i.name.clone(),
    };
    Image { id, name, family: i.distribution.as_ref().map(|d| d.to_ascii_lowercase()).filter(|d| !d.is_empty()) }
}

/// A snapshot as a [`Snapshot`], its name shown without the tenant prefix `strip`. The status
/// is `available`: DigitalOcean lists a droplet snapshot only once its `snapshot` action has
/// completed, and a snapshot object has no status of its own. The size is
/// `size_gigabytes` rounded **up** to whole **GB**.
pub fn snapshot(s: &DoSnapshot, strip: &str, source_id: &str) -> Snapshot {
    let size_gb = s.size_gigabytes.as_ref().and_then(|n| decimal(n).ok()).and_then(|d| d.ceil().to_u32());
    let name = s.name.strip_prefix(strip).unwrap_or(&s.name).to_owned();
    let source = if s.resource_id.is_empty() { source_id.to_owned() } else { s.resource_id.clone() };
    Snapshot {
        id: s.id.clone(),
        name: Some(name),
        source_id: source,
        size_gb,
        status: "available".to_owned(),
        created_at: time(s.created_at.as_deref()),
    }
}

/// An account key as an [`SshKey`], its name shown without the tenant prefix `strip`.
pub fn ssh_key(k: &DoSshKey, strip: &str) -> SshKey {
    SshKey {
        id: k.id.to_string(),
        name: k.name.strip_prefix(strip).unwrap_or(&k.name).to_owned(),
        fingerprint: k.fingerprint.clone(),
        public_key: k.public_key.clone(),
        created_at: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn number(text: &str) -> serde_json::Number {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn prices_parse_exactly() {
        assert_eq!(decimal(&number("0.00743999984115362")).unwrap().to_string(), "0.00743999984115362");
        assert_eq!(decimal(&number("0.00893")).unwrap().to_string(), "0.00893");
        assert_eq!(decimal(&number("5.0")).unwrap(), Decimal::from(5));
        assert_eq!(decimal(&number("6.74")).unwrap().to_string(), "6.74");
        assert_eq!(decimal(&number("3e-05")).unwrap().to_string(), "0.00003");
        assert_eq!(decimal(&number("4529")).unwrap(), Decimal::from(4529));
    }

    #[test]
    fn states_map() {
        assert_eq!(machine_state("new"), MachineState::Creating);
        assert_eq!(machine_state("active"), MachineState::Started);
        assert_eq!(machine_state("off"), MachineState::Stopped);
        assert_eq!(machine_state("archive"), MachineState::Destroyed);
        assert_eq!(machine_state("weird"), MachineState::Other("weird".into()));
    }

    #[test]
    fn sizes_become_offers() {
        let s: DoSize = serde_json::from_value(serde_json::json!({
            "slug": "gpu-h100x1-80gb", "memory": 245_760, "vcpus": 20, "disk": 720,
            "price_monthly": 4529.3, "price_hourly": 6.74, "regions": ["tor1"], "available": true,
            "description": "H100 GPU - 1X",
            "gpu_info": {"count": 1, "vram": {"amount": 80, "unit": "gib"}, "model": "nvidia_h100"}
        }))
        .unwrap();
        let o = size_offer(&s).unwrap();
        assert_eq!((o.vcpus, o.memory_mb, o.disk_gb), (20, 245_760, Some(720)));
        assert_eq!(o.cpu_kind, Some(CpuKind::Performance));
        assert_eq!(o.cost.rate, Rate { amount: "6.74".parse().unwrap(), per: RatePeriod::Hour });
        assert_eq!(o.cost.setup, Usd::ZERO);
        assert_eq!(o.gpu, Some(GpuInfo { count: 1, model: "nvidia_h100".into(), vram_gb: 80 }));
        let mut no_price = s.clone();
        no_price.price_hourly = None;
        assert_eq!(size_offer(&no_price).unwrap_err().kind(), ErrorKind::Provider);
    }
}
