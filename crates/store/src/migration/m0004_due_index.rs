//! The expiry worker's index: due rows found by `(state, kind, provider, paid_until)`, so a
//! pass reads only the rows of the states, kinds and providers it sweeps, in due order, instead
//! of every row whose paid time ever ended (destroyed rows keep their `paid_until`) or every
//! row of a provider.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

const NAME: &str = "idx_resources_due";

// `SchemaManager` has a lifetime the trait elides; naming it breaks the impl.
#[allow(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let index = Index::create()
            .name(NAME)
            .table("resources")
            .col("state")
            .col("kind")
            .col("provider")
            .col("paid_until")
            .to_owned();
        m.create_index(index).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name(NAME).table("resources").to_owned()).await
    }
}
