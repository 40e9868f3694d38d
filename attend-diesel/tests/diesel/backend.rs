//! Behaviour specific to the diesel backends: URLs, PRAGMAs, pools, migrations, error mapping,
//! sharing the database with host tables.

use std::time::Duration;

use attend_core::model::{AccountKey, MeetingId};
use attend_core::store::{MeetingStore, NewWebhook, StoreError, WebhookInbox, WebhookInsert};
use attend_diesel::{
    AnyConnection, BackendKind, DieselStore, DieselStoreError, Options, SqliteSynchronous,
    has_pending_migrations,
};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use crate::common::{self, TestDb};

fn t(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_700_000_000 + secs, 0).expect("valid time")
}

#[derive(QueryableByName, Debug)]
struct PragmaText {
    #[diesel(sql_type = Text)]
    v: String,
}

#[derive(QueryableByName, Debug)]
struct PragmaInt {
    #[diesel(sql_type = BigInt)]
    v: i64,
}

/// `PRAGMA wal_autocheckpoint` (no table-valued function: it is a setting with side effects).
#[derive(QueryableByName, Debug)]
struct WalAutocheckpoint {
    #[diesel(sql_type = BigInt)]
    wal_autocheckpoint: i64,
}

/// Reads a PRAGMA through its table-valued function (`busy_timeout`'s column is `timeout`).
fn pragma_int(conn: &mut AnyConnection, name: &str) -> i64 {
    let column = if name == "busy_timeout" {
        "timeout"
    } else {
        name
    };
    diesel::sql_query(format!("SELECT {column} AS v FROM pragma_{name}"))
        .get_result::<PragmaInt>(conn)
        .unwrap_or_else(|e| panic!("PRAGMA {name}: {e}"))
        .v
}

fn pragma_text(conn: &mut AnyConnection, name: &str) -> String {
    diesel::sql_query(format!("SELECT {name} AS v FROM pragma_{name}"))
        .get_result::<PragmaText>(conn)
        .unwrap_or_else(|e| panic!("PRAGMA {name}: {e}"))
        .v
}

#[tokio::test]
async fn unsupported_urls_are_refused_without_echoing_them() {
    for url in ["mysql://user:hunter2@h/db", "attend.db", "http://x"] {
        let err = DieselStore::connect(url, Options::new()).await.unwrap_err();
        assert!(
            matches!(err, DieselStoreError::UnsupportedUrl { .. }),
            "{url}: {err:?}"
        );
        assert!(!err.to_string().contains("hunter2"));
    }
}

#[tokio::test]
async fn invalid_postgres_schema_option_is_refused() {
    let Some(url) = common::postgres_url() else {
        return;
    };
    let err = DieselStore::connect(&url, Options::new().postgres_schema("x; DROP TABLE y"))
        .await
        .unwrap_err();
    assert!(matches!(err, DieselStoreError::InvalidOption(_)), "{err:?}");
}

#[tokio::test]
async fn every_pooled_sqlite_connection_gets_the_pragmas() {
    let db = common::sqlite_file().await;
    assert_eq!(db.store.backend(), BackendKind::Sqlite);
    // Hold several connections at once so that the pool has to open (and customize) each.
    let pool = db.store.pool().clone();
    tokio::task::spawn_blocking(move || {
        let mut held = Vec::new();
        for _ in 0..4 {
            let mut conn = pool.get().expect("pooled connection");
            assert_eq!(pragma_int(&mut conn, "busy_timeout"), 5000);
            assert_eq!(pragma_text(&mut conn, "journal_mode"), "wal");
            assert_eq!(pragma_int(&mut conn, "synchronous"), 1, "NORMAL");
            assert_eq!(pragma_int(&mut conn, "foreign_keys"), 1);
            // Checkpoints are the background thread's job, not a commit's.
            let autocheckpoint: WalAutocheckpoint = diesel::sql_query("PRAGMA wal_autocheckpoint")
                .get_result(&mut conn)
                .expect("PRAGMA wal_autocheckpoint");
            assert_eq!(autocheckpoint.wal_autocheckpoint, 0);
            held.push(conn);
        }
    })
    .await
    .expect("pragma checks");
}

#[tokio::test]
async fn sqlite_synchronous_full_and_busy_timeout_are_configurable() {
    let db = common::sqlite_file_with(
        Options::new()
            .sqlite_synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_millis(1234)),
    )
    .await;
    let (sync, busy) = db
        .store
        .with_conn(|conn| {
            Ok::<_, DieselStoreError>((
                pragma_int(conn, "synchronous"),
                pragma_int(conn, "busy_timeout"),
            ))
        })
        .await
        .expect("query pragmas");
    assert_eq!(sync, 2, "FULL");
    assert_eq!(busy, 1234);
}

#[tokio::test]
async fn in_memory_sqlite_keeps_its_data_across_calls_on_one_connection() {
    let db = common::sqlite_memory().await;
    assert_eq!(db.store.pool().max_size(), 1);
    let webhook = sample_webhook("k1", b"{}".to_vec());
    let id = db
        .store
        .insert_webhook(&webhook)
        .await
        .expect("insert")
        .id();
    // A later call (another checkout of the one connection) sees the same database.
    let stored = db
        .store
        .get_webhook(id)
        .await
        .expect("get")
        .expect("stored");
    assert_eq!(stored.dedupe_key, "k1");
    let mode = db
        .store
        .with_conn(|conn| Ok::<_, DieselStoreError>(pragma_text(conn, "journal_mode")))
        .await
        .expect("journal mode");
    assert_eq!(mode, "memory", "no WAL for in-memory databases");
    // A second in-memory store is a different, empty database.
    let other = common::sqlite_memory().await;
    assert!(other.store.get_webhook(id).await.expect("get").is_none());
}

#[tokio::test]
async fn pool_exhaustion_is_a_retryable_unavailable() {
    let store = DieselStore::connect(
        "sqlite::memory:",
        Options::new().connection_timeout(Duration::from_millis(200)),
    )
    .await
    .expect("connect");
    let pool = store.pool().clone();
    let (held_tx, held_rx) = tokio::sync::oneshot::channel();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let holder = tokio::task::spawn_blocking(move || {
        let _conn = pool.get().expect("the one connection");
        let _ = held_tx.send(());
        let _ = release_rx.recv();
    });
    held_rx.await.expect("connection held");
    let err = store
        .get_meeting(&MeetingId::new("m"))
        .await
        .expect_err("no connection is free");
    assert!(err.is_retryable(), "{err:?}");
    assert!(matches!(err, StoreError::Unavailable { .. }));
    release_tx.send(()).expect("release");
    holder.await.expect("holder");
    assert!(store.get_meeting(&MeetingId::new("m")).await.is_ok());
}

#[tokio::test]
async fn a_locked_sqlite_database_is_a_retryable_unavailable() {
    let db = common::sqlite_file().await;
    let impatient = DieselStore::connect(&db.url, Options::new().busy_timeout(Duration::ZERO))
        .await
        .expect("second store on the same file");
    let (locked_tx, locked_rx) = tokio::sync::oneshot::channel();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let store = db.store.clone();
    let writer = tokio::spawn(async move {
        store
            .with_transaction(move |_conn| {
                // BEGIN IMMEDIATE holds the write lock until this closure returns.
                let _ = locked_tx.send(());
                let _ = release_rx.recv_timeout(Duration::from_secs(10));
                Ok::<_, DieselStoreError>(())
            })
            .await
    });
    locked_rx.await.expect("write lock taken");
    let err = impatient
        .insert_webhook(&sample_webhook("k", b"{}".to_vec()))
        .await
        .expect_err("the file is locked");
    assert!(err.is_retryable(), "{err:?}");
    release_tx.send(()).expect("release");
    writer.await.expect("join").expect("writer");
    // Once the lock is gone, the same call goes through.
    assert!(
        impatient
            .insert_webhook(&sample_webhook("k", b"{}".to_vec()))
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn unreachable_postgres_is_a_retryable_error() {
    let err = DieselStore::connect(
        "postgres://postgres@127.0.0.1:9/none?connect_timeout=1",
        Options::new().connection_timeout(Duration::from_millis(500)),
    )
    .await
    .expect_err("nothing listens on port 9");
    assert!(err.is_retryable(), "{err:?}");
    assert!(StoreError::from(err).is_retryable());
}

fn sample_webhook(key: &str, body: Vec<u8>) -> NewWebhook {
    NewWebhook {
        account: AccountKey::new("acct"),
        dedupe_key: key.to_owned(),
        event_type: "meeting.participant_joined".to_owned(),
        received_at: t(0),
        body,
        unparseable: false,
    }
}

async fn bodies_round_trip(db: &TestDb) {
    for (key, body) in [
        (
            "json",
            br#"{"event":"meeting.started","payload":{}}"#.to_vec(),
        ),
        ("binary", vec![0xff, 0x00, 0xfe, b'{']),
        ("nul", b"text with \0 inside".to_vec()),
        ("empty", Vec::new()),
    ] {
        let id = match db
            .store
            .insert_webhook(&sample_webhook(key, body.clone()))
            .await
        {
            Ok(WebhookInsert::Inserted(id)) => id,
            other => panic!("{key}: {other:?}"),
        };
        let stored = db.store.get_webhook(id).await.expect("get").expect("row");
        assert_eq!(stored.body.as_deref(), Some(body.as_slice()), "{key}");
    }
}

/// No commit checkpoints (`wal_autocheckpoint = 0`), so committed pages reach the database
/// file only through the store's background checkpointer.
#[tokio::test]
async fn sqlite_checkpoints_run_in_the_background() {
    let db = common::sqlite_file().await;
    let path = std::path::PathBuf::from(db.url.trim_start_matches("sqlite://"));
    let size = |p: &std::path::Path| std::fs::metadata(p).map_or(0, |m| m.len());
    // Let a round pass over the migrations' pages first.
    tokio::time::sleep(Duration::from_millis(600)).await;
    let before = size(&path);
    for i in 0..200 {
        let hook = sample_webhook(&format!("k{i}"), vec![b'x'; 8 * 1024]);
        db.store.insert_webhook(&hook).await.expect("insert");
    }
    // 1.6 MB of bodies: in the log at first, in the database file after a checkpoint.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while size(&path) < before + 1_000_000 {
        assert!(
            std::time::Instant::now() < deadline,
            "the database file stayed at {} bytes (was {before}): nothing was checkpointed",
            size(&path)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn raw_bodies_round_trip_byte_exactly_on_sqlite() {
    bodies_round_trip(&common::sqlite_file().await).await;
}

#[tokio::test]
async fn raw_bodies_round_trip_byte_exactly_on_postgres() {
    if let Some(db) = common::postgres().await {
        bodies_round_trip(&db).await;
    }
}

async fn migrations_are_idempotent_and_optional(db: TestDb, fresh: DieselStore) {
    assert_eq!(
        db.store.run_migrations().await.expect("re-run"),
        Vec::<String>::new()
    );
    // A store connected with migrations off leaves a fresh database alone...
    let pending = fresh
        .with_conn(has_pending_migrations)
        .await
        .expect("pending?");
    assert!(pending);
    // ...until the host migrates it.
    let applied = fresh.run_migrations().await.expect("migrate");
    assert_eq!(applied.len(), migration_count(), "{applied:?}");
    assert!(
        !fresh
            .with_conn(has_pending_migrations)
            .await
            .expect("pending?")
    );
}

#[tokio::test]
async fn migrations_can_be_left_to_the_host_on_sqlite() {
    let db = common::sqlite_file().await;
    let fresh = common::sqlite_file_with(Options::new().run_migrations(false)).await;
    migrations_are_idempotent_and_optional(db, fresh.store.clone()).await;
}

#[tokio::test]
async fn migrations_can_be_left_to_the_host_on_postgres() {
    let Some(db) = common::postgres().await else {
        return;
    };
    let Some(fresh) = common::postgres_with(Options::new().run_migrations(false)).await else {
        return;
    };
    // With migrations off, `connect` does not create the schema either: the host does.
    let url = fresh.url.clone();
    let schema: String = fresh
        .store
        .with_conn(|conn| {
            #[derive(QueryableByName)]
            struct S {
                #[diesel(sql_type = Text)]
                s: String,
            }
            let s: S =
                diesel::sql_query("SELECT current_setting('search_path') AS s").get_result(conn)?;
            Ok::<_, DieselStoreError>(s.s)
        })
        .await
        .expect("search path");
    let name = schema
        .split(',')
        .next()
        .expect("first schema")
        .trim()
        .trim_matches('"')
        .to_owned();
    tokio::task::spawn_blocking(move || {
        use diesel::connection::SimpleConnection;
        let mut conn = diesel::PgConnection::establish(&url).expect("admin connection");
        conn.batch_execute(&format!("CREATE SCHEMA \"{name}\""))
            .expect("create schema");
    })
    .await
    .expect("create schema task");
    migrations_are_idempotent_and_optional(db, fresh.store.clone()).await;
}

async fn host_tables_share_the_database(db: &TestDb) {
    let store = &db.store;
    store
        .with_transaction(|conn| {
            diesel::sql_query("CREATE TABLE courses (code TEXT PRIMARY KEY, title TEXT NOT NULL)")
                .execute(conn)
        })
        .await
        .expect("create host table");
    // A failing closure rolls its transaction back.
    let err = store
        .with_transaction(|conn| {
            diesel::sql_query("INSERT INTO courses VALUES ('c1', 'Physics')").execute(conn)?;
            Err::<(), _>(DieselStoreError::InvalidOption("abort".into()))
        })
        .await
        .expect_err("aborted");
    assert!(matches!(err, DieselStoreError::InvalidOption(_)));
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let count = |store: DieselStore| async move {
        store
            .with_conn(|conn| {
                diesel::sql_query("SELECT COUNT(*) AS n FROM courses").get_result::<N>(conn)
            })
            .await
            .expect("count")
            .n
    };
    assert_eq!(count(store.clone()).await, 0);
    store
        .with_transaction(|conn| {
            diesel::sql_query("INSERT INTO courses VALUES ('c1', 'Physics')").execute(conn)
        })
        .await
        .expect("insert");
    assert_eq!(count(store.clone()).await, 1);
}

#[tokio::test]
async fn host_tables_share_the_database_on_sqlite() {
    host_tables_share_the_database(&common::sqlite_memory().await).await;
}

#[tokio::test]
async fn host_tables_share_the_database_on_postgres() {
    if let Some(db) = common::postgres().await {
        host_tables_share_the_database(&db).await;
    }
}

#[test]
fn connect_blocking_works_without_a_runtime() {
    let store = DieselStore::connect_blocking("sqlite::memory:", Options::new()).expect("connect");
    assert_eq!(store.backend(), BackendKind::Sqlite);
    assert!(format!("{store:?}").contains("Sqlite"));
}

/// How many migrations attend ships; the same versions for both backends.
fn migration_count() -> usize {
    use diesel::migration::MigrationSource;
    use diesel::pg::Pg;
    use diesel::sqlite::Sqlite;
    let sqlite = MigrationSource::<Sqlite>::migrations(&attend_diesel::SQLITE_MIGRATIONS)
        .expect("sqlite migrations");
    let postgres = MigrationSource::<Pg>::migrations(&attend_diesel::POSTGRES_MIGRATIONS)
        .expect("postgres migrations");
    let versions = |set: &[Box<dyn diesel::migration::Migration<Sqlite>>]| {
        set.iter()
            .map(|m| m.name().version().to_string())
            .collect::<Vec<_>>()
    };
    let pg_versions: Vec<String> = postgres
        .iter()
        .map(|m| m.name().version().to_string())
        .collect();
    assert_eq!(
        versions(&sqlite),
        pg_versions,
        "both backends, same versions"
    );
    sqlite.len()
}

async fn down_migrations_remove_every_attend_table(db: TestDb) {
    let left = db
        .store
        .with_conn(|conn| {
            use diesel_migrations::MigrationHarness;
            let reverted = match conn {
                AnyConnection::Sqlite(c) => {
                    c.revert_all_migrations(attend_diesel::SQLITE_MIGRATIONS)
                }
                AnyConnection::Postgresql(c) => {
                    c.revert_all_migrations(attend_diesel::POSTGRES_MIGRATIONS)
                }
            };
            reverted.map_err(DieselStoreError::Migration)?;
            #[derive(QueryableByName)]
            struct Name {
                #[diesel(sql_type = Text)]
                name: String,
            }
            let sql = match conn.backend() {
                BackendKind::Sqlite => {
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'attend%'"
                }
                BackendKind::Postgres => {
                    "SELECT CAST(table_name AS TEXT) AS name FROM information_schema.tables \
                     WHERE table_schema = current_schema() AND table_name LIKE 'attend%'"
                }
            };
            let names: Vec<Name> = diesel::sql_query(sql).load(conn)?;
            Ok::<_, DieselStoreError>(names.into_iter().map(|n| n.name).collect::<Vec<_>>())
        })
        .await
        .expect("revert");
    assert!(left.is_empty(), "left after down.sql: {left:?}");
    // And up again from nothing.
    assert_eq!(
        db.store.run_migrations().await.expect("re-apply").len(),
        migration_count()
    );
}

#[tokio::test]
async fn down_migrations_revert_cleanly_on_sqlite() {
    down_migrations_remove_every_attend_table(common::sqlite_file().await).await;
}

#[tokio::test]
async fn down_migrations_revert_cleanly_on_postgres() {
    if let Some(db) = common::postgres().await {
        down_migrations_remove_every_attend_table(db).await;
    }
}

#[derive(QueryableByName)]
struct Pid {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    pid: i32,
}

/// The pool does not test connections with `SELECT 1` at every checkout (a round trip each);
/// a connection the server closed is found by its error instead and discarded. So after the
/// server ends every pooled connection (as in a restart), each fails at most once, and then
/// calls succeed again without any help.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn connections_the_server_closed_are_replaced_after_one_failure() {
    const POOL: usize = 3;
    let Some(db) = common::postgres_with(Options::new().pool_size(POOL as u32)).await else {
        return;
    };
    // Fill the pool: POOL calls at once, each holding its connection for a moment.
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..POOL {
        let store = db.store.clone();
        calls.spawn(async move {
            store
                .with_conn(|c| {
                    diesel::sql_query("SELECT pg_backend_pid() AS pid, pg_sleep(0.3) IS NULL")
                        .get_result::<Pid>(c)
                })
                .await
                .expect("backend pid")
                .pid
        });
    }
    let mut pids = calls.join_all().await;
    pids.sort_unstable();
    pids.dedup();
    assert_eq!(pids.len(), POOL, "one connection per concurrent call");

    let mut admin = diesel::PgConnection::establish(&db.url).expect("admin connection");
    for pid in &pids {
        diesel::sql_query(format!("SELECT pg_terminate_backend({pid})"))
            .execute(&mut admin)
            .expect("terminate a pooled connection");
    }

    let meeting = MeetingId::new("none");
    let mut failures = 0;
    let mut outcomes = Vec::new();
    for _ in 0..(POOL + 6) {
        match db.store.get_meeting(&meeting).await {
            Ok(found) => outcomes.push(found.is_none()),
            Err(err) => {
                assert!(
                    err.is_retryable(),
                    "a lost connection is retryable: {err:?}"
                );
                failures += 1;
                outcomes.push(false);
            }
        }
    }
    assert!(
        failures <= POOL,
        "each closed connection fails at most once: {failures} failures"
    );
    assert!(
        outcomes[POOL..].iter().all(|ok| *ok),
        "calls succeed once the closed connections are gone: {outcomes:?}"
    );
}
