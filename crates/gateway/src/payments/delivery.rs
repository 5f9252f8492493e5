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
use compute_store::{IdempotentAnswer, NewPayment, PaymentLease, PaymentStatus};

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
    let key = lease_key(&verified.fingerprint);
    let lease = PaymentLease { key: &key, holder: &holder };
    let heartbeat = {
        let (store, key, holder) = (state.store().clone(), key.clone(), holder.clone());
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(PAYMENT_LEASE / 3).await;
                let _ = store.renew_lease(&key, &holder, PAYMENT_LEASE).await;
            }
        })
    };
    let (response, leased) =
        record_settle_act(&state, &*rail, verified, &charge, idempotency.as_ref(), lease, act).await;
    heartbeat.abort();
    if leased == Leased::Held {
        let _ = state.store().release_lease(lease.key, lease.holder).await;
    }
    response
}

/// Whether the request may still hold its payment's lease when it answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Leased {
    /// Maybe: release it.
    Held,
    /// Never taken (a replay), or released with the answer.
    Not,
}

async fn record_settle_act<F, Fut>(
    state: &AppState,
    rail: &dyn Payment,
    verified: Verified,
    charge: &Charge,
    idempotency: Option<&(String, String)>,
    lease: PaymentLease<'_>,
    act: F,
) -> (Response, Leased)
where
    F: FnOnce(Payer) -> Fut + Send + 'static,
    Fut: Future<Output = ActResult> + Send + 'static,
{
    let new = NewPayment { verified: verified.clone(), route: charge.route.clone(), idempotency: idempotency.cloned() };
    // The lease and the row in one commit: no moment where the row is there, unleased, for the
    // recovery worker to take. Untaken, the request goes on (releasing a lease it does not
    // hold changes nothing: holders are unique).
    let payment = match state.store().record_payment_leased(new, lease, PAYMENT_LEASE).await {
        Ok((p, leased)) => {
            if !leased {
                tracing::warn!(payment = %p.id, "could not lease a payment; the recovery worker may race this request");
            }
            p
        }
        Err(e) => {
            release(state, idempotency).await;
            if e.kind() == ErrorKind::AlreadyExists {
                return (replayed("this payment was already used"), Leased::Not);
            }
            return (Problem::from(e).into_response(), Leased::Not);
        }
    };
    crash::point("after-record");
    match settle(state, rail, &verified, charge, idempotency, &payment.id).await {
        Err(response) => (response, Leased::Held),
        Ok(reference) => {
            let payer =
                Payer { wallet: verified.payer.clone(), payment_id: payment.id.clone(), amount: verified.amount_usd };
            let receipt = rail.receipt_headers(&verified, &reference);
            act_and_answer(state, payer, receipt, idempotency, lease, act).await
        }
    }
}

/// Settles a recorded payment: its on-chain reference, or the answer when it did not settle
/// (rejected, unknown, failed, or a reference another payment holds).
async fn settle(
    state: &AppState,
    rail: &dyn Payment,
    verified: &Verified,
    charge: &Charge,
    idempotency: Option<&(String, String)>,
    payment_id: &str,
) -> Result<String, Response> {
    let started = std::time::Instant::now();
    let outcome = rail.settle(verified).await;
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
            mark(state, payment_id, PaymentStatus::Rejected, None).await;
            release(state, idempotency).await;
            let detail = format!("Settlement was rejected: {reason}");
            return Err(payment_required(state.rails(), charge, "verification-failed", &detail, &[]));
        }
        Ok(SettleOutcome::Unknown { reference }) => {
            // One on-chain transaction is one payment, however many credentials carried it.
            if !claim_reference(state, payment_id, PaymentStatus::Unknown, &reference).await {
                release(state, idempotency).await;
                return Err(replayed("this on-chain payment was already used"));
            }
            let stored = pending(&reference, verified);
            complete(state, idempotency, &stored).await;
            return Err(respond(stored));
        }
        Err(e) => {
            mark(state, payment_id, PaymentStatus::Rejected, None).await;
            release(state, idempotency).await;
            return Err(verify_failure(state, charge, &e));
        }
    };
    if !claim_reference(state, payment_id, PaymentStatus::Settled, &reference).await {
        release(state, idempotency).await;
        return Err(replayed("this on-chain payment was already used"));
    }
    Ok(reference)
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

/// Runs the paid action and answers: on success the payment becomes `delivered`, the answer is
/// stored under the idempotency key and the lease released, in one commit; a failure is
/// refunded (payment `refunded`).
async fn act_and_answer<F, Fut>(
    state: &AppState,
    payer: Payer,
    receipt: Vec<(String, String)>,
    idempotency: Option<&(String, String)>,
    lease: PaymentLease<'_>,
    act: F,
) -> (Response, Leased)
where
    F: FnOnce(Payer) -> Fut + Send + 'static,
    Fut: Future<Output = ActResult> + Send + 'static,
{
    match act(payer.clone()).await {
        Ok((status, body)) => {
            let stored = stored_json(status, &body, receipt);
            let answer = idempotency.map(|(scope, key)| IdempotentAnswer { scope, key, response: &stored });
            match state.store().finish_delivered(&payer.payment_id, answer, lease).await {
                Ok(_) => (respond(stored), Leased::Not),
                Err(e) => {
                    // Delivered all the same, so the answer goes out. The row stays `settled`:
                    // the recovery worker will credit the payer, erring on the payer's side.
                    tracing::error!(payment = %payer.payment_id, error = %e, "could not record a delivery");
                    (respond(stored), Leased::Held)
                }
            }
        }
        Err(problem) => {
            let stored = refund(state, &payer, problem).await;
            complete(state, idempotency, &stored).await;
            (respond(stored), Leased::Held)
        }
    }
}
