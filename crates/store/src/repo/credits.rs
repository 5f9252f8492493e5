//! The append-only credit ledger. Each wallet's entries carry a sequence number 1, 2, 3, …
//! and the balance after the entry; `(wallet, seq)` is UNIQUE, so two concurrent writers cannot
//! both append entry *n*: the loser re-reads the balance and tries again. Entries are never
//! updated or deleted.

use chrono::{DateTime, Utc};
use compute_core::{Error, ErrorKind, Result, Usd, WalletAddress};
use rust_decimal::Decimal;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, NotSet, QueryFilter, QueryOrder, Set};

use super::now;
use crate::entity::credit_entry::{self, Entity as Ledger};
use crate::{Store, db_err};

/// How many times an append is retried after losing a race for the next sequence number.
const APPEND_ATTEMPTS: usize = 64;

/// A credit or debit to append.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewCredit {
    /// Wallet.
    pub wallet: WalletAddress,
    /// Amount, USD (positive; the method decides the sign).
    pub amount: Usd,
    /// Why: `refund`, `topup`, `spend`, …
    pub reason: String,
    /// Related payment.
    pub payment_id: Option<String>,
    /// Related resource.
    pub resource_id: Option<String>,
}

/// One ledger entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LedgerEntry {
    /// Wallet.
    pub wallet: WalletAddress,
    /// Sequence number within the wallet.
    pub seq: i64,
    /// Signed change, USD.
    pub delta: Decimal,
    /// Balance after this entry.
    pub balance: Usd,
    /// Why.
    pub reason: String,
    /// Related payment.
    pub payment_id: Option<String>,
    /// Related resource.
    pub resource_id: Option<String>,
    /// When.
    pub created_at: DateTime<Utc>,
}

impl TryFrom<credit_entry::Model> for LedgerEntry {
    type Error = Error;
    fn try_from(m: credit_entry::Model) -> Result<Self> {
        Ok(LedgerEntry {
            wallet: m.wallet.parse()?,
            seq: m.seq,
            delta: Decimal::from_str_exact(&m.delta_usd)
                .map_err(|_| Error::new(ErrorKind::Internal, "corrupt ledger delta"))?,
            balance: m.balance_usd.parse()?,
            reason: m.reason,
            payment_id: m.payment_id,
            resource_id: m.resource_id,
            created_at: m.created_at,
        })
    }
}

impl Store {
    /// The wallet's current balance (zero when it has no entries).
    ///
    /// # Errors
    /// Database errors.
    pub async fn credit_balance(&self, wallet: &WalletAddress) -> Result<Usd> {
        Ok(self.last_entry(wallet).await?.map(|e| e.balance).unwrap_or(Usd::ZERO))
    }

    /// The wallet's entries, oldest first.
    ///
    /// # Errors
    /// Database errors.
    pub async fn credit_history(&self, wallet: &WalletAddress) -> Result<Vec<LedgerEntry>> {
        Ledger::find()
            .filter(credit_entry::Column::Wallet.eq(wallet.as_str()))
            .order_by_asc(credit_entry::Column::Seq)
            .all(&self.db)
            .await
            .map_err(db_err)?
            .into_iter()
            .map(TryInto::try_into)
            .collect()
    }

    /// Adds `amount` to the wallet's balance (a refund or a top-up). A credit for a payment is
    /// written once: crediting the same `payment_id` again returns the first entry (one
    /// payment is credited at most once, whoever — the flow, the reconciler, the recovery — gets
    /// there first).
    ///
    /// # Errors
    /// Database errors.
    pub async fn add_credit(&self, credit: NewCredit) -> Result<LedgerEntry> {
        self.append(credit, true).await
    }

    /// Takes `amount` from the wallet's balance.
    ///
    /// # Errors
    /// `PaymentRequired` when the balance is lower than `amount` (nothing is written).
    pub async fn spend_credit(&self, credit: NewCredit) -> Result<LedgerEntry> {
        self.append(credit, false).await
    }

    /// The credit written for payment `payment_id`, if any.
    ///
    /// # Errors
    /// Database errors.
    pub async fn credit_of_payment(&self, payment_id: &str) -> Result<Option<LedgerEntry>> {
        Ledger::find()
            .filter(credit_entry::Column::PaymentId.eq(payment_id))
            .one(&self.db)
            .await
            .map_err(db_err)?
            .map(TryInto::try_into)
            .transpose()
    }

    async fn last_entry(&self, wallet: &WalletAddress) -> Result<Option<LedgerEntry>> {
        Ledger::find()
            .filter(credit_entry::Column::Wallet.eq(wallet.as_str()))
            .order_by_desc(credit_entry::Column::Seq)
            .one(&self.db)
            .await
            .map_err(db_err)?
            .map(TryInto::try_into)
            .transpose()
    }

    async fn append(&self, credit: NewCredit, add: bool) -> Result<LedgerEntry> {
        for _ in 0..APPEND_ATTEMPTS {
            if let Some(id) = credit.payment_id.as_deref().filter(|_| add)
                && let Some(existing) = self.credit_of_payment(id).await?
            {
                return Ok(existing);
            }
            let last = self.last_entry(&credit.wallet).await?;
            let (seq, balance) = last.map(|e| (e.seq + 1, e.balance)).unwrap_or((1, Usd::ZERO));
            let (delta, new_balance) = if add {
                (credit.amount.as_decimal(), balance + credit.amount)
            } else {
                let left = balance.checked_sub(credit.amount).ok_or_else(|| {
                    Error::new(
                        ErrorKind::PaymentRequired,
                        format!("credit balance ${balance} is less than ${}", credit.amount),
                    )
                    .with_component("store")
                })?;
                (-credit.amount.as_decimal(), left)
            };
            let am = credit_entry::ActiveModel {
                id: NotSet,
                wallet: Set(credit.wallet.to_string()),
                seq: Set(seq),
                delta_usd: Set(delta.normalize().to_string()),
                balance_usd: Set(new_balance.to_string()),
                reason: Set(credit.reason.clone()),
                payment_id: Set(credit.payment_id.clone()),
                resource_id: Set(credit.resource_id.clone()),
                created_at: Set(now()),
            };
            match am.insert(&self.db).await.map_err(db_err) {
                Ok(m) => return m.try_into(),
                Err(e) if e.kind() == ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
        Err(Error::new(ErrorKind::Unavailable, "credit ledger is too busy, try again").with_component("store"))
    }
}
