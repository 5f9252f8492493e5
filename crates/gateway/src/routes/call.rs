//! [`Call`]: one request as a handler sees it, with the helpers every handler shares (body and
//! query parsing, the route's provider, its quote, paying, wallet authentication).

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use compute_core::WalletAddress;
use compute_core::billing::{Quote, QuoteRequest};
use compute_core::provider::{ProviderCost, ProviderHandle};
use serde::de::DeserializeOwned;

use super::{PriceRule, RouteSpec};
use crate::payments::flow::{self, ActResult, Payer, Terms};
use crate::problem::Problem;
use crate::state::AppState;

/// A purchase of a metered item of the route's book.
#[derive(Clone, Copy, Debug)]
pub struct Metered<'a> {
    /// The item.
    pub item: &'a str,
    /// Whether the setup fee is charged.
    pub setup: bool,
    /// The size key (or label, or `gb` for a per-GB item).
    pub size: &'a str,
    /// Units of time bought.
    pub units: u64,
    /// How many of the size (GB of a volume; 1 otherwise).
    pub quantity: u64,
    /// Provider cost of one of the size, for cost-plus-margin items.
    pub cost: Option<ProviderCost>,
}

/// A request on its way through a route's handler.
#[derive(Clone)]
pub struct Call {
    /// The application state.
    pub state: AppState,
    /// The route being served.
    pub spec: Arc<RouteSpec>,
    /// The request path as sent (no query), e.g. `/api/machines/abc/exec`.
    pub path: String,
    /// Path parameters by name.
    pub params: BTreeMap<String, String>,
    /// The raw query string.
    pub query: Option<String>,
    /// Request headers.
    pub headers: HeaderMap,
    /// The raw body.
    pub body: Bytes,
}

fn invalid(title: &str, detail: String) -> Problem {
    Problem::new(StatusCode::BAD_REQUEST, "invalid_input", title).with_detail(detail)
}

impl Call {
    /// The path parameter `name` (the router only calls a handler with its parameters).
    pub fn param(&self, name: &str) -> &str {
        self.params.get(name).map(String::as_str).unwrap_or_default()
    }

    /// The JSON body as `T`; an empty body reads as `{}`.
    ///
    /// # Errors
    /// A 400 problem naming what does not parse (unknown fields included).
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, Problem> {
        let bytes: &[u8] = if self.body.iter().all(u8::is_ascii_whitespace) { b"{}" } else { &self.body };
        serde_json::from_slice(bytes).map_err(|e| invalid("Invalid request body", format!("body: {e}")))
    }

    /// The query string as `T`.
    ///
    /// # Errors
    /// A 400 problem naming what does not parse.
    pub fn query<T: DeserializeOwned>(&self) -> Result<T, Problem> {
        serde_urlencoded::from_str(self.query.as_deref().unwrap_or_default())
            .map_err(|e| invalid("Invalid query", format!("query: {e}")))
    }

    /// The provider the route needs (present: the router answers 503 otherwise).
    ///
    /// # Errors
    /// 503 when the route declares no provider or it is not enabled.
    pub fn provider(&self) -> Result<ProviderHandle, Problem> {
        self.spec.needs.and_then(|n| self.state.providers().get(&n.provider).cloned()).ok_or_else(|| {
            Problem::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "Not available here")
                .with_detail("this route's provider is not enabled")
        })
    }

    /// The quote of a fixed-price route: its book price, through billing.
    ///
    /// # Errors
    /// 500 when the route is not fixed-price or its book lacks the item.
    pub fn fixed_quote(&self) -> Result<Quote, Problem> {
        let PriceRule::Fixed(item) = self.spec.price else {
            return Err(Problem::from(compute_core::Error::new(
                compute_core::ErrorKind::Internal,
                format!("{} has no fixed price", self.spec.route()),
            )));
        };
        self.fixed_quote_of(item)
    }

    /// The quote of fixed-price `item` of the route's book (a handler that picks the item
    /// from the request, e.g. by IP kind).
    ///
    /// # Errors
    /// 500 when the book has no such item.
    pub fn fixed_quote_of(&self, item: &str) -> Result<Quote, Problem> {
        self.quote(&QuoteRequest::ListedFixed { book: self.spec.book.to_owned(), item: item.to_owned() })
    }

    /// The quote of `units` of `size` under the route's metered item (with the setup fee) or
    /// renewal (without it); `cost` is the size's provider cost for books that sell unlisted
    /// sizes at cost plus margin.
    ///
    /// # Errors
    /// 400 for a size or duration the book does not sell; 500 when the route is not metered.
    pub fn metered_quote(&self, size: &str, units: u64, cost: Option<ProviderCost>) -> Result<Quote, Problem> {
        let (item, setup) = self.metered_item()?;
        self.quote_metered(&Metered { item, setup, size, units, quantity: 1, cost })
    }

    /// The quote of a metered item of the route's book (an item the handler picks, e.g. by
    /// the request's IP kind).
    ///
    /// # Errors
    /// 400 for a size or duration the book does not sell; 500 when the item is missing.
    pub fn quote_metered(&self, m: &Metered<'_>) -> Result<Quote, Problem> {
        self.quote(&QuoteRequest::ListedMetered {
            book: self.spec.book.to_owned(),
            item: m.item.to_owned(),
            size: m.size.to_owned(),
            units: m.units,
            quantity: m.quantity,
            setup: m.setup,
            cost: m.cost,
        })
    }

    /// The route's metered item and whether it charges the setup fee.
    ///
    /// # Errors
    /// 500 when the route is not metered.
    pub fn metered_item(&self) -> Result<(&'static str, bool), Problem> {
        match self.spec.price {
            PriceRule::Metered(item) => Ok((item, true)),
            PriceRule::Renewal(item) => Ok((item, false)),
            _ => Err(Problem::from(compute_core::Error::new(
                compute_core::ErrorKind::Internal,
                format!("{} is not metered", self.spec.route()),
            ))),
        }
    }

    /// The units a request buys under the route's metered item: `requested` or the book's
    /// default, within the book's bounds.
    ///
    /// # Errors
    /// 400 naming `field` when out of bounds.
    pub fn units(&self, requested: Option<u64>, field: &str) -> Result<u64, Problem> {
        let (item, _) = self.metered_item()?;
        self.units_of(item, requested, field)
    }

    /// As [`Call::units`] for metered `item` of the route's book.
    ///
    /// # Errors
    /// 400 naming `field` when out of bounds; 500 when the item is missing.
    pub fn units_of(&self, item: &str, requested: Option<u64>, field: &str) -> Result<u64, Problem> {
        Ok(self.state.books().metered(self.spec.book, item)?.units(requested, field)?)
    }

    /// How long `units` of the route's metered item last.
    ///
    /// # Errors
    /// 500 when the route is not metered.
    pub fn paid_time(&self, units: u64) -> Result<std::time::Duration, Problem> {
        let (item, _) = self.metered_item()?;
        self.paid_time_of(item, units)
    }

    /// As [`Call::paid_time`] for metered `item` of the route's book.
    ///
    /// # Errors
    /// 500 when the item is missing.
    pub fn paid_time_of(&self, item: &str, units: u64) -> Result<std::time::Duration, Problem> {
        let unit = self.state.books().metered(self.spec.book, item)?.unit;
        Ok(std::time::Duration::from_secs(unit.minutes().saturating_mul(units).saturating_mul(60)))
    }

    fn quote(&self, request: &QuoteRequest) -> Result<Quote, Problem> {
        Ok(self.state.billing().quote(request)?)
    }

    /// The absolute URL of this request (x402 `resource`, MPP challenges).
    pub fn resource_url(&self) -> String {
        format!("{}{}", self.state.config().server.public_base(), self.path)
    }

    /// Pays `quote` for this request, then runs `act` for the verified payer (see
    /// [`flow::run`]).
    pub async fn pay<F, Fut>(&self, quote: Quote, act: F) -> Response
    where
        F: FnOnce(Payer) -> Fut + Send + 'static,
        Fut: Future<Output = ActResult> + Send + 'static,
    {
        flow::run(self, Terms::fixed(quote), act).await
    }

    /// Pays under `terms` (a price for the verified payer, a check before settlement), then
    /// runs `act` (see [`flow::run`]).
    pub async fn pay_terms<F, Fut>(&self, terms: Terms, act: F) -> Response
    where
        F: FnOnce(Payer) -> Fut + Send + 'static,
        Fut: Future<Output = ActResult> + Send + 'static,
    {
        flow::run(self, terms, act).await
    }

    /// Pays the route's fixed price, then runs `act` for the verified payer.
    ///
    /// # Errors
    /// 500 when the route has no fixed price in its book.
    pub async fn pay_fixed<F, Fut>(&self, act: F) -> Result<Response, Problem>
    where
        F: FnOnce(Payer) -> Fut + Send + 'static,
        Fut: Future<Output = ActResult> + Send + 'static,
    {
        let quote = self.fixed_quote()?;
        Ok(self.pay(quote, act).await)
    }

    /// The wallet behind a free call (see [`crate::auth::authenticate`]).
    ///
    /// # Errors
    /// The response to send instead: a 402 with proof challenges, 401 or 403.
    pub async fn wallet(&self) -> Result<WalletAddress, Response> {
        crate::auth::authenticate(self).await
    }
}
