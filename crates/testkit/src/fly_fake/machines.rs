//! `/v1/apps/{app}/machines[/{id}[/{action}]]`: create, list, get, update, destroy, the
//! lifecycle actions, `wait`, `events`, `exec` and `ps`; and the `set-state` hook.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::time::{Instant, timeout_at};

use super::world::{App, Ids, Machine, World, now_ms};
use super::{ApiError, ApiResult, FakeState, ok_json, parse_body, query, scale, shell};

type Pairs = Query<Vec<(String, String)>>;

fn no_app() -> ApiError {
    ApiError::not_found("app")
}

fn no_machine() -> ApiError {
    ApiError::not_found("machine")
}

fn precondition(msg: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::PRECONDITION_FAILED, msg)
}

/// `CreateMachineRequest` / `UpdateMachineRequest`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct MachineRequest {
    name: Option<String>,
    region: Option<String>,
    config: Option<Value>,
    skip_launch: bool,
    current_version: Option<String>,
}

/// Checks a config the way Fly does (image required, guest rules) and fills the default guest.
pub(crate) fn check_config(config: Option<Value>) -> Result<Value, ApiError> {
    let mut config = config.filter(Value::is_object).ok_or_else(|| ApiError::bad_request("config is required"))?;
    if config.get("image").and_then(Value::as_str).is_none_or(str::is_empty) {
        return Err(ApiError::bad_request("invalid config.image: an image is required").with_code("unknown"));
    }
    let guest = config
        .as_object_mut()
        .map(|c| c.entry("guest").or_insert_with(|| json!({"cpu_kind": "shared", "cpus": 1, "memory_mb": 256})));
    if let Some(g) = guest {
        let kind = g.get("cpu_kind").and_then(Value::as_str).unwrap_or("shared");
        let cpus = g.get("cpus").and_then(Value::as_u64).unwrap_or(1);
        let mem = g.get("memory_mb").and_then(Value::as_u64).unwrap_or(256);
        let unit = if kind == "performance" { 2048 } else { 256 };
        let bad = if !matches!(kind, "shared" | "performance") {
            Some(format!("invalid config.guest.cpu_kind: {kind:?}"))
        } else if !(1..=16).contains(&cpus) {
            Some(format!("invalid config.guest.cpus: {cpus}"))
        } else if mem == 0 || mem % unit != 0 {
            Some(format!("invalid config.guest.memory_mb: {mem} must be a multiple of {unit}"))
        } else {
            None
        };
        if let Some(msg) = bad {
            return Err(ApiError::bad_request(msg).with_code("unknown"));
        }
    }
    Ok(config)
}

/// The volumes `config.mounts` names: they must exist and be free (or already `machine`'s).
/// Returns their ids and the region of the first.
fn check_mounts(app: &App, config: &Value, machine: Option<&str>) -> Result<(Vec<String>, Option<String>), ApiError> {
    let mounts = config.get("mounts").and_then(Value::as_array).cloned().unwrap_or_default();
    let mut ids = Vec::new();
    let mut region = None;
    for mount in &mounts {
        let id = mount.get("volume").and_then(Value::as_str).unwrap_or_default();
        let v = app.volumes.iter().find(|v| v.id == id && v.state != "destroyed");
        let v = v.ok_or_else(|| ApiError::not_found(&format!("volume {id:?}")))?;
        if let Some(other) = v.attached_machine_id.as_deref().filter(|o| Some(*o) != machine)
            && app.machines.iter().any(|m| m.id == other && m.state != "destroyed")
        {
            return Err(ApiError::bad_request(format!("volume {id} is already attached to machine {other}")));
        }
        region.get_or_insert_with(|| v.region.clone());
        ids.push(id.to_owned());
    }
    Ok((ids, region))
}

/// Attaches exactly `volumes` to `machine`.
fn attach(app: &mut App, machine: &str, volumes: &[String]) {
    for v in &mut app.volumes {
        if volumes.contains(&v.id) {
            v.attached_machine_id = Some(machine.to_owned());
        } else if v.attached_machine_id.as_deref() == Some(machine) {
            v.attached_machine_id = None;
        }
    }
}

/// Finishes transition `generation` of `app`/`id` after the configured delay.
fn schedule(state: &FakeState, app: &str, id: &str, generation: u64) {
    let (state, app, id) = (state.clone(), app.to_owned(), id.to_owned());
    tokio::spawn(async move {
        tokio::time::sleep(state.config().transition_delay).await;
        state.write(|w| {
            let World { apps, ids, .. } = w;
            if let Some(m) = apps.get_mut(&app).and_then(|a| a.machines.iter_mut().find(|m| m.id == id)) {
                m.finish(ids, generation);
            }
        });
    });
}

/// What an action answers: a fixed body, or the machine as it is afterwards.
enum Reply {
    Body(Value),
    Machine,
}

/// The outcome of an action on machine `id`: the reply and the transition it began, if any.
struct Step {
    id: String,
    reply: Reply,
    generation: Option<u64>,
}

impl Step {
    fn body(id: &str, body: Value, generation: Option<u64>) -> Result<Step, ApiError> {
        Ok(Step { id: id.to_owned(), reply: Reply::Body(body), generation })
    }
}

/// Runs `f` on `app`, then finishes the transition it began (at once, or later when a delay is
/// configured) and answers.
fn act(state: &FakeState, app: &str, f: impl FnOnce(&mut App, &mut Ids) -> Result<Step, ApiError>) -> ApiResult {
    let instant = state.config().transition_delay.is_zero();
    let (body, id, generation) = state.write(|w| {
        let World { apps, ids, .. } = w;
        let a = apps.get_mut(app).ok_or_else(no_app)?;
        let step = f(a, ids)?;
        let m = a.machines.iter_mut().find(|m| m.id == step.id).ok_or_else(no_machine)?;
        if let (true, Some(g)) = (instant, step.generation) {
            m.finish(ids, g);
        }
        let body = match step.reply {
            Reply::Body(v) => v,
            Reply::Machine => m.to_json(),
        };
        Ok::<_, ApiError>((body, step.id, step.generation))
    })?;
    if let (false, Some(g)) = (instant, generation) {
        schedule(state, app, &id, g);
    }
    ok_json(body)
}

/// `GET /v1/apps/{app}/machines[?include_deleted&region&state&metadata.{key}]`: a bare array.
pub(crate) async fn list(State(s): State<FakeState>, Path(app): Path<String>, Query(q): Pairs) -> ApiResult {
    let deleted = query(&q, "include_deleted") == Some("true");
    let region = query(&q, "region").filter(|r| !r.is_empty());
    let states: Option<Vec<&str>> = query(&q, "state").filter(|s| !s.is_empty()).map(|s| s.split(',').collect());
    let metadata: Vec<(&str, &str)> =
        q.iter().filter_map(|(k, v)| k.strip_prefix("metadata.").map(|k| (k, v.as_str()))).collect();
    s.read(|w| {
        let a = w.apps.get(&app).ok_or_else(no_app)?;
        let keep = |m: &&Machine| {
            (deleted || m.state != "destroyed")
                && region.is_none_or(|r| m.region == r)
                && states.as_ref().is_none_or(|s| s.contains(&m.state.as_str()))
                && metadata.iter().all(|(k, v)| m.config["metadata"][*k].as_str() == Some(*v))
        };
        ok_json(Value::Array(a.machines.iter().filter(keep).map(Machine::to_json).collect()))
    })
}

/// `POST /v1/apps/{app}/machines`: 200 and the machine, `started` (or `created` with
/// `skip_launch`).
pub(crate) async fn create(State(s): State<FakeState>, Path(app): Path<String>, body: Bytes) -> ApiResult {
    let req: MachineRequest = parse_body(&body)?;
    let config = check_config(req.config)?;
    let default_region = s.config().default_region.clone();
    act(&s, &app, |a, ids| {
        let (volumes, volume_region) = check_mounts(a, &config, None)?;
        let region = req.region.filter(|r| !r.is_empty()).or_else(|| volume_region.clone()).unwrap_or(default_region);
        if let Some(vr) = volume_region.filter(|vr| *vr != region) {
            return Err(ApiError::bad_request(format!("the mounted volume is in region {vr}, not {region}")));
        }
        let id = ids.machine();
        let name = req.name.filter(|n| !n.is_empty()).unwrap_or_else(|| format!("machine-{id}"));
        if a.machines.iter().any(|m| m.name == name && m.state != "destroyed") {
            return Err(ApiError::new(StatusCode::CONFLICT, format!("a machine named {name:?} already exists"))
                .with_code("name_taken"));
        }
        attach(a, &id, &volumes);
        let mut m = Machine::new(a, ids, id.clone(), name, region, config);
        let generation = if req.skip_launch {
            m.push_event(ids, "launch", "created", "user", json!({}));
            None
        } else {
            Some(m.begin(ids, "launch", "created", "started", "start"))
        };
        a.machines.push(m);
        Ok(Step { id, reply: Reply::Machine, generation })
    })
}

/// `GET …/machines/{id}`: the machine, also once destroyed.
pub(crate) async fn get_one(State(s): State<FakeState>, Path((app, id)): Path<(String, String)>) -> ApiResult {
    s.read(|w| {
        let a = w.apps.get(&app).ok_or_else(no_app)?;
        let m = a.machines.iter().find(|m| m.id == id).ok_or_else(no_machine)?;
        ok_json(m.to_json())
    })
}

/// `POST …/machines/{id}`: replaces the whole config; a new `instance_id`.
pub(crate) async fn update(
    State(s): State<FakeState>,
    Path((app, id)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult {
    let req: MachineRequest = parse_body(&body)?;
    let config = check_config(req.config)?;
    act(&s, &app, |a, ids| {
        let (volumes, _) = check_mounts(a, &config, Some(&id))?;
        let m = a.live_machine(&id).ok_or_else(no_machine)?;
        if req.name.as_ref().is_some_and(|n| *n != m.name) || req.region.as_ref().is_some_and(|r| *r != m.region) {
            return Err(ApiError::bad_request("a machine's name and region cannot change"));
        }
        if req.current_version.as_ref().is_some_and(|v| *v != m.instance_id) {
            return Err(precondition("machine version mismatch: current_version is not the machine's version"));
        }
        let target = if matches!(m.state.as_str(), "stopped" | "created") { m.state.clone() } else { "started".into() };
        m.config = config;
        m.instance_id = ids.ulid();
        let generation = m.begin(ids, "update", "replacing", &target, "update");
        attach(a, &id, &volumes);
        Ok(Step { id: id.clone(), reply: Reply::Machine, generation: Some(generation) })
    })
}

/// `DELETE …/machines/{id}[?force=true|kill=true]`: 200 `{ok:true}`; a running machine needs
/// `force`.
pub(crate) async fn destroy(
    State(s): State<FakeState>,
    Path((app, id)): Path<(String, String)>,
    Query(q): Pairs,
) -> ApiResult {
    let force = query(&q, "force") == Some("true") || query(&q, "kill") == Some("true");
    act(&s, &app, |a, ids| {
        let m = a.live_machine(&id).ok_or_else(no_machine)?;
        if !force && matches!(m.state.as_str(), "started" | "starting" | "restarting") {
            return Err(precondition("failed_precondition: machine still active, refusing to delete"));
        }
        let generation = m.begin(ids, "destroy", "destroying", "destroyed", "destroy");
        attach(a, &id, &[]);
        Step::body(&id, json!({"ok": true}), Some(generation))
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ExecRequest {
    command: Vec<String>,
    cmd: Option<String>,
    stdin: Option<String>,
}

/// `POST …/{id}/{start|stop|restart|suspend|signal|cordon|uncordon|exec}`.
pub(crate) async fn action(
    State(s): State<FakeState>,
    Path((app, id, action)): Path<(String, String, String)>,
    body: Bytes,
) -> ApiResult {
    if action == "exec" {
        let req: ExecRequest = parse_body(&body)?;
        let mut argv = req.command;
        if argv.is_empty() {
            argv = req.cmd.unwrap_or_default().split_whitespace().map(str::to_owned).collect();
        }
        if argv.is_empty() {
            return Err(ApiError::bad_request("command is required"));
        }
        return s.read(|w| {
            let m = started(w, &app, &id)?;
            let out = shell::run(m, &argv, req.stdin.as_deref());
            ok_json(json!({"exit_code": out.exit_code, "exit_signal": 0, "stdout": out.stdout, "stderr": out.stderr}))
        });
    }
    let at_ms = now_ms();
    let answer = act(&s, &app, |a, ids| {
        let m = a.live_machine(&id).ok_or_else(no_machine)?;
        let state = m.state.clone();
        let ok = json!({"ok": true});
        match action.as_str() {
            "start" => {
                let body = json!({"previous_state": state, "migrated": false, "new_host": ""});
                let generation = (!matches!(state.as_str(), "started" | "starting"))
                    .then(|| m.begin(ids, "start", "starting", "started", "start"));
                Step::body(&id, body, generation)
            }
            "stop" => {
                let generation = (!matches!(state.as_str(), "stopped" | "stopping"))
                    .then(|| m.begin(ids, "stop", "stopping", "stopped", "exit"));
                Step::body(&id, ok, generation)
            }
            "restart" => Step::body(&id, ok, Some(m.begin(ids, "restart", "restarting", "started", "start"))),
            "suspend" => match state.as_str() {
                "suspended" | "suspending" => Step::body(&id, ok, None),
                "started" => Step::body(&id, ok, Some(m.begin(ids, "suspend", "suspending", "suspended", "suspend"))),
                other => Err(precondition(format!("unable to suspend machine from current state: '{other}'"))),
            },
            "signal" | "cordon" | "uncordon" if state == "started" => Step::body(&id, ok, None),
            "signal" | "cordon" | "uncordon" => Err(precondition("machine not started")),
            _ => Err(ApiError::not_found("route")),
        }
    });
    if action == "stop" && answer.is_ok() {
        scale::record_stop(&s, &app, &id, at_ms);
    }
    answer
}

/// The machine, when it exists and is `started` (412 otherwise).
fn started<'w>(w: &'w World, app: &str, id: &str) -> Result<&'w Machine, ApiError> {
    let a = w.apps.get(app).ok_or_else(no_app)?;
    let m = a.machines.iter().find(|m| m.id == id && m.state != "destroyed").ok_or_else(no_machine)?;
    if m.state == "started" { Ok(m) } else { Err(precondition("machine not started")) }
}

const WAIT_STATES: &[&str] = &["started", "stopped", "suspended", "destroyed", "failed", "settled", "created"];

/// `GET …/{id}/{wait|events|ps}`.
pub(crate) async fn read_action(
    State(s): State<FakeState>,
    Path((app, id, action)): Path<(String, String, String)>,
    Query(q): Pairs,
) -> ApiResult {
    match action.as_str() {
        "wait" => wait(&s, &app, &id, &q).await,
        "events" => {
            let limit = query(&q, "limit").and_then(|l| l.parse::<usize>().ok()).unwrap_or(20).clamp(1, 50);
            s.read(|w| {
                let a = w.apps.get(&app).ok_or_else(no_app)?;
                let m = a.machines.iter().find(|m| m.id == id).ok_or_else(no_machine)?;
                ok_json(Value::Array(m.events.iter().rev().take(limit).map(|e| e.to_json()).collect()))
            })
        }
        "ps" => s.read(|w| ok_json(shell::processes(started(w, &app, &id)?))),
        _ => Err(ApiError::not_found("route")),
    }
}

/// `wait?state=a,b&state=c&timeout=…`: 200 `{ok, state, version, event_id}` once the machine is
/// in one of the states, 408 after `min(timeout, 60)` seconds.
async fn wait(s: &FakeState, app: &str, id: &str, q: &[(String, String)]) -> ApiResult {
    let mut targets: Vec<String> = q
        .iter()
        .filter(|(k, _)| k == "state")
        .flat_map(|(_, v)| v.split(','))
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
        .collect();
    if targets.is_empty() {
        targets.push("started".into());
    }
    if let Some(bad) = targets.iter().find(|t| !WAIT_STATES.contains(&t.as_str())) {
        return Err(ApiError::bad_request(format!("invalid state {bad:?}")));
    }
    let secs = query(q, "timeout").map(|t| t.trim_end_matches('s')).and_then(|t| t.parse::<u64>().ok()).unwrap_or(60);
    let deadline = Instant::now() + std::time::Duration::from_secs(secs.min(60));
    let mut changes = s.subscribe();
    loop {
        let reached = s.read(|w| {
            let a = w.apps.get(app).ok_or_else(no_app)?;
            let m = a.machines.iter().find(|m| m.id == id).ok_or_else(no_machine)?;
            let hit = targets.iter().any(|t| *t == m.state || (t == "settled" && m.settled()));
            let event = m.events.last().map(|e| e.id.clone());
            Ok::<_, ApiError>(
                hit.then(|| json!({"ok": true, "state": m.state, "version": m.instance_id, "event_id": event})),
            )
        })?;
        if let Some(body) = reached {
            return ok_json(body);
        }
        if !matches!(timeout_at(deadline, changes.changed()).await, Ok(Ok(()))) {
            let msg = format!("deadline_exceeded: timeout waiting for machine to be {}", targets.join(" or "));
            return Err(ApiError::new(StatusCode::REQUEST_TIMEOUT, msg));
        }
    }
}

#[derive(Debug, Deserialize)]
struct SetState {
    app: String,
    machine: String,
    state: String,
}

/// `POST /__fake/set-state {app, machine, state}`: forces a state and records a `flyd` event.
pub(crate) async fn hook_set_state(State(s): State<FakeState>, body: Bytes) -> ApiResult {
    let req: SetState = parse_body(&body)?;
    let kind = match req.state.as_str() {
        "stopped" | "failed" => "exit",
        "started" => "start",
        "suspended" => "suspend",
        "destroyed" => "destroy",
        "created" => "update",
        other => return Err(ApiError::bad_request(format!("cannot set state {other:?}"))),
    };
    act(&s, &req.app, |a, ids| {
        let m = a.machines.iter_mut().find(|m| m.id == req.machine).ok_or_else(no_machine)?;
        let request = if kind == "exit" {
            let code = i32::from(req.state == "failed");
            json!({"exit_event": {"exit_code": code, "oom_killed": false, "requested_stop": false, "restarting": false}})
        } else {
            json!({})
        };
        m.pending = None;
        m.state.clone_from(&req.state);
        m.push_event(ids, kind, &req.state, "flyd", request);
        if req.state == "destroyed" {
            attach(a, &req.machine, &[]);
        }
        Ok(Step { id: req.machine.clone(), reply: Reply::Machine, generation: None })
    })
}
