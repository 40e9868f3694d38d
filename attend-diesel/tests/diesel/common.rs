//! Test databases: a SQLite file in a temp dir, in-memory SQLite, and a fresh PostgreSQL schema
//! per store (dropped again when the guard goes out of scope).

use std::sync::atomic::{AtomicU64, Ordering};

use attend_diesel::{DieselStore, Options};
use diesel::Connection;
use diesel::connection::SimpleConnection;

/// The PostgreSQL server the tests use, from `ATTEND_TEST_POSTGRES_URL`.
///
/// Unset: prints why and returns `None` (the caller returns early), unless `CI` is set, in
/// which case it panics: in CI the PostgreSQL tests are never skipped. A set URL whose server
/// is unreachable always fails the test when a store is created.
pub(crate) fn postgres_url() -> Option<String> {
    match std::env::var("ATTEND_TEST_POSTGRES_URL") {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ if std::env::var_os("CI").is_some() => panic!(
            "ATTEND_TEST_POSTGRES_URL is not set, but CI is: PostgreSQL tests must run in CI \
             (e.g. ATTEND_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test)"
        ),
        _ => {
            eprintln!("skipping PostgreSQL tests: ATTEND_TEST_POSTGRES_URL not set");
            None
        }
    }
}

/// A unique name for this process and call.
pub(crate) fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{prefix}_{}_{}_{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// A store plus whatever keeps its database alive (a temp dir) or cleans it up (a schema).
pub(crate) struct TestDb {
    pub(crate) store: DieselStore,
    pub(crate) url: String,
    pub(crate) cleanup: Cleanup,
}

/// Removes a test database when dropped (the temp dir of a SQLite file, or the PostgreSQL
/// schema). Outlives the store where the store is handed to code that drops it.
pub(crate) enum Cleanup {
    None,
    Dir(#[allow(dead_code)] tempfile::TempDir),
    PgSchema { url: String, schema: String },
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Cleanup::PgSchema { url, schema } = self {
            drop_schemas(url, std::slice::from_ref(schema));
        }
    }
}

/// Best effort: a leftover schema only costs disk space.
fn drop_schemas(url: &str, schemas: &[String]) {
    if schemas.iter().all(String::is_empty) {
        return;
    }
    let list = schemas
        .iter()
        .map(|s| format!("\"{s}\""))
        .collect::<Vec<_>>()
        .join(", ");
    if let Ok(mut conn) = diesel::PgConnection::establish(url) {
        let _ = conn.batch_execute(&format!("DROP SCHEMA IF EXISTS {list} CASCADE"));
    }
}

/// Runs many clean-ups at once: PostgreSQL schemas of one server are dropped in one statement
/// (one connection instead of one per schema); the rest are dropped one by one.
pub(crate) fn cleanup_all(cleanups: Vec<Cleanup>) {
    let mut schemas: Vec<(String, String)> = Vec::new();
    for mut cleanup in cleanups {
        if let Cleanup::PgSchema { url, schema } = &mut cleanup {
            // Taken out here, so the guard's own drop finds nothing left to do.
            schemas.push((std::mem::take(url), std::mem::take(schema)));
        }
    }
    let mut by_url: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for (url, schema) in schemas {
        by_url.entry(url).or_default().push(schema);
    }
    for (url, schemas) in by_url {
        drop_schemas(&url, &schemas);
    }
}

pub(crate) async fn sqlite_file_with(options: Options) -> TestDb {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("attend.db");
    let url = format!("sqlite://{}", path.display());
    let store = DieselStore::connect(&url, options)
        .await
        .expect("connect to a SQLite file");
    TestDb {
        store,
        url,
        cleanup: Cleanup::Dir(dir),
    }
}

pub(crate) async fn sqlite_file() -> TestDb {
    sqlite_file_with(Options::new()).await
}

pub(crate) async fn sqlite_memory() -> TestDb {
    let store = DieselStore::connect("sqlite::memory:", Options::new())
        .await
        .expect("connect to in-memory SQLite");
    TestDb {
        store,
        url: "sqlite::memory:".to_owned(),
        cleanup: Cleanup::None,
    }
}

/// A store in a fresh schema `attend_test_…` of the test server, or `None` when PostgreSQL
/// tests are skipped (see [`postgres_url`]).
pub(crate) async fn postgres_with(options: Options) -> Option<TestDb> {
    let url = postgres_url()?;
    let schema = unique_name("attend_test");
    let store = DieselStore::connect(&url, options.postgres_schema(schema.clone()))
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at ATTEND_TEST_POSTGRES_URL unusable: {e:?}"));
    Some(TestDb {
        store,
        url: url.clone(),
        cleanup: Cleanup::PgSchema { url, schema },
    })
}

pub(crate) async fn postgres() -> Option<TestDb> {
    postgres_with(Options::new()).await
}
