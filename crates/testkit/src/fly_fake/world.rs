//! The fake's in-memory world (apps, machines, volumes, IPs, events), deterministic id
//! generation, and the JSON shapes Fly answers with (see `fixtures/fly/`).

use std::collections::BTreeMap;

use chrono::{SecondsFormat, Utc};
use serde_json::{Value, json};

/// Everything the fake knows. Guarded by one mutex in [`super::FakeState`].
#[derive(Debug, Default)]
pub(crate) struct World {
    /// Apps by name.
    pub(crate) apps: BTreeMap<String, App>,
    /// Id and address generators.
    pub(crate) ids: Ids,
    /// Pending injected faults.
    pub(crate) faults: Vec<Fault>,
    /// `METHOD /path?query` of every request, oldest first (capped).
    pub(crate) requests: Vec<String>,
    /// How many provider API requests (not `/__fake/` hooks) arrived, never capped.
    pub(crate) provider_requests: u64,
    /// Every stop call that reached a live machine, oldest first (capped at
    /// [`MAX_RECORDED_STOPS`]).
    pub(crate) stops: Vec<StopCall>,
}

/// Most stop calls kept in [`World::stops`]; later ones are not recorded.
pub(crate) const MAX_RECORDED_STOPS: usize = 1_000_000;

/// A `POST …/machines/{id}/stop` that reached a live machine (`GET /__fake/stops`).
#[derive(Clone, Debug)]
pub(crate) struct StopCall {
    pub(crate) app: String,
    pub(crate) machine: String,
    /// When the call arrived, Unix milliseconds.
    pub(crate) at_ms: i64,
}

/// Most requests kept in [`World::requests`].
pub(crate) const MAX_LOGGED_REQUESTS: usize = 2000;

impl World {
    /// The whole world as JSON (`GET /__fake/state`).
    pub(crate) fn dump(&self) -> Value {
        let apps: Vec<Value> = self
            .apps
            .values()
            .map(|a| {
                json!({
                    "name": a.name,
                    "org_slug": a.org_slug,
                    "machines": a.machines.iter().map(Machine::to_json).collect::<Vec<_>>(),
                    "volumes": a.volumes.iter().map(Volume::to_json).collect::<Vec<_>>(),
                    "ips": a.ips.iter().map(Ip::to_json).collect::<Vec<_>>(),
                })
            })
            .collect();
        let faults: Vec<Value> = self.faults.iter().map(Fault::to_json).collect();
        json!({ "apps": apps, "faults": faults, "requests": self.requests, "provider_requests": self.provider_requests })
    }
}

/// An injected fault (`POST /__fake/fail-next`).
#[derive(Clone, Debug, serde::Deserialize)]
#[serde(default)]
pub(crate) struct Fault {
    /// Matches requests whose path (with query) contains this.
    pub(crate) path_contains: String,
    /// Matches only this method, when set.
    pub(crate) method: Option<String>,
    /// Status to answer with.
    pub(crate) status: u16,
    /// How many matching requests fail.
    pub(crate) count: u32,
    /// Body to answer with (default `{error:"injected fault", status:"unknown"}`).
    pub(crate) body: Option<Value>,
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
            status: 503,
            count: 1,
            body: None,
            apply: false,
            delay_ms: 0,
        }
    }
}

impl Fault {
    fn to_json(&self) -> Value {
        json!({"path_contains": self.path_contains, "method": self.method, "status": self.status,
               "count": self.count, "apply": self.apply, "delay_ms": self.delay_ms})
    }
}

/// Deterministic generators: the same sequence of calls gives the same ids.
#[derive(Debug, Default)]
pub(crate) struct Ids {
    seq: u64,
    v4: u32,
    v6: u32,
    apps: u64,
}

const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const BASE36: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn encode(mut n: u64, alphabet: &[u8], len: usize) -> String {
    let base = alphabet.len() as u64;
    let mut out = vec![b'0'; len];
    for slot in out.iter_mut().rev() {
        *slot = alphabet[usize::try_from(n % base).unwrap_or(0)];
        n /= base;
    }
    String::from_utf8(out).unwrap_or_default()
}

impl Ids {
    fn next(&mut self) -> u64 {
        self.seq += 1;
        splitmix(self.seq)
    }

    /// A machine id: 14 hex characters.
    pub(crate) fn machine(&mut self) -> String {
        format!("{:014x}", self.next() & 0x00FF_FFFF_FFFF_FFFF)
    }

    /// A 26-character ULID-like id (instance ids, event ids, request ids).
    pub(crate) fn ulid(&mut self) -> String {
        let time = u64::try_from(now_ms()).unwrap_or(0) & 0xFFFF_FFFF_FFFF;
        let (a, b) = (self.next(), self.next());
        format!("{}{}{}", encode(time, CROCKFORD, 10), encode(a >> 24, CROCKFORD, 8), encode(b >> 24, CROCKFORD, 8))
    }

    /// A volume id: `vol_` and 16 base-36 characters.
    pub(crate) fn volume(&mut self) -> String {
        let (a, b) = (self.next(), self.next());
        format!("vol_{}{}", encode(a, BASE36, 8), encode(b, BASE36, 8))
    }

    /// A 4-hex-digit zone.
    pub(crate) fn zone(&mut self) -> String {
        format!("{:04x}", self.next() & 0xFFFF)
    }

    /// The next app number (for `internal_numeric_id` and private addresses).
    pub(crate) fn app_number(&mut self) -> u64 {
        self.apps += 1;
        self.apps
    }

    /// The next dedicated IPv4: `137.66.0.1`, `137.66.0.2`, …
    pub(crate) fn v4(&mut self) -> String {
        self.v4 += 1;
        let n = self.v4 - 1;
        format!("137.66.{}.{}", n / 254, n % 254 + 1)
    }

    /// The next dedicated IPv6: `2a09:8280:1::1`, `2a09:8280:1::2`, …
    pub(crate) fn v6(&mut self) -> String {
        self.v6 += 1;
        format!("2a09:8280:1::{:x}", self.v6)
    }
}

/// Now, in Unix milliseconds.
pub(crate) fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

/// Now, RFC 3339 with seconds (`2024-06-20T11:21:04Z`).
pub(crate) fn now_rfc3339() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A Fly app and everything in it.
#[derive(Debug)]
pub(crate) struct App {
    pub(crate) name: String,
    pub(crate) org_slug: String,
    /// The app's private network (`default`: the organisation's shared one).
    pub(crate) network: String,
    pub(crate) idempotency_key: Option<String>,
    pub(crate) created_at_ms: i64,
    pub(crate) number: u64,
    pub(crate) machines: Vec<Machine>,
    pub(crate) volumes: Vec<Volume>,
    pub(crate) ips: Vec<Ip>,
}

impl App {
    /// An empty app on the organisation's shared network.
    pub(crate) fn new(name: String, org_slug: String, number: u64) -> App {
        App {
            name,
            org_slug,
            network: "default".to_owned(),
            idempotency_key: None,
            created_at_ms: now_ms(),
            number,
            machines: Vec::new(),
            volumes: Vec::new(),
            ips: Vec::new(),
        }
    }

    /// `GET /v1/apps/{app}` shape.
    pub(crate) fn to_json(&self) -> Value {
        let machines = self.machines.iter().filter(|m| m.state != "destroyed").count();
        let volumes = self.volumes.iter().filter(|v| v.state != "destroyed").count();
        json!({
            "id": self.name, "name": self.name,
            "machine_count": machines, "volume_count": volumes,
            "network": self.network,
            "status": if machines == 0 { "pending" } else { "deployed" },
            "internal_numeric_id": 481_500 + self.number,
            "organization": {"name": self.org_slug, "slug": self.org_slug},
        })
    }

    /// A live (not destroyed) machine.
    pub(crate) fn live_machine(&mut self, id: &str) -> Option<&mut Machine> {
        self.machines.iter_mut().find(|m| m.id == id && m.state != "destroyed")
    }
}

/// A lifecycle event.
#[derive(Clone, Debug)]
pub(crate) struct Event {
    pub(crate) id: String,
    pub(crate) kind: String,
    pub(crate) status: String,
    pub(crate) source: String,
    pub(crate) timestamp: i64,
    pub(crate) request: Value,
}

impl Event {
    /// `GET …/events` item shape.
    pub(crate) fn to_json(&self) -> Value {
        json!({"id": self.id, "type": self.kind, "status": self.status, "source": self.source,
               "timestamp": self.timestamp, "request": self.request})
    }
}

/// The second half of a transition, run at once or after the configured delay.
#[derive(Clone, Debug)]
pub(crate) struct Pending {
    /// Matches [`Machine::generation`] when it was scheduled.
    pub(crate) generation: u64,
    /// The persistent state reached.
    pub(crate) state: String,
    /// Event type recorded by `flyd`.
    pub(crate) kind: String,
    /// The event's `request`.
    pub(crate) request: Value,
}

/// A machine.
#[derive(Debug)]
pub(crate) struct Machine {
    pub(crate) id: String,
    pub(crate) app: String,
    pub(crate) name: String,
    pub(crate) state: String,
    pub(crate) region: String,
    pub(crate) instance_id: String,
    pub(crate) private_ip: String,
    pub(crate) config: Value,
    pub(crate) created_at: String,
    pub(crate) created_ms: i64,
    pub(crate) updated_at: String,
    /// Oldest first.
    pub(crate) events: Vec<Event>,
    pub(crate) generation: u64,
    pub(crate) pending: Option<Pending>,
}

/// States a machine only passes through.
pub(crate) const TRANSIENT: &[&str] =
    &["creating", "starting", "stopping", "restarting", "suspending", "destroying", "updating", "replacing"];

impl Machine {
    /// A new machine `id` of `app` in state `created`, with no events yet.
    pub(crate) fn new(app: &App, ids: &mut Ids, id: String, name: String, region: String, config: Value) -> Machine {
        let now = now_rfc3339();
        Machine {
            id,
            app: app.name.clone(),
            name,
            state: "created".into(),
            region,
            instance_id: ids.ulid(),
            private_ip: format!("fdaa:0:{:x}:a7b:7d:f066:b83b:{:x}", app.number, app.machines.len() + 2),
            config,
            created_at: now.clone(),
            created_ms: now_ms(),
            updated_at: now,
            events: Vec::new(),
            generation: 0,
            pending: None,
        }
    }

    /// Appends an event, timestamps strictly increasing.
    pub(crate) fn push_event(&mut self, ids: &mut Ids, kind: &str, status: &str, source: &str, request: Value) {
        let last = self.events.last().map_or(0, |e| e.timestamp);
        let timestamp = now_ms().max(last + 1);
        let id = ids.ulid();
        self.events.push(Event {
            id,
            kind: kind.into(),
            status: status.into(),
            source: source.into(),
            timestamp,
            request,
        });
        self.updated_at = now_rfc3339();
    }

    /// A user action: records `kind`/`transient` from `user`, enters `transient`, and schedules
    /// the `flyd` half reaching `target`. Returns the pending generation.
    pub(crate) fn begin(&mut self, ids: &mut Ids, kind: &str, transient: &str, target: &str, flyd_kind: &str) -> u64 {
        self.push_event(ids, kind, transient, "user", json!({}));
        self.state = transient.into();
        self.generation += 1;
        let request = if flyd_kind == "exit" {
            json!({"exit_event": {"exit_code": 0, "guest_exit_code": 0, "guest_signal": -1, "oom_killed": false,
                   "requested_stop": true, "restarting": false, "signal": -1, "exited_at": now_rfc3339()}})
        } else {
            json!({})
        };
        self.pending =
            Some(Pending { generation: self.generation, state: target.into(), kind: flyd_kind.into(), request });
        self.generation
    }

    /// Completes the pending transition if it is still `generation`'s. Returns whether it did.
    pub(crate) fn finish(&mut self, ids: &mut Ids, generation: u64) -> bool {
        let Some(p) = self.pending.take_if(|p| p.generation == generation) else { return false };
        self.state.clone_from(&p.state);
        self.push_event(ids, &p.kind, &p.state, "flyd", p.request);
        if p.kind == "exit" && self.config.get("auto_destroy").and_then(Value::as_bool) == Some(true) {
            self.state = "destroyed".into();
            self.push_event(ids, "destroy", "destroyed", "flyd", json!({}));
        }
        true
    }

    /// Whether the machine rests in a persistent state (`settled` in `wait`).
    pub(crate) fn settled(&self) -> bool {
        self.pending.is_none() && !TRANSIENT.contains(&self.state.as_str())
    }

    /// The `image_ref` Fly derives from `config.image`.
    fn image_ref(&self) -> Value {
        let image = self.config.get("image").and_then(Value::as_str).unwrap_or_default();
        let (name, digest) = image.split_once('@').unwrap_or((image, ""));
        let (path, tag) = match name.rsplit_once(':') {
            Some((p, t)) if !t.contains('/') => (p, t),
            _ => (name, "latest"),
        };
        let (registry, repo) = match path.split_once('/') {
            Some((r, rest)) if r.contains('.') || r.contains(':') || r == "localhost" => (r, rest.to_owned()),
            Some(_) => ("registry-1.docker.io", path.to_owned()),
            None => ("registry-1.docker.io", format!("library/{path}")),
        };
        let digest = if digest.is_empty() {
            let h =
                image.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
            format!("sha256:{:016x}{:016x}{:016x}{:016x}", h, splitmix(h), splitmix(h ^ 1), splitmix(h ^ 2))
        } else {
            digest.to_owned()
        };
        json!({"registry": registry, "repository": repo, "tag": tag, "digest": digest, "labels": {}})
    }

    /// The machine object (`GET …/machines/{id}`), events newest first.
    pub(crate) fn to_json(&self) -> Value {
        let events: Vec<Value> = self.events.iter().rev().take(10).map(Event::to_json).collect();
        json!({
            "id": self.id, "name": self.name, "state": self.state, "region": self.region,
            "instance_id": self.instance_id, "version": self.instance_id,
            "private_ip": self.private_ip, "config": self.config, "image_ref": self.image_ref(),
            "created_at": self.created_at, "updated_at": self.updated_at,
            "events": events, "checks": [], "host_status": "ok", "cordoned": false,
        })
    }
}

/// A volume.
#[derive(Debug)]
pub(crate) struct Volume {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) state: String,
    pub(crate) size_gb: u64,
    pub(crate) region: String,
    pub(crate) zone: String,
    pub(crate) encrypted: bool,
    pub(crate) attached_machine_id: Option<String>,
    pub(crate) created_at: String,
    pub(crate) snapshot_retention: u64,
    pub(crate) auto_backup_enabled: bool,
}

impl Volume {
    /// The volume object (`fixtures/fly/volume.json`).
    pub(crate) fn to_json(&self) -> Value {
        let blocks = self.size_gb * 1024 * 1024 / 4;
        json!({
            "id": self.id, "name": self.name, "state": self.state, "size_gb": self.size_gb,
            "region": self.region, "zone": self.zone, "encrypted": self.encrypted,
            "attached_machine_id": self.attached_machine_id, "attached_alloc_id": null,
            "created_at": self.created_at,
            "blocks": blocks, "block_size": 4096, "blocks_free": blocks, "blocks_avail": blocks * 95 / 100,
            "fstype": "ext4", "snapshot_retention": self.snapshot_retention,
            "auto_backup_enabled": self.auto_backup_enabled, "host_dedication_key": "",
        })
    }
}

/// An IP assignment.
#[derive(Debug)]
pub(crate) struct Ip {
    pub(crate) ip: String,
    pub(crate) region: String,
    pub(crate) shared: bool,
    pub(crate) service_name: String,
    pub(crate) created_at: String,
}

impl Ip {
    /// The assignment object (`fixtures/fly/ip_assignments.json`).
    pub(crate) fn to_json(&self) -> Value {
        json!({"ip": self.ip, "region": self.region, "service_name": self.service_name,
               "shared": self.shared, "egress": false, "created_at": self.created_at})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_fly_shapes() {
        let mut ids = Ids::default();
        let m = ids.machine();
        assert_eq!(m.len(), 14);
        assert!(m.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(ids.ulid().len(), 26);
        let v = ids.volume();
        assert!(v.starts_with("vol_") && v.len() == 20, "{v}");
        assert_eq!(ids.v4(), "137.66.0.1");
        assert_eq!(ids.v6(), "2a09:8280:1::1");
        assert_ne!(ids.machine(), m);
    }
}
