//! The initial schema: resources, payments, credit ledger, idempotency keys, replay markers,
//! API keys.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

// `SchemaManager` has a lifetime the trait elides; naming it breaks the impl.
#[allow(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("resources")
                .col(string("id").primary_key())
                .col(string("kind"))
                .col(string("owner"))
                .col(string("provider"))
                .col(string_null("provider_id"))
                .col(string_null("tenant"))
                .col(string("name"))
                .col(string_null("region"))
                .col(string("state"))
                .col(json("spec"))
                .col(string("price_usd"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .col(timestamp_with_time_zone_null("paid_until"))
                .col(timestamp_with_time_zone_null("expires_at"))
                .to_owned(),
        )
        .await?;
        index(m, "resources", "idx_resources_owner_kind", &["owner", "kind"], false).await?;
        index(m, "resources", "idx_resources_provider_id", &["provider", "provider_id"], true).await?;
        index(m, "resources", "idx_resources_paid_until", &["paid_until"], false).await?;

        m.create_table(
            Table::create()
                .table("payments")
                .col(string("id").primary_key())
                .col(string("rail"))
                .col(string("network"))
                .col(string("payer"))
                .col(string("asset"))
                .col(string("amount_base_units"))
                .col(integer("decimals"))
                .col(string("amount_usd"))
                .col(string_uniq("credential_fingerprint"))
                .col(string_null("challenge_id"))
                .col(string_null("tx_reference"))
                .col(string("status"))
                .col(string("route"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .to_owned(),
        )
        .await?;
        index(m, "payments", "idx_payments_status", &["status"], false).await?;
        index(m, "payments", "idx_payments_payer", &["payer"], false).await?;

        m.create_table(
            Table::create()
                .table("credit_ledger")
                .col(big_pk_auto("id"))
                .col(string("wallet"))
                .col(big_integer("seq"))
                .col(string("delta_usd"))
                .col(string("balance_usd"))
                .col(string("reason"))
                .col(string_null("payment_id"))
                .col(string_null("resource_id"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
        )
        .await?;
        index(m, "credit_ledger", "idx_credit_ledger_wallet_seq", &["wallet", "seq"], true).await?;

        m.create_table(
            Table::create()
                .table("idempotency_keys")
                .col(string("scope"))
                .col(string("key"))
                .col(string("request_fingerprint"))
                .col(integer_null("response_status"))
                .col(json_null("response_headers"))
                .col(blob_null("response_body"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("expires_at"))
                .primary_key(Index::create().col("scope").col("key"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("replay_markers")
                .col(string("key").primary_key())
                .col(text_null("value"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("expires_at"))
                .to_owned(),
        )
        .await?;
        index(m, "replay_markers", "idx_replay_markers_expires_at", &["expires_at"], false).await?;

        m.create_table(
            Table::create()
                .table("api_keys")
                .col(string("id").primary_key())
                .col(string("owner"))
                .col(string_uniq("key_hash"))
                .col(string("label"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("revoked_at"))
                .to_owned(),
        )
        .await?;
        index(m, "api_keys", "idx_api_keys_owner", &["owner"], false).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["api_keys", "replay_markers", "idempotency_keys", "credit_ledger", "payments", "resources"] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}

async fn index(
    m: &SchemaManager<'_>,
    table: &'static str,
    name: &str,
    cols: &[&'static str],
    unique: bool,
) -> Result<(), DbErr> {
    let mut stmt = Index::create();
    stmt.name(name).table(table);
    for c in cols {
        stmt.col(*c);
    }
    if unique {
        stmt.unique();
    }
    m.create_index(stmt.to_owned()).await
}
