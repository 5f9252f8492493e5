//! Recovery of payments a crash interrupted, run at start-up and periodically: a payment row
//! that no live process leases and that stayed `verified` (recorded; maybe broadcast) or
//! `settled` (money moved; the action never answered) is finished here. Its rail says whether
//! the money moved; if it did, whatever the action began (a resource row still `creating`,
//! possibly a running machine nobody pays for) is undone at the provider and the payer is
//! credited; if not, the payment is rejected. The idempotency key ends with the answer, so the
//! client's retry gets it, and keys whose request died before recording are released.

use std::time::Duration;

use chrono::Utc;
use compute_core::payment::SettleOutcome;
use compute_core::provider::Tenant;
use compute_store::{PaymentRecord, PaymentStatus, ResourceState, ResourceUpdate};

use super::answers::{complete, pending, refund, release};
use super::delivery::{PAYMENT_LEASE, lease_key};
use super::flow::Payer;
use crate::problem::Problem;
use crate::state::AppState;

/// A payment untouched for this long, and leased by no live process, is recovered.
pub const STALE: Duration = Duration::from_secs(30);

/// Most payments recovered per pass.
const BATCH: u64 = 100;

/// One pass; returns how many payments it finished.
///
/// # Errors
/// Database errors reading the batch; one payment's failure is logged and retried next pass.
pub async fn run_once(state: &AppState) -> compute_core::Result<usize> {
    let store = state.store();
    let before = Utc::now() - chrono::Duration::from_std(STALE).unwrap_or_default();
    let mut finished = 0;
    for p in store.payments_in(&[PaymentStatus::Verified, PaymentStatus::Settled], Some(before), BATCH).await? {
        let key = lease_key(&p.credential_fingerprint);
        if !store.try_lease(&key, state.instance_id(), PAYMENT_LEASE).await? {
            continue; // A live process is settling or delivering it.
        }
        match recover(state, &p).await {
            Ok(()) => finished += 1,
            Err(e) => tracing::warn!(payment = %p.id, error = %e, "could not recover a payment; will retry"),
        }
        store.release_lease(&key, state.instance_id()).await?;
    }
    let released = store.release_stale_idempotent(before).await?;
    if released > 0 {
        tracing::info!(released, "released idempotency keys of requests that died before paying");
    }
    Ok(finished)
}

async fn recover(state: &AppState, p: &PaymentRecord) -> compute_core::Result<()> {
    let store = state.store();
    if p.status == PaymentStatus::Verified {
        let rail =
            state.rails().by_name(&p.rail).or_else(|| (p.rail == state.credits().rail().rail).then(|| state.credits()));
        let Some(rail) = rail else { return Ok(()) };
        match rail.reconcile(&p.verified(), p.tx_reference.as_deref()).await? {
            SettleOutcome::Settled { reference } => {
                if store.set_payment_status(&p.id, PaymentStatus::Settled, Some(&reference)).await.is_err() {
                    // Another row holds this transaction: it was counted there.
                    store.set_payment_status(&p.id, PaymentStatus::Rejected, None).await?;
                    release(state, p.idempotency.as_ref()).await;
                    return Ok(());
                }
            }
            SettleOutcome::Rejected { .. } => {
                store.set_payment_status(&p.id, PaymentStatus::Rejected, None).await?;
                release(state, p.idempotency.as_ref()).await;
                return Ok(());
            }
            SettleOutcome::Unknown { reference } => {
                store.set_payment_status(&p.id, PaymentStatus::Unknown, Some(&reference)).await?;
                complete(state, p.idempotency.as_ref(), &pending(&reference, &p.verified())).await;
                return Ok(());
            }
        }
    }
    undo_resources(state, &p.id).await?;
    let payer = Payer { wallet: p.payer.clone(), payment_id: p.id.clone(), amount: p.amount_usd };
    let problem = Problem::new(axum::http::StatusCode::SERVICE_UNAVAILABLE, "interrupted", "Interrupted")
        .with_detail("The gateway stopped while serving this paid request; nothing was delivered.");
    let answer = refund(state, &payer, problem).await;
    complete(state, p.idempotency.as_ref(), &answer).await;
    Ok(())
}

/// Undoes at the provider what a payment's action began and never recorded as done: a machine
/// whose row is still `creating` is destroyed (found by its id, or by its name in the tenant).
async fn undo_resources(state: &AppState, payment_id: &str) -> compute_core::Result<()> {
    for r in state.store().resources_of_payment(payment_id).await? {
        if r.state != ResourceState::Creating {
            continue;
        }
        let machines = state.providers().get(&r.provider).and_then(|h| h.machines().cloned());
        if let (Some(machines), Some(tenant)) = (machines, r.tenant.as_deref()) {
            let tenant = Tenant::new(tenant)?;
            let id = match &r.provider_id {
                Some(id) => Some(id.clone()),
                None => machines.list(&tenant).await?.into_iter().find(|m| m.name == r.name).map(|m| m.id),
            };
            if let Some(id) = id {
                machines.destroy(&tenant, &id).await?;
            }
        }
        state.store().update_resource(&r.id, ResourceUpdate::state(ResourceState::Failed)).await?;
    }
    Ok(())
}
