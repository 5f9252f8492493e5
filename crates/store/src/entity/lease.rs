//! `leases`: short, expiring claims on a piece of background work (the expiry worker holds one
//! per resource while it acts), so several gateway processes never act on it together.

use sea_orm::entity::prelude::*;

/// A row of `leases`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "leases")]
pub struct Model {
    /// What is leased, e.g. `expiry:<resource id>`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    /// Who holds it (a random id per process).
    pub holder: String,
    /// Taken.
    pub created_at: DateTimeUtc,
    /// Free for anyone after.
    pub expires_at: DateTimeUtc,
}

/// No relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
