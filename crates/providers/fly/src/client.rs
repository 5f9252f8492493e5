//! [`FlyClient`]: request building, sending through the shared retry policy, and
//! [`parse_error`], the one place Fly error answers become [`compute_core::Error`]s.

use std::fmt;
use std::time::Duration;

use compute_core::http::{ExposeSecret, HttpClient, Idempotency, RetryPolicy, kind_for_status};
use compute_core::provider::Tenant;
use compute_core::{Error, ErrorKind, Result};
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use http::{HeaderValue, Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use url::Url;

use crate::COMPONENT;
use crate::config::FlyConfig;
use crate::types::ErrorBody;

/// Extra time given to calls that wait on purpose (`wait` long-polls of up to 60 s, `exec` of
/// up to 60 s) on top of the policy's per-attempt and total timeouts. Those calls are sent
/// without automatic retries: `wait` loops by itself, and `exec` must never run twice.
pub const LONG_CALL_SLACK: Duration = Duration::from_secs(65);

/// Longest error text from Fly kept in an error message.
const MAX_ERROR_TEXT: usize = 512;

/// A typed client for the Fly Machines API (`/v1/...`).
///
/// Every request goes through [`HttpClient::execute`] with an explicit [`Idempotency`]:
/// reads, deletes and state-setting calls are idempotent; creates, restarts and `exec` are not,
/// and a create is reconciled by name instead of being retried (see
/// [`FlyClient::create_machine`]). Path segments (app names, machine and volume
/// ids) are percent-encoded, so an id can never reach another API path.
#[derive(Clone)]
pub struct FlyClient {
    http: HttpClient,
    long_http: HttpClient,
    base: Url,
    auth: HeaderValue,
    org_slug: String,
    app_prefix: String,
}

impl fmt::Debug for FlyClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FlyClient")
            .field("base", &self.base.as_str())
            .field("org_slug", &self.org_slug)
            .field("app_prefix", &self.app_prefix)
            .field("policy", self.http.policy())
            .finish_non_exhaustive()
    }
}

/// An HTTP answer read in full: status, body and Fly's request id.
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    body: Vec<u8>,
    request_id: Option<String>,
    op: &'static str,
}

impl Reply {
    /// Whether the status is 2xx.
    pub(crate) fn is_success(&self) -> bool {
        self.status.is_success()
    }

    /// The error this answer stands for (see [`parse_error`]).
    pub(crate) fn error(&self) -> Error {
        let e = parse_error(self.op, self.status, &self.body);
        match &self.request_id {
            Some(id) => {
                let kind = e.kind();
                let temporary = e.is_temporary();
                Error::new(kind, format!("{} [fly-request-id {id}]", e.message()))
                    .with_temporary(temporary)
                    .with_component(COMPONENT)
            }
            None => e,
        }
    }

    /// Fly's `status` code in the error body, if any.
    pub(crate) fn fly_status(&self) -> Option<String> {
        serde_json::from_slice::<ErrorBody>(&self.body).ok().and_then(|b| b.status)
    }

    /// Decodes a successful answer, or returns the error it stands for.
    pub(crate) fn json<T: DeserializeOwned>(self) -> Result<T> {
        if !self.is_success() {
            return Err(self.error());
        }
        serde_json::from_slice(&self.body).map_err(|e| {
            Error::new(ErrorKind::Provider, format!("{}: cannot decode Fly's answer: {e}", self.op))
                .with_component(COMPONENT)
        })
    }

    /// A successful answer as JSON (`null` for an empty body), or the error it stands for.
    pub(crate) fn value(self) -> Result<serde_json::Value> {
        if self.is_success() && self.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(serde_json::Value::Null);
        }
        self.json()
    }

    /// Succeeds on 2xx whatever the body.
    pub(crate) fn done(self) -> Result<()> {
        if self.is_success() { Ok(()) } else { Err(self.error()) }
    }
}

impl FlyClient {
    /// Builds a client from `config` (no network call).
    ///
    /// # Errors
    /// [`ErrorKind::Config`] when the configuration is invalid (see [`FlyConfig::validate`]),
    /// the token is empty or not a valid header value, or the HTTP client cannot be built.
    pub fn new(config: &FlyConfig) -> Result<Self> {
        config.validate()?;
        let base = Url::parse(&config.base_url).map_err(|e| {
            Error::new(ErrorKind::Config, format!("invalid fly base_url: {e}")).with_component(COMPONENT)
        })?;
        let token = config.token.expose_secret().trim();
        if token.is_empty() {
            return Err(Error::new(ErrorKind::Config, "fly token is empty").with_component(COMPONENT));
        }
        let value = if token.starts_with("FlyV1 ") { token.to_owned() } else { format!("Bearer {token}") };
        let mut auth = HeaderValue::from_str(&value).map_err(|_| {
            Error::new(ErrorKind::Config, "fly token contains characters not allowed in an HTTP header")
                .with_component(COMPONENT)
        })?;
        auth.set_sensitive(true);
        let long_policy = RetryPolicy {
            max_retries: 0,
            attempt_timeout: config.retry.attempt_timeout.saturating_add(LONG_CALL_SLACK),
            total_timeout: config.retry.total_timeout.saturating_add(LONG_CALL_SLACK),
            ..config.retry.clone()
        };
        Ok(FlyClient {
            http: HttpClient::new(COMPONENT, config.retry.clone())?.with_optional_observer(config.observer.clone()),
            long_http: HttpClient::new(COMPONENT, long_policy)?.with_optional_observer(config.observer.clone()),
            base,
            auth,
            org_slug: config.org_slug.clone(),
            app_prefix: config.app_prefix.clone().unwrap_or_default(),
        })
    }

    /// The retry policy of ordinary calls.
    pub fn policy(&self) -> &RetryPolicy {
        self.http.policy()
    }

    /// The organisation new apps are created in.
    pub fn org_slug(&self) -> &str {
        &self.org_slug
    }

    /// The Fly app that holds `tenant`'s resources: the configured prefix plus the tenant name.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] when the result is longer than 63 characters.
    pub fn app_name(&self, tenant: &Tenant) -> Result<String> {
        let name = format!("{}{}", self.app_prefix, tenant.as_str());
        if name.len() > 63 {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!("fly app name {name:?} is longer than 63 characters"),
            )
            .with_component(COMPONENT));
        }
        Ok(name)
    }

    /// `{base}/v1/{segments…}?{query}`, each segment percent-encoded.
    pub(crate) fn url_query(&self, segments: &[&str], query: &[(&str, &str)]) -> Result<Url> {
        let mut url = self.url(segments)?;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        Ok(url)
    }

    /// `{base}/v1/{segments…}`, each segment percent-encoded.
    pub(crate) fn url(&self, segments: &[&str]) -> Result<Url> {
        let mut url = self.base.clone();
        {
            let mut path = url.path_segments_mut().map_err(|()| {
                Error::new(ErrorKind::Config, "fly base_url cannot be a base").with_component(COMPONENT)
            })?;
            path.pop_if_empty().push("v1");
            for s in segments {
                if s.is_empty() || *s == "." || *s == ".." {
                    return Err(
                        Error::new(ErrorKind::InvalidInput, format!("invalid fly id {s:?}")).with_component(COMPONENT)
                    );
                }
                path.push(s);
            }
        }
        Ok(url)
    }

    /// Sends one request and reads the whole answer. `long` selects the policy with
    /// [`LONG_CALL_SLACK`] for calls that wait on purpose.
    pub(crate) async fn send(
        &self,
        op: &'static str,
        method: Method,
        url: Url,
        body: Option<&(dyn ErasedSerialize + Sync)>,
        idempotency: Idempotency,
        long: bool,
    ) -> Result<Reply> {
        let client = if long { &self.long_http } else { &self.http };
        let mut builder = client
            .reqwest()
            .request(method.clone(), url.clone())
            .header(AUTHORIZATION, self.auth.clone())
            .header(ACCEPT, "application/json");
        if let Some(body) = body {
            let bytes = body.to_json().map_err(|e| {
                Error::new(ErrorKind::Internal, format!("{op}: cannot encode request: {e}")).with_component(COMPONENT)
            })?;
            builder = builder.header(CONTENT_TYPE, "application/json").body(bytes);
        }
        let request = builder.build().map_err(|e| {
            Error::new(ErrorKind::Internal, format!("{op}: cannot build request"))
                .with_component(COMPONENT)
                .with_source(e.without_url())
        })?;
        let response = client.execute(op, request, idempotency).await?;
        let status = response.status();
        let request_id = response.headers().get("fly-request-id").and_then(|v| v.to_str().ok()).map(str::to_owned);
        let body = tokio::time::timeout(client.policy().attempt_timeout, response.bytes())
            .await
            .map_err(|_| {
                Error::new(ErrorKind::Timeout, format!("{op}: timed out reading Fly's answer"))
                    .with_component(COMPONENT)
            })?
            .map_err(|e| {
                Error::new(ErrorKind::Provider, format!("{op}: cannot read Fly's answer"))
                    .with_component(COMPONENT)
                    .with_source(e.without_url())
            })?
            .to_vec();
        tracing::debug!(component = COMPONENT, op, %method, path = url.path(), status = status.as_u16(), request_id = request_id.as_deref(), "fly call");
        Ok(Reply { status, body, request_id, op })
    }
}

/// Object-safe JSON encoding, so [`FlyClient::send`] takes any request body.
pub(crate) trait ErasedSerialize {
    fn to_json(&self) -> serde_json::Result<Vec<u8>>;
}

impl<T: Serialize> ErasedSerialize for T {
    fn to_json(&self) -> serde_json::Result<Vec<u8>> {
        serde_json::to_vec(self)
    }
}

/// Maps a Fly error answer (`{error, status?, message?}` and the HTTP status) to an [`Error`].
///
/// - Fly `status: "insufficient_capacity"` or `"volume_placement_capacity"`, or a 409 whose
///   text is one of flyd's "insufficient … available" capacity messages →
///   [`ErrorKind::Unavailable`] (temporary: another region or a later try may work);
/// - `status: "name_taken"` (or, with no status, Fly's older "has already been taken" text)
///   → [`ErrorKind::AlreadyExists`];
/// - otherwise [`kind_for_status`]; every 5xx is temporary.
///
/// The message names the operation, the HTTP status and Fly's text (at most 512 characters);
/// it never contains a header, a token or the URL.
pub fn parse_error(op: &str, status: StatusCode, body: &[u8]) -> Error {
    let parsed: Option<ErrorBody> = serde_json::from_slice(body).ok();
    let (text, code) = match parsed {
        Some(b) => (b.error.or(b.message).unwrap_or_default(), b.status.unwrap_or_default()),
        None => (String::from_utf8_lossy(body).trim().to_owned(), String::new()),
    };
    let capacity_text = status == StatusCode::CONFLICT
        && ((text.contains("insufficient") && text.contains("available to fulfill request"))
            || text.trim_end().ends_with("no capacity"));
    let kind = match code.as_str() {
        "insufficient_capacity" | "volume_placement_capacity" => ErrorKind::Unavailable,
        "name_taken" => ErrorKind::AlreadyExists,
        "" if text.contains("has already been taken") => ErrorKind::AlreadyExists,
        _ if capacity_text => ErrorKind::Unavailable,
        _ => kind_for_status(status),
    };
    let mut text: String = text.chars().take(MAX_ERROR_TEXT).collect();
    if text.is_empty() {
        text = "no error text".to_owned();
    }
    let code = if code.is_empty() { String::new() } else { format!(" (status {code})") };
    let temporary = status.is_server_error() || kind.is_temporary_by_default();
    Error::new(kind, format!("{op}: Fly answered {}: {text}{code}", status.as_u16()))
        .with_temporary(temporary)
        .with_component(COMPONENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_shapes_map_to_kinds() {
        let e = parse_error(
            "op",
            StatusCode::UNPROCESSABLE_ENTITY,
            br#"{"error":"no capacity","status":"insufficient_capacity"}"#,
        );
        assert_eq!(e.kind(), ErrorKind::Unavailable);
        assert!(e.is_temporary());
        let e = parse_error(
            "op",
            StatusCode::UNPROCESSABLE_ENTITY,
            br#"{"error":"Name has already been taken","status":"name_taken"}"#,
        );
        assert_eq!(e.kind(), ErrorKind::AlreadyExists);
        assert!(!e.is_temporary());
        let e = parse_error("op", StatusCode::UNAUTHORIZED, br#"{"error":"Authenticate: token validation error"}"#);
        assert_eq!(e.kind(), ErrorKind::Unauthenticated);
        assert_eq!(e.to_string(), "fly: op: Fly answered 401: Authenticate: token validation error");
        let e = parse_error(
            "op",
            StatusCode::CONFLICT,
            br#"{"error":"could not reserve resource for machine: insufficient memory available to fulfill request"}"#,
        );
        assert_eq!(e.kind(), ErrorKind::Unavailable);
        let e = parse_error("op", StatusCode::CONFLICT, br#"{"error":"lease held"}"#);
        assert_eq!(e.kind(), ErrorKind::Conflict);
        let e = parse_error("op", StatusCode::BAD_GATEWAY, b"<html>bad gateway</html>");
        assert_eq!(e.kind(), ErrorKind::Provider);
        assert!(e.is_temporary());
        let e = parse_error("op", StatusCode::NOT_FOUND, b"");
        assert_eq!(e.kind(), ErrorKind::NotFound);
        assert!(e.message().contains("no error text"));
        let long = format!(r#"{{"message":"{}"}}"#, "x".repeat(2000));
        assert!(parse_error("op", StatusCode::BAD_REQUEST, long.as_bytes()).message().len() < 600);
    }
}
