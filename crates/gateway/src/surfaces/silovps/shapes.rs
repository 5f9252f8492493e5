//! SiloVPS request and response shapes (`silovps-llms.txt` § Endpoints) and its public ids:
//! `srv_<droplet id>`, `snap_<snapshot id>`, `key_<key id>`.

use chrono::{DateTime, Utc};
use compute_core::provider::{Machine, MachineState};
use compute_store::ResourceRecord;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::problem::Problem;
use crate::services::resources::not_found;

/// Regions SiloVPS publishes (`GET /v1/catalog/regions`), id and name.
pub(super) const REGIONS: [(&str, &str); 3] = [("nyc1", "New York"), ("sfo3", "San Francisco"), ("ams3", "Amsterdam")];

/// Images SiloVPS publishes (`GET /v1/catalog/images`), id and name.
pub(super) const IMAGES: [(&str, &str); 2] = [("ubuntu-24-04-x64", "Ubuntu 24.04 LTS"), ("debian-12-x64", "Debian 12")];

/// Prefix of server ids.
pub(super) const SERVER: &str = "srv_";
/// Prefix of snapshot ids.
pub(super) const SNAPSHOT: &str = "snap_";
/// Prefix of SSH key ids.
pub(super) const KEY: &str = "key_";

/// The provider id behind public id `id` with `prefix`; anything else is the 404 of an
/// unknown id.
pub(super) fn provider_id<'a>(id: &'a str, prefix: &str) -> Result<&'a str, Problem> {
    id.strip_prefix(prefix).filter(|rest| !rest.is_empty()).ok_or_else(|| not_found(id))
}

/// A server's public id: `srv_<size>-<provider id>` (`srv_small-1800000005`), or
/// `srv_<provider id>` for a size without a SiloVPS name (a TinyCompute `/api/do` droplet). The
/// size is part of the id so that extend, priced by the size, is priced from the request alone:
/// its 402 shows nothing of whether the server exists or whose it is.
pub(super) fn server_id(pid: &str, size: Option<&str>) -> String {
    match size {
        Some(size) => format!("{SERVER}{size}-{pid}"),
        None => format!("{SERVER}{pid}"),
    }
}

/// A server id taken apart: the provider id and, when the id names one of `sizes`, the size.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct ServerRef {
    pub(super) pid: String,
    pub(super) size: Option<String>,
}

/// Parses a public server id (see [`server_id`]); anything else is the 404 of an unknown id.
pub(super) fn server_ref(id: &str, sizes: &[&str]) -> Result<ServerRef, Problem> {
    let rest = provider_id(id, SERVER)?;
    Ok(match rest.split_once('-') {
        Some((size, pid)) if sizes.contains(&size) && !pid.is_empty() => {
            ServerRef { pid: pid.to_owned(), size: Some(size.to_owned()) }
        }
        _ => ServerRef { pid: rest.to_owned(), size: None },
    })
}

/// `POST /v1/servers`: `minutes` of prepaid time (default 1); `ssh_key_ids` as `key_…`;
/// `snapshot_id` (`snap_…`) restores one of the wallet's snapshots.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CreateServer {
    pub(super) size: String,
    pub(super) region: Option<String>,
    pub(super) image: Option<String>,
    pub(super) minutes: Option<u64>,
    #[serde(default)]
    pub(super) ssh_key_ids: Vec<String>,
    pub(super) snapshot_id: Option<String>,
}

/// `POST /v1/servers/{id}/extend`: minutes to add.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Extend {
    pub(super) minutes: Option<u64>,
}

/// `POST /v1/servers/{id}/power`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Power {
    pub(super) action: PowerAction,
}

/// `on` or `off`.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub(super) enum PowerAction {
    /// Power on.
    On,
    /// Power off.
    Off,
}

/// `POST /v1/keys`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NewKey {
    pub(super) name: String,
    pub(super) public_key: String,
}

/// A server's SiloVPS status: `provisioning` until it runs, then `active`, `off`, ….
pub(super) fn status(state: &MachineState) -> String {
    match state {
        MachineState::Creating | MachineState::Starting => "provisioning".into(),
        MachineState::Started => "active".into(),
        MachineState::Stopped | MachineState::Stopping => "off".into(),
        MachineState::Restarting => "rebooting".into(),
        MachineState::Other(s) => s.clone(),
        other => serde_json::to_value(other).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default(),
    }
}

/// Whole minutes left until `paid_until` (0 once it passed).
pub(super) fn remaining_minutes(paid_until: Option<DateTime<Utc>>) -> i64 {
    paid_until.map_or(0, |t| (t - Utc::now()).num_minutes().max(0))
}

/// A server as `GET /v1/servers` shows it; `size` is its SiloVPS size name.
pub(super) fn server(machine: &Machine, record: &ResourceRecord, size: Option<&str>) -> Value {
    let spec = &record.spec;
    json!({
        "id": server_id(&machine.id, size),
        "name": machine.name,
        "size": size,
        "region": machine.region,
        "image": spec.get("image").cloned().unwrap_or(Value::Null),
        "status": status(&machine.state),
        "ip": machine.public_ips.first(),
        "paid_until": record.paid_until.map(|t| t.to_rfc3339()),
        "remaining_minutes": remaining_minutes(record.paid_until),
        "created_at": machine.created_at.map(|t| t.to_rfc3339()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_ids_carry_the_size_and_parse_back() {
        let sizes = ["small", "medium", "large"];
        assert_eq!(server_id("180", Some("small")), "srv_small-180");
        let parsed = server_ref("srv_small-180", &sizes).unwrap();
        assert_eq!(parsed, ServerRef { pid: "180".into(), size: Some("small".into()) });
        assert_eq!(server_ref("srv_180", &sizes).unwrap(), ServerRef { pid: "180".into(), size: None });
        assert_eq!(server_ref("srv_huge-180", &sizes).unwrap().size, None, "an unknown size is no size");
        assert!(server_ref("snap_180", &sizes).is_err());
        assert!(server_ref("srv_", &sizes).is_err());
    }
}
