//! `payments`: every verified credential and what became of it.

use sea_orm::entity::prelude::*;

/// A row of `payments`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "payments")]
pub struct Model {
    /// Gateway id (UUID string).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// Rail, e.g. `tempo`, `base`, `solana`, `megaeth`, `credits`.
    pub rail: String,
    /// Network (CAIP-2 or chain id).
    pub network: String,
    /// Verified payer wallet.
    pub payer: String,
    /// Token contract or mint.
    pub asset: String,
    /// Amount in base units, integer string.
    pub amount_base_units: String,
    /// Token decimals.
    pub decimals: i32,
    /// Amount in USD, decimal string.
    pub amount_usd: String,
    /// SHA-256 hex of the credential. UNIQUE: the replay guard.
    #[sea_orm(unique)]
    pub credential_fingerprint: String,
    /// Challenge id answered.
    pub challenge_id: Option<String>,
    /// Transaction reference (hash, signature). UNIQUE: one on-chain transaction, one row.
    #[sea_orm(unique)]
    pub tx_reference: Option<String>,
    /// `verified`, `settled`, `delivered`, `rejected`, `unknown` or `refunded`.
    pub status: String,
    /// Route paid for, e.g. `POST /api/machines`.
    pub route: String,
    /// Rail-private data to reconcile or finish the payment (never logged).
    pub settlement: Option<Json>,
    /// After this the payment can no longer land on chain.
    pub valid_until: Option<DateTimeUtc>,
    /// The idempotency key the request held (scope), to complete it after a crash.
    pub idempotency_scope: Option<String>,
    /// The idempotency key the request held.
    pub idempotency_key: Option<String>,
    /// Created.
    pub created_at: DateTimeUtc,
    /// Last change.
    pub updated_at: DateTimeUtc,
}

/// No relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
