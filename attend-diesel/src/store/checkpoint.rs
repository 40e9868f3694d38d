//! SQLite WAL checkpoints off the commit path.
//!
//! By default SQLite checkpoints inside the commit that takes the write-ahead log past 1,000
//! pages: that one writer copies the log into the database file and syncs it to disk while
//! every other writer of the file waits. Under a webhook burst this happened about once a
//! second and showed as a second mode of the receiver's answer times (p90 about 40 ms where
//! p50 was 13 ms; BENCHMARKS.md, "Checkpoints off the commit path").
//!
//! So every pooled connection to a database file sets `wal_autocheckpoint = 0`, and one
//! background thread per store runs `PRAGMA wal_checkpoint(PASSIVE)` every [`INTERVAL`]. A
//! passive checkpoint waits for nobody: writers keep committing while it copies and syncs,
//! and pages a reader still needs stay in the log until a later round. Once a round has
//! copied everything, the next writer starts the log from the beginning again (the file keeps
//! its size and is overwritten). Truncating it there (`journal_size_limit`) was tried and
//! dropped: cutting and regrowing the file under a burst stalled commits for 0.7–1.9 s.
//!
//! Under a sustained burst a passive round never finds the log fully copied (new commits
//! arrive while it copies), so the log never starts over and grows for as long as the burst
//! lasts: 1.4 GB for 100,000 deliveries in one run, every commit extending the file (the file
//! system allocating and zeroing blocks for each) and every read searching a larger log index.
//! So when a passive round leaves more than the restart size
//! ([`Options::sqlite_wal_restart_size`](crate::Options::sqlite_wal_restart_size), 1 GiB by
//! default) in the log, the thread takes this process's writer lock and runs
//! `wal_checkpoint(RESTART)`: the frames the passive round did not copy are copied, the
//! database file is synced, and the next writer starts the log from the beginning,
//! overwriting blocks the file already has. Writers of this process wait for that on the
//! writer lock, as they wait for each other. The wait is mostly the two syncs (log and
//! database file), not the copying (the passive rounds keep the remainder short), and the
//! disk is busy with the log's own writes then: on the benchmark machine under a burst
//! 42–153 ms at 256 MiB, still 13–111 ms at 32 MiB, 195–231 ms at 1 GiB. A smaller size
//! mostly makes the stalls more frequent: the log grew by 125–140 MB a second under a
//! webhook burst there, so at 256 MiB (the earlier default) every writer stalled about every
//! 2 s, at 1 GiB about every 8 s (BENCHMARKS.md, "Restarting SQLite's log less often").
//!
//! Durability is unchanged: commits sync (or not) as `synchronous` says; a checkpoint only
//! moves committed pages from the log into the database file. In-memory databases have no log
//! and no checkpointer.

use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::BigInt;

use super::Inner;
use crate::Options;
use crate::connection::AnyConnection;

/// How often the background thread checkpoints.
pub(crate) const INTERVAL: Duration = Duration::from_millis(250);

/// How long a restarting checkpoint waits for readers to move to the newest snapshot before
/// it gives up for this round: writers of this process wait for it meanwhile.
const RESTART_WAIT_MS: u32 = 20;

/// The row of `PRAGMA busy_timeout`.
#[derive(QueryableByName)]
struct BusyTimeout {
    #[diesel(sql_type = BigInt)]
    timeout: i64,
}

/// The row of `PRAGMA page_size`.
#[derive(QueryableByName)]
struct PageSize {
    #[diesel(sql_type = BigInt)]
    page_size: i64,
}

/// One row of `PRAGMA wal_checkpoint`.
#[derive(QueryableByName)]
struct CheckpointRow {
    /// 1 if the checkpoint could not run to completion (a lock was busy).
    #[diesel(sql_type = BigInt)]
    busy: i64,
    /// Frames in the log.
    #[diesel(sql_type = BigInt)]
    log: i64,
}

/// Starts the checkpointer of a SQLite file store, restarting the log when a passive round
/// leaves more than [`Options::sqlite_wal_restart_size`] in it. It stops by itself, within
/// one [`INTERVAL`], once the store (every clone of it) is dropped.
pub(super) fn spawn(inner: &Arc<Inner>, options: Options) {
    let weak: Weak<Inner> = Arc::downgrade(inner);
    let started = std::thread::Builder::new()
        .name("attend-sqlite-checkpoint".into())
        .spawn(move || run(&weak, &options));
    if let Err(err) = started {
        // Without it the log grows until a restart; say so, but do not refuse to start.
        tracing::warn!(error = %err, "could not start the SQLite checkpoint thread");
    }
}

fn run(weak: &Weak<Inner>, options: &Options) {
    // In the file's own pages, read once (a host's shared database may not use 4 KiB ones).
    let mut restart_frames = None;
    loop {
        std::thread::sleep(INTERVAL);
        // Holding the store only for the round, so that dropping it ends the thread.
        let Some(inner) = weak.upgrade() else {
            return;
        };
        match inner.pool.get() {
            Ok(mut conn) => {
                if let AnyConnection::Sqlite(c) = &mut *conn {
                    if restart_frames.is_none() {
                        restart_frames = frames_of(c, options)
                            .inspect_err(|err| {
                                tracing::debug!(error = %err, "SQLite page size unreadable; next round retries");
                            })
                            .ok();
                    }
                    if let Some(frames) = restart_frames {
                        round(&inner.sqlite_writer, c, frames);
                    }
                }
            }
            Err(err) => {
                tracing::debug!(error = %err, "no connection for the SQLite checkpoint");
            }
        }
    }
}

/// One passive checkpoint, and a restarting one under `writer` (the store's writer lock) if
/// the log stayed longer than `restart_frames`. Records how long each took and the log's
/// length (see the crate docs, "Observability").
fn round(writer: &Mutex<()>, c: &mut SqliteConnection, restart_frames: i64) {
    let started = Instant::now();
    let passive = checkpoint(c, "PASSIVE");
    metrics::histogram!("attend_sqlite_checkpoint_seconds", "mode" => "passive")
        .record(started.elapsed().as_secs_f64());
    if let Ok(row) = &passive {
        metrics::gauge!("attend_sqlite_log_frames").set(row.log as f64);
    }
    match passive {
        Ok(row) if row.log > restart_frames => {
            let _writer = super::writer_turn(writer);
            // From taking the writer lock: how long this process's writers were held back.
            let held = Instant::now();
            let restarted = restart(c);
            metrics::histogram!("attend_sqlite_checkpoint_seconds", "mode" => "restart")
                .record(held.elapsed().as_secs_f64());
            match restarted {
                Ok(row) if row.busy != 0 => tracing::debug!(
                    frames = row.log,
                    "SQLite log could not restart (a reader or another process was busy); \
                     next round retries"
                ),
                Ok(_) => {}
                Err(err) => {
                    tracing::debug!(error = %err, "SQLite restart checkpoint failed; next round retries");
                }
            }
        }
        Ok(_) => {}
        Err(err) => {
            tracing::debug!(error = %err, "SQLite checkpoint failed; next round retries");
        }
    }
}

/// [`Options::sqlite_wal_restart_size`] in frames of this database's pages.
fn frames_of(c: &mut SqliteConnection, options: &Options) -> diesel::QueryResult<i64> {
    let page: PageSize = diesel::sql_query("PRAGMA page_size").get_result(c)?;
    Ok(options.wal_restart_frames(u64::try_from(page.page_size).unwrap_or(0)))
}

/// `wal_checkpoint(RESTART)` waiting at most [`RESTART_WAIT_MS`] for readers (it holds the
/// writer lock meanwhile), then the connection's own `busy_timeout` again.
fn restart(c: &mut SqliteConnection) -> diesel::QueryResult<CheckpointRow> {
    let own: BusyTimeout = diesel::sql_query("PRAGMA busy_timeout").get_result(c)?;
    c.batch_execute(&format!("PRAGMA busy_timeout = {RESTART_WAIT_MS};"))?;
    let result = checkpoint(c, "RESTART");
    let reset = c.batch_execute(&format!("PRAGMA busy_timeout = {};", own.timeout));
    let row = result?;
    reset?;
    Ok(row)
}

fn checkpoint(c: &mut SqliteConnection, mode: &str) -> diesel::QueryResult<CheckpointRow> {
    diesel::sql_query(format!("PRAGMA wal_checkpoint({mode})")).get_result(c)
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    use diesel::connection::SimpleConnection;
    use diesel::prelude::*;

    use super::round;

    fn open(path: &str) -> SqliteConnection {
        let mut c = SqliteConnection::establish(path).expect("open SQLite file");
        c.batch_execute(
            "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; \
             PRAGMA wal_autocheckpoint = 0; PRAGMA synchronous = NORMAL;",
        )
        .expect("pragmas");
        c
    }

    /// The log's length after `rounds_every` checkpoint rounds for `for_how_long`, while one
    /// thread writes 1 KB rows without pause (taking `writer` for each, as the store's writers
    /// do) and another reads without pause.
    fn log_bytes_under_load(restart_frames: i64) -> u64 {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("wal.db");
        let path = path.to_str().expect("utf-8 path").to_owned();
        let mut setup = open(&path);
        setup
            .batch_execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
            .expect("create table");
        let writer = Arc::new(Mutex::new(()));
        let stop = Arc::new(AtomicBool::new(false));
        let mut threads = Vec::new();
        {
            let (writer, stop, path) = (Arc::clone(&writer), Arc::clone(&stop), path.clone());
            threads.push(std::thread::spawn(move || {
                let mut c = open(&path);
                let body = "x".repeat(1_000);
                while !stop.load(Ordering::Relaxed) {
                    let _turn = writer.lock().expect("writer lock");
                    c.batch_execute(&format!(
                        "BEGIN IMMEDIATE; INSERT INTO t (body) VALUES ('{body}'); \
                         INSERT INTO t (body) VALUES ('{body}'); COMMIT;"
                    ))
                    .expect("write");
                }
            }));
        }
        {
            let (stop, path) = (Arc::clone(&stop), path.clone());
            threads.push(std::thread::spawn(move || {
                let mut c = open(&path);
                while !stop.load(Ordering::Relaxed) {
                    c.batch_execute("SELECT body FROM t WHERE id = 1")
                        .expect("read");
                }
            }));
        }
        let mut checkpointer = open(&path);
        let until = Instant::now() + Duration::from_millis(1_500);
        while Instant::now() < until {
            std::thread::sleep(Duration::from_millis(20));
            round(&writer, &mut checkpointer, restart_frames);
        }
        stop.store(true, Ordering::Relaxed);
        for t in threads {
            t.join().expect("load thread");
        }
        std::fs::metadata(format!("{path}-wal"))
            .expect("the log exists")
            .len()
    }

    /// Renders what `f` records (on this thread) as the Prometheus text the example app serves.
    fn recorded(f: impl FnOnce()) -> String {
        let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        metrics::with_local_recorder(&recorder, f);
        handle.render()
    }

    /// The value of the sample `series` (name and labels as rendered) in `page`.
    fn sample(page: &str, series: &str) -> Option<f64> {
        page.lines()
            .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
    }

    #[test]
    fn the_restart_size_is_counted_in_the_files_own_pages() {
        let dir = tempfile::tempdir().expect("temp dir");
        let options = crate::Options::new().sqlite_wal_restart_size(1 << 20);
        let frames = |name: &str, page_size: Option<u32>| {
            let path = dir.path().join(name);
            let mut c = SqliteConnection::establish(path.to_str().expect("utf-8 path"))
                .expect("open SQLite file");
            // As a host's own database may have been created: the size is set before the
            // first table and WAL mode.
            if let Some(size) = page_size {
                c.batch_execute(&format!("PRAGMA page_size = {size};"))
                    .expect("page size");
            }
            c.batch_execute("PRAGMA journal_mode = WAL; CREATE TABLE t (x INTEGER);")
                .expect("create");
            super::frames_of(&mut c, &options).expect("read the page size")
        };
        assert_eq!(frames("default.db", None), 256, "1 MiB of 4 KiB pages");
        assert_eq!(frames("small.db", Some(1024)), 1024, "1 MiB of 1 KiB pages");
        assert_eq!(
            frames("large.db", Some(65_536)),
            16,
            "1 MiB of 64 KiB pages"
        );
    }

    #[test]
    fn each_round_records_its_checkpoints_and_the_logs_length() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("metrics.db");
        let mut c = open(path.to_str().expect("utf-8 path"));
        c.batch_execute(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT NOT NULL); \
             INSERT INTO t (body) VALUES ('one'); INSERT INTO t (body) VALUES ('two');",
        )
        .expect("write");
        let writer = Mutex::new(());

        // A log shorter than the restart size: a passive round only.
        let page = recorded(|| round(&writer, &mut c, i64::MAX));
        let frames = sample(&page, "attend_sqlite_log_frames").expect("the log's length");
        assert!(frames >= 2.0, "{page}");
        let passive = r#"attend_sqlite_checkpoint_seconds_count{mode="passive"}"#;
        let restart = r#"attend_sqlite_checkpoint_seconds_count{mode="restart"}"#;
        assert_eq!(sample(&page, passive), Some(1.0), "{page}");
        assert_eq!(sample(&page, restart), None, "{page}");

        // Longer than the restart size: the restart is recorded too.
        let page = recorded(|| round(&writer, &mut c, 1));
        assert_eq!(sample(&page, passive), Some(1.0), "{page}");
        assert_eq!(sample(&page, restart), Some(1.0), "{page}");
    }

    #[test]
    fn a_long_log_is_restarted_under_a_continuous_load() {
        // Passive rounds alone let the log grow by everything written (127–144 MB in 1.5 s
        // on the machine this was first written on, 268–287 MB on a later one): a passive
        // round never finds the log fully copied while a writer runs. With restarts above 64
        // frames it holds what is written between two restarts (8–17 MB on those machines),
        // which the disk's sync time sets. So the bound is relative to a passive-only run of
        // the same load, not a fixed size: one CI run on a busy machine (its disk likely
        // still writing back gigabytes of benchmark files) saw 90 MB with restarts.
        let unbounded = log_bytes_under_load(i64::MAX);
        let bounded = log_bytes_under_load(64);
        eprintln!(
            "log after 1.5 s of writes: {unbounded} bytes with passive rounds only, \
             {bounded} bytes restarting above 64 frames"
        );
        assert!(
            bounded.saturating_mul(3) < unbounded,
            "the log grew to {bounded} bytes although it restarts above 64 frames \
             ({unbounded} bytes without restarts)"
        );
    }
}
