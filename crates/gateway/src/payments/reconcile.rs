//! The reconciler: asks the chain about payments whose settlement outcome was unknown. A
//! payment that turns out settled was never delivered, so its amount is credited to the
//! payer's balance; one that failed, or can no longer land, is marked rejected. Safe with
//! several replicas: each payment changes state by compare-and-set, and only the winner
//! credits; the rail claims the same marker its settle path claims, so one transaction is
//! counted once. Each pass looks at a bounded number of payments, least recently looked at
//! first, so unknown outcomes (which cost an attacker nothing) cannot make a pass unbounded.

use compute_core::payment::SettleOutcome;
use compute_store::PaymentStatus;

use super::credits::credit_back;
use crate::state::AppState;

/// Most payments looked at per pass.
pub const BATCH: u64 = 100;

/// One pass over at most [`BATCH`] payments in `unknown`; returns how many were resolved.
///
/// # Errors
/// Database errors reading the batch; a payment that cannot be reconciled now is logged and
/// left for the next pass.
pub async fn run_once(state: &AppState) -> compute_core::Result<usize> {
    let mut resolved = 0;
    for p in state.store().payments_with_status(PaymentStatus::Unknown, BATCH).await? {
        state.store().touch_payment(&p.id).await?;
        let Some(rail) = state.rails().by_name(&p.rail) else { continue };
        let outcome = match rail.reconcile(&p.verified(), p.tx_reference.as_deref()).await {
            Ok(o) => o,
            Err(e) => {
                tracing::warn!(payment = %p.id, error = %e, "could not reconcile");
                continue;
            }
        };
        match outcome {
            SettleOutcome::Settled { .. } => {
                if state.store().transition_payment(&p.id, PaymentStatus::Unknown, PaymentStatus::Refunded).await? {
                    let reason = "settled after the request ended; not delivered";
                    credit_back(state.store(), &p.payer, p.amount_usd, reason, &p.id).await?;
                    state.metrics().credit_granted(p.amount_usd);
                    resolved += 1;
                }
            }
            SettleOutcome::Rejected { .. } => {
                if state.store().transition_payment(&p.id, PaymentStatus::Unknown, PaymentStatus::Rejected).await? {
                    resolved += 1;
                }
            }
            SettleOutcome::Unknown { .. } => {}
        }
    }
    Ok(resolved)
}
