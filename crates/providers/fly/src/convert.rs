//! Conversions between compute-core's types and Fly's wire types.

use chrono::{DateTime, Utc};
use compute_core::provider::{
    CpuKind, Machine, MachineEvent, MachineSize, MachineSpec, MachineState, RestartPolicy, TransportProtocol, Volume,
};
use compute_core::{Error, ErrorKind, Result};
use serde::Deserialize;

use crate::COMPONENT;
use crate::catalog::{cpu_kind_name, preset, validate_guest};
use crate::types::{
    CreateMachineRequest, FlyEvent, FlyMachine, FlyVolume, Guest, Init, MachineConfig, Mount, Port, Restart, Service,
};

fn invalid(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidInput, msg).with_component(COMPONENT)
}

fn decode_error(what: &str, e: &serde_json::Error) -> Error {
    Error::new(ErrorKind::Provider, format!("cannot decode Fly {what}: {e}")).with_component(COMPONENT)
}

/// Normalises a Fly machine state (see [`MachineState`]).
pub(crate) fn state_from_fly(state: &str) -> MachineState {
    match state {
        "created" | "creating" => MachineState::Creating,
        "starting" => MachineState::Starting,
        "started" => MachineState::Started,
        "stopping" => MachineState::Stopping,
        "stopped" => MachineState::Stopped,
        "suspending" => MachineState::Suspending,
        "suspended" => MachineState::Suspended,
        "restarting" => MachineState::Restarting,
        "updating" | "replacing" => MachineState::Updating,
        "destroying" => MachineState::Destroying,
        "destroyed" => MachineState::Destroyed,
        "failed" | "launch_failed" => MachineState::Failed,
        other => MachineState::Other(other.to_owned()),
    }
}

/// The `state` query value of `GET …/wait` for `state`.
///
/// # Errors
/// [`ErrorKind::InvalidInput`] for a state Fly cannot wait for.
pub(crate) fn wait_state(state: &MachineState) -> Result<&'static str> {
    Ok(match state {
        MachineState::Started => "started",
        MachineState::Stopped => "stopped",
        MachineState::Suspended => "suspended",
        MachineState::Destroyed => "destroyed",
        MachineState::Failed => "failed",
        MachineState::Other(s) if s == "settled" => "settled",
        other => return Err(invalid(format!("Fly cannot wait for state {other:?}"))),
    })
}

/// The Fly guest for a size: an explicit guest, or a preset name, validated.
///
/// # Errors
/// [`ErrorKind::InvalidInput`] for an unknown preset or a guest outside Fly's rules.
pub(crate) fn guest_for_size(size: &MachineSize) -> Result<Guest> {
    let (kind, cpus, memory_mb) = match size {
        MachineSize::Guest { cpu_kind, cpus, memory_mb } => (*cpu_kind, *cpus, *memory_mb),
        MachineSize::Plan(name) => {
            let p = preset(name).ok_or_else(|| invalid(format!("unknown Fly size {name:?}")))?;
            (p.cpu_kind, p.cpus, p.memory_mb)
        }
    };
    validate_guest(kind, cpus, memory_mb)?;
    Ok(Guest { cpu_kind: cpu_kind_name(kind).to_owned(), cpus, memory_mb })
}

/// Maps a validated [`MachineSpec`] onto Fly's create body, adding nothing the spec lacks.
///
/// # Errors
/// [`ErrorKind::InvalidInput`] when the size is invalid or the spec uses fields Fly machines
/// do not have (`ssh_keys`, `user_data`).
pub(crate) fn create_request(spec: &MachineSpec) -> Result<CreateMachineRequest> {
    if !spec.ssh_keys.is_empty() {
        return Err(invalid("Fly machines take no ssh_keys"));
    }
    if spec.user_data.is_some() {
        return Err(invalid("Fly machines take no user_data"));
    }
    if spec.name.is_empty() || spec.image.is_empty() {
        return Err(invalid("a Fly machine needs a name and an image"));
    }
    let services = spec
        .services
        .iter()
        .map(|s| Service {
            protocol: match s.protocol {
                TransportProtocol::Tcp => "tcp",
                TransportProtocol::Udp => "udp",
            }
            .to_owned(),
            internal_port: s.internal_port,
            ports: s.ports.iter().map(|p| Port { port: p.port, handlers: p.handlers.clone() }).collect(),
        })
        .collect();
    let config = MachineConfig {
        image: spec.image.clone(),
        env: spec.env.clone(),
        guest: Some(guest_for_size(&spec.size)?),
        init: spec.command.as_ref().map(|cmd| Init { cmd: Some(cmd.clone()) }),
        services,
        mounts: spec.mounts.iter().map(|m| Mount { volume: m.volume_id.clone(), path: m.path.clone() }).collect(),
        restart: spec.restart.map(|r| Restart {
            policy: match r {
                RestartPolicy::No => "no",
                RestartPolicy::Always => "always",
                RestartPolicy::OnFailure => "on-failure",
            }
            .to_owned(),
        }),
        auto_destroy: spec.auto_destroy,
        metadata: spec.labels.clone(),
    };
    Ok(CreateMachineRequest {
        name: spec.name.clone(),
        region: (!spec.region.is_empty()).then(|| spec.region.clone()),
        config,
    })
}

/// RFC 3339 to UTC, `None` when absent or malformed.
pub(crate) fn parse_time(s: Option<&str>) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s?).ok().map(|t| t.with_timezone(&Utc))
}

fn size_from_guest(g: &Guest) -> Option<MachineSize> {
    let cpu_kind = match g.cpu_kind.as_str() {
        "shared" => CpuKind::Shared,
        "performance" => CpuKind::Performance,
        _ => return None,
    };
    Some(MachineSize::Guest { cpu_kind, cpus: g.cpus, memory_mb: g.memory_mb })
}

/// Decodes a Fly machine object into the typed view and the core [`Machine`]. `raw` is Fly's
/// object without the lease `nonce`.
pub(crate) fn machine_from_value(mut value: serde_json::Value) -> Result<(FlyMachine, Machine)> {
    let fly = FlyMachine::deserialize(&value).map_err(|e| decode_error("machine", &e))?;
    if let Some(obj) = value.as_object_mut() {
        obj.remove("nonce");
    }
    let machine = Machine {
        id: fly.id.clone(),
        name: fly.name.clone(),
        state: state_from_fly(&fly.state),
        region: fly.region.clone(),
        size: fly.guest().as_ref().and_then(size_from_guest),
        public_ips: Vec::new(),
        private_ip: fly.private_ip.clone().filter(|ip| !ip.is_empty()),
        created_at: parse_time(fly.created_at.as_deref()),
        raw: value,
    };
    Ok((fly, machine))
}

/// Decodes a Fly event into a [`MachineEvent`]; events without an id get `"{timestamp}-{type}"`.
pub(crate) fn event_from_value(value: serde_json::Value) -> Result<MachineEvent> {
    let e = FlyEvent::deserialize(&value).map_err(|e| decode_error("event", &e))?;
    let timestamp = DateTime::from_timestamp_millis(e.timestamp).ok_or_else(|| {
        Error::new(ErrorKind::Provider, format!("Fly event timestamp {} is out of range", e.timestamp))
            .with_component(COMPONENT)
    })?;
    Ok(MachineEvent {
        id: e.id.filter(|id| !id.is_empty()).unwrap_or_else(|| format!("{}-{}", e.timestamp, e.kind)),
        kind: e.kind,
        status: e.status,
        source: e.source,
        timestamp,
        raw: value,
    })
}

/// Decodes a Fly volume into a core [`Volume`].
pub(crate) fn volume_from_value(value: serde_json::Value) -> Result<Volume> {
    let v = FlyVolume::deserialize(&value).map_err(|e| decode_error("volume", &e))?;
    Ok(Volume {
        id: v.id,
        name: v.name,
        region: v.region,
        size_gb: v.size_gb,
        state: v.state,
        attached_machine_id: v.attached_machine_id.filter(|m| !m.is_empty()),
        created_at: parse_time(v.created_at.as_deref()),
        raw: value,
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use compute_core::provider::{MountSpec, PortSpec, ServiceSpec};

    use super::*;

    fn spec() -> MachineSpec {
        MachineSpec {
            name: "web-1".into(),
            region: "ams".into(),
            image: "nginx:1.27".into(),
            size: MachineSize::Plan("shared-cpu-1x".into()),
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

    #[test]
    fn a_minimal_spec_sends_only_image_and_guest() {
        let body = serde_json::to_value(create_request(&spec()).unwrap()).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"name":"web-1","region":"ams","config":{"image":"nginx:1.27","guest":{"cpu_kind":"shared","cpus":1,"memory_mb":256}}})
        );
    }

    #[test]
    fn every_spec_field_is_mapped() {
        let mut s = spec();
        s.env.insert("A".into(), "1".into());
        s.command = Some(vec!["sleep".into(), "inf".into()]);
        s.services = vec![ServiceSpec {
            protocol: TransportProtocol::Udp,
            internal_port: 53,
            ports: vec![PortSpec { port: 53, handlers: vec![] }],
        }];
        s.mounts = vec![MountSpec { volume_id: "vol_1".into(), path: "/data".into() }];
        s.restart = Some(RestartPolicy::OnFailure);
        s.auto_destroy = true;
        s.labels.insert("cg_owner".into(), "x".into());
        let c = serde_json::to_value(create_request(&s).unwrap()).unwrap()["config"].clone();
        assert_eq!(c["init"]["cmd"], serde_json::json!(["sleep", "inf"]));
        assert_eq!(c["services"][0], serde_json::json!({"protocol":"udp","internal_port":53,"ports":[{"port":53}]}));
        assert_eq!(c["mounts"][0], serde_json::json!({"volume":"vol_1","path":"/data"}));
        assert_eq!(c["restart"], serde_json::json!({"policy":"on-failure"}));
        assert_eq!(c["auto_destroy"], true);
        assert_eq!(c["metadata"]["cg_owner"], "x");
        assert_eq!(c["env"]["A"], "1");
    }

    #[test]
    fn vm_only_fields_and_bad_sizes_are_refused() {
        let mut s = spec();
        s.ssh_keys = vec!["ssh-ed25519 AAAA".into()];
        assert_eq!(create_request(&s).unwrap_err().kind(), ErrorKind::InvalidInput);
        let mut s = spec();
        s.size = MachineSize::Plan("s-1vcpu-1gb".into());
        assert!(create_request(&s).unwrap_err().message().contains("unknown Fly size"));
        let mut s = spec();
        s.size = MachineSize::Guest { cpu_kind: CpuKind::Shared, cpus: 1, memory_mb: 100 };
        assert_eq!(create_request(&s).unwrap_err().kind(), ErrorKind::InvalidInput);
    }

    #[test]
    fn states_are_normalised() {
        for (fly, core) in [
            ("created", MachineState::Creating),
            ("started", MachineState::Started),
            ("replacing", MachineState::Updating),
            ("launch_failed", MachineState::Failed),
            ("suspended", MachineState::Suspended),
            ("destroyed", MachineState::Destroyed),
        ] {
            assert_eq!(state_from_fly(fly), core);
        }
        assert_eq!(state_from_fly("migrated"), MachineState::Other("migrated".into()));
        assert_eq!(wait_state(&MachineState::Stopped).unwrap(), "stopped");
        assert!(wait_state(&MachineState::Starting).is_err());
    }
}
