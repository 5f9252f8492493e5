//! `compute-store`: persistence for compute-gateway on sea-orm.
//!
//! - SQLite is the embedded default: [`Store::connect`] with `sqlite://path/to/file.db` creates
//!   the file; PostgreSQL (`postgres://…`) is for production and several replicas.
//! - [`Store::migrate`] applies the migrations in [`migration`].
//! - Repositories are methods on [`Store`], grouped by table in `repo/`: resources, payments,
//!   the append-only credit ledger, idempotency keys, replay markers, worker leases and API keys.
//!
//! Concurrency rules hold on both backends through UNIQUE constraints, not locks: a credential
//! fingerprint settles once, a replay marker is claimed once, a ledger sequence number is
//! written once (concurrent spends retry), an idempotency key starts once.
//!
//! Errors are [`compute_core::Error`]: a UNIQUE violation is `AlreadyExists`, a connection
//! failure `Unavailable` (temporary), anything else `Internal`.

pub mod entity;
pub mod migration;
mod repo;

use std::fmt;
use std::time::Duration;

use compute_core::{Error, ErrorKind, Result};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbErr, SqlErr};
use sea_orm_migration::MigratorTrait;

pub use repo::api_keys::{ApiKey, KEY_PREFIX, NewApiKey};
pub use repo::credits::{LedgerEntry, NewCredit};
pub use repo::due::{Claim, DueCursor, DueQuery};
pub use repo::idempotency::{IdempotencyStart, StoredResponse};
pub use repo::kinds::{ResourceKind, ResourceState};
pub use repo::paid::{IdempotentAnswer, PaymentLease};
pub use repo::payments::{NewPayment, PaymentRecord, PaymentStatus};
pub use repo::resources::{NewResource, ResourceRecord, ResourceUpdate};

/// Which database a [`Store`] talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// SQLite (embedded default).
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

impl Backend {
    /// `sqlite` or `postgres`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// The database handle. Cheap to clone (a connection pool).
#[derive(Clone)]
pub struct Store {
    db: DatabaseConnection,
    backend: Backend,
}

impl fmt::Debug for Store {
    /// Never prints the URL (it may hold a password).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store").field("backend", &self.backend).finish()
    }
}

impl Store {
    /// Connects to `url`: `sqlite://path?mode=rwc`, `sqlite::memory:` or `postgres://…`.
    /// For a SQLite file, the parent folder is created.
    ///
    /// # Errors
    /// [`ErrorKind::Config`] for an unsupported scheme, [`ErrorKind::Unavailable`] when the
    /// database cannot be reached.
    pub async fn connect(url: &str) -> Result<Store> {
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err(Error::new(ErrorKind::Config, "database URL must start with sqlite: or postgres://")
                .with_component("store"));
        };
        if backend == Backend::Sqlite
            && let Some(path) = sqlite_file(url)
            && let Some(dir) = std::path::Path::new(path).parent().filter(|d| !d.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir).map_err(|e| {
                Error::new(ErrorKind::Config, format!("cannot create {}", dir.display()))
                    .with_component("store")
                    .with_source(e)
            })?;
        }
        let mut opts = ConnectOptions::new(url.to_owned());
        opts.connect_timeout(Duration::from_secs(5)).acquire_timeout(Duration::from_secs(10)).sqlx_logging(false);
        if backend == Backend::Sqlite {
            // One writer: SQLite serialises writes anyway, and `:memory:` is per connection.
            // That connection is never recycled (the pool's defaults would replace it after
            // 30 minutes, taking a `:memory:` database and its connection pragmas with it).
            opts.max_connections(1).min_connections(1).max_lifetime(None).idle_timeout(None);
        } else {
            opts.max_connections(16);
        }
        let db = Database::connect(opts).await.map_err(db_err)?;
        if backend == Backend::Sqlite {
            for pragma in ["PRAGMA journal_mode=WAL", "PRAGMA busy_timeout=5000", "PRAGMA foreign_keys=ON"] {
                db.execute_unprepared(pragma).await.map_err(db_err)?;
            }
        }
        Ok(Store { db, backend })
    }

    /// Applies pending migrations.
    ///
    /// # Errors
    /// [`ErrorKind::Internal`] when a migration fails.
    pub async fn migrate(&self) -> Result<()> {
        migration::Migrator::up(&self.db, None).await.map_err(db_err)
    }

    /// Checks that the database answers (`SELECT 1`).
    ///
    /// # Errors
    /// [`ErrorKind::Unavailable`] when it does not.
    pub async fn ping(&self) -> Result<()> {
        self.db.ping().await.map_err(db_err)
    }

    /// The backend.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The sea-orm connection, for crates that add their own queries.
    pub fn connection(&self) -> &DatabaseConnection {
        &self.db
    }
}

/// The file path of a `sqlite://path[?query]` URL, if it names a file.
fn sqlite_file(url: &str) -> Option<&str> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    (!path.is_empty() && !path.starts_with(":memory:")).then_some(path)
}

/// Maps a database error into the public error.
pub(crate) fn db_err(e: DbErr) -> Error {
    let kind = match e.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => ErrorKind::AlreadyExists,
        Some(SqlErr::ForeignKeyConstraintViolation(_)) => ErrorKind::Conflict,
        _ => match &e {
            DbErr::Conn(_) | DbErr::ConnectionAcquire(_) => ErrorKind::Unavailable,
            DbErr::RecordNotFound(_) => ErrorKind::NotFound,
            _ => ErrorKind::Internal,
        },
    };
    Error::new(kind, "database error").with_component("store").with_source(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_sqlite_connection_is_never_recycled() {
        let store = Store::connect("sqlite::memory:").await.unwrap();
        let pool = store.connection().get_sqlite_connection_pool().options().clone();
        assert_eq!((pool.get_max_lifetime(), pool.get_idle_timeout()), (None, None));
        assert_eq!((pool.get_max_connections(), pool.get_min_connections()), (1, 1));
    }

    #[test]
    fn sqlite_file_paths_are_found() {
        assert_eq!(sqlite_file("sqlite://data/g.db?mode=rwc"), Some("data/g.db"));
        assert_eq!(sqlite_file("sqlite::memory:"), None);
        assert_eq!(sqlite_file("sqlite:///tmp/x.db"), Some("/tmp/x.db"));
    }
}
