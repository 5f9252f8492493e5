//! Payments: one row per verified credential; the UNIQUE fingerprint is the replay guard.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use compute_core::payment::Verified;
use compute_core::{Error, ErrorKind, Result, TokenAmount, Usd, WalletAddress};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};

use super::{new_id, now};
use crate::entity::payment::{self, Entity as Payments};
use crate::{Store, db_err};

/// Where a payment stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PaymentStatus {
    /// Verified, not yet settled.
    Verified,
    /// Funds moved; the paid action has not finished (yet).
    Settled,
    /// Funds moved and the paid action answered.
    Delivered,
    /// Settlement refused; nothing moved.
    Rejected,
    /// Broadcast, outcome not known yet.
    Unknown,
    /// Settled, then credited back to the payer's balance.
    Refunded,
}

impl PaymentStatus {
    /// Lowercase name as stored.
    pub fn as_str(&self) -> &'static str {
        match self {
            PaymentStatus::Verified => "verified",
            PaymentStatus::Settled => "settled",
            PaymentStatus::Delivered => "delivered",
            PaymentStatus::Rejected => "rejected",
            PaymentStatus::Unknown => "unknown",
            PaymentStatus::Refunded => "refunded",
        }
    }
}

impl fmt::Display for PaymentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PaymentStatus {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s {
            "verified" => PaymentStatus::Verified,
            "settled" => PaymentStatus::Settled,
            "delivered" => PaymentStatus::Delivered,
            "rejected" => PaymentStatus::Rejected,
            "unknown" => PaymentStatus::Unknown,
            "refunded" => PaymentStatus::Refunded,
            other => {
                return Err(Error::new(ErrorKind::Internal, format!("unknown payment status {other:?}")));
            }
        })
    }
}

/// A payment to record from a verified credential.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewPayment {
    /// The verification result.
    pub verified: Verified,
    /// Route paid for.
    pub route: String,
    /// The idempotency key the request holds, as `(scope, key)`.
    pub idempotency: Option<(String, String)>,
}

/// A stored payment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaymentRecord {
    /// Gateway id.
    pub id: String,
    /// Rail.
    pub rail: String,
    /// Network.
    pub network: String,
    /// Verified payer.
    pub payer: WalletAddress,
    /// Asset.
    pub asset: String,
    /// Amount in base units.
    pub amount: TokenAmount,
    /// Amount in USD.
    pub amount_usd: Usd,
    /// Credential fingerprint.
    pub credential_fingerprint: String,
    /// Challenge id.
    pub challenge_id: Option<String>,
    /// Transaction reference.
    pub tx_reference: Option<String>,
    /// Status.
    pub status: PaymentStatus,
    /// Route.
    pub route: String,
    /// Rail-private data to reconcile or finish the payment.
    pub settlement: serde_json::Value,
    /// After this the payment can no longer land on chain.
    pub valid_until: Option<DateTime<Utc>>,
    /// The idempotency key the request held, as `(scope, key)`.
    pub idempotency: Option<(String, String)>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl PaymentRecord {
    /// The verification result the payment was recorded from, for its rail to reconcile or
    /// finish it.
    pub fn verified(&self) -> Verified {
        Verified {
            rail: compute_core::payment::RailInfo {
                rail: self.rail.clone(),
                network: self.network.clone(),
                asset: self.asset.clone(),
                decimals: self.amount.decimals,
            },
            payer: self.payer.clone(),
            amount: self.amount,
            amount_usd: self.amount_usd,
            fingerprint: self.credential_fingerprint.clone(),
            challenge_id: self.challenge_id.clone(),
            settlement: self.settlement.clone(),
            valid_until: self.valid_until,
        }
    }
}

impl TryFrom<payment::Model> for PaymentRecord {
    type Error = Error;
    fn try_from(m: payment::Model) -> Result<Self> {
        let base_units = m
            .amount_base_units
            .parse::<u128>()
            .map_err(|_| Error::new(ErrorKind::Internal, "corrupt base units").with_component("store"))?;
        let decimals = u8::try_from(m.decimals).map_err(|_| Error::new(ErrorKind::Internal, "corrupt decimals"))?;
        Ok(PaymentRecord {
            id: m.id,
            rail: m.rail,
            network: m.network,
            payer: m.payer.parse()?,
            asset: m.asset,
            amount: TokenAmount { base_units, decimals },
            amount_usd: m.amount_usd.parse()?,
            credential_fingerprint: m.credential_fingerprint,
            challenge_id: m.challenge_id,
            tx_reference: m.tx_reference,
            status: m.status.parse()?,
            route: m.route,
            settlement: m.settlement.unwrap_or_default(),
            valid_until: m.valid_until,
            idempotency: m.idempotency_scope.zip(m.idempotency_key),
            created_at: m.created_at,
            updated_at: m.updated_at,
        })
    }
}

impl Store {
    /// Records a verified payment with status `verified`. Exactly one of several concurrent
    /// calls with the same credential fingerprint succeeds.
    ///
    /// # Errors
    /// `AlreadyExists` when the credential was already used (a replay).
    pub async fn record_payment(&self, new: NewPayment) -> Result<PaymentRecord> {
        insert_payment(&self.db, new).await
    }

    /// Moves a payment to `status`, optionally setting its transaction reference.
    ///
    /// # Errors
    /// `NotFound` when the id is unknown; `AlreadyExists` when another payment already has
    /// this transaction reference (one on-chain transaction is one payment).
    pub async fn set_payment_status(
        &self,
        id: &str,
        status: PaymentStatus,
        tx_reference: Option<&str>,
    ) -> Result<PaymentRecord> {
        let found = Payments::find_by_id(id.to_owned())
            .one(&self.db)
            .await
            .map_err(db_err)?
            .ok_or_else(|| Error::new(ErrorKind::NotFound, "no such payment").with_component("store"))?;
        let mut am: payment::ActiveModel = found.into();
        am.status = Set(status.as_str().to_owned());
        if let Some(r) = tx_reference {
            am.tx_reference = Set(Some(r.to_owned()));
        }
        am.updated_at = Set(now());
        am.update(&self.db).await.map_err(db_err)?.try_into()
    }

    /// Moves a payment from `from` to `to` only if it is still in `from` (compare-and-set, so
    /// one of several workers or replicas wins). Returns whether it moved.
    ///
    /// # Errors
    /// Database errors.
    pub async fn transition_payment(&self, id: &str, from: PaymentStatus, to: PaymentStatus) -> Result<bool> {
        move_payment(&self.db, id, from, to).await
    }

    /// Marks a payment as looked at (its `updated_at` moves), keeping its status.
    ///
    /// # Errors
    /// Database errors.
    pub async fn touch_payment(&self, id: &str) -> Result<()> {
        Payments::update_many()
            .col_expr(payment::Column::UpdatedAt, sea_orm::sea_query::Expr::value(now()))
            .filter(payment::Column::Id.eq(id))
            .exec(&self.db)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    /// The payment made with the credential whose fingerprint is `fingerprint`.
    ///
    /// # Errors
    /// Database errors.
    pub async fn payment_by_fingerprint(&self, fingerprint: &str) -> Result<Option<PaymentRecord>> {
        Payments::find()
            .filter(payment::Column::CredentialFingerprint.eq(fingerprint))
            .one(&self.db)
            .await
            .map_err(db_err)?
            .map(TryInto::try_into)
            .transpose()
    }

    /// At most `limit` payments in `status`, least recently changed first (the reconciler reads
    /// `unknown` ones and touches each it looked at, so a pass works through all of them).
    ///
    /// # Errors
    /// Database errors.
    pub async fn payments_with_status(&self, status: PaymentStatus, limit: u64) -> Result<Vec<PaymentRecord>> {
        self.payments_in(&[status], None, limit).await
    }

    /// At most `limit` payments in one of `statuses` unchanged since before `before` (or any
    /// time), least recently changed first.
    ///
    /// # Errors
    /// Database errors.
    pub async fn payments_in(
        &self,
        statuses: &[PaymentStatus],
        before: Option<DateTime<Utc>>,
        limit: u64,
    ) -> Result<Vec<PaymentRecord>> {
        let mut q = Payments::find().filter(payment::Column::Status.is_in(statuses.iter().map(PaymentStatus::as_str)));
        if let Some(t) = before {
            q = q.filter(payment::Column::UpdatedAt.lt(t));
        }
        q.order_by_asc(payment::Column::UpdatedAt)
            .limit(limit)
            .all(&self.db)
            .await
            .map_err(db_err)?
            .into_iter()
            .map(TryInto::try_into)
            .collect()
    }
}

/// [`Store::record_payment`] on `db` (a connection or a transaction).
pub(crate) async fn insert_payment(db: &impl ConnectionTrait, new: NewPayment) -> Result<PaymentRecord> {
    let v = new.verified;
    let t = now();
    let am = payment::ActiveModel {
        id: Set(new_id()),
        rail: Set(v.rail.rail),
        network: Set(v.rail.network),
        payer: Set(v.payer.to_string()),
        asset: Set(v.rail.asset),
        amount_base_units: Set(v.amount.base_units.to_string()),
        decimals: Set(i32::from(v.amount.decimals)),
        amount_usd: Set(v.amount_usd.to_string()),
        credential_fingerprint: Set(v.fingerprint),
        challenge_id: Set(v.challenge_id),
        tx_reference: Set(None),
        status: Set(PaymentStatus::Verified.as_str().to_owned()),
        route: Set(new.route),
        settlement: Set(Some(v.settlement)),
        valid_until: Set(v.valid_until),
        idempotency_scope: Set(new.idempotency.as_ref().map(|(s, _)| s.clone())),
        idempotency_key: Set(new.idempotency.map(|(_, k)| k)),
        created_at: Set(t),
        updated_at: Set(t),
    };
    am.insert(db).await.map_err(db_err)?.try_into()
}

/// [`Store::transition_payment`] on `db` (a connection or a transaction).
pub(crate) async fn move_payment(
    db: &impl ConnectionTrait,
    id: &str,
    from: PaymentStatus,
    to: PaymentStatus,
) -> Result<bool> {
    let res = Payments::update_many()
        .col_expr(payment::Column::Status, sea_orm::sea_query::Expr::value(to.as_str()))
        .col_expr(payment::Column::UpdatedAt, sea_orm::sea_query::Expr::value(now()))
        .filter(payment::Column::Id.eq(id))
        .filter(payment::Column::Status.eq(from.as_str()))
        .exec(db)
        .await
        .map_err(db_err)?;
    Ok(res.rows_affected == 1)
}
