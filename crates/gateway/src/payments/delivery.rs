//! Everything from recording a verified payment onwards — record, settle, act, answer — in a
//! task the request cannot cancel: a client that disconnects, or the request timeout, never
//! leaves a payment half-done. A lease on the payment tells the recovery worker that a live
//! process is working on it; a crash leaves the row for [`super::recovery`] to finish.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use compute_core::ErrorKind;
use compute_core::payment::{Charge, Payment, SettleOutcome, Verified};
use compute_store::{NewPayment, PaymentStatus, StoredResponse};

use super::answers::{complete, mark, pending, refund, release, replayed, respond, stored_json, verify_failure};
use super::challenge::payment_required;
use super::flow::{ActResult, Payer};
use crate::crash;
use crate::problem::Problem;
use crate::state::AppState;

/// How long a payment's lease lasts without renewal; the live task renews it every third of
/// this while it works, and the recovery worker leaves leased payments alone. A crashed
/// process's lease runs out after this.
pub const PAYMENT_LEASE: Duration = Duration::from_secs(60);

/// The lease key of the payment with `fingerprint`.
pub(super) fn lease_key(fingerprint: &str) -> String {
    format!("payment:{fingerprint}")
}

/// A verified payment and what it pays for, handed to the detached task.
pub(super) struct Settlement<F> {
    pub(super) state: AppState,
    pub(super) rail: Arc<dyn Payment>,
    pub(super) verified: Verified,
    pub(super) charge: Charge,
    pub(super) idempotency: Option<(String, String)>,
    pub(super) holder: String,
    pub(super) act: F,
}

/// Runs `s` to its end in its own task and answers with its result; the task finishes even
/// when the request is dropped.
pub(super) async fn settle_and_deliver<F, Fut>(s: Settlement<F>) -> Response
where
    F: FnOnce(Payer) -> Fut + Send + 'static,
    Fut: Future<Output = ActResult> + Send + 'static,
{
    let task = tokio::spawn(tracing::Instrument::in_current_span(run(s)));
    match task.await {
        Ok(response) => response,
        Err(e) => {
            tracing::error!(error = %e, "paid action panicked");
            Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "Internal error")
                .with_detail("the paid action failed unexpectedly; contact the operator with your payment receipt")
                .into_response()
        }
    }
}

async fn run<F, Fut>(s: Settlement<F>) -> Response
where
    F: FnOnce(Payer) -> Fut + Send + 'static,
    Fut: Future<Output = ActResult> + Send + 'static,
{
    let Settlement { state, rail, verified, charge, idempotency, holder, act } = s;
    let lease = lease_key(&verified.fingerprint);
    if let Err(e) = state.store().try_lease(&lease, &holder, PAYMENT_LEASE).await {
        tracing::warn!(error = %e, "could not lease a payment; the recovery worker may race this request");
    }
    let heartbeat = {
        let (store, lease, holder) = (state.store().clone(), lease.clone(), holder.clone());
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(PAYMENT_LEASE / 3).await;
                let _ = store.renew_lease(&lease, &holder, PAYMENT_LEASE).await;
            }
        })
    };
    let response = record_settle_act(&state, &*rail, verified, &charge, idempotency.as_ref(), act).await;
    heartbeat.abort();
    let _ = state.store().release_lease(&lease, &holder).await;
    response
}

async fn record_settle_act<F, Fut>(
    state: &AppState,
    rail: &dyn Payment,
    verified: Verified,
    charge: &Charge,
    idempotency: Option<&(String, String)>,
    act: F,
) -> Response
where
    F: FnOnce(Payer) -> Fut + Send + 'static,
    Fut: Future<Output = ActResult> + Send + 'static,
{
    let new = NewPayment { verified: verified.clone(), route: charge.route.clone(), idempotency: idempotency.cloned() };
    let payment = match state.store().record_payment(new).await {
        Ok(p) => p,
        Err(e) => {
            release(state, idempotency).await;
            if e.kind() == ErrorKind::AlreadyExists {
                return replayed("this payment was already used");
            }
            return Problem::from(e).into_response();
        }
    };
    crash::point("after-record");
    let started = std::time::Instant::now();
    let outcome = rail.settle(&verified).await;
    crash::point("after-broadcast");
    let label = match &outcome {
        Ok(SettleOutcome::Settled { .. }) => "settled",
        Ok(SettleOutcome::Rejected { .. }) => "rejected",
        Ok(SettleOutcome::Unknown { .. }) => "unknown",
        Err(_) => "failed",
    };
    state.metrics().settlement(&rail.rail().rail, label, started.elapsed());
    let reference = match outcome {
        Ok(SettleOutcome::Settled { reference }) => reference,
        Ok(SettleOutcome::Rejected { reason }) => {
            mark(state, &payment.id, PaymentStatus::Rejected, None).await;
            release(state, idempotency).await;
            let detail = format!("Settlement was rejected: {reason}");
            return payment_required(state.rails(), charge, "verification-failed", &detail, &[]);
        }
        Ok(SettleOutcome::Unknown { reference }) => {
            // One on-chain transaction is one payment, however many credentials carried it.
            if !claim_reference(state, &payment.id, PaymentStatus::Unknown, &reference).await {
                release(state, idempotency).await;
                return replayed("this on-chain payment was already used");
            }
            let stored = pending(&reference, &verified);
            complete(state, idempotency, &stored).await;
            return respond(stored);
        }
        Err(e) => {
            mark(state, &payment.id, PaymentStatus::Rejected, None).await;
            release(state, idempotency).await;
            return verify_failure(state, charge, &e);
        }
    };
    if !claim_reference(state, &payment.id, PaymentStatus::Settled, &reference).await {
        release(state, idempotency).await;
        return replayed("this on-chain payment was already used");
    }
    let payer = Payer { wallet: verified.payer.clone(), payment_id: payment.id.clone(), amount: verified.amount_usd };
    let receipt = rail.receipt_headers(&verified, &reference);
    let stored = act_and_answer(state, payer, receipt, act).await;
    complete(state, idempotency, &stored).await;
    respond(stored)
}

/// Records `reference` with `status`; `false` when another payment already holds it.
async fn claim_reference(state: &AppState, id: &str, status: PaymentStatus, reference: &str) -> bool {
    match state.store().set_payment_status(id, status, Some(reference)).await {
        Ok(_) => true,
        Err(e) if e.kind() == ErrorKind::AlreadyExists => {
            mark(state, id, PaymentStatus::Rejected, None).await;
            false
        }
        Err(e) => {
            tracing::error!(payment = id, error = %e, "could not record a settlement reference");
            true
        }
    }
}

/// Runs the paid action: its answer with the receipt (payment `delivered`), or the refund of a
/// failure (payment `refunded`).
async fn act_and_answer<F, Fut>(
    state: &AppState,
    payer: Payer,
    receipt: Vec<(String, String)>,
    act: F,
) -> StoredResponse
where
    F: FnOnce(Payer) -> Fut + Send + 'static,
    Fut: Future<Output = ActResult> + Send + 'static,
{
    match act(payer.clone()).await {
        Ok((status, body)) => {
            if let Err(e) = state
                .store()
                .transition_payment(&payer.payment_id, PaymentStatus::Settled, PaymentStatus::Delivered)
                .await
            {
                tracing::error!(error = %e, "could not mark a delivered payment");
            }
            stored_json(status, &body, receipt)
        }
        Err(problem) => refund(state, &payer, problem).await,
    }
}
