//! The answers of the paid flow, as stored responses (kept under idempotency keys) and as
//! HTTP responses: replays, pending, refunds, verification failures.

use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use compute_core::payment::{Charge, Verified};
use compute_core::{Error, ErrorKind};
use compute_store::{PaymentStatus, StoredResponse};
use serde_json::{Value, json};

use super::challenge::{MPP_PROBLEMS, payment_required};
use super::credits::credit_back;
use super::flow::Payer;
use crate::problem::{PROBLEM_JSON, Problem};
use crate::state::AppState;

/// Maps a verify (or pre-broadcast settle) error to its response.
pub(super) fn verify_failure(state: &AppState, charge: &Charge, e: &Error) -> Response {
    let reason = e.reason().unwrap_or("verification-failed");
    match e.kind() {
        ErrorKind::PaymentRequired => payment_required(state.rails(), charge, reason, e.message(), e.fields()),
        ErrorKind::PermissionDenied => replayed(e.message()),
        ErrorKind::InvalidInput => Problem::new(StatusCode::BAD_REQUEST, reason, "Malformed payment")
            .with_detail(e.message().to_owned())
            .into_response(),
        _ => {
            tracing::warn!(error = %e, "payment verification could not run");
            Problem {
                kind: format!("{MPP_PROBLEMS}internal-payment-error"),
                ..Problem::from_status(StatusCode::SERVICE_UNAVAILABLE)
            }
            .with_detail("the payment could not be verified right now; nothing was charged, retry later")
            .into_response()
        }
    }
}

/// 403 `verification-failed`, **without** a new challenge: paying again would not help.
pub(super) fn replayed(detail: &str) -> Response {
    respond(stored_problem(
        Problem { kind: format!("{MPP_PROBLEMS}verification-failed"), ..Problem::from_status(StatusCode::FORBIDDEN) }
            .with_detail(detail.to_owned()),
    ))
}

/// Records a payment's new status; a failure is logged (the recovery worker will find it).
pub(super) async fn mark(state: &AppState, id: &str, status: PaymentStatus, reference: Option<&str>) {
    if let Err(e) = state.store().set_payment_status(id, status, reference).await {
        tracing::error!(payment = id, %status, error = %e, "could not record a payment status");
    }
}

/// Stores the final answer under the idempotency key, if there is one.
pub(super) async fn complete(state: &AppState, idempotency: Option<&(String, String)>, stored: &StoredResponse) {
    if let Some((scope, key)) = idempotency
        && let Err(e) = state.store().complete_idempotent(scope, key, stored).await
    {
        tracing::error!(error = %e, "could not store an idempotent response");
    }
}

/// Forgets the idempotency key of a request that charged nothing, so the client can retry.
pub(super) async fn release(state: &AppState, idempotency: Option<&(String, String)>) {
    if let Some((scope, key)) = idempotency
        && let Err(e) = state.store().release_idempotent(scope, key).await
    {
        tracing::error!(error = %e, "could not release an idempotency key");
    }
}

/// Credits the payer with the full amount of a paid action that did not deliver, and says so
/// in the problem (`refunded_usd`, `credit_balance_usd`, `payment_id`). The credit is written
/// once per payment, before the payment is marked refunded, so a crash in between is finished
/// by the recovery worker without a second credit.
pub(super) async fn refund(state: &AppState, payer: &Payer, problem: Problem) -> StoredResponse {
    let reason = "refund: paid action failed";
    let problem = match credit_back(state.store(), &payer.wallet, payer.amount, reason, &payer.payment_id).await {
        Ok(entry) => {
            state.metrics().credit_granted(payer.amount);
            if let Err(e) = state
                .store()
                .transition_payment(&payer.payment_id, PaymentStatus::Settled, PaymentStatus::Refunded)
                .await
            {
                tracing::error!(error = %e, "could not mark a refunded payment");
            }
            let detail = format!(
                "{} The ${} you paid was credited to your balance, now ${}; spend it on any paid route with `X-Use-Credits: true` (balance: GET /compute/credits/balance).",
                problem.detail.clone().unwrap_or_default(),
                payer.amount,
                entry.balance
            );
            problem
                .with_detail(detail.trim_start().to_owned())
                .with("refunded_usd", payer.amount.to_string())
                .with("credit_balance_usd", entry.balance.to_string())
                .with("payment_id", payer.payment_id.clone())
        }
        Err(e) => {
            tracing::error!(error = %e, payment = %payer.payment_id, "refund failed");
            problem
                .with("refund", "pending: the operator will credit this payment")
                .with("payment_id", payer.payment_id.clone())
        }
    };
    stored_problem(problem)
}

/// `202` pending: broadcast, not confirmed; nothing delivered.
pub(super) fn pending(reference: &str, verified: &Verified) -> StoredResponse {
    let body = json!({
        "status": "pending",
        "reference": reference,
        "rail": verified.rail.rail,
        "detail": "The payment was broadcast but not confirmed yet. Nothing was delivered. If it settles, the amount is \
                   credited to your balance (GET /compute/credits/balance; pay with `X-Use-Credits: true`); if it fails, nothing is charged.",
    });
    stored_json(StatusCode::ACCEPTED, &body, Vec::new())
}

/// A JSON answer with extra headers (the receipt).
pub(super) fn stored_json(status: StatusCode, body: &Value, extra: Vec<(String, String)>) -> StoredResponse {
    let mut headers = vec![(header::CONTENT_TYPE.to_string(), "application/json".to_owned())];
    headers.extend(extra);
    StoredResponse { status: status.as_u16(), headers, body: serde_json::to_vec(body).unwrap_or_default() }
}

/// A problem as a stored answer.
pub(super) fn stored_problem(problem: Problem) -> StoredResponse {
    StoredResponse {
        status: problem.status,
        headers: vec![(header::CONTENT_TYPE.to_string(), PROBLEM_JSON.to_owned())],
        body: serde_json::to_vec(&problem).unwrap_or_default(),
    }
}

/// A stored (or fresh) answer as the HTTP response.
pub(super) fn respond(stored: StoredResponse) -> Response {
    let mut resp = (StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK), stored.body).into_response();
    for (name, value) in stored.headers {
        if let (Ok(n), Ok(v)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            resp.headers_mut().insert(n, v);
        }
    }
    resp
}
