//! A request id for every request: generated here (a UUID v4; a client's own `X-Request-Id`
//! is not trusted into logs), recorded on every log line of the request (the `request` span,
//! which the detached settlement task inherits), answered in the `X-Request-Id` header, and put
//! in every problem+json body as `request_id`, so a user's error report finds the log lines.

use axum::body::{Body, HttpBody, to_bytes};
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

use crate::problem::PROBLEM_JSON;

/// The response header carrying the id.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// Problem bodies larger than this (or of unknown size) pass through untouched (ours are a few
/// hundred bytes).
const MAX_PROBLEM_BYTES: usize = 64 * 1024;

/// The middleware: see the module docs.
pub async fn with_request_id(req: Request, next: Next) -> Response {
    let id = uuid::Uuid::new_v4().to_string();
    let span = tracing::info_span!("request", request_id = %id, method = %req.method(), path = %req.uri().path());
    let resp = next.run(req).instrument(span).await;
    let mut resp = if is_problem(&resp) { with_id_in_body(resp, &id).await } else { resp };
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert(REQUEST_ID_HEADER, v);
    }
    resp
}

fn is_problem(resp: &Response) -> bool {
    resp.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(PROBLEM_JSON.as_bytes()))
}

/// Splices `"request_id":"<id>",` after the body's opening brace: the body is our own JSON
/// object, so this needs no parse and costs one copy (the 402 path is hot).
async fn with_id_in_body(resp: Response, id: &str) -> Response {
    // A body of unknown or larger size passes untouched rather than being cut.
    if resp.body().size_hint().exact().is_none_or(|n| n > MAX_PROBLEM_BYTES as u64) {
        return resp;
    }
    let (mut parts, body) = resp.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_PROBLEM_BYTES).await else {
        return Response::from_parts(parts, Body::empty());
    };
    let bytes = match bytes.strip_prefix(b"{") {
        Some(rest) => {
            let member = format!("\"request_id\":\"{id}\"{}", if rest.starts_with(b"}") { "" } else { "," });
            let mut out = Vec::with_capacity(bytes.len() + member.len());
            out.push(b'{');
            out.extend_from_slice(member.as_bytes());
            out.extend_from_slice(rest);
            axum::body::Bytes::from(out)
        }
        None => bytes,
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(bytes))
}
