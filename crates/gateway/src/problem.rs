//! RFC 9457 `application/problem+json` responses, for every error the gateway returns.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use compute_core::{Error, ErrorKind};
use serde::Serialize;
use serde_json::{Map, Value};

/// Media type of problem details.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// Base of the gateway's problem `type` URIs; the kind's name follows.
pub const PROBLEM_TYPE_BASE: &str = "https://compute-gateway.dev/problems/";

/// A problem details object (RFC 9457 §3): `type`, `title`, `status`, `detail`, plus extension
/// members such as `balance_usd` or `challengeId`.
#[derive(Clone, Debug, Serialize)]
pub struct Problem {
    /// Problem type URI.
    #[serde(rename = "type")]
    pub kind: String,
    /// Short summary of the type.
    pub title: String,
    /// HTTP status.
    pub status: u16,
    /// What happened in this occurrence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Extension members.
    #[serde(flatten)]
    pub extensions: Map<String, Value>,
}

impl Problem {
    /// A problem for an HTTP status with the gateway type for `kind`.
    pub fn new(status: StatusCode, kind: &str, title: &str) -> Self {
        Problem {
            kind: format!("{PROBLEM_TYPE_BASE}{kind}"),
            title: title.to_owned(),
            status: status.as_u16(),
            detail: None,
            extensions: Map::new(),
        }
    }

    /// A problem carrying only the HTTP status semantics (`type: about:blank`, the reason
    /// phrase as title).
    pub fn from_status(status: StatusCode) -> Self {
        Problem {
            kind: "about:blank".to_owned(),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: None,
            extensions: Map::new(),
        }
    }

    /// Sets the detail.
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// Adds an extension member.
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.extensions.insert(key.to_owned(), value.into());
        self
    }

    /// The HTTP status.
    pub fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = self.status_code();
        let mut resp = (status, Json(self)).into_response();
        resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        resp
    }
}

impl From<Error> for Problem {
    /// Maps a core error to a problem. Internal errors keep their detail out of the response
    /// (it is logged instead).
    fn from(e: Error) -> Self {
        let kind = e.kind();
        let status = StatusCode::from_u16(kind.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let title = match kind {
            ErrorKind::InvalidInput => "Invalid request",
            ErrorKind::NotFound => "Not found",
            ErrorKind::AlreadyExists => "Already exists",
            ErrorKind::Conflict => "Conflict",
            ErrorKind::Unauthenticated => "Authentication required",
            ErrorKind::PermissionDenied => "Forbidden",
            ErrorKind::PaymentRequired => "Payment required",
            ErrorKind::RateLimited => "Too many requests",
            ErrorKind::Unavailable => "Service unavailable",
            ErrorKind::Timeout => "Upstream timeout",
            ErrorKind::Provider => "Provider error",
            _ => "Internal error",
        };
        let p = Problem::new(status, kind.as_str(), title);
        if status.is_server_error()
            && !matches!(kind, ErrorKind::Unavailable | ErrorKind::Timeout | ErrorKind::Provider)
        {
            tracing::error!(error = %e, "internal error");
            p.with_detail("the gateway hit an internal error; nothing was charged for it")
        } else {
            p.with_detail(e.to_string())
        }
    }
}

/// Lets handlers return `Result<_, compute_core::Error>`-like values with `?`.
pub type ApiResult<T> = Result<T, Problem>;
