//! The fake's static catalog: sizes, regions and public images shaped like the spec's
//! `sizes/models/size.yml`, `regions/models/region.yml` and `images/models/image.yml`, and the
//! `GET /v2/sizes`, `/v2/regions`, `/v2/images[/{id}]` handlers.
//!
//! `s-1vcpu-1gb` and `gpu-h100x1-80gb` carry the prices of the spec's examples; the other
//! prices follow DigitalOcean's public price list (USD per hour and per month). Prices are
//! written as decimal text and sent as JSON numbers, never computed.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Uri};
use serde_json::{Number, Value, json};

use super::world::World;
use super::{ApiError, ApiResult, FakeState, ok_json, paginate};

/// One size of the catalog.
pub(crate) struct Size {
    pub(crate) slug: &'static str,
    /// **MB**.
    pub(crate) memory: u64,
    pub(crate) vcpus: u64,
    /// **GB**.
    pub(crate) disk: u64,
    /// **TB** per month.
    pub(crate) transfer: &'static str,
    /// USD per month.
    pub(crate) price_monthly: &'static str,
    /// USD per hour.
    pub(crate) price_hourly: &'static str,
    pub(crate) description: &'static str,
    /// Empty: every region.
    pub(crate) regions: &'static [&'static str],
    pub(crate) available: bool,
    /// `(count, model, vram GiB)`.
    pub(crate) gpu: Option<(u32, &'static str, u64)>,
}

const fn basic(
    slug: &'static str,
    memory: u64,
    vcpus: u64,
    disk: u64,
    transfer: &'static str,
    monthly: &'static str,
    hourly: &'static str,
) -> Size {
    Size {
        slug,
        memory,
        vcpus,
        disk,
        transfer,
        price_monthly: monthly,
        price_hourly: hourly,
        description: "Basic",
        regions: &[],
        available: true,
        gpu: None,
    }
}

/// Every size, in the API's order.
pub(crate) const SIZES: &[Size] = &[
    basic("s-1vcpu-512mb-10gb", 512, 1, 10, "0.5", "4.0", "0.00595"),
    basic("s-1vcpu-1gb", 1024, 1, 25, "1.0", "5.0", "0.00743999984115362"),
    basic("s-1vcpu-2gb", 2048, 1, 50, "2.0", "12.0", "0.01786"),
    basic("s-2vcpu-2gb", 2048, 2, 60, "3.0", "18.0", "0.02679"),
    basic("s-2vcpu-4gb", 4096, 2, 80, "4.0", "24.0", "0.03571"),
    basic("s-4vcpu-8gb", 8192, 4, 160, "5.0", "48.0", "0.07143"),
    Size { description: "CPU-Optimized", ..basic("c-2", 4096, 2, 25, "4.0", "42.0", "0.0625") },
    Size { description: "General Purpose", ..basic("g-2vcpu-8gb", 8192, 2, 25, "4.0", "63.0", "0.09375") },
    Size {
        description: "H100 GPU - 1X",
        regions: &["tor1"],
        gpu: Some((1, "nvidia_h100", 80)),
        ..basic("gpu-h100x1-80gb", 245_760, 20, 720, "15", "4529.3", "6.74")
    },
    Size { available: false, ..basic("s-8vcpu-16gb", 16_384, 8, 320, "6.0", "96.0", "0.14286") },
];

/// Every region: `(slug, name)`.
pub(crate) const REGIONS: &[(&str, &str)] = &[
    ("nyc1", "New York 1"),
    ("nyc3", "New York 3"),
    ("sfo3", "San Francisco 3"),
    ("ams3", "Amsterdam 3"),
    ("lon1", "London 1"),
    ("fra1", "Frankfurt 1"),
    ("tor1", "Toronto 1"),
    ("sgp1", "Singapore 1"),
    ("blr1", "Bangalore 1"),
    ("syd1", "Sydney 1"),
];

const REGION_FEATURES: &[&str] =
    &["private_networking", "backups", "ipv6", "metadata", "install_agent", "storage", "image_transfer"];

/// Public images: `(id, slug, distribution, name, type: distribution|application)`.
pub(crate) const IMAGES: &[(u64, &str, &str, &str, &str)] = &[
    (129_211_873, "ubuntu-24-04-x64", "Ubuntu", "24.04 (LTS) x64", "distribution"),
    (112_929_454, "ubuntu-22-04-x64", "Ubuntu", "22.04 (LTS) x64", "distribution"),
    (63_663_980, "ubuntu-20-04-x64", "Ubuntu", "20.04 (LTS) x64", "distribution"),
    (106_569_146, "debian-12-x64", "Debian", "12 x64", "distribution"),
    (145_104_567, "rockylinux-9-x64", "Rocky Linux", "9 x64", "distribution"),
    (136_500_192, "docker-20-04", "Ubuntu", "Docker on Ubuntu 22.04", "application"),
];

/// A JSON number from its decimal text (no float arithmetic).
pub(crate) fn number(text: &str) -> Value {
    serde_json::from_str::<Number>(text).map_or(Value::Null, Value::Number)
}

/// The size `slug`.
pub(crate) fn size(slug: &str) -> Option<&'static Size> {
    SIZES.iter().find(|s| s.slug == slug)
}

impl Size {
    /// Whether it can be created in `region`.
    pub(crate) fn in_region(&self, region: &str) -> bool {
        self.regions.is_empty() || self.regions.contains(&region)
    }

    fn region_list(&self) -> Vec<&'static str> {
        REGIONS.iter().map(|(r, _)| *r).filter(|r| self.in_region(r)).collect()
    }

    fn gpu_json(&self) -> Option<Value> {
        self.gpu.map(
            |(count, model, vram)| json!({"count": count, "vram": {"amount": vram, "unit": "gib"}, "model": model}),
        )
    }

    /// The size object.
    pub(crate) fn to_json(&self) -> Value {
        let mut v = json!({
            "slug": self.slug, "memory": self.memory, "vcpus": self.vcpus, "disk": self.disk,
            "transfer": number(self.transfer), "price_monthly": number(self.price_monthly),
            "price_hourly": number(self.price_hourly), "regions": self.region_list(),
            "available": self.available, "description": self.description,
            "disk_info": [{"type": "local", "size": {"amount": self.disk, "unit": "gib"}}],
        });
        if let (Some(gpu), Some(o)) = (self.gpu_json(), v.as_object_mut()) {
            o.insert("gpu_info".into(), gpu);
        }
        v
    }

    /// `gpu_info` for a droplet of this size, when it has GPUs.
    pub(crate) fn droplet_gpu(&self) -> Option<Value> {
        self.gpu_json()
    }
}

/// A region request (a slug, or a prefix such as `nyc`) resolved to a region slug.
pub(crate) fn resolve_region(wanted: &str) -> Option<&'static str> {
    REGIONS.iter().map(|(r, _)| *r).find(|r| *r == wanted || (wanted.len() >= 2 && r.starts_with(wanted)))
}

/// The region object.
pub(crate) fn region_json(slug: &str) -> Value {
    let name = REGIONS.iter().find(|(r, _)| *r == slug).map_or(slug, |(_, n)| n);
    let sizes: Vec<&str> = SIZES.iter().filter(|s| s.available && s.in_region(slug)).map(|s| s.slug).collect();
    json!({"name": name, "slug": slug, "features": REGION_FEATURES, "available": true, "sizes": sizes})
}

/// A public image object.
pub(crate) fn image_json(image: &(u64, &str, &str, &str, &str)) -> Value {
    let (id, slug, distribution, name, _) = *image;
    let regions: Vec<&str> = REGIONS.iter().map(|(r, _)| *r).collect();
    json!({
        "id": id, "name": name, "distribution": distribution, "slug": slug, "public": true,
        "regions": regions, "created_at": "2024-04-25T14:56:52Z", "type": "base", "min_disk_size": 7,
        "size_gigabytes": number("2.36"), "description": format!("{distribution} {name}"), "tags": [],
        "status": "available", "error_message": "",
    })
}

/// The public image with this id or slug.
pub(crate) fn public_image(
    key: &str,
) -> Option<&'static (u64, &'static str, &'static str, &'static str, &'static str)> {
    IMAGES.iter().find(|i| i.1 == key || i.0.to_string() == key)
}

type Pairs = Query<Vec<(String, String)>>;

/// `GET /v2/sizes[?page&per_page]`.
pub(crate) async fn list_sizes(headers: HeaderMap, uri: Uri, Query(q): Pairs) -> ApiResult {
    let items = SIZES.iter().map(Size::to_json).collect();
    ok_json(paginate(items, "sizes", &q, &uri, &headers)?)
}

/// `GET /v2/regions[?page&per_page]`.
pub(crate) async fn list_regions(headers: HeaderMap, uri: Uri, Query(q): Pairs) -> ApiResult {
    let items = REGIONS.iter().map(|(r, _)| region_json(r)).collect();
    ok_json(paginate(items, "regions", &q, &uri, &headers)?)
}

/// `GET /v2/images[?type=distribution|application][&private=true][&tag_name]`: public images
/// of the type, or (with `private=true`) the account's snapshots as images.
pub(crate) async fn list_images(
    State(s): State<FakeState>,
    headers: HeaderMap,
    uri: Uri,
    Query(q): Pairs,
) -> ApiResult {
    let kind = super::query(&q, "type");
    if kind.is_some_and(|k| !matches!(k, "distribution" | "application")) {
        return Err(ApiError::unprocessable("type must be distribution or application"));
    }
    let private = super::query(&q, "private") == Some("true");
    let items: Vec<Value> = if private {
        s.read(|w: &World| w.snapshots.values().map(|snap| snap.image_json()).collect())
    } else {
        let public = IMAGES.iter().filter(|i| kind.is_none_or(|k| k == i.4)).map(image_json);
        let own: Vec<Value> = if kind.is_none() {
            s.read(|w: &World| w.snapshots.values().map(|snap| snap.image_json()).collect())
        } else {
            Vec::new()
        };
        public.chain(own).collect()
    };
    ok_json(paginate(items, "images", &q, &uri, &headers)?)
}

/// `GET /v2/images/{id|slug}`: a public image or one of the account's snapshots.
pub(crate) async fn get_image(State(s): State<FakeState>, Path(key): Path<String>) -> ApiResult {
    if let Some(i) = public_image(&key) {
        return ok_json(json!({"image": image_json(i)}));
    }
    let id: u64 = key.parse().map_err(|_| ApiError::not_found())?;
    s.read(|w| {
        let snap = w.snapshots.get(&id).ok_or_else(ApiError::not_found)?;
        ok_json(json!({"image": snap.image_json()}))
    })
}
