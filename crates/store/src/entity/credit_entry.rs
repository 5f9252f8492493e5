//! `credit_ledger`: the append-only credit ledger, one sequence per wallet.

use sea_orm::entity::prelude::*;

/// A row of `credit_ledger`. `(wallet, seq)` is UNIQUE, which serialises concurrent writers.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "credit_ledger")]
pub struct Model {
    /// Row id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Wallet.
    pub wallet: String,
    /// 1, 2, 3, … per wallet.
    pub seq: i64,
    /// Signed change in USD, decimal string (`-0.10` is a spend).
    pub delta_usd: String,
    /// Balance after this entry, USD decimal string (never negative).
    pub balance_usd: String,
    /// Why: `refund`, `topup`, `spend`, …
    pub reason: String,
    /// Related payment.
    pub payment_id: Option<String>,
    /// Related resource.
    pub resource_id: Option<String>,
    /// When.
    pub created_at: DateTimeUtc,
}

/// No relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
