//! The reconciler: asks the chain about payments whose settlement outcome was unknown.
//! A payment that turns out settled was never delivered, so its amount is credited to the
//! payer's balance; one that failed is marked rejected. Safe with several replicas: each
//! payment changes state by compare-and-set, and only the winner credits.

use compute_core::payment::SettleOutcome;
use compute_store::PaymentStatus;

use super::credits::credit_back;

use crate::state::AppState;

/// One pass over the payments in `unknown`; returns how many were resolved.
///
/// # Errors
/// Database errors.
pub async fn run_once(state: &AppState) -> compute_core::Result<usize> {
    let mut resolved = 0;
    for p in state.store().payments_with_status(PaymentStatus::Unknown).await? {
        let (Some(rail), Some(reference)) = (state.rails().by_name(&p.rail), p.tx_reference.as_deref()) else {
            continue;
        };
        match rail.reconcile(reference).await {
            Ok(SettleOutcome::Settled { .. }) => {
                if state.store().transition_payment(&p.id, PaymentStatus::Unknown, PaymentStatus::Refunded).await? {
                    let reason = "settled after the request ended; not delivered";
                    credit_back(state.store(), &p.payer, p.amount_usd, reason, &p.id).await?;
                    resolved += 1;
                }
            }
            Ok(SettleOutcome::Rejected { .. }) => {
                if state.store().transition_payment(&p.id, PaymentStatus::Unknown, PaymentStatus::Rejected).await? {
                    resolved += 1;
                }
            }
            Ok(SettleOutcome::Unknown { .. }) => {}
            Err(e) => tracing::warn!(payment = %p.id, error = %e, "could not reconcile"),
        }
    }
    Ok(resolved)
}
