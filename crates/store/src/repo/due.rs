//! The expiry worker's queries over `resources`: which rows are due, claiming a batch of them
//! for one replica, and moving one row by compare-and-set.

use chrono::{DateTime, Utc};
use compute_core::provider::ProviderId;
use compute_core::{Error, ErrorKind, Result};
use sea_orm::sea_query::{Expr, LockBehavior, LockType};
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect, SqliteTransactionMode,
    TransactionOptions, TransactionTrait,
};

use super::kinds::{ResourceKind, ResourceState};
use super::now;
use super::resources::ResourceRecord;
use crate::entity::resource::{self, Entity as Resources};
use crate::{Store, db_err};

/// Which resources are due: see [`Store::resources_due`].
#[derive(Clone, Copy, Debug)]
pub struct DueQuery<'a> {
    /// Kinds looked at.
    pub kinds: &'a [ResourceKind],
    /// States looked at.
    pub states: &'a [ResourceState],
    /// Paid time ended at or before this instant.
    pub at: DateTime<Utc>,
    /// Only these providers (empty: every provider).
    pub providers: &'a [ProviderId],
}

/// Where the previous page of [`Store::resources_due`] or batch of [`Store::claim_due`] ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DueCursor {
    /// The last row's `paid_until`.
    pub paid_until: DateTime<Utc>,
    /// The last row's id.
    pub id: String,
}

impl DueCursor {
    /// The cursor after `r` (`None` for a row without paid time, which is never due).
    pub fn after(r: &ResourceRecord) -> Option<Self> {
        r.paid_until.map(|paid_until| DueCursor { paid_until, id: r.id.clone() })
    }
}

/// A batch to claim: see [`Store::claim_due`].
#[derive(Clone, Copy, Debug)]
pub struct Claim<'a> {
    /// The due rows.
    pub due: DueQuery<'a>,
    /// The state the claimed rows are moved to.
    pub to: ResourceState,
    /// Only rows strictly after this cursor in `(paid_until, id)` order.
    pub after: Option<&'a DueCursor>,
    /// Rows left out (ids), e.g. rows whose last attempt failed and are waiting to be retried.
    pub skip: &'a [String],
    /// At most this many rows.
    pub limit: u64,
}

/// The rows of `due`, after `after`, as one condition.
fn due_condition(due: &DueQuery<'_>, after: Option<&DueCursor>) -> Condition {
    let mut c = Condition::all()
        .add(resource::Column::PaidUntil.lte(due.at))
        .add(resource::Column::Kind.is_in(due.kinds.iter().map(ResourceKind::as_str)))
        .add(resource::Column::State.is_in(due.states.iter().map(ResourceState::as_str)));
    if !due.providers.is_empty() {
        c = c.add(resource::Column::Provider.is_in(due.providers.iter().map(ProviderId::as_str)));
    }
    if let Some(cur) = after {
        c = c.add(
            Condition::any().add(resource::Column::PaidUntil.gt(cur.paid_until)).add(
                Condition::all()
                    .add(resource::Column::PaidUntil.eq(cur.paid_until))
                    .add(resource::Column::Id.gt(cur.id.clone())),
            ),
        );
    }
    c
}

impl Store {
    /// One page of the expiry worker's input: resources of one of `kinds` in one of `states`
    /// whose paid time ended at or before `at`, ordered by `(paid_until, id)` and strictly
    /// after the cursor `after` (the last row of the previous page), at most `limit`. Reading
    /// claims nothing; see [`Store::claim_due`].
    ///
    /// # Errors
    /// Database errors.
    pub async fn resources_due(
        &self,
        due: &DueQuery<'_>,
        after: Option<&DueCursor>,
        limit: u64,
    ) -> Result<Vec<ResourceRecord>> {
        let q = Resources::find()
            .filter(due_condition(due, after))
            .order_by_asc(resource::Column::PaidUntil)
            .order_by_asc(resource::Column::Id)
            .limit(limit);
        q.all(&self.db).await.map_err(db_err)?.into_iter().map(TryInto::try_into).collect()
    }

    /// Claims up to `claim.limit` due rows, the earliest first, by moving them to `claim.to`,
    /// and returns them as they were **before** the claim (their state then, ordered by
    /// `(paid_until, id)`). One transaction: the rows are read and then moved. Concurrent
    /// callers, in any number of processes, claim disjoint rows: on PostgreSQL the rows are
    /// read `FOR UPDATE SKIP LOCKED`, so a replica skips the rows another is claiming instead
    /// of waiting for them; SQLite has one writer. An owner who renewed before the claim keeps
    /// the row (it is no longer due).
    ///
    /// # Errors
    /// Database errors.
    pub async fn claim_due(&self, claim: &Claim<'_>) -> Result<Vec<ResourceRecord>> {
        // SQLite: a write transaction from the start, so another process's write cannot
        // invalidate the read half-way (`SQLITE_BUSY` on the upgrade); ignored elsewhere.
        let immediate = TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..TransactionOptions::default()
        };
        let txn = self.db.begin_with_options(immediate).await.map_err(db_err)?;
        let mut pick = Resources::find()
            .filter(due_condition(&claim.due, claim.after))
            .order_by_asc(resource::Column::PaidUntil)
            .order_by_asc(resource::Column::Id)
            .limit(claim.limit)
            .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
        if !claim.skip.is_empty() {
            pick = pick.filter(resource::Column::Id.is_not_in(claim.skip.iter().cloned()));
        }
        let rows: Vec<ResourceRecord> =
            pick.all(&txn).await.map_err(db_err)?.into_iter().map(TryInto::try_into).collect::<Result<_>>()?;
        if rows.is_empty() {
            return Ok(rows);
        }
        let destroyed_at = (claim.to == ResourceState::Destroyed).then(now);
        let moved = Resources::update_many()
            .col_expr(resource::Column::State, Expr::value(claim.to.as_str()))
            .col_expr(resource::Column::UpdatedAt, Expr::value(now()))
            .col_expr(resource::Column::ExpiresAt, Expr::value(destroyed_at))
            .filter(resource::Column::Id.is_in(rows.iter().map(|r| r.id.clone())))
            .filter(resource::Column::State.is_in(claim.due.states.iter().map(ResourceState::as_str)))
            .exec(&txn)
            .await
            .map_err(db_err)?;
        if moved.rows_affected != rows.len() as u64 {
            return Err(Error::new(ErrorKind::Conflict, "due rows changed while being claimed").with_component("store"));
        }
        txn.commit().await.map_err(db_err)?;
        Ok(rows)
    }

    /// The resources with gateway ids `ids` (those that exist), in no particular order: the
    /// expiry worker's re-read of a batch it acted on.
    ///
    /// # Errors
    /// Database errors.
    pub async fn resources_by_ids(&self, ids: &[String]) -> Result<Vec<ResourceRecord>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let q = Resources::find().filter(resource::Column::Id.is_in(ids.iter().cloned()));
        q.all(&self.db).await.map_err(db_err)?.into_iter().map(TryInto::try_into).collect()
    }

    /// Moves resource `id` to `to` only while it is in one of `from` and its `paid_until` is
    /// still `paid_until` (compare-and-set: an owner who paid for more time in between wins).
    /// Returns whether it moved.
    ///
    /// # Errors
    /// Database errors.
    pub async fn transition_resource(
        &self,
        id: &str,
        paid_until: Option<DateTime<Utc>>,
        from: &[ResourceState],
        to: ResourceState,
    ) -> Result<bool> {
        let mut q = Resources::update_many()
            .col_expr(resource::Column::State, Expr::value(to.as_str()))
            .col_expr(resource::Column::UpdatedAt, Expr::value(now()))
            .filter(resource::Column::Id.eq(id))
            .filter(resource::Column::State.is_in(from.iter().map(ResourceState::as_str)));
        q = match paid_until {
            Some(t) => q.filter(resource::Column::PaidUntil.eq(t)),
            None => q.filter(resource::Column::PaidUntil.is_null()),
        };
        let destroyed_at = (to == ResourceState::Destroyed).then(now);
        q = q.col_expr(resource::Column::ExpiresAt, Expr::value(destroyed_at));
        Ok(q.exec(&self.db).await.map_err(db_err)?.rows_affected == 1)
    }
}
