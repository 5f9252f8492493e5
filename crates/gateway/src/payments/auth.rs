//! Wallet authentication for free and management calls, without paying: a zero-amount MPP
//! `proof` credential (how SiloVPS does it), or an API key (`X-API-Key`) created by a wallet.
//! The wallet always comes from a verified signature or a stored key, never from a header
//! the client writes.

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use compute_core::WalletAddress;
use compute_core::http::SecretString;
use compute_core::payment::Charge;

use super::credential;
use crate::problem::Problem;
use crate::routes::RouteSpec;
use crate::state::AppState;

/// The wallet behind the request, or the response to send instead (a 402 with a zero-amount
/// proof challenge, 401 or 403).
pub async fn wallet(
    state: &AppState,
    spec: &RouteSpec,
    path: &str,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<WalletAddress, Response> {
    if let Some(key) = headers.get("x-api-key").and_then(|v| v.to_str().ok()) {
        return match state.store().api_key_owner(&SecretString::from(key.to_owned())).await {
            Ok(Some(owner)) => Ok(owner),
            Ok(None) => Err(Problem::new(StatusCode::UNAUTHORIZED, "unauthenticated", "Unknown API key")
                .with_detail("the API key is unknown or revoked")
                .into_response()),
            Err(e) => Err(Problem::from(e).into_response()),
        };
    }
    let charge = Charge {
        amount: compute_core::Usd::ZERO,
        route: format!("{} {}", spec.method, spec.path),
        resource_url: format!("{}{}", state.config().server.public_base(), path),
        description: format!("Prove wallet ownership: {}", spec.summary),
        body: body.to_vec(),
    };
    proof(state, &charge, headers).await
}

#[cfg(feature = "tempo")]
async fn proof(state: &AppState, charge: &Charge, headers: &HeaderMap) -> Result<WalletAddress, Response> {
    let Some(tempo) = state.rails().tempo() else { return Err(no_auth_rail()) };
    let challenge = |reason: &str, detail: &str| -> Response {
        let mut resp = Problem {
            kind: format!("{}{reason}", super::challenge::MPP_PROBLEMS),
            title: "Wallet authentication required".to_owned(),
            status: 402,
            detail: Some(detail.to_owned()),
            extensions: Default::default(),
        }
        .into_response();
        if let Ok(offers) = tempo.auth_offers(charge) {
            for offer in offers {
                if let compute_core::payment::Offer::Mpp { www_authenticate } = offer
                    && let Ok(v) = axum::http::HeaderValue::from_str(&www_authenticate)
                {
                    resp.headers_mut().append(axum::http::header::WWW_AUTHENTICATE, v);
                }
            }
        }
        resp
    };
    match credential::from_headers(headers) {
        Err(p) => Err(p.into_response()),
        Ok(None) => Err(challenge(
            "payment-required",
            "Sign the zero-amount challenge (an MPP proof credential) to identify your wallet; nothing is charged.",
        )),
        Ok(Some(cred)) => match tempo.authenticate(&cred, charge).await {
            Ok(wallet) => Ok(wallet),
            Err(e) => match e.kind() {
                compute_core::ErrorKind::PaymentRequired => {
                    Err(challenge(e.reason().unwrap_or("verification-failed"), e.message()))
                }
                compute_core::ErrorKind::PermissionDenied => Err(Problem {
                    kind: format!("{}verification-failed", super::challenge::MPP_PROBLEMS),
                    ..Problem::from_status(StatusCode::FORBIDDEN)
                }
                .with_detail(e.message().to_owned())
                .into_response()),
                _ => Err(Problem::from(e).into_response()),
            },
        },
    }
}

#[cfg(not(feature = "tempo"))]
async fn proof(_state: &AppState, _charge: &Charge, _headers: &HeaderMap) -> Result<WalletAddress, Response> {
    Err(no_auth_rail())
}

fn no_auth_rail() -> Response {
    Problem::new(StatusCode::UNAUTHORIZED, "unauthenticated", "Wallet authentication unavailable")
        .with_detail("send X-API-Key; wallet proofs need the tempo rail, which is not enabled here")
        .into_response()
}
