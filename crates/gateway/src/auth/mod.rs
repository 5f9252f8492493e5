//! Wallet authentication for free and management calls, over the enabled
//! [`WalletAuth`] methods: the gateway's API keys ([`ApiKeyAuth`]) and what the rails bring (an
//! MPP zero-amount proof, x402Compute's signed `X-Auth-*` headers). The first method whose
//! credential the request carries decides; a request with none gets every method's challenge
//! (a 402 with proof challenges when a method issues them, a 401 naming the methods otherwise).

mod api_key;

use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use compute_core::auth::{AuthRequest, WalletAuth};
use compute_core::{ErrorKind, WalletAddress};

pub use api_key::{API_KEY_HEADER, ApiKeyAuth};

use crate::payments::challenge::MPP_PROBLEMS;
use crate::problem::Problem;
use crate::routes::{Auth, Call};

fn request<'a>(call: &'a Call, route: &'a str, url: &'a str) -> AuthRequest<'a> {
    AuthRequest {
        method: &call.spec.method,
        path: &call.path,
        route,
        resource_url: url,
        description: call.spec.summary,
        headers: &call.headers,
        body: &call.body,
    }
}

fn with_headers(mut resp: Response, headers: Vec<(String, String)>) -> Response {
    for (name, value) in headers {
        if let (Ok(n), Ok(v)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            resp.headers_mut().append(n, v);
        }
    }
    resp
}

/// The wallet behind `call`.
///
/// # Errors
/// The response to send instead: 402 with fresh proof challenges (none sent, or an invalid or
/// expired MPP proof), 401 (no method's credential, or one that does not verify), 403 (a
/// replayed proof, or an API key on a route that needs a signature).
pub async fn authenticate(call: &Call) -> Result<WalletAddress, Response> {
    let route = call.spec.route();
    let url = call.resource_url();
    let req = request(call, &route, &url);
    let methods = call.state.auth_methods();
    let Some(method) = methods.iter().find(|m| m.present(&req)) else {
        return Err(missing(methods, &req));
    };
    if call.spec.auth == Auth::Signature && method.name() == api_key::NAME {
        return Err(Problem::new(StatusCode::FORBIDDEN, "permission_denied", "Wallet signature required")
            .with_detail("API keys cannot do this; sign the request with the wallet")
            .into_response());
    }
    method.authenticate(&req).await.map_err(|e| refused(method.as_ref(), &req, e))
}

/// No credential: every method's challenge, as a 402 when there are challenge headers.
fn missing(methods: &[std::sync::Arc<dyn WalletAuth>], req: &AuthRequest<'_>) -> Response {
    let challenges: Vec<(String, String)> = methods.iter().flat_map(|m| m.challenge(req)).collect();
    let hints: Vec<String> = methods.iter().map(|m| format!("{}: {}", m.name(), m.hint())).collect();
    let detail = format!("Identify your wallet; nothing is charged. Methods: {}.", hints.join("; "));
    if challenges.is_empty() {
        return Problem::new(StatusCode::UNAUTHORIZED, "unauthenticated", "Wallet authentication required")
            .with_detail(detail)
            .into_response();
    }
    let problem = Problem {
        kind: format!("{MPP_PROBLEMS}payment-required"),
        title: "Wallet authentication required".to_owned(),
        status: 402,
        detail: Some(detail),
        extensions: Default::default(),
    };
    with_headers(problem.into_response(), challenges)
}

/// A credential that did not verify.
fn refused(method: &dyn WalletAuth, req: &AuthRequest<'_>, e: compute_core::Error) -> Response {
    let reason = e.reason().unwrap_or("verification-failed").to_owned();
    match e.kind() {
        ErrorKind::PaymentRequired => {
            let problem = Problem {
                kind: format!("{MPP_PROBLEMS}{reason}"),
                title: "Wallet authentication required".to_owned(),
                status: 402,
                detail: Some(e.message().to_owned()),
                extensions: Default::default(),
            };
            with_headers(problem.into_response(), method.challenge(req))
        }
        ErrorKind::PermissionDenied => Problem {
            kind: format!("{MPP_PROBLEMS}verification-failed"),
            ..Problem::from_status(StatusCode::FORBIDDEN)
        }
        .with_detail(e.message().to_owned())
        .into_response(),
        ErrorKind::Unauthenticated => Problem::new(StatusCode::UNAUTHORIZED, &reason, "Wallet authentication failed")
            .with_detail(e.message().to_owned())
            .into_response(),
        _ => Problem::from(e).into_response(),
    }
}
