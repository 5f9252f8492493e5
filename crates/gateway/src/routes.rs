//! The route table: every route of the three API surfaces and the system routes, with its
//! price, its provider and how the caller authenticates. `llms.txt`, `openapi.json`,
//! `docs/API.md` and the router are all generated from it, so they cannot disagree.

use std::collections::BTreeMap;

use axum::Router;
use axum::http::Method;
use axum::routing::{MethodFilter, MethodRouter, on};
use compute_core::Usd;
use compute_core::provider::{ProviderHandle, ProviderId};
use serde::Serialize;

use crate::problem::Problem;
use crate::state::AppState;

/// Which API surface a route belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Surface {
    /// Free service routes: `/health`, `/llms.txt`, `/openapi.json`, `/`.
    System,
    /// TinyCompute, `/api/*`.
    TinyCompute,
    /// SiloVPS, `/v1/*`.
    SiloVps,
    /// x402Compute, `/compute/*`.
    X402Compute,
}

impl Surface {
    /// Display name.
    pub fn title(&self) -> &'static str {
        match self {
            Surface::System => "System",
            Surface::TinyCompute => "TinyCompute (/api)",
            Surface::SiloVps => "SiloVPS (/v1)",
            Surface::X402Compute => "x402Compute (/compute)",
        }
    }

    /// OpenAPI tag.
    pub fn tag(&self) -> &'static str {
        match self {
            Surface::System => "system",
            Surface::TinyCompute => "tinycompute",
            Surface::SiloVps => "silovps",
            Surface::X402Compute => "x402compute",
        }
    }
}

/// What a route costs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "mode", rename_all = "lowercase")]
pub enum Price {
    /// No payment.
    Free,
    /// A fixed USD price per call.
    Fixed {
        /// USD.
        usd: Usd,
    },
    /// Computed from the validated request (size, duration, market price); `formula` says how.
    Dynamic {
        /// Human-readable formula.
        formula: &'static str,
    },
}

impl Price {
    /// `$0.01`, `free` or `dynamic: …`.
    pub fn describe(&self) -> String {
        match self {
            Price::Free => "free".to_owned(),
            Price::Fixed { usd } => format!("${usd}"),
            Price::Dynamic { formula } => format!("dynamic: {formula}"),
        }
    }

    /// Whether a call is paid.
    pub fn is_paid(&self) -> bool {
        !matches!(self, Price::Free)
    }
}

/// How the caller proves who it is on a route (beyond paying).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Auth {
    /// Nobody needs to be identified.
    None,
    /// A wallet: the verified payer of the payment, or for free calls a zero-amount MPP proof
    /// credential, a wallet signature or an API key.
    Wallet,
}

/// One route.
#[derive(Clone, Debug, Serialize)]
pub struct RouteSpec {
    /// Surface.
    pub surface: Surface,
    /// HTTP method.
    #[serde(serialize_with = "ser_method")]
    pub method: Method,
    /// Path in `{param}` syntax, e.g. `/api/machines/{id}`.
    pub path: &'static str,
    /// One-line summary.
    pub summary: &'static str,
    /// Price.
    pub price: Price,
    /// Caller identification.
    pub auth: Auth,
    /// Provider the route needs, if any.
    pub provider: Option<ProviderId>,
    /// Example request body (JSON text), from the surface's published docs.
    pub example: Option<&'static str>,
    /// Whether this build has a handler for it (set by [`Route::served`]).
    pub served: bool,
}

fn ser_method<S: serde::Serializer>(m: &Method, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(m.as_str())
}

impl RouteSpec {
    /// A new route spec with no provider, no auth and no example.
    pub fn new(surface: Surface, method: Method, path: &'static str, summary: &'static str, price: Price) -> Self {
        RouteSpec {
            surface,
            method,
            path,
            summary,
            price,
            auth: Auth::None,
            provider: None,
            example: None,
            served: false,
        }
    }

    /// Needs `provider`.
    pub fn provider(mut self, p: ProviderId) -> Self {
        self.provider = Some(p);
        self
    }

    /// Identifies the caller's wallet.
    pub fn wallet(mut self) -> Self {
        self.auth = Auth::Wallet;
        self
    }

    /// Documents an example body.
    pub fn example(mut self, json: &'static str) -> Self {
        self.example = Some(json);
        self
    }

    /// Path parameters, in order.
    pub fn path_params(&self) -> Vec<&'static str> {
        self.path.split('/').filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}'))).collect()
    }
}

/// A route and, when this build serves it, its handler.
pub struct Route {
    /// The spec.
    pub spec: RouteSpec,
    /// The handler; `None` when this build does not serve the route yet.
    pub handler: Option<MethodRouter<AppState>>,
}

impl Route {
    /// A listed route this build does not serve yet.
    pub fn listed(spec: RouteSpec) -> Self {
        Route::new(spec, None)
    }

    /// A served route.
    pub fn served(spec: RouteSpec, handler: MethodRouter<AppState>) -> Self {
        Route::new(spec, Some(handler))
    }

    /// A route with the handler this build has for it, if any.
    pub fn new(mut spec: RouteSpec, handler: Option<MethodRouter<AppState>>) -> Self {
        spec.served = handler.is_some();
        Route { spec, handler }
    }
}

/// A `$` price literal from the published docs (parsed once when the table is built).
pub fn usd(s: &'static str) -> Price {
    Price::Fixed { usd: s.parse().unwrap_or(Usd::ZERO) }
}

/// Why a route cannot be served here, or `None` when it can.
pub fn unavailable_reason(providers: &BTreeMap<ProviderId, ProviderHandle>, spec: &RouteSpec) -> Option<String> {
    if let Some(p) = spec.provider
        && !providers.contains_key(&p)
    {
        return Some(format!("provider `{p}` is not enabled on this gateway"));
    }
    (!spec.served).then(|| "this route is not served by this gateway version yet".to_owned())
}

/// Every route of every surface, in display order.
pub fn all_routes() -> Vec<Route> {
    let mut v = crate::system::routes();
    v.extend(crate::surfaces::tinycompute::routes());
    v.extend(crate::surfaces::silovps::routes());
    v.extend(crate::surfaces::x402compute::routes());
    v
}

/// Builds the router: served routes get their handler, the others an honest 503 problem
/// (no challenge is issued for a route that cannot be delivered).
pub fn router(providers: &BTreeMap<ProviderId, ProviderHandle>, routes: Vec<Route>) -> Router<AppState> {
    let mut by_path: BTreeMap<&'static str, MethodRouter<AppState>> = BTreeMap::new();
    for Route { spec, handler } in routes {
        let reason = unavailable_reason(providers, &spec);
        let mr = match (reason, handler) {
            (None, Some(h)) => h,
            (reason, _) => {
                let reason = reason.unwrap_or_default();
                let filter = MethodFilter::try_from(spec.method.clone()).unwrap_or(MethodFilter::GET);
                on(filter, move || {
                    let reason = reason.clone();
                    async move {
                        Problem::new(axum::http::StatusCode::SERVICE_UNAVAILABLE, "unavailable", "Not available here")
                            .with_detail(reason)
                    }
                })
            }
        };
        let entry = by_path.remove(spec.path);
        by_path.insert(
            spec.path,
            match entry {
                Some(existing) => existing.merge(mr),
                None => mr,
            },
        );
    }
    by_path.into_iter().fold(Router::new(), |r, (path, mr)| r.route(path, mr))
}

/// Markdown tables of every route (surface, method, path, price, rails, auth, provider), the
/// generated part of `docs/API.md`.
pub fn api_markdown(routes: &[RouteSpec]) -> String {
    let mut out = String::new();
    for surface in [Surface::System, Surface::TinyCompute, Surface::SiloVps, Surface::X402Compute] {
        out.push_str(&format!("### {}\n\n", surface.title()));
        out.push_str("| Method | Path | Price (USD) | Rails | Caller | Provider | Summary |\n");
        out.push_str("|---|---|---|---|---|---|---|\n");
        for r in routes.iter().filter(|r| r.surface == surface) {
            let rails = if r.price.is_paid() { "MPP, x402, credits" } else { "—" };
            let caller = match r.auth {
                Auth::None => "anyone",
                Auth::Wallet => "wallet",
            };
            let provider = r.provider.map(|p| p.as_str()).unwrap_or("—");
            out.push_str(&format!(
                "| {} | `{}` | {} | {} | {} | {} | {} |\n",
                r.method,
                r.path,
                r.price.describe(),
                rails,
                caller,
                provider,
                r.summary
            ));
        }
        out.push('\n');
    }
    out
}
