//! The paid flow's writes that touch several tables, each in one transaction: one commit
//! (one fsync on SQLite) instead of one per row, and no state in between for a crash to
//! leave behind.

use std::time::Duration;

use compute_core::{ErrorKind, Result};
use sea_orm::TransactionTrait;

use super::idempotency::complete_key;
use super::leases::{drop_lease, take_lease};
use super::payments::{insert_payment, move_payment};
use crate::{NewPayment, PaymentRecord, PaymentStatus, Store, StoredResponse, db_err};

/// A lease named with a payment's write: `key`, held by `holder`.
#[derive(Clone, Copy, Debug)]
pub struct PaymentLease<'a> {
    /// The lease key (the gateway uses `payment:<fingerprint>`).
    pub key: &'a str,
    /// Who holds it: unique per request, so no other request can release it.
    pub holder: &'a str,
}

/// The answer a delivered payment's idempotency key ends with.
#[derive(Clone, Copy, Debug)]
pub struct IdempotentAnswer<'a> {
    /// The key's scope (the payer).
    pub scope: &'a str,
    /// The key.
    pub key: &'a str,
    /// What the request answered.
    pub response: &'a StoredResponse,
}

impl Store {
    /// [`Store::try_lease`] for `ttl` and [`Store::record_payment`] in one transaction;
    /// returns the payment and whether the lease was taken (`false`: a live holder has it).
    ///
    /// # Errors
    /// `AlreadyExists` when the credential was already used (a replay): then nothing is
    /// written, the lease neither; other database errors.
    pub async fn record_payment_leased(
        &self,
        new: NewPayment,
        lease: PaymentLease<'_>,
        ttl: Duration,
    ) -> Result<(PaymentRecord, bool)> {
        let txn = self.db.begin().await.map_err(db_err)?;
        // The row first, then the lease: the order `finish_delivered` locks them in. Taking
        // the lease first, a replay held the lease while it waited on the row that a delivery
        // commit held while it waited on the lease: a PostgreSQL deadlock. A replay now
        // fails on the row and never touches the lease.
        let payment = insert_payment(&txn, new).await?;
        let leased = take_lease(&txn, lease.key, lease.holder, ttl).await?;
        txn.commit().await.map_err(db_err)?;
        Ok((payment, leased))
    }

    /// Ends a paid request that delivered, in one transaction (locking the payment row, then
    /// the lease, as [`Store::record_payment_leased`] does): the payment moves from
    /// `settled` to `delivered` (compare-and-set; the result says whether it moved), the
    /// idempotency key stores `answer` (unless it was released meanwhile: there is nothing
    /// to store it under), and `lease` is released.
    ///
    /// # Errors
    /// Database errors; then nothing was written.
    pub async fn finish_delivered(
        &self,
        payment_id: &str,
        answer: Option<IdempotentAnswer<'_>>,
        lease: PaymentLease<'_>,
    ) -> Result<bool> {
        let txn = self.db.begin().await.map_err(db_err)?;
        let moved = move_payment(&txn, payment_id, PaymentStatus::Settled, PaymentStatus::Delivered).await?;
        if let Some(a) = answer {
            match complete_key(&txn, a.scope, a.key, a.response).await {
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                done => done?,
            }
        }
        drop_lease(&txn, lease.key, lease.holder).await?;
        txn.commit().await.map_err(db_err)?;
        Ok(moved)
    }
}
