//! Test databases: a fresh SQLite file or a fresh PostgreSQL database per test.

use compute_store::Store;
use sea_orm::{ConnectionTrait, Database};

/// Admin URL of the test PostgreSQL server (`COMPUTE_TEST_POSTGRES_URL`, default: the local
/// server with trust auth).
pub(crate) fn postgres_admin_url() -> String {
    std::env::var("COMPUTE_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// A migrated database that is removed by [`TestDb::finish`].
pub(crate) struct TestDb {
    pub(crate) store: Store,
    pub(crate) url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    File(std::path::PathBuf),
    Database { admin: String, name: String },
}

impl TestDb {
    pub(crate) async fn sqlite() -> TestDb {
        let path = std::env::temp_dir().join(format!("cg-test-{}.db", uuid::Uuid::new_v4().simple()));
        let url = format!("sqlite://{}?mode=rwc", path.display());
        let store = Store::connect(&url).await.expect("open sqlite");
        store.migrate().await.expect("migrate sqlite");
        TestDb { store, url, cleanup: Cleanup::File(path) }
    }

    pub(crate) async fn postgres() -> TestDb {
        let admin = postgres_admin_url();
        let name = format!("cg_test_{}", uuid::Uuid::new_v4().simple());
        let conn = Database::connect(&admin)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL is required for these tests and is not reachable: {e}"));
        conn.execute_unprepared(&format!("CREATE DATABASE {name}")).await.expect("create database");
        conn.close().await.ok();
        let base = admin.rsplit_once('/').map(|(b, _)| b).expect("admin URL has a database");
        let url = format!("{base}/{name}");
        let store = Store::connect(&url).await.expect("connect postgres");
        store.migrate().await.expect("migrate postgres");
        TestDb { store, url, cleanup: Cleanup::Database { admin, name } }
    }

    pub(crate) async fn finish(self) {
        let TestDb { store, cleanup, .. } = self;
        store.connection().clone().close().await.ok();
        match cleanup {
            Cleanup::File(p) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", p.display()));
                }
            }
            Cleanup::Database { admin, name } => {
                let conn = Database::connect(&admin).await.expect("admin connect");
                conn.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .await
                    .expect("drop database");
                conn.close().await.ok();
            }
        }
    }
}

/// Runs each listed `async fn case(db: &TestDb)` once on SQLite and once on PostgreSQL, as
/// tests named `sqlite::case` and `postgres::case`.
#[macro_export]
macro_rules! on_both_backends {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    let db = $crate::common::TestDb::sqlite().await;
                    super::$case(&db).await;
                    db.finish().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    let db = $crate::common::TestDb::postgres().await;
                    super::$case(&db).await;
                    db.finish().await;
                }
            )*
        }
    };
}
