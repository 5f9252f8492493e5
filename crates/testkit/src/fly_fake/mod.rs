//! A stateful, in-memory fake of the Fly Machines API (`/v1/apps/…`).
//!
//! Run it in-process with [`spawn`], or as a separate process with the `fly-fake` binary, and
//! point `compute_fly::FlyConfig::with_base_url` at it. Every request needs
//! `Authorization: Bearer <token>` (or `FlyV1 <token>`); answers carry a `fly-request-id`
//! header and errors use Fly's `{error, status?}` body.
//!
//! State changes happen at once by default. With [`FakeConfig::with_transition_delay`], actions
//! answer in the transient state (`starting`, `stopping`, …) and finish after the delay, so
//! `…/wait` long-polls for real.
//!
//! Test hooks (same authentication):
//! - `GET /__fake/state`: every app, machine, volume, IP, pending fault, the request log
//!   (`requests`, capped) and `provider_requests`, the count of API requests (hooks excluded);
//! - `POST /__fake/fail-next` `{path_contains, method?, status=503, count=1, body?, apply=false,
//!   delay_ms=0}`: the next `count` matching requests fail (`apply` runs the real handler
//!   first, which simulates a lost answer);
//! - `POST /__fake/set-state` `{app, machine, state}`: forces a machine's state (records a
//!   `flyd` event), e.g. to simulate a crash;
//! - `POST /__fake/reset`: forgets everything;
//! - `POST /__fake/seed-machines` `{app, count, org_slug="fake", image="nginx"}`: creates the
//!   app when missing and `count` (at most 100,000) started machines in it at once, for load
//!   tests; answers `{app, ids}`;
//! - `GET /__fake/stops[?since=N]`: the stop calls that reached a live machine, oldest first,
//!   from the `N`th on: `{total, stops: [{app, machine, at_ms}]}` (`at_ms`: when the call
//!   arrived, Unix milliseconds).

mod machines;
mod resources;
mod scale;
mod shell;
mod world;

use std::future::{Future, IntoFuture};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use resources::SHARED_V4;
use world::{Fault, MAX_LOGGED_REQUESTS, World};

/// Settings of one fake.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct FakeConfig {
    /// The only token accepted.
    pub token: String,
    /// How long transitions (start, stop, …) take; zero (the default) means at once.
    pub transition_delay: Duration,
    /// Region of machines and volumes created without one (default `sjc`).
    pub default_region: String,
    /// Log every request to stderr (the binary does; off by default).
    pub log_requests: bool,
}

impl FakeConfig {
    /// A fake accepting `token`, with instant transitions and region `sjc`.
    pub fn new(token: impl Into<String>) -> Self {
        FakeConfig {
            token: token.into(),
            transition_delay: Duration::ZERO,
            default_region: "sjc".into(),
            log_requests: false,
        }
    }

    /// Sets how long transitions take.
    pub fn with_transition_delay(mut self, delay: Duration) -> Self {
        self.transition_delay = delay;
        self
    }

    /// Turns request logging to stderr on or off.
    pub fn with_request_log(mut self, on: bool) -> Self {
        self.log_requests = on;
        self
    }
}

struct Shared {
    world: Mutex<World>,
    changes: watch::Sender<u64>,
    config: FakeConfig,
}

/// The fake's shared state: cheap to clone, kept across requests.
#[derive(Clone)]
pub struct FakeState {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for FakeState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeState").field("transition_delay", &self.shared.config.transition_delay).finish()
    }
}

impl FakeState {
    /// An empty world.
    pub fn new(config: FakeConfig) -> Self {
        let (changes, _) = watch::channel(0);
        FakeState { shared: Arc::new(Shared { world: Mutex::new(World::default()), changes, config }) }
    }

    /// Everything the fake holds, as `GET /__fake/state` shows it.
    pub fn dump(&self) -> Value {
        self.read(World::dump)
    }

    pub(crate) fn config(&self) -> &FakeConfig {
        &self.shared.config
    }

    /// Reads the world.
    pub(crate) fn read<R>(&self, f: impl FnOnce(&World) -> R) -> R {
        f(&self.shared.world.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Changes the world and wakes every `wait`.
    pub(crate) fn write<R>(&self, f: impl FnOnce(&mut World) -> R) -> R {
        let r = f(&mut self.shared.world.lock().unwrap_or_else(PoisonError::into_inner));
        self.shared.changes.send_modify(|v| *v += 1);
        r
    }

    /// A receiver that sees every later [`FakeState::write`].
    pub(crate) fn subscribe(&self) -> watch::Receiver<u64> {
        self.shared.changes.subscribe()
    }
}

/// A Fly-shaped error answer: `{error, status?}`.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    error: String,
    code: Option<&'static str>,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, error: impl Into<String>) -> Self {
        ApiError { status, error: error.into(), code: None }
    }

    pub(crate) fn with_code(mut self, code: &'static str) -> Self {
        self.code = Some(code);
        self
    }

    pub(crate) fn bad_request(error: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, error)
    }

    /// 404 `{error: "<what> not found"}`.
    pub(crate) fn not_found(what: &str) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, format!("{what} not found"))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = match self.code {
            Some(code) => json!({"error": self.error, "status": code}),
            None => json!({"error": self.error}),
        };
        (self.status, Json(body)).into_response()
    }
}

/// What handlers return.
pub(crate) type ApiResult = Result<Response, ApiError>;

/// A JSON body; an empty body reads as `{}`.
pub(crate) fn parse_body<T: DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    let bytes: &[u8] = if body.iter().all(u8::is_ascii_whitespace) { b"{}" } else { body };
    serde_json::from_slice(bytes).map_err(|e| ApiError::bad_request(format!("invalid request body: {e}")))
}

/// The first value of `key` in a query.
pub(crate) fn query<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// The whole API and the test hooks.
pub fn router(state: FakeState) -> Router {
    let machine = "/v1/apps/{app}/machines/{id}";
    Router::new()
        .route("/v1/apps", get(resources::list_apps).post(resources::create_app))
        .route("/v1/apps/{app}", get(resources::get_app).delete(resources::delete_app))
        .route("/v1/apps/{app}/machines", get(machines::list).post(machines::create))
        .route(machine, get(machines::get_one).post(machines::update).delete(machines::destroy))
        .route(&format!("{machine}/{{action}}"), get(machines::read_action).post(machines::action))
        .route("/v1/apps/{app}/volumes", get(resources::list_volumes).post(resources::create_volume))
        .route(
            "/v1/apps/{app}/volumes/{id}",
            get(resources::get_volume).put(resources::update_volume).delete(resources::delete_volume),
        )
        .route("/v1/apps/{app}/volumes/{id}/extend", put(resources::extend_volume))
        .route("/v1/apps/{app}/ip_assignments", get(resources::list_ips).post(resources::allocate_ip))
        .route("/v1/apps/{app}/ip_assignments/{ip}", axum::routing::delete(resources::release_ip))
        .route("/__fake/state", get(hook_state))
        .route("/__fake/fail-next", post(hook_fail_next))
        .route("/__fake/set-state", post(machines::hook_set_state))
        .route("/__fake/reset", post(hook_reset))
        .route("/__fake/seed-machines", post(scale::hook_seed_machines))
        .route("/__fake/stops", get(scale::hook_stops))
        .fallback(|| async { ApiError::not_found("route") })
        .layer(middleware::from_fn_with_state(state.clone(), gatekeeper))
        .with_state(state)
}

fn authorized(state: &FakeState, req: &Request) -> bool {
    let expected = state.config().token.trim();
    let expected = expected.strip_prefix("FlyV1 ").unwrap_or(expected);
    let Some(value) = req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let given = value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("FlyV1 "));
    given.is_some_and(|t| !expected.is_empty() && t.trim() == expected)
}

/// Logs, authenticates, injects faults and stamps `fly-request-id`.
async fn gatekeeper(State(state): State<FakeState>, req: Request, next: Next) -> Response {
    let method = req.method().to_string();
    let target = req.uri().path_and_query().map_or_else(|| req.uri().path().to_owned(), ToString::to_string);
    let is_hook = req.uri().path().starts_with("/__fake/");
    let (request_id, fault) = state.write(|w| {
        if w.requests.len() >= MAX_LOGGED_REQUESTS {
            w.requests.remove(0);
        }
        w.requests.push(format!("{method} {target}"));
        if !is_hook {
            w.provider_requests += 1;
        }
        let fault = if is_hook {
            None
        } else {
            let hit = w.faults.iter_mut().find(|f| {
                f.count > 0
                    && target.contains(&f.path_contains)
                    && f.method.as_ref().is_none_or(|m| m.eq_ignore_ascii_case(&method))
            });
            hit.map(|f| {
                f.count -= 1;
                f.clone()
            })
        };
        w.faults.retain(|f| f.count > 0);
        (w.ids.ulid(), fault)
    });
    let mut response = if !authorized(&state, &req) {
        ApiError::new(StatusCode::UNAUTHORIZED, "Authenticate: token validation error").into_response()
    } else if let Some(f) = fault {
        if f.delay_ms > 0 {
            tokio::time::sleep(Duration::from_millis(f.delay_ms)).await;
        }
        if f.apply {
            drop(next.run(req).await);
        }
        let status = StatusCode::from_u16(f.status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        let body = f.body.unwrap_or_else(|| json!({"error": "injected fault", "status": "unknown"}));
        (status, Json(body)).into_response()
    } else {
        next.run(req).await
    };
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("fly-request-id", v);
    }
    if state.config().log_requests {
        eprintln!("fly-fake: {method} {target} -> {}", response.status().as_u16());
    }
    response
}

async fn hook_state(State(state): State<FakeState>) -> Json<Value> {
    Json(state.dump())
}

async fn hook_fail_next(State(state): State<FakeState>, body: Bytes) -> ApiResult {
    let fault: Fault = parse_body(&body)?;
    if fault.path_contains.is_empty() {
        return Err(ApiError::bad_request("path_contains is required"));
    }
    state.write(|w| w.faults.push(fault));
    Ok(Json(json!({"ok": true})).into_response())
}

async fn hook_reset(State(state): State<FakeState>) -> Json<Value> {
    state.write(|w| {
        w.apps.clear();
        w.faults.clear();
        w.requests.clear();
        w.provider_requests = 0;
        w.stops.clear();
    });
    Json(json!({"ok": true}))
}

/// Serves the fake with `token` on `listener` until the task is dropped or fails.
///
/// # Errors
/// I/O errors of the listener.
pub async fn serve(listener: TcpListener, token: String) -> std::io::Result<()> {
    serve_with(listener, FakeState::new(FakeConfig::new(token)), std::future::pending()).await
}

/// Serves `state` on `listener` until `shutdown` completes (in-flight requests are dropped).
///
/// # Errors
/// I/O errors of the listener.
pub async fn serve_with(
    listener: TcpListener,
    state: FakeState,
    shutdown: impl Future<Output = ()> + Send,
) -> std::io::Result<()> {
    tokio::select! {
        r = axum::serve(listener, router(state)).into_future() => r,
        () = shutdown => Ok(()),
    }
}

/// A fake running in a background task of the current runtime. Dropping it stops accepting
/// connections (connections already open are served until the runtime ends).
#[derive(Debug)]
pub struct RunningFake {
    addr: SocketAddr,
    state: FakeState,
    task: JoinHandle<std::io::Result<()>>,
}

impl RunningFake {
    /// `http://127.0.0.1:PORT`, the base URL to give the adapter.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The fake's state, for assertions.
    pub fn state(&self) -> &FakeState {
        &self.state
    }
}

impl Drop for RunningFake {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts a fake on `127.0.0.1` with a free port.
///
/// # Errors
/// When the port cannot be bound.
pub async fn spawn(config: FakeConfig) -> std::io::Result<RunningFake> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let state = FakeState::new(config);
    let task = tokio::spawn(serve_with(listener, state.clone(), std::future::pending()));
    Ok(RunningFake { addr, state, task })
}

/// A `200` answer with `value` as its JSON body.
pub(crate) fn ok_json(value: Value) -> ApiResult {
    Ok(Json(value).into_response())
}

/// A `status` answer with an empty body.
pub(crate) fn empty(status: StatusCode) -> ApiResult {
    Ok((status, Body::empty()).into_response())
}
