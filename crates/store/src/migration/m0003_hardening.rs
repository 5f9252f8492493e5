//! Hardening: a payment keeps what its rail needs to reconcile or finish it after a crash
//! (`settlement`, `valid_until`, its idempotency key), one on-chain transaction is recorded
//! once (UNIQUE `tx_reference`), a stored answer is found by the credential that paid it
//! (`credential_digest`), one payment is credited at most once (UNIQUE ledger `payment_id`),
//! API keys can expire, a resource names the payment that bought it,
//! and server secrets (the tenant-name key) are kept once for every replica.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

async fn add(m: &SchemaManager<'_>, table: &'static str, column: ColumnDef) -> Result<(), DbErr> {
    m.alter_table(Table::alter().table(table).add_column(column).to_owned()).await
}

// `SchemaManager` has a lifetime the trait elides; naming it breaks the impl.
#[allow(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        add(m, "payments", json_null("settlement")).await?;
        add(m, "payments", timestamp_with_time_zone_null("valid_until")).await?;
        add(m, "payments", string_null("idempotency_scope")).await?;
        add(m, "payments", string_null("idempotency_key")).await?;
        m.create_index(
            Index::create().name("idx_payments_tx_reference").table("payments").col("tx_reference").unique().to_owned(),
        )
        .await?;
        add(m, "idempotency_keys", string_null("credential_digest")).await?;
        m.create_index(
            Index::create()
                .name("idx_idempotency_keys_credential")
                .table("idempotency_keys")
                .col("key")
                .col("credential_digest")
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_credit_ledger_payment")
                .table("credit_ledger")
                .col("payment_id")
                .unique()
                .to_owned(),
        )
        .await?;
        add(m, "api_keys", timestamp_with_time_zone_null("expires_at")).await?;
        add(m, "resources", string_null("payment_id")).await?;
        m.create_table(
            Table::create()
                .table("server_secrets")
                .col(string("name").primary_key())
                .col(string("value"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("server_secrets").to_owned()).await
    }
}
