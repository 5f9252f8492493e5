//! `replay_markers`: single-use markers with expiry (MPP store keys, x402 nonces).

use sea_orm::entity::prelude::*;

/// A row of `replay_markers`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "replay_markers")]
pub struct Model {
    /// The key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    /// Stored value (serialised JSON text, compared byte for byte), if any.
    pub value: Option<String>,
    /// Created.
    pub created_at: DateTimeUtc,
    /// Removable after.
    pub expires_at: DateTimeUtc,
}

/// No relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
