//! Idempotency keys (`Idempotency-Key`, x402 `payment-identifier`) with the stored response.

use chrono::{DateTime, Utc};
use compute_core::{Error, ErrorKind, Result};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, Set};

use super::now;
use crate::entity::idempotency_key::{self, Entity as Keys};
use crate::entity::payment;
use crate::{PaymentStatus, Store, db_err};

/// A response kept for replay.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredResponse {
    /// HTTP status.
    pub status: u16,
    /// Headers, as `[name, value]` pairs.
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
}

/// What [`Store::start_idempotent`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IdempotencyStart {
    /// The key is new and now reserved for this request: go ahead.
    Started,
    /// Same key and same request, still running.
    InProgress,
    /// Same key and same request, finished: answer with this.
    Completed(StoredResponse),
    /// Same key, different request: answer 409.
    Mismatch,
}

impl Store {
    /// Reserves `(scope, key)` for a request with fingerprint `request_fingerprint`, paid by
    /// the credential whose SHA-256 is `credential_digest`, or reports what an earlier request
    /// with the same key did. Expired keys are taken over.
    ///
    /// # Errors
    /// Database errors.
    pub async fn start_idempotent(
        &self,
        scope: &str,
        key: &str,
        request_fingerprint: &str,
        credential_digest: Option<&str>,
        expires_at: DateTime<Utc>,
    ) -> Result<IdempotencyStart> {
        for _ in 0..2 {
            let am = idempotency_key::ActiveModel {
                scope: Set(scope.to_owned()),
                key: Set(key.to_owned()),
                request_fingerprint: Set(request_fingerprint.to_owned()),
                response_status: Set(None),
                response_headers: Set(None),
                response_body: Set(None),
                credential_digest: Set(credential_digest.map(str::to_owned)),
                created_at: Set(now()),
                expires_at: Set(expires_at),
            };
            match am.insert(&self.db).await.map_err(db_err) {
                Ok(_) => return Ok(IdempotencyStart::Started),
                Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
                Err(e) => return Err(e),
            }
            let Some(found) =
                Keys::find_by_id((scope.to_owned(), key.to_owned())).one(&self.db).await.map_err(db_err)?
            else {
                continue; // Deleted in between: try to insert again.
            };
            if found.expires_at <= now() {
                // Expired: remove it (only if still expired) and try once more.
                Keys::delete_many()
                    .filter(idempotency_key::Column::Scope.eq(scope))
                    .filter(idempotency_key::Column::Key.eq(key))
                    .filter(idempotency_key::Column::ExpiresAt.lte(now()))
                    .exec(&self.db)
                    .await
                    .map_err(db_err)?;
                continue;
            }
            if found.request_fingerprint != request_fingerprint {
                return Ok(IdempotencyStart::Mismatch);
            }
            return Ok(match stored(found)? {
                None => IdempotencyStart::InProgress,
                Some(response) => IdempotencyStart::Completed(response),
            });
        }
        Ok(IdempotencyStart::InProgress)
    }

    /// The stored answer of a finished request under `key` that was paid by the credential
    /// whose SHA-256 is `credential_digest`: a client retrying a settled payment gets its
    /// original answer. Only the holder of that very credential can match.
    ///
    /// # Errors
    /// Database errors.
    pub async fn answer_for_credential(&self, key: &str, credential_digest: &str) -> Result<Option<StoredResponse>> {
        let found = Keys::find()
            .filter(idempotency_key::Column::Key.eq(key))
            .filter(idempotency_key::Column::CredentialDigest.eq(credential_digest))
            .filter(idempotency_key::Column::ExpiresAt.gt(now()))
            .one(&self.db)
            .await
            .map_err(db_err)?;
        found.map(stored).transpose().map(Option::flatten)
    }

    /// Stores the final response of a started request.
    ///
    /// # Errors
    /// `NotFound` when the key was not started.
    pub async fn complete_idempotent(&self, scope: &str, key: &str, response: &StoredResponse) -> Result<()> {
        complete_key(&self.db, scope, key, response).await
    }

    /// Forgets keys still in progress that were started before `before` and that no payment in
    /// flight holds (their request died before it recorded a payment: a crash); returns how
    /// many. A key whose payment is still `verified` or `settled` stays: the request may be
    /// alive (a provider create can outlast `before`), and if it is not, payment recovery
    /// completes the key with the refund answer. Releasing it would let a retry with the same
    /// key create a second resource.
    ///
    /// # Errors
    /// Database errors.
    pub async fn release_stale_idempotent(&self, before: DateTime<Utc>) -> Result<u64> {
        let in_flight = Query::select()
            .expr(Expr::val(1))
            .from(payment::Entity)
            .and_where(
                Expr::col((payment::Entity, payment::Column::IdempotencyScope))
                    .equals((Keys, idempotency_key::Column::Scope)),
            )
            .and_where(
                Expr::col((payment::Entity, payment::Column::IdempotencyKey))
                    .equals((Keys, idempotency_key::Column::Key)),
            )
            .and_where(
                Expr::col((payment::Entity, payment::Column::Status))
                    .is_in([PaymentStatus::Verified.as_str(), PaymentStatus::Settled.as_str()]),
            )
            .to_owned();
        let res = Keys::delete_many()
            .filter(idempotency_key::Column::ResponseStatus.is_null())
            .filter(idempotency_key::Column::CreatedAt.lt(before))
            .filter(Expr::exists(in_flight).not())
            .exec(&self.db)
            .await
            .map_err(db_err)?;
        Ok(res.rows_affected)
    }

    /// Forgets a started key whose request ended before anything was charged, so the client
    /// can retry with the same key.
    ///
    /// # Errors
    /// Database errors.
    pub async fn release_idempotent(&self, scope: &str, key: &str) -> Result<()> {
        Keys::delete_many()
            .filter(idempotency_key::Column::Scope.eq(scope))
            .filter(idempotency_key::Column::Key.eq(key))
            .filter(idempotency_key::Column::ResponseStatus.is_null())
            .exec(&self.db)
            .await
            .map_err(db_err)?;
        Ok(())
    }
}

/// [`Store::complete_idempotent`] on `db` (a connection or a transaction).
pub(crate) async fn complete_key(
    db: &impl ConnectionTrait,
    scope: &str,
    key: &str,
    response: &StoredResponse,
) -> Result<()> {
    let found = Keys::find_by_id((scope.to_owned(), key.to_owned()))
        .one(db)
        .await
        .map_err(db_err)?
        .ok_or_else(|| Error::new(ErrorKind::NotFound, "idempotency key not started").with_component("store"))?;
    let mut am = found.into_active_model();
    am.response_status = Set(Some(i32::from(response.status)));
    am.response_headers = Set(Some(
        serde_json::to_value(&response.headers)
            .map_err(|e| Error::new(ErrorKind::Internal, "cannot store headers").with_source(e))?,
    ));
    am.response_body = Set(Some(response.body.clone()));
    am.update(db).await.map_err(db_err)?;
    Ok(())
}

/// The response a row holds, `None` while in progress.
fn stored(found: idempotency_key::Model) -> Result<Option<StoredResponse>> {
    let Some(status) = found.response_status else { return Ok(None) };
    Ok(Some(StoredResponse {
        status: u16::try_from(status).map_err(|_| Error::new(ErrorKind::Internal, "corrupt status"))?,
        headers: found
            .response_headers
            .map(serde_json::from_value)
            .transpose()
            .map_err(|_| Error::new(ErrorKind::Internal, "corrupt stored headers"))?
            .unwrap_or_default(),
        body: found.response_body.unwrap_or_default(),
    }))
}
