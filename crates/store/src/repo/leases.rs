//! Leases: a claim on background work that expires by itself, taken atomically across
//! processes (UNIQUE key), released by its holder.

use std::time::Duration;

use compute_core::Result;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use super::now;
use crate::entity::lease::{self, Entity as Leases};
use crate::{Store, db_err};

impl Store {
    /// Takes the lease `key` for `holder` for `ttl` unless someone holds a live one. `true` for
    /// exactly one of any number of concurrent callers, in any number of processes.
    ///
    /// # Errors
    /// Database errors.
    pub async fn try_lease(&self, key: &str, holder: &str, ttl: Duration) -> Result<bool> {
        take_lease(&self.db, key, holder, ttl).await
    }

    /// Extends `holder`'s lease `key` to `ttl` from now; `false` when `holder` no longer holds it.
    ///
    /// # Errors
    /// Database errors.
    pub async fn renew_lease(&self, key: &str, holder: &str, ttl: Duration) -> Result<bool> {
        let until = now() + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::minutes(5));
        let res = Leases::update_many()
            .col_expr(lease::Column::ExpiresAt, sea_orm::sea_query::Expr::value(until))
            .filter(lease::Column::Key.eq(key))
            .filter(lease::Column::Holder.eq(holder))
            .exec(&self.db)
            .await
            .map_err(db_err)?;
        Ok(res.rows_affected == 1)
    }

    /// Releases `key` if `holder` still holds it.
    ///
    /// # Errors
    /// Database errors.
    pub async fn release_lease(&self, key: &str, holder: &str) -> Result<()> {
        drop_lease(&self.db, key, holder).await
    }
}

/// [`Store::try_lease`] on `db` (a connection or a transaction).
pub(crate) async fn take_lease(db: &impl ConnectionTrait, key: &str, holder: &str, ttl: Duration) -> Result<bool> {
    let t = now();
    let am = lease::ActiveModel {
        key: Set(key.to_owned()),
        holder: Set(holder.to_owned()),
        created_at: Set(t),
        expires_at: Set(t + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::minutes(5))),
    };
    // One statement: insert, or take over a lease that has expired.
    let take_over_expired = OnConflict::column(lease::Column::Key)
        .update_columns([lease::Column::Holder, lease::Column::CreatedAt, lease::Column::ExpiresAt])
        .action_and_where(Expr::col((Leases, lease::Column::ExpiresAt)).lte(t))
        .to_owned();
    let taken = Leases::insert(am).on_conflict(take_over_expired).exec_without_returning(db).await;
    Ok(taken.map_err(db_err)? == 1)
}

/// [`Store::release_lease`] on `db` (a connection or a transaction).
pub(crate) async fn drop_lease(db: &impl ConnectionTrait, key: &str, holder: &str) -> Result<()> {
    Leases::delete_many()
        .filter(lease::Column::Key.eq(key))
        .filter(lease::Column::Holder.eq(holder))
        .exec(db)
        .await
        .map_err(db_err)?;
    Ok(())
}
