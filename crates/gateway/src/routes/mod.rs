//! The route table: every route of the three API surfaces and the system routes, declared
//! once with its method, path, price rule (a price book item), the provider capability it
//! needs, how the caller authenticates, and its handler. The router ([`router`]), `llms.txt`,
//! `openapi.json` and the tables in `docs/API.md` ([`docs`]) are generated from it, so they
//! cannot disagree.
//!
//! - A handler receives a [`Call`]: the state, its own [`RouteSpec`], the path parameters,
//!   query, headers and body.
//! - A route whose provider or capability is absent answers 503 **before** any 402, from the
//!   router: no challenge is issued for what cannot be delivered.
//! - Every paid route's x402 `bazaar` discovery declaration comes from its entry ([`bazaar`]).

pub mod bazaar;
mod call;
pub mod docs;
mod router;

use std::future::Future;
use std::pin::Pin;

use axum::http::Method;
use axum::response::Response;
use compute_core::provider::{Capability, ProviderHandle, ProviderId};

pub use call::{Call, Metered};
pub use docs::{api_markdown, describe_price};
pub use router::router;

use crate::problem::Problem;

/// Which API surface a route belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
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
    /// Every surface, in display order.
    pub const ALL: [Surface; 4] = [Surface::System, Surface::TinyCompute, Surface::SiloVps, Surface::X402Compute];

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

/// What a route costs: a rule over the surface's price book.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PriceRule {
    /// No payment.
    Free,
    /// The book's fixed price of this operation.
    Fixed(&'static str),
    /// A metered item of the book, priced from the request (size × units, with the setup fee).
    Metered(&'static str),
    /// The same metered item bought again without the setup fee (start of a stopped machine,
    /// extension of prepaid time).
    Renewal(&'static str),
    /// Priced from the request by a rule outside the book (a market price, an amount bought).
    Quoted(&'static str),
}

impl PriceRule {
    /// Whether a call is paid.
    pub fn is_paid(&self) -> bool {
        !matches!(self, PriceRule::Free)
    }
}

/// How the caller proves who it is on a route, beyond paying.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Auth {
    /// Nobody needs to be identified.
    None,
    /// A wallet: the verified payer of a paid call, or, for free calls, any wallet
    /// authentication method (an MPP proof, signed `X-Auth-*` headers, an API key).
    Wallet,
    /// A wallet signature made for this request (an MPP proof or `X-Auth-*`); API keys are
    /// refused (creating and revoking API keys).
    Signature,
}

/// What a route needs from a provider.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Need {
    /// The provider the surface's contract names (TinyCompute's `/api/machines` is Fly).
    pub provider: ProviderId,
    /// The capability the handler calls.
    pub capability: Capability,
}

/// A route's handler: a plain `fn` so the table is data. Its future answers with the response
/// or with a problem.
pub type Handler = fn(Call) -> Pin<Box<dyn Future<Output = Result<Response, Problem>> + Send>>;

/// Turns an `async fn(Call) -> Result<Response, Problem>` path into a [`Handler`].
#[macro_export]
macro_rules! handler {
    ($f:path) => {{
        fn boxed(
            call: $crate::routes::Call,
        ) -> ::std::pin::Pin<
            Box<
                dyn ::std::future::Future<
                        Output = ::std::result::Result<::axum::response::Response, $crate::problem::Problem>,
                    > + Send,
            >,
        > {
            Box::pin($f(call))
        }
        boxed as $crate::routes::Handler
    }};
}

/// One route.
#[derive(Clone, Debug)]
pub struct RouteSpec {
    /// Surface.
    pub surface: Surface,
    /// HTTP method.
    pub method: Method,
    /// Path in `{param}` syntax, e.g. `/api/machines/{id}`.
    pub path: &'static str,
    /// One-line summary.
    pub summary: &'static str,
    /// The price book the price rule refers to (the surface's).
    pub book: &'static str,
    /// Price.
    pub price: PriceRule,
    /// Caller identification.
    pub auth: Auth,
    /// The provider capability the route needs, if any.
    pub needs: Option<Need>,
    /// Example request body (JSON text), from the surface's published docs.
    pub example: Option<&'static str>,
    /// The handler; `None` when this build lists the route but does not serve it.
    pub handler: Option<Handler>,
}

impl RouteSpec {
    /// `METHOD /path/{template}`.
    pub fn route(&self) -> String {
        format!("{} {}", self.method, self.path)
    }

    /// Path parameters, in order.
    pub fn path_params(&self) -> Vec<&'static str> {
        self.path.split('/').filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}'))).collect()
    }

    /// Needs `capability` of `provider`.
    pub fn needs(mut self, provider: ProviderId, capability: Capability) -> Self {
        self.needs = Some(Need { provider, capability });
        self
    }

    /// Identifies the caller's wallet.
    pub fn wallet(mut self) -> Self {
        self.auth = Auth::Wallet;
        self
    }

    /// Requires a wallet signature (no API key).
    pub fn signature(mut self) -> Self {
        self.auth = Auth::Signature;
        self
    }

    /// Documents an example body.
    pub fn example(mut self, json: &'static str) -> Self {
        self.example = Some(json);
        self
    }

    /// Served by `handler`.
    pub fn handler(mut self, handler: Handler) -> Self {
        self.handler = Some(handler);
        self
    }
}

impl AsRef<RouteSpec> for RouteSpec {
    fn as_ref(&self) -> &RouteSpec {
        self
    }
}

/// Declares a surface's routes against its price book.
#[derive(Clone, Copy, Debug)]
pub struct Routes {
    surface: Surface,
    book: &'static str,
}

impl Routes {
    /// Routes of `surface`, priced from `book`.
    pub fn new(surface: Surface, book: &'static str) -> Self {
        Routes { surface, book }
    }

    /// A route with no auth, capability, example or handler yet.
    pub fn route(&self, method: Method, path: &'static str, summary: &'static str, price: PriceRule) -> RouteSpec {
        RouteSpec {
            surface: self.surface,
            method,
            path,
            summary,
            book: self.book,
            price,
            auth: Auth::None,
            needs: None,
            example: None,
            handler: None,
        }
    }
}

/// Why a route cannot be served here, or `None` when it can.
pub fn unavailable_reason(
    providers: &std::collections::BTreeMap<ProviderId, ProviderHandle>,
    spec: &RouteSpec,
) -> Option<String> {
    if let Some(need) = spec.needs {
        match providers.get(&need.provider) {
            None => return Some(format!("provider `{}` is not enabled on this gateway", need.provider)),
            Some(h) if !h.has(need.capability) => {
                return Some(format!("provider `{}` has no `{}` capability", need.provider, need.capability));
            }
            Some(_) => {}
        }
    }
    spec.handler.is_none().then(|| "this route is not served by this gateway version yet".to_owned())
}

/// Every route of every surface, in display order.
pub fn all_routes() -> Vec<RouteSpec> {
    let mut v = crate::system::routes();
    v.extend(crate::surfaces::tinycompute::routes());
    v.extend(crate::surfaces::silovps::routes());
    v.extend(crate::surfaces::x402compute::routes());
    v
}
