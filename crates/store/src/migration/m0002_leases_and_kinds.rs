//! Worker leases get their own table (they were replay markers), and resource kinds lose
//! their provider prefix (`fly.machine` → `machine`: the provider has its own column).

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
                .table("leases")
                .col(string("key").primary_key())
                .col(string("holder"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("expires_at"))
                .to_owned(),
        )
        .await?;
        let db = m.get_connection();
        for (old, new) in [("fly.machine", "machine"), ("fly.volume", "volume")] {
            let stmt =
                Query::update().table("resources").value("kind", new).and_where(Expr::col("kind").eq(old)).to_owned();
            db.execute(&stmt).await?;
        }
        let stale =
            Query::delete().from_table("replay_markers").and_where(Expr::col("key").like("expiry-lease:%")).to_owned();
        db.execute(&stale).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("leases").to_owned()).await
    }
}
