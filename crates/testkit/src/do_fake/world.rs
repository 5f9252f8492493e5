//! The fake's in-memory world (droplets, actions, snapshots, SSH keys, tags), deterministic ids
//! and addresses, the rate-limit window, and the JSON shapes the spec's models describe
//! (`droplets/models/droplet.yml`, `actions/models/action.yml`, `snapshots/models/snapshots.yml`,
//! `droplets/models/droplet_snapshot.yml`, `ssh_keys/models/sshKeys.yml`, `tags/models/tags.yml`).

use std::collections::BTreeMap;

use chrono::{SecondsFormat, Utc};
use serde_json::{Value, json};

use super::catalog::{number, region_json, size};

/// Everything the fake knows. Guarded by one mutex in [`super::FakeState`].
#[derive(Debug, Default)]
pub(crate) struct World {
    pub(crate) droplets: BTreeMap<u64, Droplet>,
    pub(crate) actions: BTreeMap<u64, Action>,
    pub(crate) snapshots: BTreeMap<u64, Snapshot>,
    pub(crate) keys: BTreeMap<u64, Key>,
    /// Tag names, in creation order of their first use.
    pub(crate) tags: Vec<String>,
    pub(crate) ids: Ids,
    pub(crate) faults: Vec<Fault>,
    pub(crate) action_faults: Vec<ActionFault>,
    /// `METHOD /path?query` of every request, oldest first (capped).
    pub(crate) requests: Vec<String>,
    /// How many provider API requests (not `/__fake/` hooks) arrived, never capped.
    pub(crate) provider_requests: u64,
    pub(crate) rate: RateWindow,
}

/// Most requests kept in [`World::requests`].
pub(crate) const MAX_LOGGED_REQUESTS: usize = 2000;

/// Requests per rolling hour (`ratelimit-limit`).
pub(crate) const RATE_LIMIT: u64 = 5000;

/// The hourly rate-limit window: requests left and the Unix time the oldest one expires.
#[derive(Debug)]
pub(crate) struct RateWindow {
    pub(crate) remaining: u64,
    pub(crate) reset: i64,
}

impl Default for RateWindow {
    fn default() -> Self {
        RateWindow { remaining: RATE_LIMIT, reset: Utc::now().timestamp() + 3600 }
    }
}

impl World {
    /// Adds `tag` if it is new.
    pub(crate) fn ensure_tag(&mut self, tag: &str) {
        if !self.tags.iter().any(|t| t == tag) {
            self.tags.push(tag.to_owned());
        }
    }

    /// The whole world as JSON (`GET /__fake/state`), `user_data` included.
    pub(crate) fn dump(&self) -> Value {
        let droplets: Vec<Value> = self
            .droplets
            .values()
            .map(|d| {
                let mut v = d.to_json();
                if let Some(o) = v.as_object_mut() {
                    o.insert("user_data".into(), json!(d.user_data));
                    o.insert("ssh_key_ids".into(), json!(d.ssh_keys));
                }
                v
            })
            .collect();
        json!({
            "droplets": droplets,
            "actions": self.actions.values().map(Action::to_json).collect::<Vec<_>>(),
            "snapshots": self.snapshots.values().map(Snapshot::to_json).collect::<Vec<_>>(),
            "ssh_keys": self.keys.values().map(Key::to_json).collect::<Vec<_>>(),
            "tags": self.tags,
            "faults": self.faults.iter().map(Fault::to_json).collect::<Vec<_>>(),
            "action_faults": self.action_faults.iter().map(|f| json!({"type": f.kind, "count": f.count})).collect::<Vec<_>>(),
            "rate_limit": {"limit": RATE_LIMIT, "remaining": self.rate.remaining, "reset": self.rate.reset},
            "requests": self.requests,
            "provider_requests": self.provider_requests,
        })
    }
}

/// An injected HTTP fault (`POST /__fake/fail-next`).
#[derive(Clone, Debug, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct Fault {
    /// Matches requests whose path (with query) contains this.
    pub(crate) path_contains: String,
    /// Matches only this method, when set.
    pub(crate) method: Option<String>,
    /// Status to answer with.
    pub(crate) status: u16,
    /// How many matching requests fail.
    pub(crate) count: u32,
    /// Body to answer with (default `{id:"server_error", message:"injected fault"}`).
    pub(crate) body: Option<Value>,
    /// Extra response headers, e.g. `{"retry-after": "1"}`.
    pub(crate) headers: BTreeMap<String, String>,
    /// Run the real handler first and throw its answer away (a lost answer).
    pub(crate) apply: bool,
    /// Sleep this long before answering.
    pub(crate) delay_ms: u64,
}

impl Default for Fault {
    fn default() -> Self {
        Fault {
            path_contains: String::new(),
            method: None,
            status: 500,
            count: 1,
            body: None,
            headers: BTreeMap::new(),
            apply: false,
            delay_ms: 0,
        }
    }
}

impl Fault {
    fn to_json(&self) -> Value {
        json!({"path_contains": self.path_contains, "method": self.method, "status": self.status,
               "count": self.count, "headers": self.headers, "apply": self.apply, "delay_ms": self.delay_ms})
    }
}

/// An injected action failure (`POST /__fake/fail-action`): the next `count` actions of `type`
/// end `errored` and change nothing.
#[derive(Clone, Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ActionFault {
    #[serde(rename = "type")]
    pub(crate) kind: String,
    #[serde(default = "one")]
    pub(crate) count: u32,
}

fn one() -> u32 {
    1
}

/// Deterministic generators: the same sequence of calls gives the same ids and addresses.
#[derive(Debug, Default)]
pub(crate) struct Ids {
    droplets: u64,
    actions: u64,
    snapshots: u64,
    keys: u64,
    requests: u64,
}

impl Ids {
    /// Droplet ids: 400000001, 400000002, …
    pub(crate) fn droplet(&mut self) -> u64 {
        self.droplets += 1;
        400_000_000 + self.droplets
    }

    /// Action ids: 1800000001, …
    pub(crate) fn action(&mut self) -> u64 {
        self.actions += 1;
        1_800_000_000 + self.actions
    }

    /// Snapshot ids: 160000001, …
    pub(crate) fn snapshot(&mut self) -> u64 {
        self.snapshots += 1;
        160_000_000 + self.snapshots
    }

    /// SSH key ids: 41000001, …
    pub(crate) fn key(&mut self) -> u64 {
        self.keys += 1;
        41_000_000 + self.keys
    }

    /// A request id shaped like DigitalOcean's (a UUID).
    pub(crate) fn request(&mut self) -> String {
        self.requests += 1;
        let n = self.requests;
        format!("{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}", 0x4d9d_8375_u64, n & 0xffff, n % 0xfff, (n * 7) % 0xfff, n)
    }
}

/// Now, RFC 3339 with seconds (`2020-07-21T18:37:44Z`).
pub(crate) fn now_rfc3339() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A droplet.
#[derive(Debug)]
pub(crate) struct Droplet {
    pub(crate) id: u64,
    pub(crate) name: String,
    /// `new`, `active` or `off`.
    pub(crate) status: String,
    pub(crate) locked: bool,
    pub(crate) size_slug: String,
    pub(crate) region: String,
    /// The image object it was created from.
    pub(crate) image: Value,
    pub(crate) user_data: Option<String>,
    pub(crate) ssh_keys: Vec<u64>,
    pub(crate) tags: Vec<String>,
    pub(crate) created_at: String,
    /// Addresses are assigned once the droplet is `active`.
    pub(crate) networked: bool,
    pub(crate) public_ip: String,
    pub(crate) private_ip: String,
    pub(crate) snapshot_ids: Vec<u64>,
    /// Disk in **GB**: kept across a resize with `disk: false`.
    pub(crate) disk: u64,
}

impl Droplet {
    /// The droplet object.
    pub(crate) fn to_json(&self) -> Value {
        let s = size(&self.size_slug);
        let (memory, vcpus) = s.map_or((0, 0), |s| (s.memory, s.vcpus));
        let networks = if self.networked {
            json!({
                "v4": [
                    {"ip_address": self.private_ip, "netmask": "255.255.240.0", "gateway": "nil", "type": "private"},
                    {"ip_address": self.public_ip, "netmask": "255.255.255.0", "gateway": "203.0.113.1", "type": "public"}
                ],
                "v6": []
            })
        } else {
            json!({"v4": [], "v6": []})
        };
        let mut v = json!({
            "id": self.id, "name": self.name, "memory": memory, "vcpus": vcpus, "disk": self.disk,
            "disk_info": [{"type": "local", "size": {"amount": self.disk, "unit": "gib"}}],
            "locked": self.locked, "status": self.status, "kernel": null, "created_at": self.created_at,
            "features": ["droplet_agent", "private_networking"], "backup_ids": [], "next_backup_window": null,
            "snapshot_ids": self.snapshot_ids, "image": self.image, "volume_ids": [],
            "size": s.map_or(Value::Null, super::catalog::Size::to_json), "size_slug": self.size_slug,
            "networks": networks, "region": region_json(&self.region), "tags": self.tags,
            "vpc_uuid": format!("760e09ef-dc84-11e8-981e-{:012x}", self.id),
        });
        if let (Some(gpu), Some(o)) = (s.and_then(super::catalog::Size::droplet_gpu), v.as_object_mut()) {
            o.insert("gpu_info".into(), gpu);
        }
        v
    }
}

/// What an action does when it completes.
#[derive(Clone, Debug)]
pub(crate) enum Effect {
    /// `create`: the droplet becomes `active` and gets its addresses.
    Create,
    /// `power_on`, `reboot`, `power_cycle`: `active`.
    On,
    /// `power_off`, `shutdown`: `off`.
    Off,
    /// `resize` to a size slug.
    Resize(String),
    /// `snapshot` with a name.
    Snapshot(String),
}

/// An action.
#[derive(Debug)]
pub(crate) struct Action {
    pub(crate) id: u64,
    pub(crate) kind: String,
    /// `in-progress`, `completed` or `errored`.
    pub(crate) status: String,
    pub(crate) droplet_id: u64,
    pub(crate) region: String,
    pub(crate) started_at: String,
    pub(crate) completed_at: Option<String>,
    pub(crate) effect: Effect,
    /// Ends `errored` (an injected action fault).
    pub(crate) fails: bool,
}

impl Action {
    /// The action object.
    pub(crate) fn to_json(&self) -> Value {
        json!({
            "id": self.id, "status": self.status, "type": self.kind, "started_at": self.started_at,
            "completed_at": self.completed_at, "resource_id": self.droplet_id, "resource_type": "droplet",
            "region": region_json(&self.region), "region_slug": self.region,
        })
    }
}

/// A droplet snapshot.
#[derive(Debug)]
pub(crate) struct Snapshot {
    pub(crate) id: u64,
    pub(crate) name: String,
    pub(crate) droplet_id: u64,
    pub(crate) region: String,
    pub(crate) created_at: String,
    /// **GB**.
    pub(crate) min_disk_size: u64,
    pub(crate) distribution: String,
}

impl Snapshot {
    /// `/v2/snapshots` shape (`id` and `resource_id` as strings).
    pub(crate) fn to_json(&self) -> Value {
        json!({
            "id": self.id.to_string(), "name": self.name, "created_at": self.created_at, "regions": [self.region],
            "min_disk_size": self.min_disk_size, "size_gigabytes": number("2.34"),
            "resource_id": self.droplet_id.to_string(), "resource_type": "droplet", "tags": [],
        })
    }

    /// `/v2/droplets/{id}/snapshots` shape (`id` as an integer).
    pub(crate) fn to_droplet_json(&self) -> Value {
        json!({
            "id": self.id, "name": self.name, "created_at": self.created_at, "regions": [self.region],
            "min_disk_size": self.min_disk_size, "size_gigabytes": number("2.34"), "type": "snapshot",
        })
    }

    /// The snapshot as a private image (`/v2/images/{id}`).
    pub(crate) fn image_json(&self) -> Value {
        json!({
            "id": self.id, "name": self.name, "distribution": self.distribution, "slug": null, "public": false,
            "regions": [self.region], "created_at": self.created_at, "type": "snapshot",
            "min_disk_size": self.min_disk_size, "size_gigabytes": number("2.34"), "description": "",
            "tags": [], "status": "available", "error_message": "",
        })
    }
}

/// An account SSH key.
#[derive(Debug)]
pub(crate) struct Key {
    pub(crate) id: u64,
    pub(crate) name: String,
    pub(crate) public_key: String,
    pub(crate) fingerprint: String,
}

impl Key {
    /// The key object.
    pub(crate) fn to_json(&self) -> Value {
        json!({"id": self.id, "fingerprint": self.fingerprint, "public_key": self.public_key, "name": self.name})
    }
}

/// The tag object with its resource counts.
pub(crate) fn tag_json(w: &World, name: &str) -> Value {
    let droplets: Vec<&Droplet> = w.droplets.values().filter(|d| d.tags.iter().any(|t| t == name)).collect();
    let count = droplets.len();
    let mut droplet_stats = json!({"count": count});
    // The spec's schema names the image statistics `imgages` (a typo) while its example says
    // `images`: the fake sends neither, so it matches the schema and misleads no client.
    let mut stats = json!({"count": count, "droplets": droplet_stats.clone(),
                           "volumes": {"count": 0}, "volume_snapshots": {"count": 0}, "databases": {"count": 0}});
    if let Some(last) = droplets.last() {
        let uri = format!("https://api.digitalocean.com/v2/droplets/{}", last.id);
        droplet_stats["last_tagged_uri"] = json!(uri);
        stats["last_tagged_uri"] = json!(uri);
        stats["droplets"] = droplet_stats;
    }
    json!({"name": name, "resources": stats})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_deterministic() {
        let mut ids = Ids::default();
        assert_eq!((ids.droplet(), ids.droplet()), (400_000_001, 400_000_002));
        assert_eq!(ids.action(), 1_800_000_001);
        assert_eq!(ids.snapshot(), 160_000_001);
        assert_eq!(ids.key(), 41_000_001);
        assert_eq!(ids.request().len(), 36);
    }
}
