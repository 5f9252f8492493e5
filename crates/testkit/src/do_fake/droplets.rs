//! `/v2/droplets[/{id}[/actions[/{id}]|/snapshots]]` and `/v2/actions/{id}`: create, list
//! (by tag, by name), get, destroy (one, or all of a tag), the droplet actions and their
//! completion after the transition delay.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use serde::Deserialize;
use serde_json::{Value, json};

use super::catalog::{self, image_json, public_image, resolve_region, size};
use super::world::{Action, Droplet, Effect, Snapshot, World, now_rfc3339};
use super::{ApiError, ApiResult, FakeState, json_status, no_content, ok_json, paginate, parse_body, query};

type Pairs = Query<Vec<(String, String)>>;

/// Largest `user_data`, bytes.
const MAX_USER_DATA: usize = 64 * 1024;

/// The spec's droplet name pattern `^[a-zA-Z0-9]?[a-z0-9A-Z.\-]*[a-z0-9A-Z]$`, at most 255.
fn valid_name(name: &str) -> bool {
    name.len() <= 255
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
        && name.bytes().last().is_some_and(|b| b.is_ascii_alphanumeric())
}

/// The spec's tag name pattern `^[a-zA-Z0-9_\-\:]+$`, at most 255.
pub(crate) fn valid_tag(tag: &str) -> bool {
    !tag.is_empty()
        && tag.len() <= 255
        && tag.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b':'))
}

fn droplet_id(id: &str) -> Result<u64, ApiError> {
    id.parse().map_err(|_| ApiError::not_found())
}

/// `POST /v2/droplets` body: every field of "Single Droplet Request" (and `names`, refused),
/// nothing else.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct CreateRequest {
    name: Option<String>,
    names: Option<Vec<String>>,
    region: Option<String>,
    size: Option<String>,
    image: Option<Value>,
    #[serde(default)]
    ssh_keys: Vec<Value>,
    backups: Option<bool>,
    backup_policy: Option<Value>,
    ipv6: Option<bool>,
    monitoring: Option<bool>,
    tags: Option<Vec<String>>,
    user_data: Option<String>,
    private_networking: Option<bool>,
    #[serde(default)]
    volumes: Vec<String>,
    vpc_uuid: Option<String>,
    with_droplet_agent: Option<bool>,
    public_networking: Option<bool>,
}

/// Takes an injected failure for an action of `kind`, if one is pending.
fn take_action_fault(w: &mut World, kind: &str) -> bool {
    let hit = w.action_faults.iter_mut().find(|f| f.kind == kind && f.count > 0);
    let fails = hit.map(|f| f.count -= 1).is_some();
    w.action_faults.retain(|f| f.count > 0);
    fails
}

/// Starts an action on droplet `droplet_id`; returns its id.
fn begin(w: &mut World, droplet_id: u64, kind: &str, effect: Effect) -> u64 {
    let fails = take_action_fault(w, kind);
    let id = w.ids.action();
    let region = w.droplets.get(&droplet_id).map(|d| d.region.clone()).unwrap_or_default();
    if let Some(d) = w.droplets.get_mut(&droplet_id)
        && !matches!(effect, Effect::Create)
    {
        d.locked = true;
    }
    w.actions.insert(
        id,
        Action {
            id,
            kind: kind.to_owned(),
            status: "in-progress".into(),
            droplet_id,
            region,
            started_at: now_rfc3339(),
            completed_at: None,
            effect,
            fails,
        },
    );
    id
}

/// Completes action `id` (once) and applies its effect to the droplet.
pub(crate) fn finish(w: &mut World, id: u64) {
    let World { actions, droplets, snapshots, ids, .. } = w;
    let Some(a) = actions.get_mut(&id).filter(|a| a.status == "in-progress") else { return };
    a.completed_at = Some(now_rfc3339());
    a.status = if a.fails { "errored".into() } else { "completed".into() };
    let Some(d) = droplets.get_mut(&a.droplet_id) else { return };
    d.locked = false;
    if a.fails {
        if matches!(a.effect, Effect::Create) {
            d.status = "off".into();
        }
        return;
    }
    match &a.effect {
        Effect::Create => {
            d.status = "active".into();
            d.networked = true;
        }
        Effect::On => d.status = "active".into(),
        Effect::Off => d.status = "off".into(),
        Effect::Resize(slug) => d.size_slug.clone_from(slug),
        Effect::Snapshot(name) => {
            let sid = ids.snapshot();
            let distribution = d.image.get("distribution").and_then(Value::as_str).unwrap_or("Unknown").to_owned();
            snapshots.insert(
                sid,
                Snapshot {
                    id: sid,
                    name: name.clone(),
                    droplet_id: d.id,
                    region: d.region.clone(),
                    created_at: now_rfc3339(),
                    min_disk_size: d.disk,
                    distribution,
                },
            );
            d.snapshot_ids.push(sid);
        }
    }
}

/// Completes action `id` at once, or after the configured delay.
fn settle(state: &FakeState, w: &mut World, id: u64) -> bool {
    if state.config().transition_delay.is_zero() {
        finish(w, id);
        true
    } else {
        false
    }
}

fn schedule(state: &FakeState, id: u64) {
    let state = state.clone();
    tokio::spawn(async move {
        tokio::time::sleep(state.config().transition_delay).await;
        state.write(|w| finish(w, id));
    });
}

/// Resolves a create request's `image` (a slug, a public image id or one of the account's
/// snapshot ids) to the image object the droplet reports.
fn resolve_image(w: &World, image: Option<&Value>) -> Result<Value, ApiError> {
    let invalid = || ApiError::unprocessable("You specified an invalid image for Droplet creation.");
    match image {
        Some(Value::String(s)) => public_image(s).map(image_json).ok_or_else(invalid),
        Some(Value::Number(n)) => {
            let id = n.as_u64().ok_or_else(invalid)?;
            if let Some(i) = catalog::IMAGES.iter().find(|i| i.0 == id) {
                return Ok(image_json(i));
            }
            w.snapshots.get(&id).map(Snapshot::image_json).ok_or_else(invalid)
        }
        _ => Err(ApiError::unprocessable("image is required")),
    }
}

/// `POST /v2/droplets`: 202 `{droplet, links: {actions: [{id, rel: "create", href}]}}`, the
/// droplet `new` until its `create` action completes.
pub(crate) async fn create(State(s): State<FakeState>, headers: HeaderMap, body: Bytes) -> ApiResult {
    let req: CreateRequest = parse_body(&body)?;
    if req.names.is_some() {
        return Err(ApiError::unprocessable("the fake creates one droplet per request: use name"));
    }
    let name = req.name.filter(|n| valid_name(n)).ok_or_else(|| ApiError::unprocessable("Name is invalid"))?;
    let sz = req
        .size
        .as_deref()
        .and_then(size)
        .filter(|z| z.available)
        .ok_or_else(|| ApiError::unprocessable("You specified an invalid size for Droplet creation."))?;
    let region = match req.region.as_deref() {
        None | Some("") => s.config().default_region.clone(),
        Some(r) => resolve_region(r)
            .ok_or_else(|| ApiError::unprocessable("You specified an invalid region for Droplet creation."))?
            .to_owned(),
    };
    if !sz.in_region(&region) {
        return Err(ApiError::unprocessable(format!("Size {} is not available in region {region}.", sz.slug)));
    }
    if req.user_data.as_ref().is_some_and(|u| u.len() > MAX_USER_DATA) {
        return Err(ApiError::unprocessable("user_data must not exceed 64 KiB"));
    }
    let tags = req.tags.unwrap_or_default();
    if let Some(bad) = tags.iter().find(|t| !valid_tag(t)) {
        return Err(ApiError::unprocessable(format!("tag {bad:?} contains invalid characters")));
    }
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("api.digitalocean.com").to_owned();
    let instant = s.config().transition_delay.is_zero();
    let (body, action) = s.write(|w| {
        let image = resolve_image(w, req.image.as_ref())?;
        let mut ssh_keys = Vec::new();
        for k in &req.ssh_keys {
            let found = w.keys.values().find(|key| match k {
                Value::Number(n) => n.as_u64() == Some(key.id),
                Value::String(s) => *s == key.fingerprint || *s == key.id.to_string(),
                _ => false,
            });
            let key = found.ok_or_else(|| ApiError::unprocessable(format!("You specified an invalid SSH key: {k}")))?;
            ssh_keys.push(key.id);
        }
        for t in &tags {
            w.ensure_tag(t);
        }
        let id = w.ids.droplet();
        let n = id - 400_000_000;
        w.droplets.insert(
            id,
            Droplet {
                id,
                name,
                status: "new".into(),
                locked: false,
                size_slug: sz.slug.to_owned(),
                region,
                image,
                user_data: req.user_data,
                ssh_keys,
                tags,
                created_at: now_rfc3339(),
                networked: false,
                public_ip: format!("203.0.{}.{}", 113 + n / 254, n % 254 + 1),
                private_ip: format!("10.116.{}.{}", n / 254, n % 254 + 2),
                snapshot_ids: Vec::new(),
                disk: sz.disk,
            },
        );
        let action = begin(w, id, "create", Effect::Create);
        let droplet = w.droplets.get(&id).map(Droplet::to_json).unwrap_or_default();
        if instant {
            finish(w, action);
        }
        let href = format!("http://{host}/v2/actions/{action}");
        Ok::<_, ApiError>((
            json!({"droplet": droplet, "links": {"actions": [{"id": action, "rel": "create", "href": href}]}}),
            action,
        ))
    })?;
    if !instant {
        schedule(&s, action);
    }
    json_status(StatusCode::ACCEPTED, body)
}

/// `GET /v2/droplets[?tag_name|name|type][&page&per_page]`. Without `tag_name`, only non-GPU
/// droplets are listed unless `type=gpus` (as the spec says).
pub(crate) async fn list(State(s): State<FakeState>, headers: HeaderMap, uri: Uri, Query(q): Pairs) -> ApiResult {
    let tag = query(&q, "tag_name");
    let name = query(&q, "name");
    let kind = query(&q, "type");
    if tag.is_some() && (name.is_some() || kind.is_some()) {
        return Err(ApiError::bad_request("tag_name can not be combined with name or type"));
    }
    if kind.is_some_and(|k| !matches!(k, "droplets" | "gpus")) {
        return Err(ApiError::bad_request("type must be droplets or gpus"));
    }
    let items = s.read(|w| {
        w.droplets
            .values()
            .filter(|d| tag.is_none_or(|t| d.tags.iter().any(|x| x == t)))
            .filter(|d| name.is_none_or(|n| d.name.eq_ignore_ascii_case(n)))
            .filter(|d| {
                let gpu = size(&d.size_slug).is_some_and(|z| z.gpu.is_some());
                tag.is_some() || gpu == (kind == Some("gpus"))
            })
            .map(Droplet::to_json)
            .collect()
    });
    ok_json(paginate(items, "droplets", &q, &uri, &headers)?)
}

/// `GET /v2/droplets/{id}`.
pub(crate) async fn get_one(State(s): State<FakeState>, Path(id): Path<String>) -> ApiResult {
    let id = droplet_id(&id)?;
    s.read(|w| ok_json(json!({"droplet": w.droplets.get(&id).ok_or_else(ApiError::not_found)?.to_json()})))
}

/// `DELETE /v2/droplets/{id}`: 204; the droplet is gone at once (its snapshots stay).
pub(crate) async fn destroy(State(s): State<FakeState>, Path(id): Path<String>) -> ApiResult {
    let id = droplet_id(&id)?;
    s.write(|w| w.droplets.remove(&id)).ok_or_else(ApiError::not_found)?;
    no_content()
}

/// `DELETE /v2/droplets?tag_name=`: 204; every droplet with the tag is gone.
pub(crate) async fn destroy_by_tag(State(s): State<FakeState>, Query(q): Pairs) -> ApiResult {
    let tag =
        query(&q, "tag_name").filter(|t| !t.is_empty()).ok_or_else(|| ApiError::bad_request("tag_name is required"))?;
    s.write(|w| w.droplets.retain(|_, d| !d.tags.iter().any(|t| t == tag)));
    no_content()
}

/// `POST /v2/droplets/{id}/actions` body: the fields of the spec's droplet actions.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct ActionBody {
    #[serde(rename = "type")]
    kind: String,
    name: Option<String>,
    size: Option<String>,
    disk: Option<bool>,
    image: Option<Value>,
    kernel: Option<u64>,
    backup_policy: Option<Value>,
}

/// What an action request does to `d`, or why DigitalOcean refuses it.
fn plan(d: &Droplet, req: &ActionBody) -> Result<Effect, ApiError> {
    if d.locked || d.status == "new" {
        return Err(ApiError::unprocessable("Droplet already has a pending event."));
    }
    let on = d.status == "active";
    match req.kind.as_str() {
        "power_on" if on => Err(ApiError::unprocessable("Droplet is already powered on.")),
        "power_on" | "reboot" | "power_cycle" => Ok(Effect::On),
        "power_off" | "shutdown" if !on => Err(ApiError::unprocessable("Droplet is already powered off.")),
        "power_off" | "shutdown" => Ok(Effect::Off),
        "resize" => {
            let target = req
                .size
                .as_deref()
                .and_then(size)
                .filter(|z| z.available && z.in_region(&d.region))
                .ok_or_else(|| ApiError::unprocessable("You specified an invalid size for Droplet resize."))?;
            if on {
                return Err(ApiError::unprocessable("Droplet must be powered off before it can be resized."));
            }
            if target.disk < d.disk {
                return Err(ApiError::unprocessable("The Droplet's disk is larger than the new size's disk."));
            }
            Ok(Effect::Resize(target.slug.to_owned()))
        }
        "snapshot" => {
            let name = req
                .name
                .clone()
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| format!("{}-{}", d.name, chrono::Utc::now().timestamp()));
            Ok(Effect::Snapshot(name))
        }
        "enable_backups"
        | "disable_backups"
        | "restore"
        | "password_reset"
        | "rebuild"
        | "rename"
        | "change_kernel"
        | "enable_ipv6"
        | "change_backup_policy" => {
            Err(ApiError::unprocessable(format!("the fake does not model the {} action", req.kind)))
        }
        other => Err(ApiError::unprocessable(format!("{other:?} is not a droplet action type"))),
    }
}

/// `POST /v2/droplets/{id}/actions`: 201 `{action}` `in-progress`.
pub(crate) async fn post_action(State(s): State<FakeState>, Path(id): Path<String>, body: Bytes) -> ApiResult {
    let id = droplet_id(&id)?;
    let req: ActionBody = parse_body(&body)?;
    let (action, done) = s.write(|w| {
        let d = w.droplets.get(&id).ok_or_else(ApiError::not_found)?;
        let effect = plan(d, &req)?;
        let action = begin(w, id, &req.kind, effect);
        let json = w.actions.get(&action).map(Action::to_json).unwrap_or_default();
        let done = settle(&s, w, action);
        Ok::<_, ApiError>(((json, action), done))
    })?;
    if !done {
        schedule(&s, action.1);
    }
    json_status(StatusCode::CREATED, json!({"action": action.0}))
}

/// `GET /v2/droplets/{id}/actions`.
pub(crate) async fn list_actions(
    State(s): State<FakeState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    uri: Uri,
    Query(q): Pairs,
) -> ApiResult {
    let id = droplet_id(&id)?;
    let items = s.read(|w| {
        w.droplets.get(&id).ok_or_else(ApiError::not_found)?;
        Ok::<_, ApiError>(w.actions.values().filter(|a| a.droplet_id == id).map(Action::to_json).collect())
    })?;
    ok_json(paginate(items, "actions", &q, &uri, &headers)?)
}

/// `GET /v2/actions/{action_id}`.
pub(crate) async fn get_action(State(s): State<FakeState>, Path(action_id): Path<String>) -> ApiResult {
    let action_id = droplet_id(&action_id)?;
    s.read(|w| ok_json(json!({"action": w.actions.get(&action_id).ok_or_else(ApiError::not_found)?.to_json()})))
}

/// `GET /v2/droplets/{id}/actions/{action_id}`.
pub(crate) async fn get_droplet_action(
    State(s): State<FakeState>,
    Path((id, action_id)): Path<(String, String)>,
) -> ApiResult {
    let (id, action_id) = (droplet_id(&id)?, droplet_id(&action_id)?);
    s.read(|w| {
        let a = w.actions.get(&action_id).filter(|a| a.droplet_id == id).ok_or_else(ApiError::not_found)?;
        ok_json(json!({"action": a.to_json()}))
    })
}

/// `GET /v2/droplets/{id}/snapshots`: the droplet's snapshots (integer ids).
pub(crate) async fn droplet_snapshots(
    State(s): State<FakeState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    uri: Uri,
    Query(q): Pairs,
) -> ApiResult {
    let id = droplet_id(&id)?;
    let items = s.read(|w| {
        w.droplets.get(&id).ok_or_else(ApiError::not_found)?;
        Ok::<_, ApiError>(w.snapshots.values().filter(|x| x.droplet_id == id).map(Snapshot::to_droplet_json).collect())
    })?;
    ok_json(paginate(items, "snapshots", &q, &uri, &headers)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_tags_follow_the_spec_patterns() {
        assert!(valid_name("web-1.example.com") && valid_name("a"));
        assert!(!valid_name("") && !valid_name("bad_name") && !valid_name("ends-"));
        assert!(valid_tag("cg-tenant:a_1") && !valid_tag("a b") && !valid_tag(""));
    }
}
