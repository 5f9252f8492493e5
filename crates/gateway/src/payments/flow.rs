//! The paid-request flow: validate and price (done by the caller) → 402 → verify → settle →
//! act → respond with the receipt header.
//!
//! - The payer is the rail's **verified** payer; it owns what the action creates.
//! - `Idempotency-Key` (or x402 `payment-identifier`), scoped to the payer: the same key and
//!   request returns the stored response without a second charge; the same key with another
//!   request is a 409.
//! - A credential is recorded before settlement under a UNIQUE fingerprint: of any number of
//!   concurrent or sequential uses, in any number of gateway processes, one settles and acts;
//!   the others get 403 `verification-failed` without a new challenge.
//! - A settlement whose outcome is unknown is recorded with its transaction reference and
//!   answered `202` pending (never a fresh 402); the reconciler finishes it.
//! - If the action fails after settlement, the full amount is credited to the payer's balance
//!   and the error says so, with the balance.
//! - The action runs in its own task, so a client disconnect or the request timeout cannot
//!   cancel it half-way after the money moved.

use std::future::Future;

use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use compute_core::billing::Quote;
use compute_core::payment::{Charge, Credential, SettleOutcome, Verified};
use compute_core::{Error, ErrorKind, Usd, WalletAddress};
use compute_store::{IdempotencyStart, NewPayment, PaymentStatus, StoredResponse};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::challenge::{MPP_PROBLEMS, payment_required};
use super::credential;
use super::credits::credit_back;
use crate::problem::{PROBLEM_JSON, Problem};
use crate::routes::Call;
use crate::state::AppState;

/// How long a completed idempotency key is remembered.
const IDEMPOTENCY_TTL_HOURS: i64 = 24;

/// Who paid, as the action sees it.
#[derive(Clone, Debug)]
pub struct Payer {
    /// The verified payer: the owner of whatever the action creates.
    pub wallet: WalletAddress,
    /// The payment's id.
    pub payment_id: String,
    /// What was paid, USD.
    pub amount: Usd,
}

/// What an action returns: a status and a JSON body, or a problem (which triggers a refund).
pub type ActResult = Result<(StatusCode, Value), Problem>;

/// The charge `call` is asked to pay for `quote`.
pub fn charge_for(call: &Call, quote: &Quote) -> Charge {
    Charge {
        amount: quote.total,
        route: call.spec.route(),
        resource_url: call.resource_url(),
        description: call.spec.summary.to_owned(),
        body: call.body.to_vec(),
    }
}

/// The credential of `call` and the rail that takes it, or the response to send instead (a
/// 402 when there is none or no rail takes it; the wallet-auth answer for credits).
async fn credential_and_rail(
    call: &Call,
    charge: &Charge,
) -> Result<(Credential, std::sync::Arc<dyn compute_core::payment::Payment>), Response> {
    let rails = call.state.rails();
    if credential::wants_credits(&call.headers) {
        let wallet = call.wallet().await?;
        return Ok((Credential::Credits { wallet }, call.state.credits().clone()));
    }
    let found = credential::from_headers(&call.headers).map_err(IntoResponse::into_response)?;
    let Some(credential) = found else {
        return Err(payment_required(rails, charge, "payment-required", "Payment is required for this request.", &[]));
    };
    match rails.for_credential(&credential) {
        Some(rail) => Ok((credential, rail.clone())),
        None => Err(payment_required(
            rails,
            charge,
            "method-unsupported",
            "No enabled payment rail accepts this credential.",
            &[],
        )),
    }
}

/// Runs the whole flow for `call` priced at `quote`, calling `act` once the payment settled.
pub async fn run<F, Fut>(call: &Call, quote: Quote, act: F) -> Response
where
    F: FnOnce(Payer) -> Fut + Send + 'static,
    Fut: Future<Output = ActResult> + Send + 'static,
{
    let state = &call.state;
    let rails = state.rails();
    if rails.all().is_empty() {
        return Problem::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "No payment rail")
            .with_detail("no payment rail is enabled on this gateway, so paid routes cannot be served")
            .into_response();
    }
    let charge = charge_for(call, &quote);
    let (credential, rail) = match credential_and_rail(call, &charge).await {
        Ok(found) => found,
        Err(resp) => return resp,
    };
    let verified = match rail.verify(&credential, &charge).await {
        Ok(v) => v,
        Err(e) => return verify_failure(state, &charge, &e),
    };
    let key = match credential::idempotency_key(&call.headers, Some(&credential)) {
        Ok(k) => k,
        Err(p) => return p.into_response(),
    };
    let scope = verified.payer.to_string();
    if let Err(r) = begin_idempotent(state, &scope, key.as_deref(), call).await {
        return r;
    }
    let release = |state: AppState| {
        let (scope, key) = (scope.clone(), key.clone());
        async move {
            if let Some(k) = key
                && let Err(e) = state.store().release_idempotent(&scope, &k).await
            {
                tracing::error!(error = %e, "could not release an idempotency key");
            }
        }
    };
    let payment = match state
        .store()
        .record_payment(NewPayment { verified: verified.clone(), route: charge.route.clone() })
        .await
    {
        Ok(p) => p,
        Err(e) => {
            release(state.clone()).await;
            if e.kind() == ErrorKind::AlreadyExists {
                return replayed("this payment credential was already used");
            }
            return Problem::from(e).into_response();
        }
    };
    let reference = match rail.settle(&verified).await {
        Ok(SettleOutcome::Settled { reference }) => reference,
        Ok(SettleOutcome::Rejected { reason }) => {
            mark(state, &payment.id, PaymentStatus::Rejected, None).await;
            release(state.clone()).await;
            let detail = format!("Settlement was rejected: {reason}");
            return payment_required(rails, &charge, "verification-failed", &detail, &[]);
        }
        Ok(SettleOutcome::Unknown { reference }) => {
            mark(state, &payment.id, PaymentStatus::Unknown, Some(&reference)).await;
            let stored = pending(&reference, &verified);
            complete(state, &scope, key.as_deref(), &stored).await;
            return replay(stored);
        }
        Err(e) => {
            mark(state, &payment.id, PaymentStatus::Rejected, None).await;
            release(state.clone()).await;
            return verify_failure(state, &charge, &e);
        }
    };
    mark(state, &payment.id, PaymentStatus::Settled, Some(&reference)).await;
    let payer = Payer { wallet: verified.payer.clone(), payment_id: payment.id.clone(), amount: verified.amount_usd };
    let receipt = rail.receipt_headers(&verified, &reference);
    deliver(state, scope, key, payer, receipt, act).await
}

/// Reserves the idempotency key for this payer and request, or answers with what an earlier
/// request with the same key did (the stored response, or 409).
async fn begin_idempotent(state: &AppState, scope: &str, key: Option<&str>, call: &Call) -> Result<(), Response> {
    let Some(k) = key else { return Ok(()) };
    let fingerprint = request_fingerprint(call);
    let expires = Utc::now() + chrono::Duration::hours(IDEMPOTENCY_TTL_HOURS);
    match state.store().start_idempotent(scope, k, &fingerprint, expires).await {
        Ok(IdempotencyStart::Started) => Ok(()),
        Ok(IdempotencyStart::Completed(stored)) => Err(replay(stored)),
        Ok(IdempotencyStart::InProgress) => {
            let mut r = Problem::new(StatusCode::CONFLICT, "conflict", "Request in progress")
                .with_detail("a request with this Idempotency-Key is still being processed; retry shortly")
                .into_response();
            r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            Err(r)
        }
        Ok(IdempotencyStart::Mismatch) => Err(Problem::new(StatusCode::CONFLICT, "conflict", "Idempotency-Key reused")
            .with_detail("this Idempotency-Key was already used for a different request")
            .into_response()),
        Err(e) => Err(Problem::from(e).into_response()),
    }
}

/// Runs the action once paid, in its own task; refunds on failure; stores the answer under
/// the idempotency key.
async fn deliver<F, Fut>(
    state: &AppState,
    scope: String,
    key: Option<String>,
    payer: Payer,
    receipt: Vec<(String, String)>,
    act: F,
) -> Response
where
    F: FnOnce(Payer) -> Fut + Send + 'static,
    Fut: Future<Output = ActResult> + Send + 'static,
{
    let task_state = state.clone();
    let task = tokio::spawn(async move {
        let stored = match act(payer.clone()).await {
            Ok((status, body)) => stored_json(status, &body, receipt),
            Err(problem) => refund(&task_state, &payer, problem).await,
        };
        complete(&task_state, &scope, key.as_deref(), &stored).await;
        stored
    });
    match task.await {
        Ok(stored) => replay(stored),
        Err(e) => {
            tracing::error!(error = %e, "paid action panicked");
            Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "Internal error")
                .with_detail("the paid action failed unexpectedly; contact the operator with your payment receipt")
                .into_response()
        }
    }
}

/// Maps a verify (or pre-broadcast settle) error to its response.
fn verify_failure(state: &AppState, charge: &Charge, e: &Error) -> Response {
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
fn replayed(detail: &str) -> Response {
    Problem { kind: format!("{MPP_PROBLEMS}verification-failed"), ..Problem::from_status(StatusCode::FORBIDDEN) }
        .with_detail(detail.to_owned())
        .into_response()
}

async fn mark(state: &AppState, id: &str, status: PaymentStatus, reference: Option<&str>) {
    if let Err(e) = state.store().set_payment_status(id, status, reference).await {
        tracing::error!(payment = id, %status, error = %e, "could not record a payment status");
    }
}

async fn complete(state: &AppState, scope: &str, key: Option<&str>, stored: &StoredResponse) {
    if let Some(k) = key
        && let Err(e) = state.store().complete_idempotent(scope, k, stored).await
    {
        tracing::error!(error = %e, "could not store an idempotent response");
    }
}

/// Credits the payer with the full amount after a failed action, and says so in the problem.
async fn refund(state: &AppState, payer: &Payer, problem: Problem) -> StoredResponse {
    let reason = "refund: paid action failed";
    let problem = match credit_back(state.store(), &payer.wallet, payer.amount, reason, &payer.payment_id).await {
        Ok(entry) => {
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
    StoredResponse {
        status: problem.status,
        headers: vec![(header::CONTENT_TYPE.to_string(), PROBLEM_JSON.to_owned())],
        body: serde_json::to_vec(&problem).unwrap_or_default(),
    }
}

fn pending(reference: &str, verified: &Verified) -> StoredResponse {
    let body = json!({
        "status": "pending",
        "reference": reference,
        "rail": verified.rail.rail,
        "detail": "The payment was broadcast but not confirmed yet. Nothing was delivered. If it settles, the amount is \
                   credited to your balance (GET /compute/credits/balance; pay with `X-Use-Credits: true`); if it fails, nothing is charged.",
    });
    stored_json(StatusCode::ACCEPTED, &body, Vec::new())
}

fn stored_json(status: StatusCode, body: &Value, extra: Vec<(String, String)>) -> StoredResponse {
    let mut headers = vec![(header::CONTENT_TYPE.to_string(), "application/json".to_owned())];
    headers.extend(extra);
    StoredResponse { status: status.as_u16(), headers, body: serde_json::to_vec(body).unwrap_or_default() }
}

/// Builds the HTTP response from a stored (or fresh) response.
fn replay(stored: StoredResponse) -> Response {
    let mut resp = (StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK), stored.body).into_response();
    for (name, value) in stored.headers {
        if let (Ok(n), Ok(v)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            resp.headers_mut().insert(n, v);
        }
    }
    resp
}

/// SHA-256 of method, path and body: what "the same request" means for an idempotency key.
fn request_fingerprint(call: &Call) -> String {
    let mut h = Sha256::new();
    h.update(call.spec.method.as_str());
    h.update(b" ");
    h.update(call.path.as_bytes());
    h.update(b"\n");
    h.update(&call.body);
    hex::encode(h.finalize())
}
