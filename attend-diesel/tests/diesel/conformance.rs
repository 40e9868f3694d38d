//! The core's storage conformance suite (and the directory suite) on SQLite files, in-memory
//! SQLite and PostgreSQL. Every check gets a fresh database: a new file, a new in-memory
//! database, or a new PostgreSQL schema. Set `ATTEND_CONFORMANCE_FILTER` to run some checks.

use std::sync::{Arc, Mutex};

use attend_core::testing::conformance::{self, Capabilities, DirectoryCapabilities, DirectorySeed};
use attend_diesel::{DieselStore, HostUserDirectory, HostUsersTable, Options};
use diesel::prelude::*;
use diesel::sql_types::Text;

use crate::common;

/// Keeps the clean-up guard of every database of a suite run until the end, then removes
/// them all (also when a check failed: the report is asserted only afterwards). Only the
/// guards are kept: each store, and so its pool, is dropped by the suite after its check.
type Keep = Arc<Mutex<Vec<common::Cleanup>>>;

fn clean_up(kept: Keep) {
    let cleanups = std::mem::take(&mut *kept.lock().expect("keep list"));
    common::cleanup_all(cleanups);
}

fn keep(kept: &Keep, db: common::TestDb) -> DieselStore {
    kept.lock().expect("keep list").push(db.cleanup);
    db.store
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn conformance_on_a_sqlite_file() {
    let kept = Keep::default();
    let report = conformance::run_report(
        || {
            let kept = kept.clone();
            async move { keep(&kept, common::sqlite_file().await) }
        },
        Capabilities::default(),
    )
    .await;
    clean_up(kept);
    report.assert_success();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn conformance_on_in_memory_sqlite() {
    conformance::run(
        || async { common::sqlite_memory().await.store },
        Capabilities::default(),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn conformance_on_postgres() {
    if common::postgres_url().is_none() {
        return;
    }
    let kept = Keep::default();
    let report = conformance::run_report(
        || {
            let kept = kept.clone();
            async move {
                let db = common::postgres_with(Options::new().pool_size(8))
                    .await
                    .expect("PostgreSQL configured");
                keep(&kept, db)
            }
        },
        Capabilities::default(),
    )
    .await;
    clean_up(kept);
    report.assert_success();
}

/// A host users table with its own column names (`people(pid, mail, display)`) and a
/// membership table, filled with the suite's seed.
async fn seeded_directory(db: &common::TestDb, seed: DirectorySeed) -> HostUserDirectory {
    db.store
        .with_transaction(move |conn| {
            diesel::sql_query(
                "CREATE TABLE people (pid TEXT PRIMARY KEY, mail TEXT, display TEXT)",
            )
            .execute(conn)?;
            diesel::sql_query("CREATE TABLE memberships (person TEXT, team TEXT)").execute(conn)?;
            let (p1, p2, p3) = match conn.backend() {
                attend_diesel::BackendKind::Postgres => ("$1", "$2", "$3"),
                attend_diesel::BackendKind::Sqlite => ("?1", "?2", "?3"),
            };
            for user in &seed.users {
                diesel::sql_query(format!("INSERT INTO people VALUES ({p1}, {p2}, {p3})"))
                    .bind::<Text, _>(user.id.as_str())
                    .bind::<diesel::sql_types::Nullable<Text>, _>(user.email.as_deref())
                    .bind::<Text, _>(user.name.as_str())
                    .execute(conn)?;
            }
            for (group, user) in &seed.memberships {
                diesel::sql_query(format!("INSERT INTO memberships VALUES ({p1}, {p2})"))
                    .bind::<Text, _>(user.as_str())
                    .bind::<Text, _>(group.as_str())
                    .execute(conn)?;
            }
            Ok::<_, diesel::result::Error>(())
        })
        .await
        .expect("seed the host tables");
    db.store.user_directory(
        HostUsersTable::new("people", "pid", "mail", "display")
            .expect("names")
            .with_groups("memberships", "person", "team")
            .expect("names"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn directory_conformance_on_sqlite() {
    let kept = Keep::default();
    conformance::run_directory(
        |seed| {
            let kept = kept.clone();
            async move {
                let db = common::sqlite_memory().await;
                let dir = seeded_directory(&db, seed).await;
                kept.lock().expect("keep list").push(db.cleanup);
                dir
            }
        },
        DirectoryCapabilities::default(),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn directory_conformance_on_postgres() {
    if common::postgres_url().is_none() {
        return;
    }
    let kept = Keep::default();
    conformance::run_directory(
        |seed| {
            let kept = kept.clone();
            async move {
                let db = common::postgres_with(Options::new().pool_size(2))
                    .await
                    .expect("PostgreSQL configured");
                let dir = seeded_directory(&db, seed).await;
                kept.lock().expect("keep list").push(db.cleanup);
                dir
            }
        },
        DirectoryCapabilities::default(),
    )
    .await;
    clean_up(kept);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn directory_conformance_without_group_table() {
    conformance::run_directory(
        |seed| async move {
            let db = common::sqlite_memory().await;
            let with_groups = seeded_directory(&db, seed).await;
            let table = HostUsersTable::new("people", "pid", "mail", "display").expect("names");
            drop(with_groups);
            db.store.user_directory(table)
        },
        DirectoryCapabilities::default().with_group_listing(false),
    )
    .await;
}
