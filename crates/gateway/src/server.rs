//! The HTTP server: router, middleware (body limit, timeout, CORS, problem+json for every
//! error, tracing) and graceful shutdown.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::Router;
use axum::body::to_bytes;
use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderName, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use secrecy::ExposeSecret;
use tower::ServiceBuilder;
use tower_http::cors::{Any, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::config::{Config, ConfigError};
use crate::problem::{PROBLEM_JSON, Problem};
use crate::routes::{PriceRule, router};
use crate::state::AppState;

/// Headers a browser-based agent must be able to read.
pub const EXPOSED_HEADERS: [&str; 6] = [
    "www-authenticate",
    "payment-receipt",
    "payment-required",
    "payment-response",
    "x-payment-response",
    crate::system::request_id::REQUEST_ID_HEADER,
];

/// How often unknown settlements are reconciled.
const RECONCILE_EVERY: Duration = Duration::from_secs(15);

/// How often interrupted payments are looked for (also once at start-up).
const RECOVERY_EVERY: Duration = Duration::from_secs(15);

/// How often expired markers, idempotency keys and leases are purged.
const MAINTENANCE_EVERY: Duration = Duration::from_secs(300);

/// Largest error body carried over into a problem's `detail`.
const MAX_DETAIL_BYTES: usize = 4096;

/// Builds the state and the app for `config` over an opened, migrated store.
///
/// # Errors
/// [`ConfigError`] when a configured provider cannot be built.
pub fn app(config: Config, store: compute_store::Store) -> Result<Router, ConfigError> {
    let state = state(config, store)?;
    Ok(app_with_state(state))
}

/// Builds the application state: providers, rails and wallet-authentication methods from
/// configuration (the composition point), price books, and a check that every route's price
/// is in its book.
///
/// # Errors
/// [`ConfigError`] when a configured provider or rail cannot be built, a price book cannot be
/// read, or a route's price is missing from its book.
pub fn state(config: Config, store: compute_store::Store) -> Result<AppState, ConfigError> {
    let composed = crate::compose::compose(&config, &store)?;
    let books = crate::pricing::books(&config)?;
    let state = AppState::from_composed(config, store, composed, books);
    check_prices(&state)?;
    Ok(state)
}

/// Every route's price rule names an item its book has.
fn check_prices(state: &AppState) -> Result<(), ConfigError> {
    let books = state.books();
    for spec in state.routes() {
        let found = match spec.price {
            PriceRule::Fixed(item) => books.fixed(spec.book, item).map(drop),
            PriceRule::Metered(item) | PriceRule::Renewal(item) => books.metered(spec.book, item).map(drop),
            PriceRule::Free | PriceRule::Quoted(_) => Ok(()),
        };
        found.map_err(|e| ConfigError(format!("pricing: {} needs {}", spec.route(), e.message())))?;
    }
    Ok(())
}

/// The app over a built state: the route table's router inside one shared middleware stack.
///
/// The middleware wraps the finished router as a single service (the app's fallback service)
/// rather than being layered onto every route: axum clones a router's routes for every
/// connection (`with_state` per accepted stream) and a route's layers for every request, so
/// per-route CORS, tracing, timeout and body-limit stacks cost memory per connection and
/// allocations per request (`cargo xtask bench`: the 1,000-connection memory peak).
pub fn app_with_state(state: AppState) -> Router {
    let routes = router(state.providers(), state.routes())
        .fallback(not_found)
        .layer(middleware::from_fn(record_route))
        .with_state(state.clone());
    let server = &state.config().server;
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE, Method::OPTIONS])
        .allow_headers(Any)
        .expose_headers(EXPOSED_HEADERS.map(HeaderName::from_static));
    // Outermost first: request ids, tracing and CORS outside everything; the problem+json
    // rewrite outside the timeout and the body limit so their bare answers are rewritten too.
    let app = ServiceBuilder::new()
        .layer(middleware::from_fn(crate::system::request_id::with_request_id))
        .layer(TraceLayer::new_for_http())
        .layer(cors)
        .layer(middleware::from_fn_with_state(state.clone(), count_requests))
        .layer(middleware::from_fn(problems_for_bare_errors))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            Duration::from_secs(server.request_timeout_secs),
        ))
        // The timeout answers with an empty body of its inner body type: make it axum's.
        .map_response(IntoResponse::into_response)
        .layer(RequestBodyLimitLayer::new(server.body_limit_bytes))
        .service(routes);
    Router::new().fallback_service(app)
}

/// Where the router writes the matched route template for [`count_requests`], which runs
/// outside the router.
#[derive(Clone, Default)]
struct MatchedRoute(Arc<OnceLock<MatchedPath>>);

/// Inside the router: records the matched route template (none for unknown paths).
async fn record_route(req: Request, next: Next) -> Response {
    if let (Some(slot), Some(path)) = (req.extensions().get::<MatchedRoute>(), req.extensions().get::<MatchedPath>()) {
        let _ = slot.0.set(path.clone());
    }
    next.run(req).await
}

/// Counts every answer by its route template (`unmatched` for unknown paths), method and status.
async fn count_requests(
    axum::extract::State(state): axum::extract::State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let slot = MatchedRoute::default();
    req.extensions_mut().insert(slot.clone());
    let method = req.method().clone();
    let started = std::time::Instant::now();
    let resp = next.run(req).await;
    let route = slot.0.get().map_or("unmatched", MatchedPath::as_str);
    state.metrics().request(route, method.as_str(), resp.status().as_u16(), started.elapsed());
    resp
}

async fn not_found(method: Method, uri: axum::http::Uri) -> Problem {
    Problem::from_status(StatusCode::NOT_FOUND).with_detail(format!("no route for {method} {}", uri.path()))
}

/// Turns any error response that is not already problem+json (body-limit 413, timeout 503,
/// axum's extractor rejections, 405) into RFC 9457 problem details, keeping its text as `detail`.
async fn problems_for_bare_errors(req: Request, next: Next) -> Response {
    let resp = next.run(req).await;
    let status = resp.status();
    let is_problem =
        resp.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(PROBLEM_JSON.as_bytes()));
    if !(status.is_client_error() || status.is_server_error()) || is_problem {
        return resp;
    }
    let (parts, body) = resp.into_parts();
    let text = to_bytes(body, MAX_DETAIL_BYTES)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
        .unwrap_or_default();
    let mut problem = Problem::from_status(status);
    if !text.is_empty() {
        problem = problem.with_detail(text);
    } else if status == StatusCode::SERVICE_UNAVAILABLE {
        problem = problem.with_detail("the request took longer than the gateway's per-request timeout");
    }
    let mut out = problem.into_response();
    for name in [header::ALLOW, header::RETRY_AFTER] {
        if let Some(v) = parts.headers.get(&name) {
            out.headers_mut().insert(name, v.clone());
        }
    }
    out
}

/// Opens the database (creating the SQLite file on first start) and applies migrations.
///
/// # Errors
/// Database errors as text.
pub async fn open_store(config: &Config) -> Result<compute_store::Store, String> {
    let url = config.database_url();
    let store = compute_store::Store::connect(url.expose_secret()).await.map_err(|e| e.to_string())?;
    store.migrate().await.map_err(|e| e.to_string())?;
    Ok(store)
}

/// Why `serve` stopped early.
#[derive(Debug)]
pub enum ServeError {
    /// The configuration is invalid (exit code 2).
    Config(ConfigError),
    /// Anything else at start-up: database, bind.
    Startup(String),
}

impl std::fmt::Display for ServeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ServeError::Config(e) => write!(f, "configuration error: {e}"),
            ServeError::Startup(e) => f.write_str(e),
        }
    }
}

/// Runs the gateway until SIGINT or SIGTERM, then drains in-flight requests.
///
/// # Errors
/// Start-up failures: [`ServeError::Config`] for the configuration, otherwise
/// [`ServeError::Startup`] (database, bind).
pub async fn serve(config: Config) -> Result<(), ServeError> {
    let store = open_store(&config).await.map_err(ServeError::Startup)?;
    let listen = config.server.listen;
    let grace = Duration::from_secs(config.server.shutdown_grace_secs);
    let backend = store.backend();
    let state = state(config, store).map_err(ServeError::Config)?;
    use crate::services::periodic::spawn;
    let workers =
        [
            spawn("reconcile", state.clone(), RECONCILE_EVERY, |s| async move {
                crate::payments::reconcile::run_once(&s).await
            }),
            spawn("recovery", state.clone(), RECOVERY_EVERY, |s| async move {
                crate::payments::recovery::run_once(&s).await
            }),
            spawn("expiry", state.clone(), state.config().expiry.interval(), |s| async move {
                crate::services::expiry::run_once(&s).await
            }),
            spawn("maintenance", state.clone(), MAINTENANCE_EVERY, |s| async move {
                crate::services::maintenance::run_once(&s).await
            }),
        ];
    let app = app_with_state(state);
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| ServeError::Startup(format!("cannot listen on {listen}: {e}")))?;
    tracing::info!(%listen, database = backend.as_str(), "compute-gateway listening");
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        shutdown_signal().await;
        tracing::info!(?grace, "shutting down; draining in-flight requests");
        let _ = tx.send(());
    });
    let drained = async move {
        let _ = rx.await;
        tokio::time::sleep(grace).await;
    };
    let result = tokio::select! {
        res = server => res.map_err(|e| ServeError::Startup(e.to_string())),
        () = drained => {
            tracing::warn!("grace period over; exiting with requests still in flight");
            Ok(())
        }
    };
    for w in workers {
        w.abort();
    }
    result
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
