//! `idempotency_keys`: `Idempotency-Key` / x402 `payment-identifier` and the stored response.

use sea_orm::entity::prelude::*;

/// A row of `idempotency_keys`; the key is unique per scope (the payer or route scope).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "idempotency_keys")]
pub struct Model {
    /// Scope, e.g. a wallet or `anon`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub scope: String,
    /// The client's key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    /// SHA-256 hex of method, path and body.
    pub request_fingerprint: String,
    /// HTTP status of the stored response; `None` while in progress.
    pub response_status: Option<i32>,
    /// Stored response headers, JSON object.
    pub response_headers: Option<Json>,
    /// Stored response body.
    pub response_body: Option<Vec<u8>>,
    /// SHA-256 hex of the payment credential that paid for the request, if any.
    pub credential_digest: Option<String>,
    /// Created.
    pub created_at: DateTimeUtc,
    /// Forgotten after.
    pub expires_at: DateTimeUtc,
}

/// No relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
