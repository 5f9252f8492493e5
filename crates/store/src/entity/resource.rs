//! `resources`: every resource the gateway sold (machine, volume, app, droplet, project, …).

use sea_orm::entity::prelude::*;

/// A row of `resources`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "resources")]
pub struct Model {
    /// Gateway id (UUID string).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// Kind, e.g. `fly.machine`, `fly.volume`, `do.droplet`.
    pub kind: String,
    /// Owner wallet (canonical form).
    pub owner: String,
    /// Provider id, e.g. `fly`.
    pub provider: String,
    /// The provider's id for it, once created.
    pub provider_id: Option<String>,
    /// Isolation unit at the provider (Fly app name, …).
    pub tenant: Option<String>,
    /// Name.
    pub name: String,
    /// Region.
    pub region: Option<String>,
    /// Gateway state, e.g. `creating`, `running`, `stopped`, `destroyed`, `failed`.
    pub state: String,
    /// The validated spec, as JSON.
    pub spec: Json,
    /// Price paid at creation, USD decimal string.
    pub price_usd: String,
    /// Created.
    pub created_at: DateTimeUtc,
    /// Last change.
    pub updated_at: DateTimeUtc,
    /// Paid time ends (metered resources).
    pub paid_until: Option<DateTimeUtc>,
    /// When the resource expires or was deleted.
    pub expires_at: Option<DateTimeUtc>,
    /// The payment that bought it.
    pub payment_id: Option<String>,
}

/// No relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
