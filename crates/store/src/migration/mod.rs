//! Schema migrations. Each migration is frozen once released: later changes add a new one.

use sea_orm_migration::prelude::*;

mod m0001_initial;
mod m0002_leases_and_kinds;
mod m0003_hardening;
mod m0004_due_index;

/// The migrator: applies every pending migration in order.
#[derive(Debug)]
pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m0001_initial::Migration),
            Box::new(m0002_leases_and_kinds::Migration),
            Box::new(m0003_hardening::Migration),
            Box::new(m0004_due_index::Migration),
        ]
    }
}
