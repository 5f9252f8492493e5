//! [`DoClient`]: request building, sending through the shared retry policy, DigitalOcean's rate
//! limit headers, pagination, and [`parse_error`], the one place DigitalOcean error answers
//! become [`compute_core::Error`]s.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use compute_core::http::{ExposeSecret, HttpClient, Idempotency, RetryPolicy, kind_for_status};
use compute_core::{Error, ErrorKind, Result};
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use url::Url;

use crate::COMPONENT;
use crate::config::DoConfig;
use crate::types::ErrorBody;

/// Items asked for per page of a list (the API's maximum, `per_page ≤ 200`).
pub const PER_PAGE: u32 = 200;

/// Most pages one list follows before giving up (40 000 items at [`PER_PAGE`]).
pub const MAX_PAGES: u32 = 200;

/// Longest error text from DigitalOcean kept in an error message.
const MAX_ERROR_TEXT: usize = 512;

/// What the last answer said about the hourly rate limit (`ratelimit-remaining`,
/// `ratelimit-reset` in Unix seconds).
#[derive(Debug, Default)]
struct RateWindow {
    remaining: Option<u64>,
    reset_epoch: Option<u64>,
}

/// A typed client for the DigitalOcean API v2 (`/v2/...`).
///
/// Every request goes through [`HttpClient::execute`] with an explicit [`Idempotency`]: reads,
/// deletes and state-setting actions are idempotent; creates, reboots and snapshots are not,
/// and a droplet create is reconciled by name and tag instead of being retried. Path segments
/// (ids, tag names, fingerprints) are percent-encoded, so an id can never reach another API
/// path. The client remembers the last `ratelimit-remaining`/`ratelimit-reset` it saw: when
/// the hourly budget is used up it waits for the reset if that is at most the policy's
/// `max_backoff` away, and otherwise fails at once with [`ErrorKind::RateLimited`] instead of
/// sending requests that can only be refused.
#[derive(Clone)]
pub struct DoClient {
    http: HttpClient,
    base: Url,
    auth: HeaderValue,
    window: Arc<Mutex<RateWindow>>,
}

impl fmt::Debug for DoClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DoClient")
            .field("base", &self.base.as_str())
            .field("policy", self.http.policy())
            .finish_non_exhaustive()
    }
}

/// An HTTP answer read in full: status, body, DigitalOcean's request id and rate-limit hints.
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    body: Vec<u8>,
    request_id: Option<String>,
    retry_after: Option<u64>,
    reset_epoch: Option<u64>,
    op: &'static str,
}

impl Reply {
    /// Whether the status is 2xx.
    pub(crate) fn is_success(&self) -> bool {
        self.status.is_success()
    }

    /// The error this answer stands for (see [`parse_error`]), with the request id and, for a
    /// 429, when to try again (`retry_after_secs` field).
    pub(crate) fn error(&self) -> Error {
        let mut e = parse_error(self.op, self.status, &self.body);
        let body_has_id = serde_json::from_slice::<ErrorBody>(&self.body).is_ok_and(|b| b.request_id.is_some());
        if let (Some(id), false) = (&self.request_id, body_has_id) {
            e = e.with_context(format!("request-id {id}"));
        }
        if self.status == StatusCode::TOO_MANY_REQUESTS {
            let wait = self.retry_after.or_else(|| self.reset_epoch.map(|r| r.saturating_sub(epoch_now())));
            if let Some(secs) = wait {
                e = e.with_context(format!("retry in {secs} s")).with_field("retry_after_secs", secs.to_string());
            }
        }
        e
    }

    /// Whether the status is 404.
    pub(crate) fn is_not_found(&self) -> bool {
        self.status == StatusCode::NOT_FOUND
    }

    /// Decodes a successful answer, or returns the error it stands for.
    pub(crate) fn json<T: DeserializeOwned>(self) -> Result<T> {
        if !self.is_success() {
            return Err(self.error());
        }
        serde_json::from_slice(&self.body).map_err(|e| decode_error(self.op, &e))
    }

    /// Succeeds on 2xx whatever the body.
    pub(crate) fn done(self) -> Result<()> {
        if self.is_success() { Ok(()) } else { Err(self.error()) }
    }
}

/// A [`ErrorKind::Provider`] error for an answer that does not decode.
pub(crate) fn decode_error(op: &str, e: &serde_json::Error) -> Error {
    Error::new(ErrorKind::Provider, format!("{op}: cannot decode DigitalOcean's answer: {e}")).with_component(COMPONENT)
}

/// Decodes one list item (or an object member) into `T`.
pub(crate) fn decode<T: DeserializeOwned>(op: &str, value: Value) -> Result<T> {
    serde_json::from_value(value).map_err(|e| decode_error(op, &e))
}

/// Unix time now, in seconds.
fn epoch_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn header_u64(headers: &HeaderMap, name: &str) -> Option<u64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

/// `Retry-After` in seconds (delta-seconds or an HTTP date).
fn retry_after_secs(headers: &HeaderMap) -> Option<u64> {
    let v = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(secs);
    }
    let when = httpdate_parse(v)?;
    Some(when.duration_since(SystemTime::now()).map_or(0, |d| d.as_secs()))
}

/// An IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the `Retry-After` date form.
fn httpdate_parse(v: &str) -> Option<SystemTime> {
    let t = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    let secs = u64::try_from(t.timestamp()).ok()?;
    Some(UNIX_EPOCH + Duration::from_secs(secs))
}

impl DoClient {
    /// Builds a client from `config` (no network call).
    ///
    /// # Errors
    /// [`ErrorKind::Config`] when the configuration is invalid (see [`DoConfig::validate`]),
    /// the token is empty or not a valid header value, or the HTTP client cannot be built.
    pub fn new(config: &DoConfig) -> Result<Self> {
        config.validate()?;
        let base = Url::parse(&config.base_url).map_err(|e| {
            Error::new(ErrorKind::Config, format!("invalid digitalocean base_url: {e}")).with_component(COMPONENT)
        })?;
        let token = config.token.expose_secret().trim();
        if token.is_empty() {
            return Err(Error::new(ErrorKind::Config, "digitalocean token is empty").with_component(COMPONENT));
        }
        let mut auth = HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
            Error::new(ErrorKind::Config, "digitalocean token contains characters not allowed in an HTTP header")
                .with_component(COMPONENT)
        })?;
        auth.set_sensitive(true);
        Ok(DoClient {
            http: HttpClient::new(COMPONENT, config.retry.clone())?.with_optional_observer(config.observer.clone()),
            base,
            auth,
            window: Arc::new(Mutex::new(RateWindow::default())),
        })
    }

    /// The retry policy of every call.
    pub fn policy(&self) -> &RetryPolicy {
        self.http.policy()
    }

    /// `{base}/v2/{segments…}`, each segment percent-encoded.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] for an empty, `.` or `..` segment.
    pub(crate) fn url(&self, segments: &[&str]) -> Result<Url> {
        let mut url = self.base.clone();
        {
            let mut path = url.path_segments_mut().map_err(|()| {
                Error::new(ErrorKind::Config, "digitalocean base_url cannot be a base").with_component(COMPONENT)
            })?;
            path.pop_if_empty().push("v2");
            for s in segments {
                if s.is_empty() || *s == "." || *s == ".." {
                    return Err(Error::new(ErrorKind::InvalidInput, format!("invalid digitalocean id {s:?}"))
                        .with_component(COMPONENT));
                }
                path.push(s);
            }
        }
        Ok(url)
    }

    /// `{base}/v2/{segments…}?{query}`, segments and query percent-encoded.
    pub(crate) fn url_query(&self, segments: &[&str], query: &[(&str, &str)]) -> Result<Url> {
        let mut url = self.url(segments)?;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        Ok(url)
    }

    /// Waits for the hourly rate limit to reset when the last answer said it is used up and
    /// the reset is near; fails with [`ErrorKind::RateLimited`] when it is further away than
    /// the policy's `max_backoff`.
    async fn gate(&self, op: &'static str) -> Result<()> {
        let wait = {
            let w = self.window.lock().unwrap_or_else(PoisonError::into_inner);
            match (w.remaining, w.reset_epoch) {
                (Some(0), Some(reset)) => Some(reset.saturating_sub(epoch_now())),
                _ => None,
            }
        };
        let Some(secs) = wait.filter(|s| *s > 0) else { return Ok(()) };
        let delay = Duration::from_secs(secs);
        if delay > self.policy().max_backoff {
            return Err(Error::new(
                ErrorKind::RateLimited,
                format!(
                    "{op}: DigitalOcean's hourly API rate limit is used up (ratelimit-remaining: 0); the \
                     next request is allowed in {secs} s, so the call was not sent"
                ),
            )
            .with_field("retry_after_secs", secs.to_string())
            .with_component(COMPONENT));
        }
        tracing::info!(component = COMPONENT, op, secs, "rate limit used up; waiting for ratelimit-reset");
        tokio::time::sleep(delay).await;
        let mut w = self.window.lock().unwrap_or_else(PoisonError::into_inner);
        w.remaining = None;
        Ok(())
    }

    fn remember(&self, headers: &HeaderMap) {
        let (remaining, reset) = (header_u64(headers, "ratelimit-remaining"), header_u64(headers, "ratelimit-reset"));
        if remaining.is_some() || reset.is_some() {
            let mut w = self.window.lock().unwrap_or_else(PoisonError::into_inner);
            w.remaining = remaining;
            w.reset_epoch = reset;
        }
    }

    /// Sends a request with a JSON body and reads the whole answer.
    pub(crate) async fn send_json<B: Serialize + ?Sized>(
        &self,
        op: &'static str,
        method: Method,
        url: Url,
        body: &B,
        idempotency: Idempotency,
    ) -> Result<Reply> {
        let bytes = serde_json::to_vec(body).map_err(|e| {
            Error::new(ErrorKind::Internal, format!("{op}: cannot encode request: {e}")).with_component(COMPONENT)
        })?;
        self.send_raw(op, method, url, Some(bytes), idempotency).await
    }

    /// Sends a request without a body and reads the whole answer.
    pub(crate) async fn send(
        &self,
        op: &'static str,
        method: Method,
        url: Url,
        idempotency: Idempotency,
    ) -> Result<Reply> {
        self.send_raw(op, method, url, None, idempotency).await
    }

    async fn send_raw(
        &self,
        op: &'static str,
        method: Method,
        url: Url,
        body: Option<Vec<u8>>,
        idempotency: Idempotency,
    ) -> Result<Reply> {
        self.gate(op).await?;
        let mut builder = self
            .http
            .reqwest()
            .request(method.clone(), url.clone())
            .header(AUTHORIZATION, self.auth.clone())
            .header(ACCEPT, "application/json");
        if let Some(bytes) = body {
            builder = builder.header(CONTENT_TYPE, "application/json").body(bytes);
        }
        let request = builder.build().map_err(|e| {
            Error::new(ErrorKind::Internal, format!("{op}: cannot build request"))
                .with_component(COMPONENT)
                .with_source(e.without_url())
        })?;
        let response = self.http.execute(op, request, idempotency).await.map_err(|e| e.with_context(op))?;
        let status = response.status();
        let headers = response.headers().clone();
        self.remember(&headers);
        let request_id = headers.get("x-request-id").and_then(|v| v.to_str().ok()).map(str::to_owned);
        let body = tokio::time::timeout(self.policy().attempt_timeout, response.bytes())
            .await
            .map_err(|_| {
                Error::new(ErrorKind::Timeout, format!("{op}: timed out reading DigitalOcean's answer"))
                    .with_component(COMPONENT)
            })?
            .map_err(|e| {
                Error::new(ErrorKind::Provider, format!("{op}: cannot read DigitalOcean's answer"))
                    .with_component(COMPONENT)
                    .with_source(e.without_url())
            })?
            .to_vec();
        tracing::debug!(component = COMPONENT, op, %method, path = url.path(), status = status.as_u16(),
            request_id = request_id.as_deref(), "digitalocean call");
        Ok(Reply {
            status,
            body,
            request_id,
            retry_after: retry_after_secs(&headers),
            reset_epoch: header_u64(&headers, "ratelimit-reset"),
            op,
        })
    }

    /// Every item of a paginated list: `GET {segments}?{query}&per_page=200[&page=N]`, reading
    /// the array under `key` and following `links.pages.next` (only its `page` number is used,
    /// the request always goes to the configured base URL, so the token never leaves it).
    ///
    /// # Errors
    /// DigitalOcean errors mapped by [`parse_error`]; [`ErrorKind::Provider`] when an answer has
    /// no `key` array or the pagination does not advance.
    pub(crate) async fn list_values(
        &self,
        op: &'static str,
        segments: &[&str],
        query: &[(&str, &str)],
        key: &str,
    ) -> Result<Vec<Value>> {
        let per_page = PER_PAGE.to_string();
        let mut page: u32 = 1;
        let mut out = Vec::new();
        loop {
            let page_text = page.to_string();
            let mut q: Vec<(&str, &str)> = query.to_vec();
            q.push(("per_page", &per_page));
            if page > 1 {
                q.push(("page", &page_text));
            }
            let url = self.url_query(segments, &q)?;
            let v: Value = self.send(op, Method::GET, url, Idempotency::Idempotent).await?.json()?;
            let provider = |msg: String| Error::new(ErrorKind::Provider, msg).with_component(COMPONENT);
            let Some(items) = v.get(key).and_then(Value::as_array) else {
                return Err(provider(format!("{op}: DigitalOcean's answer has no {key:?} list")));
            };
            out.extend(items.iter().cloned());
            let next = v.pointer("/links/pages/next").and_then(Value::as_str);
            match next.map(page_of) {
                None => return Ok(out),
                Some(Some(n)) if n > page && n <= MAX_PAGES => page = n,
                Some(_) => return Err(provider(format!("{op}: DigitalOcean's next page link {next:?} is unusable"))),
            }
        }
    }
}

/// The `page` number of a `links.pages.next` URL.
fn page_of(next: &str) -> Option<u32> {
    let url = Url::parse(next).ok()?;
    let page = url.query_pairs().find(|(k, _)| k == "page")?.1;
    page.parse().ok()
}

/// Maps a DigitalOcean error answer (`{id, message, request_id?}`, or the tags API's
/// `{error, messages, root_causes}`) and its HTTP status to an [`Error`]:
///
/// - 404 → [`ErrorKind::NotFound`], 401 → [`ErrorKind::Unauthenticated`], 403 →
///   [`ErrorKind::PermissionDenied`], 400 and 422 → [`ErrorKind::InvalidInput`], except a 422
///   saying something "already exists", "is already in use" or "has already been taken"
///   ([`ErrorKind::AlreadyExists`]) or that the droplet "already has a pending event"
///   ([`ErrorKind::Conflict`], temporary: it clears when the running action ends);
/// - 429 → [`ErrorKind::RateLimited`] (temporary);
/// - every 5xx → [`ErrorKind::Provider`] (temporary);
/// - anything else through [`kind_for_status`].
///
/// The message names the operation, the status, DigitalOcean's text (at most 512 characters),
/// its `id` code and request id; it never contains a header, a token or the URL.
pub fn parse_error(op: &str, status: StatusCode, body: &[u8]) -> Error {
    let parsed: Option<ErrorBody> = serde_json::from_slice(body).ok();
    let (code, text, request_id) = match parsed {
        Some(b) => {
            let mut text = b.message.or(b.error).unwrap_or_default();
            for m in &b.messages {
                if !text.contains(m.as_str()) {
                    text = if text.is_empty() { m.clone() } else { format!("{text}; {m}") };
                }
            }
            (b.id.unwrap_or_default(), text, b.request_id)
        }
        None => (String::new(), String::from_utf8_lossy(body).trim().to_owned(), None),
    };
    let lower = text.to_ascii_lowercase();
    let kind = match status.as_u16() {
        404 => ErrorKind::NotFound,
        401 => ErrorKind::Unauthenticated,
        403 => ErrorKind::PermissionDenied,
        422 if ["already exists", "already in use", "already been taken"].iter().any(|p| lower.contains(p)) => {
            ErrorKind::AlreadyExists
        }
        422 if lower.contains("pending event") => ErrorKind::Conflict,
        400 | 422 => ErrorKind::InvalidInput,
        429 => ErrorKind::RateLimited,
        s if s >= 500 => ErrorKind::Provider,
        _ => kind_for_status(status),
    };
    let temporary = status.is_server_error() || kind == ErrorKind::Conflict || kind.is_temporary_by_default();
    let mut text: String = text.chars().take(MAX_ERROR_TEXT).collect();
    if text.is_empty() {
        text = "no error text".to_owned();
    }
    let mut message = format!("{op}: DigitalOcean answered {}: {text}", status.as_u16());
    if !code.is_empty() {
        message.push_str(&format!(" (id {code})"));
    }
    if let Some(id) = request_id {
        message.push_str(&format!(" [request-id {id}]"));
    }
    Error::new(kind, message).with_temporary(temporary).with_component(COMPONENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_shapes_map_to_kinds() {
        let cases: [(u16, &str, ErrorKind, bool); 10] = [
            (
                404,
                r#"{"id":"not_found","message":"The resource you requested could not be found."}"#,
                ErrorKind::NotFound,
                false,
            ),
            (
                401,
                r#"{"id":"unauthorized","message":"Unable to authenticate you."}"#,
                ErrorKind::Unauthenticated,
                false,
            ),
            (
                403,
                r#"{"id":"forbidden","message":"You do not have access for the attempted action."}"#,
                ErrorKind::PermissionDenied,
                false,
            ),
            (422, r#"{"id":"unprocessable_entity","message":"Name is invalid"}"#, ErrorKind::InvalidInput, false),
            (
                422,
                r#"{"id":"unprocessable_entity","message":"SSH Key is already in use on your account"}"#,
                ErrorKind::AlreadyExists,
                false,
            ),
            (
                422,
                r#"{"id":"unprocessable_entity","message":"Droplet already has a pending event."}"#,
                ErrorKind::Conflict,
                true,
            ),
            (429, r#"{"id":"too_many_requests","message":"API rate limit exceeded."}"#, ErrorKind::RateLimited, true),
            (500, r#"{"id":"server_error","message":"Unexpected server-side error"}"#, ErrorKind::Provider, true),
            (503, "<html>unavailable</html>", ErrorKind::Provider, true),
            (
                400,
                r#"{"error":"Error validating resource tag","messages":null,"root_causes":[]}"#,
                ErrorKind::InvalidInput,
                false,
            ),
        ];
        for (status, body, kind, temporary) in cases {
            let e = parse_error("op", StatusCode::from_u16(status).unwrap(), body.as_bytes());
            assert_eq!((e.kind(), e.is_temporary()), (kind, temporary), "{status} {body}: {e}");
            assert_eq!(e.component(), Some(COMPONENT));
        }
        let e = parse_error(
            "get droplet",
            StatusCode::NOT_FOUND,
            br#"{"id":"not_found","message":"gone","request_id":"4d9d8375"}"#,
        );
        assert_eq!(
            e.to_string(),
            "digitalocean: get droplet: DigitalOcean answered 404: gone (id not_found) [request-id 4d9d8375]"
        );
        assert!(parse_error("op", StatusCode::NOT_FOUND, b"").message().contains("no error text"));
        let long = format!(r#"{{"id":"x","message":"{}"}}"#, "y".repeat(2000));
        assert!(parse_error("op", StatusCode::BAD_REQUEST, long.as_bytes()).message().len() < 600);
    }

    #[test]
    fn next_links_give_page_numbers() {
        assert_eq!(page_of("https://api.digitalocean.com/v2/sizes?page=2&per_page=1"), Some(2));
        assert_eq!(page_of("https://elsewhere.example/v2/sizes?per_page=1"), None);
        assert_eq!(page_of("not a url"), None);
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        assert_eq!(retry_after_secs(&h), Some(7));
        h.insert(RETRY_AFTER, HeaderValue::from_static("Sun, 06 Nov 1994 08:49:37 GMT"));
        assert_eq!(retry_after_secs(&h), Some(0));
        h.insert("ratelimit-reset", HeaderValue::from_static("1444931833"));
        assert_eq!(header_u64(&h, "ratelimit-reset"), Some(1_444_931_833));
    }
}
