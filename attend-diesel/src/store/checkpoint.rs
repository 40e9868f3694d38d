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
//! Durability is unchanged: commits sync (or not) as `synchronous` says; a checkpoint only
//! moves committed pages from the log into the database file. In-memory databases have no log
//! and no checkpointer.

use std::sync::{Arc, Weak};
use std::time::Duration;

use diesel::connection::SimpleConnection;

use super::Inner;
use crate::connection::AnyConnection;

/// How often the background thread checkpoints.
pub(crate) const INTERVAL: Duration = Duration::from_millis(250);

/// Starts the checkpointer of a SQLite file store. It stops by itself, within one
/// [`INTERVAL`], once the store (every clone of it) is dropped.
pub(super) fn spawn(inner: &Arc<Inner>) {
    let weak: Weak<Inner> = Arc::downgrade(inner);
    let started = std::thread::Builder::new()
        .name("attend-sqlite-checkpoint".into())
        .spawn(move || run(&weak));
    if let Err(err) = started {
        // Without it the log grows until a restart; say so, but do not refuse to start.
        tracing::warn!(error = %err, "could not start the SQLite checkpoint thread");
    }
}

fn run(weak: &Weak<Inner>) {
    loop {
        std::thread::sleep(INTERVAL);
        // Holding the store only for the round, so that dropping it ends the thread.
        let Some(inner) = weak.upgrade() else {
            return;
        };
        match inner.pool.get() {
            Ok(mut conn) => {
                if let AnyConnection::Sqlite(c) = &mut *conn
                    && let Err(err) = c.batch_execute("PRAGMA wal_checkpoint(PASSIVE);")
                {
                    tracing::debug!(error = %err, "SQLite checkpoint failed; next round retries");
                }
            }
            Err(err) => {
                tracing::debug!(error = %err, "no connection for the SQLite checkpoint");
            }
        }
    }
}
