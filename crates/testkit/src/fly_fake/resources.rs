//! Apps (`/v1/apps[/{app}]`), volumes (`…/volumes[/{id}[/extend]]`) and IP assignments
//! (`…/ip_assignments[/{ip}]`).

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::{Value, json};

use super::world::{App, Ip, Volume, World, now_rfc3339};
use super::{ApiError, ApiResult, FakeState, empty, ok_json, parse_body, query};

fn no_app() -> ApiError {
    ApiError::not_found("app")
}

fn no_volume() -> ApiError {
    ApiError::not_found("volume")
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct CreateApp {
    name: Option<String>,
    app_name: Option<String>,
    org_slug: String,
    network: Option<String>,
    idempotency_key: Option<String>,
}

/// `POST /v1/apps`: 201 `{id, created_at}`; 422 `name_taken` when the name exists (unless the
/// same `idempotency_key` created it).
pub(crate) async fn create_app(State(s): State<FakeState>, body: Bytes) -> ApiResult {
    let req: CreateApp = parse_body(&body)?;
    let name = req.name.or(req.app_name).unwrap_or_default();
    let valid = (2..=63).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-');
    if !valid {
        return Err(ApiError::bad_request(format!("invalid app name {name:?}")).with_code("unknown"));
    }
    if req.org_slug.is_empty() {
        return Err(ApiError::bad_request("org_slug is required").with_code("unknown"));
    }
    let created = s.write(|w| {
        if let Some(a) = w.apps.get(&name) {
            return match (&a.idempotency_key, &req.idempotency_key) {
                (Some(have), Some(given)) if have == given => Ok(a.created_at_ms),
                _ => Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "Name has already been taken")
                    .with_code("name_taken")),
            };
        }
        let mut app = App::new(name.clone(), req.org_slug.clone(), w.ids.app_number());
        app.network = req.network.clone().unwrap_or_else(|| "default".to_owned());
        app.idempotency_key.clone_from(&req.idempotency_key);
        let at = app.created_at_ms;
        w.apps.insert(name.clone(), app);
        Ok(at)
    })?;
    Ok((StatusCode::CREATED, axum::Json(json!({"id": name, "created_at": created}))).into_response())
}

/// `GET /v1/apps[?org_slug=]`: `{total_apps, apps}`.
pub(crate) async fn list_apps(State(s): State<FakeState>, Query(q): Query<Vec<(String, String)>>) -> ApiResult {
    let org = query(&q, "org_slug").filter(|o| !o.is_empty());
    s.read(|w| {
        let apps: Vec<Value> =
            w.apps.values().filter(|a| org.is_none_or(|o| a.org_slug == o)).map(App::to_json).collect();
        ok_json(json!({"total_apps": apps.len(), "apps": apps}))
    })
}

/// `GET /v1/apps/{app}`.
pub(crate) async fn get_app(State(s): State<FakeState>, Path(app): Path<String>) -> ApiResult {
    s.read(|w| ok_json(w.apps.get(&app).ok_or_else(no_app)?.to_json()))
}

/// `DELETE /v1/apps/{app}[?force=true]`: 202, with its machines, volumes and IPs.
pub(crate) async fn delete_app(State(s): State<FakeState>, Path(app): Path<String>) -> ApiResult {
    s.write(|w| w.apps.remove(&app)).ok_or_else(no_app)?;
    empty(StatusCode::ACCEPTED)
}

fn with_app<R>(
    s: &FakeState,
    app: &str,
    f: impl FnOnce(&mut App, &mut World) -> Result<R, ApiError>,
) -> Result<R, ApiError> {
    s.write(|w| {
        let mut a = w.apps.remove(app).ok_or_else(no_app)?;
        let r = f(&mut a, w);
        w.apps.insert(app.to_owned(), a);
        r
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct CreateVolume {
    name: String,
    region: String,
    size_gb: u64,
    encrypted: Option<bool>,
    snapshot_id: Option<String>,
    snapshot_retention: Option<u64>,
    auto_backup_enabled: Option<bool>,
}

/// `POST …/volumes`: 200 and the volume (`created`); size defaults to 3 GB.
pub(crate) async fn create_volume(State(s): State<FakeState>, Path(app): Path<String>, body: Bytes) -> ApiResult {
    let req: CreateVolume = parse_body(&body)?;
    let valid = (1..=30).contains(&req.name.len())
        && req.name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if !valid {
        return Err(ApiError::bad_request(format!("invalid volume name {:?}: use a-z, 0-9 and _", req.name)));
    }
    let size = if req.size_gb == 0 { 3 } else { req.size_gb };
    if size > 500 {
        return Err(ApiError::bad_request("size_gb must be between 1 and 500"));
    }
    if req.snapshot_id.is_some() {
        return Err(ApiError::not_found("snapshot"));
    }
    let region = if req.region.is_empty() { s.config().default_region.clone() } else { req.region };
    with_app(&s, &app, |a, w| {
        let v = Volume {
            id: w.ids.volume(),
            name: req.name,
            state: "created".into(),
            size_gb: size,
            region,
            zone: w.ids.zone(),
            encrypted: req.encrypted.unwrap_or(true),
            attached_machine_id: None,
            created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            snapshot_retention: req.snapshot_retention.unwrap_or(5),
            auto_backup_enabled: req.auto_backup_enabled.unwrap_or(true),
        };
        let body = v.to_json();
        a.volumes.push(v);
        ok_json(body)
    })
}

/// `GET …/volumes`: a bare array of the volumes not destroyed.
pub(crate) async fn list_volumes(State(s): State<FakeState>, Path(app): Path<String>) -> ApiResult {
    s.read(|w| {
        let a = w.apps.get(&app).ok_or_else(no_app)?;
        ok_json(Value::Array(a.volumes.iter().filter(|v| v.state != "destroyed").map(Volume::to_json).collect()))
    })
}

/// `GET …/volumes/{id}` (also once destroyed).
pub(crate) async fn get_volume(State(s): State<FakeState>, Path((app, id)): Path<(String, String)>) -> ApiResult {
    s.read(|w| {
        let a = w.apps.get(&app).ok_or_else(no_app)?;
        ok_json(a.volumes.iter().find(|v| v.id == id).ok_or_else(no_volume)?.to_json())
    })
}

fn live_volume<'a>(a: &'a mut App, id: &str) -> Result<&'a mut Volume, ApiError> {
    a.volumes.iter_mut().find(|v| v.id == id && v.state != "destroyed").ok_or_else(no_volume)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct UpdateVolume {
    snapshot_retention: Option<u64>,
    auto_backup_enabled: Option<bool>,
}

/// `PUT …/volumes/{id}` `{snapshot_retention?, auto_backup_enabled?}`.
pub(crate) async fn update_volume(
    State(s): State<FakeState>,
    Path((app, id)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult {
    let req: UpdateVolume = parse_body(&body)?;
    with_app(&s, &app, |a, _| {
        let v = live_volume(a, &id)?;
        if let Some(r) = req.snapshot_retention {
            v.snapshot_retention = r;
        }
        if let Some(b) = req.auto_backup_enabled {
            v.auto_backup_enabled = b;
        }
        ok_json(v.to_json())
    })
}

/// `DELETE …/volumes/{id}`: the volume in state `destroyed`; refused while attached to a live
/// machine.
pub(crate) async fn delete_volume(State(s): State<FakeState>, Path((app, id)): Path<(String, String)>) -> ApiResult {
    with_app(&s, &app, |a, _| {
        let attached = live_volume(a, &id)?.attached_machine_id.clone();
        if let Some(m) = attached.filter(|m| a.machines.iter().any(|x| x.id == *m && x.state != "destroyed")) {
            return Err(ApiError::new(
                StatusCode::PRECONDITION_FAILED,
                format!("failed_precondition: volume {id} is attached to machine {m}; destroy the machine first"),
            ));
        }
        let v = live_volume(a, &id)?;
        v.state = "destroyed".into();
        v.attached_machine_id = None;
        ok_json(v.to_json())
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Extend {
    size_gb: u64,
}

/// `PUT …/volumes/{id}/extend {size_gb}`: `{needs_restart, volume}`; shrinking is a 400, the
/// same size a no-op.
pub(crate) async fn extend_volume(
    State(s): State<FakeState>,
    Path((app, id)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult {
    let req: Extend = parse_body(&body)?;
    with_app(&s, &app, |a, _| {
        let v = live_volume(a, &id)?;
        if req.size_gb < v.size_gb {
            return Err(ApiError::bad_request(format!(
                "size_gb {} is smaller than the current size {}: volumes can only grow",
                req.size_gb, v.size_gb
            )));
        }
        if req.size_gb > 500 {
            return Err(ApiError::bad_request("size_gb must be between 1 and 500"));
        }
        let grew = req.size_gb > v.size_gb;
        v.size_gb = req.size_gb;
        ok_json(json!({"needs_restart": grew && v.attached_machine_id.is_some(), "volume": v.to_json()}))
    })
}

/// `GET …/ip_assignments`: `{ips:[…]}`.
pub(crate) async fn list_ips(State(s): State<FakeState>, Path(app): Path<String>) -> ApiResult {
    s.read(|w| {
        let a = w.apps.get(&app).ok_or_else(no_app)?;
        ok_json(json!({"ips": a.ips.iter().map(Ip::to_json).collect::<Vec<_>>()}))
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct AssignIp {
    #[serde(rename = "type")]
    kind: String,
    region: Option<String>,
    service_name: Option<String>,
}

/// The shared IPv4 every app gets on request.
pub const SHARED_V4: &str = "66.241.124.100";

/// `POST …/ip_assignments {type, region?}`: 200 and the address. `v4` gives `137.66.0.N`,
/// `v6` `2a09:8280:1::N`, `shared_v4` [`SHARED_V4`] (once per app), `private_v6` an `fdaa:` one.
pub(crate) async fn allocate_ip(State(s): State<FakeState>, Path(app): Path<String>, body: Bytes) -> ApiResult {
    let req: AssignIp = parse_body(&body)?;
    let region = req.region.filter(|r| !r.is_empty()).unwrap_or_else(|| "global".into());
    with_app(&s, &app, |a, w| {
        let (ip, shared) = match req.kind.as_str() {
            "v4" => (w.ids.v4(), false),
            "v6" => (w.ids.v6(), false),
            "private_v6" => (format!("fdaa:0:{:x}:0:1::{:x}", a.number, a.ips.len() + 1), false),
            "shared_v4" => {
                if let Some(existing) = a.ips.iter().find(|i| i.shared) {
                    return ok_json(existing.to_json());
                }
                (SHARED_V4.to_owned(), true)
            }
            other => return Err(ApiError::bad_request(format!("unsupported ip type {other:?}"))),
        };
        let ip =
            Ip { ip, region, shared, service_name: req.service_name.unwrap_or_default(), created_at: now_rfc3339() };
        let body = ip.to_json();
        a.ips.push(ip);
        ok_json(body)
    })
}

/// `DELETE …/ip_assignments/{ip}`: 204.
pub(crate) async fn release_ip(State(s): State<FakeState>, Path((app, ip)): Path<(String, String)>) -> ApiResult {
    with_app(&s, &app, |a, _| {
        let before = a.ips.len();
        a.ips.retain(|i| i.ip != ip);
        if a.ips.len() == before { Err(ApiError::not_found("ip")) } else { empty(StatusCode::NO_CONTENT) }
    })
}
