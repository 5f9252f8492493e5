//! `api_keys`: API keys, stored only as SHA-256 hashes.

use sea_orm::entity::prelude::*;

/// A row of `api_keys`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "api_keys")]
pub struct Model {
    /// Public id.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// Owner wallet.
    pub owner: String,
    /// SHA-256 hex of the key.
    #[sea_orm(unique)]
    pub key_hash: String,
    /// Label.
    pub label: String,
    /// Created.
    pub created_at: DateTimeUtc,
    /// Revoked.
    pub revoked_at: Option<DateTimeUtc>,
    /// Unusable after, when set.
    pub expires_at: Option<DateTimeUtc>,
}

/// No relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
