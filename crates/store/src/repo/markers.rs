//! Replay markers: atomic single-use keys with expiry, shared by every gateway process that
//! uses the same database (the MPP `Store` and x402 nonce guards are built on these).

use chrono::{DateTime, Utc};
use compute_core::{ErrorKind, Result};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, ExprTrait, QueryFilter, Set};

use super::now;
use crate::entity::replay_marker::{self, Entity as Markers};
use crate::{Store, db_err};

impl Store {
    /// Inserts `key` with `value` unless a live (unexpired) marker exists. Returns `true` for
    /// exactly one of any number of concurrent callers, in any number of processes.
    ///
    /// # Errors
    /// Database errors.
    pub async fn claim_marker(&self, key: &str, value: Option<&str>, expires_at: DateTime<Utc>) -> Result<bool> {
        self.purge_marker_if_expired(key).await?;
        let am = replay_marker::ActiveModel {
            key: Set(key.to_owned()),
            value: Set(value.map(str::to_owned)),
            created_at: Set(now()),
            expires_at: Set(expires_at),
        };
        match am.insert(&self.db).await.map_err(db_err) {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// The live marker's value: `None` when absent or expired, `Some(None)` when it has no value.
    ///
    /// # Errors
    /// Database errors.
    pub async fn get_marker(&self, key: &str) -> Result<Option<Option<String>>> {
        let found = Markers::find_by_id(key.to_owned()).one(&self.db).await.map_err(db_err)?;
        Ok(found.filter(|m| m.expires_at > now()).map(|m| m.value))
    }

    /// Sets `key` to `value` whatever was there.
    ///
    /// # Errors
    /// Database errors.
    pub async fn put_marker(&self, key: &str, value: Option<&str>, expires_at: DateTime<Utc>) -> Result<()> {
        loop {
            let updated = Markers::update_many()
                .col_expr(replay_marker::Column::Value, Expr::value(value.map(str::to_owned)))
                .col_expr(replay_marker::Column::ExpiresAt, Expr::value(expires_at))
                .filter(replay_marker::Column::Key.eq(key))
                .exec(&self.db)
                .await
                .map_err(db_err)?;
            if updated.rows_affected > 0 || self.claim_marker(key, value, expires_at).await? {
                return Ok(());
            }
        }
    }

    /// Atomically replaces the value of `key` if it is currently `expected` (`None`: absent).
    /// `new = None` deletes it. Returns whether the swap happened.
    ///
    /// # Errors
    /// Database errors.
    pub async fn compare_exchange_marker(
        &self,
        key: &str,
        expected: Option<&str>,
        new: Option<&str>,
        expires_at: DateTime<Utc>,
    ) -> Result<bool> {
        let Some(expected) = expected else {
            return match new {
                Some(v) => self.claim_marker(key, Some(v), expires_at).await,
                None => Ok(self.get_marker(key).await?.is_none()),
            };
        };
        self.purge_marker_if_expired(key).await?;
        let filter = replay_marker::Column::Key.eq(key).and(replay_marker::Column::Value.eq(expected));
        let affected = match new {
            Some(v) => {
                Markers::update_many()
                    .col_expr(replay_marker::Column::Value, Expr::value(Some(v.to_owned())))
                    .col_expr(replay_marker::Column::ExpiresAt, Expr::value(expires_at))
                    .filter(filter)
                    .exec(&self.db)
                    .await
                    .map_err(db_err)?
                    .rows_affected
            }
            None => Markers::delete_many().filter(filter).exec(&self.db).await.map_err(db_err)?.rows_affected,
        };
        Ok(affected == 1)
    }

    /// Deletes `key`.
    ///
    /// # Errors
    /// Database errors.
    pub async fn delete_marker(&self, key: &str) -> Result<()> {
        Markers::delete_by_id(key.to_owned()).exec(&self.db).await.map_err(db_err)?;
        Ok(())
    }

    /// Deletes every expired marker, idempotency key and lease; returns how many rows went.
    ///
    /// # Errors
    /// Database errors.
    pub async fn purge_expired(&self) -> Result<u64> {
        let t = now();
        let markers = Markers::delete_many()
            .filter(replay_marker::Column::ExpiresAt.lte(t))
            .exec(&self.db)
            .await
            .map_err(db_err)?;
        let keys = crate::entity::idempotency_key::Entity::delete_many()
            .filter(crate::entity::idempotency_key::Column::ExpiresAt.lte(t))
            .exec(&self.db)
            .await
            .map_err(db_err)?;
        let leases = crate::entity::lease::Entity::delete_many()
            .filter(crate::entity::lease::Column::ExpiresAt.lte(t))
            .exec(&self.db)
            .await
            .map_err(db_err)?;
        Ok(markers.rows_affected + keys.rows_affected + leases.rows_affected)
    }

    async fn purge_marker_if_expired(&self, key: &str) -> Result<()> {
        Markers::delete_many()
            .filter(replay_marker::Column::Key.eq(key))
            .filter(replay_marker::Column::ExpiresAt.lte(now()))
            .exec(&self.db)
            .await
            .map_err(db_err)?;
        Ok(())
    }
}

fn expiry(ttl: std::time::Duration) -> DateTime<Utc> {
    now() + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::days(365))
}

#[async_trait::async_trait]
impl compute_core::markers::MarkerStore for Store {
    async fn get(&self, key: &str) -> Result<Option<String>> {
        Ok(self.get_marker(key).await?.map(|v| v.unwrap_or_default()))
    }

    async fn put(&self, key: &str, value: &str, ttl: std::time::Duration) -> Result<()> {
        self.put_marker(key, Some(value), expiry(ttl)).await
    }

    async fn delete(&self, key: &str) -> Result<()> {
        self.delete_marker(key).await
    }

    async fn put_if_absent(&self, key: &str, value: &str, ttl: std::time::Duration) -> Result<bool> {
        self.claim_marker(key, Some(value), expiry(ttl)).await
    }

    async fn compare_exchange(
        &self,
        key: &str,
        expected: Option<&str>,
        new: Option<&str>,
        ttl: std::time::Duration,
    ) -> Result<bool> {
        self.compare_exchange_marker(key, expected, new, expiry(ttl)).await
    }
}
