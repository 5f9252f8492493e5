//! The shared HTTP retry, backoff and timeout policy for provider clients.
//!
//! Every provider adapter sends its requests through [`HttpClient::execute`], so the rules are
//! the same everywhere (modelled on `object_store`'s `client/retry.rs`):
//!
//! - connection errors are retried (the request never reached the server);
//! - `408 Request Timeout` and `429 Too Many Requests` are retried, honouring `Retry-After`
//!   (seconds or an HTTP date) when it fits the remaining budget;
//! - `5xx` answers are retried **only for idempotent requests**: a failed `POST` create may
//!   have created something, so the adapter reconciles (by name or metadata) instead;
//! - an attempt that times out is retried **only for idempotent requests**, for the same reason;
//! - every attempt has its own timeout ([`RetryPolicy::attempt_timeout`]) and the whole call a
//!   total budget ([`RetryPolicy::total_timeout`]); backoff is exponential with full jitter.
//!
//! Errors never contain the request URL (it may carry a token, e.g. Upstash's `?_token=`) nor
//! any header; tokens are passed as [`secrecy::SecretString`] and set with `bearer_auth`, which
//! marks the header sensitive.
//!
//! Every call runs inside a `tracing` span named [`PROVIDER_CALL_SPAN`] (fields `provider`,
//! `operation`, and `status` once known) and, when the client has a [`CallObserver`], is
//! reported to it once it ended ([`ProviderCall`]: provider, operation, final status, time
//! across retries), so an embedding service can count calls without any global state.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use http::StatusCode;
use rand::Rng;
use tracing::Instrument as _;

use crate::{Error, ErrorKind, Result};

pub use secrecy::{ExposeSecret, SecretString};

/// Retry and timeout settings shared by provider clients.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (default 3).
    pub max_retries: u32,
    /// First backoff before jitter (default 200 ms); doubles each retry.
    pub initial_backoff: Duration,
    /// Largest backoff and largest honoured `Retry-After` (default 10 s).
    pub max_backoff: Duration,
    /// Timeout of one attempt, up to the response headers (default 30 s).
    pub attempt_timeout: Duration,
    /// Budget for the whole call including backoff (default 90 s): no attempt starts after it.
    pub total_timeout: Duration,
    /// TCP + TLS connect timeout (default 5 s).
    pub connect_timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 3,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(10),
            attempt_timeout: Duration::from_secs(30),
            total_timeout: Duration::from_secs(90),
            connect_timeout: Duration::from_secs(5),
        }
    }
}

/// Whether sending a request twice has the same effect as sending it once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Idempotency {
    /// `GET`, `PUT` of a full state, `DELETE`, or a `POST` carrying an idempotency key.
    Idempotent,
    /// A `POST` that creates or mutates: retried only when it surely did not reach the server.
    NotIdempotent,
}

/// Maps an upstream HTTP status to an [`ErrorKind`] (the one place adapters use for it).
pub fn kind_for_status(status: StatusCode) -> ErrorKind {
    match status.as_u16() {
        400 | 422 => ErrorKind::InvalidInput,
        401 => ErrorKind::Unauthenticated,
        402 => ErrorKind::PaymentRequired,
        403 => ErrorKind::PermissionDenied,
        404 | 410 => ErrorKind::NotFound,
        408 | 504 => ErrorKind::Timeout,
        409 | 412 => ErrorKind::Conflict,
        429 => ErrorKind::RateLimited,
        503 => ErrorKind::Unavailable,
        _ => ErrorKind::Provider,
    }
}

/// Name of the `tracing` span around every call of [`HttpClient::execute`].
pub const PROVIDER_CALL_SPAN: &str = "provider_call";

/// How a provider call ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallStatus {
    /// The provider answered with this HTTP status (the final answer, after any retries).
    Answered(StatusCode),
    /// No answer: the request could not be sent or no attempt could connect.
    Error,
    /// No answer in time: the last attempt timed out.
    Timeout,
}

impl CallStatus {
    /// The status as a metric label: the HTTP status code (`"200"`), `"error"` or `"timeout"`.
    pub fn label(&self) -> Cow<'static, str> {
        match self {
            CallStatus::Answered(s) => Cow::Owned(s.as_u16().to_string()),
            CallStatus::Error => Cow::Borrowed("error"),
            CallStatus::Timeout => Cow::Borrowed("timeout"),
        }
    }
}

/// One finished provider call, as a [`CallObserver`] sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProviderCall {
    /// The client's component (`"fly"`, `"digitalocean"`, …).
    pub provider: &'static str,
    /// The adapter's name of the operation (`"create machine"`, …).
    pub operation: &'static str,
    /// The final status.
    pub status: CallStatus,
    /// Time from the first attempt to the final outcome, retries and backoff included (up to
    /// the answer's headers: reading the body is the adapter's).
    pub elapsed: Duration,
}

/// Receives every finished call of the [`HttpClient`]s it is given to (see
/// [`HttpClient::with_observer`]); called on the calling task, so it must not block.
pub trait CallObserver: Send + Sync {
    /// One call ended.
    fn observe(&self, call: &ProviderCall);
}

/// A `reqwest` client with the retry policy, a component name for errors (`"fly"`, …) and an
/// optional [`CallObserver`].
#[derive(Clone)]
pub struct HttpClient {
    inner: reqwest::Client,
    policy: RetryPolicy,
    component: &'static str,
    observer: Option<Arc<dyn CallObserver>>,
}

impl fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpClient")
            .field("component", &self.component)
            .field("policy", &self.policy)
            .field("observed", &self.observer.is_some())
            .finish_non_exhaustive()
    }
}

impl HttpClient {
    /// Builds a rustls client with the policy's connect timeout.
    ///
    /// # Errors
    /// [`ErrorKind::Config`] when the TLS backend cannot be initialised.
    pub fn new(component: &'static str, policy: RetryPolicy) -> Result<Self> {
        let inner = reqwest::Client::builder()
            .connect_timeout(policy.connect_timeout)
            .user_agent(concat!("compute-gateway/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| {
                Error::new(ErrorKind::Config, "cannot build HTTP client")
                    .with_component(component)
                    .with_source(e.without_url())
            })?;
        Ok(HttpClient { inner, policy, component, observer: None })
    }

    /// Reports every call of this client (and of its clones) to `observer`.
    pub fn with_observer(mut self, observer: Arc<dyn CallObserver>) -> Self {
        self.observer = Some(observer);
        self
    }

    /// As [`HttpClient::with_observer`] when `observer` is set, unchanged otherwise.
    pub fn with_optional_observer(self, observer: Option<Arc<dyn CallObserver>>) -> Self {
        match observer {
            Some(o) => self.with_observer(o),
            None => self,
        }
    }

    /// The underlying `reqwest` client, to build requests with.
    pub fn reqwest(&self) -> &reqwest::Client {
        &self.inner
    }

    /// The policy in force.
    pub fn policy(&self) -> &RetryPolicy {
        &self.policy
    }

    /// Sends `request` under the retry policy and returns the **final** response, whatever its
    /// status (the adapter parses error bodies itself, see [`kind_for_status`]). `operation`
    /// names the call in the [`PROVIDER_CALL_SPAN`] span and to the [`CallObserver`].
    ///
    /// # Errors
    /// - [`ErrorKind::Unavailable`] (temporary) when every attempt failed to connect;
    /// - [`ErrorKind::Timeout`] when an attempt timed out and was not (or no longer) retried;
    /// - [`ErrorKind::Internal`] when the request body cannot be cloned for a retry.
    ///
    /// The message says how many attempts were made and, for a non-idempotent request, why
    /// it was not retried.
    pub async fn execute(
        &self,
        operation: &'static str,
        request: reqwest::Request,
        idempotency: Idempotency,
    ) -> Result<reqwest::Response> {
        self.execute_with(operation, request, idempotency, &self.policy).await
    }

    /// As [`HttpClient::execute`] under another policy for this one call (e.g. a long-poll that
    /// needs a longer attempt timeout, or `max_retries: 0` for a call the adapter retries itself).
    ///
    /// # Errors
    /// As [`HttpClient::execute`].
    pub async fn execute_with(
        &self,
        operation: &'static str,
        request: reqwest::Request,
        idempotency: Idempotency,
        policy: &RetryPolicy,
    ) -> Result<reqwest::Response> {
        let span = tracing::info_span!(
            PROVIDER_CALL_SPAN,
            provider = self.component,
            operation,
            status = tracing::field::Empty
        );
        let started = tokio::time::Instant::now();
        let result = self.attempts(request, idempotency, policy, started).instrument(span.clone()).await;
        let status = match &result {
            Ok(resp) => CallStatus::Answered(resp.status()),
            Err(e) if e.kind() == ErrorKind::Timeout => CallStatus::Timeout,
            Err(_) => CallStatus::Error,
        };
        span.record("status", status.label().as_ref());
        if let Some(observer) = &self.observer {
            let call = ProviderCall { provider: self.component, operation, status, elapsed: started.elapsed() };
            observer.observe(&call);
        }
        result
    }

    /// The retry loop of [`HttpClient::execute_with`], started at `started`.
    async fn attempts(
        &self,
        request: reqwest::Request,
        idempotency: Idempotency,
        policy: &RetryPolicy,
        started: tokio::time::Instant,
    ) -> Result<reqwest::Response> {
        let deadline = started + policy.total_timeout;
        let mut attempt: u32 = 0;
        loop {
            let this =
                request.try_clone().ok_or_else(|| self.err(ErrorKind::Internal, "request body cannot be retried"))?;
            let outcome = tokio::time::timeout(policy.attempt_timeout, self.inner.execute(this)).await;
            let retries_left = attempt < policy.max_retries;
            let (retry, hint, failure) = match outcome {
                Ok(Ok(resp)) => {
                    let status = resp.status();
                    let retry = match status.as_u16() {
                        408 | 429 => true,
                        s if s >= 500 => idempotency == Idempotency::Idempotent,
                        _ => false,
                    };
                    if !retry || !retries_left {
                        return Ok(resp);
                    }
                    (true, retry_after(&resp), None)
                }
                Ok(Err(e)) if e.is_connect() => {
                    (true, None, Some(self.err(ErrorKind::Unavailable, "cannot connect").with_source(e.without_url())))
                }
                Ok(Err(e)) if e.is_timeout() => (
                    idempotency == Idempotency::Idempotent,
                    None,
                    Some(self.err(ErrorKind::Timeout, "request timed out").with_source(e.without_url())),
                ),
                Ok(Err(e)) => {
                    (false, None, Some(self.err(ErrorKind::Provider, "request failed").with_source(e.without_url())))
                }
                Err(_) => (
                    idempotency == Idempotency::Idempotent,
                    None,
                    Some(self.err(ErrorKind::Timeout, format!("no response within {:?}", policy.attempt_timeout))),
                ),
            };
            let attempts = attempt + 1;
            if !retry || !retries_left {
                let mut e =
                    failure.unwrap_or_else(|| self.err(ErrorKind::Internal, "retry loop ended without outcome"));
                let why = if !retry && idempotency == Idempotency::NotIdempotent {
                    "; not retried because the request is not idempotent"
                } else {
                    ""
                };
                let message = format!("{} after {attempts} attempt(s){why}", e.message());
                *e.message_mut() = message;
                return Err(e);
            }
            let delay = hint.unwrap_or_else(|| self.backoff(attempt, policy)).min(policy.max_backoff);
            if tokio::time::Instant::now() + delay >= deadline {
                let e = failure.unwrap_or_else(|| self.err(ErrorKind::Timeout, "retry budget exhausted"));
                return Err(e.with_temporary(true));
            }
            tracing::debug!(component = self.component, attempt = attempts, ?delay, "retrying provider request");
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }

    fn backoff(&self, attempt: u32, policy: &RetryPolicy) -> Duration {
        let cap = policy
            .initial_backoff
            .saturating_mul(1u32.checked_shl(attempt).unwrap_or(u32::MAX))
            .min(policy.max_backoff);
        let millis = u64::try_from(cap.as_millis()).unwrap_or(u64::MAX);
        Duration::from_millis(rand::rng().random_range(0..=millis))
    }

    fn err(&self, kind: ErrorKind, msg: impl Into<String>) -> Error {
        Error::new(kind, msg).with_component(self.component)
    }
}

/// Reads `Retry-After` as delta-seconds or an HTTP date.
fn retry_after(resp: &reqwest::Response) -> Option<Duration> {
    let v = resp.headers().get(http::header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(v).ok()?;
    Some(when.duration_since(SystemTime::now()).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests;
