//! `server_secrets`: secrets the gateway generates once and every replica shares (the key that
//! derives tenant names).

use sea_orm::entity::prelude::*;

/// A row of `server_secrets`.
#[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "server_secrets")]
pub struct Model {
    /// What the secret is for, e.g. `tenancy`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub name: String,
    /// The secret, hex.
    pub value: String,
    /// Generated.
    pub created_at: DateTimeUtc,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerSecret").field("name", &self.name).finish_non_exhaustive()
    }
}

/// No relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
