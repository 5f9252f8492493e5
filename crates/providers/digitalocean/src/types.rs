//! Wire types of the DigitalOcean API v2, shaped from the official OpenAPI specification
//! (`digitalocean/openapi`, `specification/resources/<area>/models/*.yml`).
//!
//! Response types accept unknown fields and default missing ones, so new DigitalOcean fields
//! never break decoding; ids that the API gives as a number in one place and a string in
//! another (snapshots) decode from both. Request types serialise only what is set: the adapter
//! never sends a field its caller did not ask for. Prices stay [`serde_json::Number`]s until
//! they are parsed exactly into decimals (see [`crate::convert::decimal`]).

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize};

/// An id DigitalOcean sends as a JSON number or a string (`"6372321"` in `/v2/snapshots`,
/// `6372321` in `/v2/droplets/{id}/snapshots`), kept as text.
fn id_text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Id {
        Number(u64),
        Text(String),
    }
    Ok(match Option::<Id>::deserialize(d)? {
        Some(Id::Number(n)) => n.to_string(),
        Some(Id::Text(s)) => s,
        None => String::new(),
    })
}

/// `null` as the type's default (DigitalOcean sends `null` for some empty lists).
fn null_default<'de, D: Deserializer<'de>, T: Default + Deserialize<'de>>(d: D) -> Result<T, D::Error> {
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// A positive integer id (droplets, actions, keys); refuses strings and negatives.
fn positive_id<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    let n = u64::deserialize(d)?;
    if n == 0 { Err(de::Error::custom("id 0")) } else { Ok(n) }
}

/// The error body (`shared/models/error.yml`): `{id, message, request_id?}`. The tags API
/// answers some 400s with `{error, messages, root_causes}` (`shared/models/error_with_root_causes.yml`);
/// both are read.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct ErrorBody {
    /// Short code such as `not_found`, `unauthorized`, `unprocessable_entity`.
    pub id: Option<String>,
    /// Human-readable message.
    pub message: Option<String>,
    /// Request id to quote to DigitalOcean support.
    pub request_id: Option<String>,
    /// The message of the `{error, messages, root_causes}` shape.
    pub error: Option<String>,
    /// Further messages of that shape.
    #[serde(deserialize_with = "null_default")]
    pub messages: Vec<String>,
}

/// `links.pages` of a list (`shared/pages.yml`): full URLs of the other pages.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Pages {
    /// The next page, absent on the last one.
    pub next: Option<String>,
    /// The last page.
    pub last: Option<String>,
}

/// `links` of a list.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Links {
    /// Page links.
    pub pages: Pages,
}

/// One address of `networks.v4` / `networks.v6` (`droplets/models/network_v4.yml`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Network {
    /// The address.
    pub ip_address: String,
    /// `public` or `private`.
    #[serde(rename = "type")]
    pub kind: String,
}

/// `networks` of a droplet.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Networks {
    /// IPv4 addresses; empty until the droplet is `active`.
    #[serde(deserialize_with = "null_default")]
    pub v4: Vec<Network>,
    /// IPv6 addresses.
    #[serde(deserialize_with = "null_default")]
    pub v6: Vec<Network>,
}

/// The region embedded in a droplet (`regions/models/region.yml`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct RegionRef {
    /// Slug, e.g. `nyc3`.
    pub slug: String,
    /// Name, e.g. `New York 3`.
    pub name: String,
}

/// A droplet (`droplets/models/droplet.yml`); only the fields the adapter reads. The whole
/// object is kept as [`compute_core::provider::Machine::raw`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Droplet {
    /// Id (int64).
    #[serde(deserialize_with = "positive_id")]
    pub id: u64,
    /// Name (the hostname).
    pub name: String,
    /// Memory in **MB**.
    pub memory: u64,
    /// vCPUs.
    pub vcpus: u64,
    /// Disk in **GB**.
    pub disk: u64,
    /// `true` while an action runs.
    pub locked: bool,
    /// `new`, `active`, `off` or `archive`.
    pub status: String,
    /// RFC 3339 creation time.
    pub created_at: Option<String>,
    /// Ids of the droplet's snapshots.
    #[serde(deserialize_with = "null_default")]
    pub snapshot_ids: Vec<u64>,
    /// Size slug, e.g. `s-1vcpu-1gb`.
    pub size_slug: String,
    /// Addresses.
    pub networks: Networks,
    /// Region.
    pub region: RegionRef,
    /// Tags, the tenant's among them.
    #[serde(deserialize_with = "null_default")]
    pub tags: Vec<String>,
}

/// An action (`actions/models/action.yml`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Action {
    /// Id.
    #[serde(deserialize_with = "positive_id")]
    pub id: u64,
    /// `in-progress`, `completed` or `errored`.
    pub status: String,
    /// `power_on`, `shutdown`, `snapshot`, …
    #[serde(rename = "type")]
    pub kind: String,
    /// The droplet it acts on.
    pub resource_id: Option<u64>,
}

/// A snapshot (`snapshots/models/snapshots.yml`, or `droplets/models/droplet_snapshot.yml`
/// in `/v2/droplets/{id}/snapshots`, where the id is an integer and there is no `resource_id`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct DoSnapshot {
    /// Id, as text.
    #[serde(deserialize_with = "id_text")]
    pub id: String,
    /// Name.
    pub name: String,
    /// RFC 3339 creation time.
    pub created_at: Option<String>,
    /// Billable size in **GB** (a JSON float such as `2.34`).
    pub size_gigabytes: Option<serde_json::Number>,
    /// The droplet (or volume) it was taken of, as text.
    #[serde(deserialize_with = "id_text")]
    pub resource_id: String,
    /// `droplet` or `volume`.
    pub resource_type: Option<String>,
}

/// An image (`images/models/image.yml`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct DoImage {
    /// Id.
    pub id: u64,
    /// Name (a snapshot's name for snapshot images).
    pub name: String,
    /// Distribution, e.g. `Ubuntu`.
    pub distribution: Option<String>,
    /// Slug of a public image, `null` for private ones.
    pub slug: Option<String>,
    /// Whether every account can use it.
    pub public: bool,
    /// `base`, `snapshot`, `backup`, `custom` or `admin`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `NEW`, `available`, `pending`, `deleted` or `retired`.
    pub status: Option<String>,
}

/// An account SSH key (`ssh_keys/models/sshKeys.yml`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct DoSshKey {
    /// Id.
    #[serde(deserialize_with = "positive_id")]
    pub id: u64,
    /// MD5 fingerprint, hex pairs separated by `:`.
    pub fingerprint: String,
    /// OpenSSH public key.
    pub public_key: String,
    /// Name (the adapter's `<tag>:<name>`).
    pub name: String,
}

/// GPU memory of a size.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Vram {
    /// Amount in `unit`s.
    pub amount: u64,
    /// `gib`.
    pub unit: String,
}

/// `gpu_info` of a size (`sizes/models/gpu_info.yml`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct DoGpuInfo {
    /// Number of GPUs.
    pub count: u32,
    /// Model, e.g. `nvidia_h100`.
    pub model: String,
    /// GPU memory.
    pub vram: Option<Vram>,
}

/// A size (`sizes/models/size.yml`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct DoSize {
    /// Slug, e.g. `s-1vcpu-1gb`.
    pub slug: String,
    /// Memory in **MB**.
    pub memory: u64,
    /// vCPUs.
    pub vcpus: u64,
    /// Disk in **GB**.
    pub disk: u64,
    /// Monthly price, **USD per month** (a JSON float).
    pub price_monthly: Option<serde_json::Number>,
    /// Hourly price, **USD per hour** (a JSON float).
    pub price_hourly: Option<serde_json::Number>,
    /// Regions where it can be created.
    #[serde(deserialize_with = "null_default")]
    pub regions: Vec<String>,
    /// Whether it can be created now.
    pub available: bool,
    /// Class, e.g. `Basic`, `General Purpose`, `CPU-Optimized`.
    pub description: String,
    /// GPUs, for GPU sizes.
    pub gpu_info: Option<DoGpuInfo>,
}

/// A region (`regions/models/region.yml`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct DoRegion {
    /// Slug, e.g. `nyc1`.
    pub slug: String,
    /// Name, e.g. `New York 1`.
    pub name: String,
    /// Whether new resources can be created there.
    pub available: bool,
}

/// The `image` of a create request: a numeric image or snapshot id, or a public image slug.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum ImageRef {
    /// A numeric id (a snapshot id restores the droplet from that snapshot).
    Id(u64),
    /// A slug such as `ubuntu-24-04-x64`.
    Slug(String),
}

/// An entry of `ssh_keys` in a create request: a key id or an MD5 fingerprint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum KeyRef {
    /// An account key id.
    Id(u64),
    /// An MD5 fingerprint.
    Fingerprint(String),
}

/// `POST /v2/droplets` body, "Single Droplet Request" (`droplets/models/droplet_single_create.yml`
/// and `droplet_create.yml`): only what the spec asked for, plus the tenant's tag.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CreateDropletRequest {
    /// Name (hostname).
    pub name: String,
    /// Region slug.
    pub region: String,
    /// Size slug.
    pub size: String,
    /// Image.
    pub image: ImageRef,
    /// SSH keys to install for `root`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ssh_keys: Vec<KeyRef>,
    /// Cloud-init user data (≤ 64 KiB).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_data: Option<String>,
    /// Tags; always exactly the tenant's tag.
    pub tags: Vec<String>,
}

/// `POST /v2/droplets/{id}/actions` body (`droplets/models/droplet_actions.yml`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ActionRequest {
    /// The action type.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Snapshot name (`snapshot` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// New size slug (`resize` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<String>,
    /// Whether a resize also grows the disk (`resize` only; the adapter always sends `false`,
    /// which keeps the resize reversible).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disk: Option<bool>,
}

impl ActionRequest {
    /// An action with no arguments (`power_on`, `shutdown`, `reboot`, …).
    pub fn plain(kind: &'static str) -> Self {
        ActionRequest { kind, name: None, size: None, disk: None }
    }
}

/// `POST /v2/account/keys` body (`ssh_keys/models/sshKeys.yml`, writable fields).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CreateKeyRequest {
    /// Name (`<tag>:<name>`).
    pub name: String,
    /// OpenSSH public key.
    pub public_key: String,
}

/// `POST /v2/tags` body (`tags/models/tags.yml`, writable fields).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CreateTagRequest {
    /// Tag name.
    pub name: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_decode_from_numbers_and_strings() {
        let a: DoSnapshot = serde_json::from_str(r#"{"id":"6372321","resource_id":"200776916"}"#).unwrap();
        let b: DoSnapshot = serde_json::from_str(r#"{"id":6372321,"name":"x"}"#).unwrap();
        assert_eq!((a.id.as_str(), a.resource_id.as_str()), ("6372321", "200776916"));
        assert_eq!((b.id.as_str(), b.resource_id.as_str()), ("6372321", ""));
        assert!(serde_json::from_str::<Droplet>(r#"{"id":"12"}"#).is_err());
        assert!(serde_json::from_str::<Droplet>(r#"{"id":0}"#).is_err());
        let d: Droplet = serde_json::from_str(r#"{"id":12,"tags":null,"networks":{"v4":null}}"#).unwrap();
        assert!(d.tags.is_empty() && d.networks.v4.is_empty());
    }

    #[test]
    fn requests_serialise_only_what_is_set() {
        let r = CreateDropletRequest {
            name: "a".into(),
            region: "nyc1".into(),
            size: "s-1vcpu-1gb".into(),
            image: ImageRef::Id(7),
            ssh_keys: vec![],
            user_data: None,
            tags: vec!["cg-t".into()],
        };
        assert_eq!(
            serde_json::to_value(&r).unwrap(),
            serde_json::json!({"name":"a","region":"nyc1","size":"s-1vcpu-1gb","image":7,"tags":["cg-t"]})
        );
        assert_eq!(serde_json::to_value(ActionRequest::plain("reboot")).unwrap(), serde_json::json!({"type":"reboot"}));
        let keys = vec![KeyRef::Id(1), KeyRef::Fingerprint("aa:bb".into())];
        assert_eq!(serde_json::to_value(keys).unwrap(), serde_json::json!([1, "aa:bb"]));
    }
}
