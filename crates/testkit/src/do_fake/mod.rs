//! A stateful, in-memory fake of the DigitalOcean API v2 (`/v2/…`) for the parts the
//! `compute-digitalocean` adapter uses, shaped after the official OpenAPI specification.
//!
//! Run it in-process with [`spawn`], or as a separate process with the `do-fake` binary, and
//! point `compute_digitalocean::DoConfig::with_base_url` at it. Every request needs
//! `Authorization: Bearer <token>`; answers carry `ratelimit-limit`, `ratelimit-remaining`,
//! `ratelimit-reset` and `x-request-id` headers, errors use DigitalOcean's
//! `{id, message}` body, lists paginate with `page`/`per_page` (≤ 200) and `links.pages`.
//!
//! Droplets are created `new` and become `active`, with a public IPv4, once their `create`
//! action completes; actions (`power_on`, `power_off`, `shutdown`, `reboot`, `power_cycle`,
//! `resize`, `snapshot`) answer `in-progress` and complete after the configured transition
//! delay (at once by default), changing the droplet when they do.
//!
//! Test hooks (same authentication, not rate limited):
//! - `GET /__fake/state`: every droplet (with its `user_data`), action, snapshot, key, tag,
//!   pending fault, the rate-limit window, the request log (`requests`, capped) and
//!   `provider_requests`, the count of API requests (hooks excluded);
//! - `POST /__fake/fail-next` `{path_contains, method?, status=500, count=1, body?, headers?,
//!   apply=false, delay_ms=0}`: the next `count` matching requests fail (`apply` runs the real
//!   handler first, which simulates a lost answer);
//! - `POST /__fake/fail-action` `{type, count=1}`: the next `count` actions of `type` end
//!   `errored`;
//! - `POST /__fake/rate-limit` `{remaining, reset_in_secs}`: sets the hourly window (at 0
//!   remaining, requests get `429 too_many_requests` until the reset);
//! - `POST /__fake/reset`: forgets everything.

mod catalog;
mod droplets;
mod resources;
mod world;

use std::future::{Future, IntoFuture};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, Uri, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use resources::fingerprint;
use world::{ActionFault, Fault, MAX_LOGGED_REQUESTS, RATE_LIMIT, RateWindow, World};

/// Settings of one fake.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct FakeConfig {
    /// The only token accepted.
    pub token: String,
    /// How long a droplet takes to become `active` and an action to complete; zero (the
    /// default) means at once.
    pub transition_delay: Duration,
    /// Region of droplets created without one (default `nyc1`).
    pub default_region: String,
    /// Log every request to stderr (the binary does; off by default).
    pub log_requests: bool,
}

impl FakeConfig {
    /// A fake accepting `token`, with instant transitions and region `nyc1`.
    pub fn new(token: impl Into<String>) -> Self {
        FakeConfig {
            token: token.into(),
            transition_delay: Duration::ZERO,
            default_region: "nyc1".into(),
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
        FakeState { shared: Arc::new(Shared { world: Mutex::new(World::default()), config }) }
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

    /// Changes the world.
    pub(crate) fn write<R>(&self, f: impl FnOnce(&mut World) -> R) -> R {
        f(&mut self.shared.world.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

/// A DigitalOcean-shaped error answer: `{id, message}`.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    id: &'static str,
    message: String,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, id: &'static str, message: impl Into<String>) -> Self {
        ApiError { status, id, message: message.into() }
    }

    /// 404 `not_found`, with the spec example's message.
    pub(crate) fn not_found() -> Self {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", "The resource you requested could not be found.")
    }

    /// 422 `unprocessable_entity`.
    pub(crate) fn unprocessable(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "unprocessable_entity", message)
    }

    /// 400 `bad_request`.
    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({"id": self.id, "message": self.message}))).into_response()
    }
}

/// What handlers return.
pub(crate) type ApiResult = Result<Response, ApiError>;

/// A JSON body; an empty body reads as `{}`. Unknown fields are refused (the fake is stricter
/// than DigitalOcean, so adapters cannot send fields nobody reads).
pub(crate) fn parse_body<T: DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    let bytes: &[u8] = if body.iter().all(u8::is_ascii_whitespace) { b"{}" } else { body };
    serde_json::from_slice(bytes).map_err(|e| ApiError::unprocessable(format!("invalid request body: {e}")))
}

/// The first value of `key` in a query.
pub(crate) fn query<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b':') {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// One page of `items` as `{key: […], links: {pages: {first, prev, next, last}}, meta: {total}}`
/// for `page`/`per_page` (default 20, at most 200); links are full URLs on the request's host.
pub(crate) fn paginate(
    items: Vec<Value>,
    key: &str,
    q: &[(String, String)],
    uri: &Uri,
    headers: &HeaderMap,
) -> Result<Value, ApiError> {
    let number = |name: &str, default: usize| -> Result<usize, ApiError> {
        query(q, name).map_or(Ok(default), |v| v.parse().map_err(|_| ApiError::bad_request(format!("invalid {name}"))))
    };
    let per_page = number("per_page", 20)?;
    let page = number("page", 1)?;
    if !(1..=200).contains(&per_page) || page == 0 {
        return Err(ApiError::bad_request("per_page must be 1–200 and page at least 1"));
    }
    let total = items.len();
    let last = total.div_ceil(per_page).max(1);
    let chunk: Vec<Value> = items.into_iter().skip((page - 1).saturating_mul(per_page)).take(per_page).collect();
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("api.digitalocean.com");
    let others: String = q
        .iter()
        .filter(|(k, _)| k != "page" && k != "per_page")
        .map(|(k, v)| format!("{}={}&", encode(k), encode(v)))
        .collect();
    let link = |n: usize| format!("http://{host}{}?{others}page={n}&per_page={per_page}", uri.path());
    let mut pages = serde_json::Map::new();
    if page > 1 {
        pages.insert("first".into(), json!(link(1)));
        pages.insert("prev".into(), json!(link(page - 1)));
    }
    if page < last {
        pages.insert("next".into(), json!(link(page + 1)));
        pages.insert("last".into(), json!(link(last)));
    }
    Ok(json!({key: chunk, "links": {"pages": pages}, "meta": {"total": total}}))
}

/// The whole API and the test hooks.
pub fn router(state: FakeState) -> Router {
    Router::new()
        .route("/v2/droplets", get(droplets::list).post(droplets::create).delete(droplets::destroy_by_tag))
        .route("/v2/droplets/{id}", get(droplets::get_one).delete(droplets::destroy))
        .route("/v2/droplets/{id}/actions", get(droplets::list_actions).post(droplets::post_action))
        .route("/v2/droplets/{id}/actions/{action_id}", get(droplets::get_droplet_action))
        .route("/v2/droplets/{id}/snapshots", get(droplets::droplet_snapshots))
        .route("/v2/actions/{action_id}", get(droplets::get_action))
        .route("/v2/snapshots", get(resources::list_snapshots))
        .route("/v2/snapshots/{id}", get(resources::get_snapshot).delete(resources::delete_snapshot))
        .route("/v2/account/keys", get(resources::list_keys).post(resources::create_key))
        .route(
            "/v2/account/keys/{key}",
            get(resources::get_key).put(resources::update_key).delete(resources::delete_key),
        )
        .route("/v2/tags", get(resources::list_tags).post(resources::create_tag))
        .route("/v2/tags/{tag}", get(resources::get_tag).delete(resources::delete_tag))
        .route("/v2/sizes", get(catalog::list_sizes))
        .route("/v2/regions", get(catalog::list_regions))
        .route("/v2/images", get(catalog::list_images))
        .route("/v2/images/{id}", get(catalog::get_image))
        .route("/__fake/state", get(hook_state))
        .route("/__fake/fail-next", post(hook_fail_next))
        .route("/__fake/fail-action", post(hook_fail_action))
        .route("/__fake/rate-limit", post(hook_rate_limit))
        .route("/__fake/reset", post(hook_reset))
        .fallback(|| async { ApiError::not_found() })
        .layer(middleware::from_fn_with_state(state.clone(), gatekeeper))
        .with_state(state)
}

fn authorized(state: &FakeState, req: &Request) -> bool {
    let expected = state.config().token.trim();
    let Some(value) = req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    value.strip_prefix("Bearer ").is_some_and(|t| !expected.is_empty() && t.trim() == expected)
}

/// What the gatekeeper decided before the handler runs.
enum Gate {
    Denied(Response),
    Fault(Fault),
    Pass,
}

/// Logs, authenticates, counts the rate limit, injects faults and stamps the headers.
async fn gatekeeper(State(state): State<FakeState>, req: Request, next: Next) -> Response {
    let method = req.method().to_string();
    let target = req.uri().path_and_query().map_or_else(|| req.uri().path().to_owned(), ToString::to_string);
    let is_hook = req.uri().path().starts_with("/__fake/");
    let ok = authorized(&state, &req);
    let (request_id, gate, window) = state.write(|w| {
        if w.requests.len() >= MAX_LOGGED_REQUESTS {
            w.requests.remove(0);
        }
        w.requests.push(format!("{method} {target}"));
        if !is_hook {
            w.provider_requests += 1;
        }
        let request_id = w.ids.request();
        let now = Utc::now().timestamp();
        if now >= w.rate.reset {
            w.rate = RateWindow::default();
        }
        let gate = if !ok {
            Gate::Denied(
                ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", "Unable to authenticate you.").into_response(),
            )
        } else if is_hook {
            Gate::Pass
        } else if w.rate.remaining == 0 {
            Gate::Denied(
                ApiError::new(StatusCode::TOO_MANY_REQUESTS, "too_many_requests", "API rate limit exceeded.")
                    .into_response(),
            )
        } else {
            w.rate.remaining -= 1;
            let hit = w.faults.iter_mut().find(|f| {
                f.count > 0
                    && target.contains(&f.path_contains)
                    && f.method.as_ref().is_none_or(|m| m.eq_ignore_ascii_case(&method))
            });
            let fault = hit.map(|f| {
                f.count -= 1;
                f.clone()
            });
            w.faults.retain(|f| f.count > 0);
            fault.map_or(Gate::Pass, Gate::Fault)
        };
        (request_id, gate, (w.rate.remaining, w.rate.reset))
    });
    let mut response = match gate {
        Gate::Denied(r) => r,
        Gate::Pass => next.run(req).await,
        Gate::Fault(f) => {
            if f.delay_ms > 0 {
                tokio::time::sleep(Duration::from_millis(f.delay_ms)).await;
            }
            if f.apply {
                drop(next.run(req).await);
            }
            let status = StatusCode::from_u16(f.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let body = f.body.unwrap_or_else(|| json!({"id": "server_error", "message": "injected fault"}));
            let mut r = (status, Json(body)).into_response();
            for (k, v) in &f.headers {
                if let (Ok(k), Ok(v)) = (HeaderName::from_bytes(k.as_bytes()), HeaderValue::from_str(v)) {
                    r.headers_mut().insert(k, v);
                }
            }
            r
        }
    };
    let h = response.headers_mut();
    for (name, value) in [
        ("ratelimit-limit", RATE_LIMIT.to_string()),
        ("ratelimit-remaining", window.0.to_string()),
        ("ratelimit-reset", window.1.to_string()),
        ("x-request-id", request_id),
    ] {
        if let Ok(v) = HeaderValue::from_str(&value) {
            h.entry(name).or_insert(v);
        }
    }
    if state.config().log_requests {
        eprintln!("do-fake: {method} {target} -> {}", response.status().as_u16());
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
    ok_json(json!({"ok": true}))
}

async fn hook_fail_action(State(state): State<FakeState>, body: Bytes) -> ApiResult {
    let fault: ActionFault = parse_body(&body)?;
    state.write(|w| w.action_faults.push(fault));
    ok_json(json!({"ok": true}))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RateHook {
    remaining: u64,
    #[serde(default = "hour")]
    reset_in_secs: i64,
}

fn hour() -> i64 {
    3600
}

async fn hook_rate_limit(State(state): State<FakeState>, body: Bytes) -> ApiResult {
    let hook: RateHook = parse_body(&body)?;
    state.write(|w| {
        w.rate = RateWindow { remaining: hook.remaining, reset: Utc::now().timestamp() + hook.reset_in_secs }
    });
    ok_json(json!({"ok": true}))
}

async fn hook_reset(State(state): State<FakeState>) -> Json<Value> {
    state.write(|w| *w = World::default());
    Json(json!({"ok": true}))
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
/// connections.
#[derive(Debug)]
pub struct RunningFake {
    addr: SocketAddr,
    state: FakeState,
    task: JoinHandle<std::io::Result<()>>,
}

impl RunningFake {
    /// `http://127.0.0.1:PORT`, the base URL to give the adapter (without `/v2`).
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

/// A `status` answer with `value` as its JSON body.
pub(crate) fn json_status(status: StatusCode, value: Value) -> ApiResult {
    Ok((status, Json(value)).into_response())
}

/// A `200` answer with `value` as its JSON body.
pub(crate) fn ok_json(value: Value) -> ApiResult {
    json_status(StatusCode::OK, value)
}

/// A `204` answer.
pub(crate) fn no_content() -> ApiResult {
    Ok((StatusCode::NO_CONTENT, Body::empty()).into_response())
}
