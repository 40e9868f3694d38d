//! Connection and pool settings for [`DieselStore::connect`](crate::DieselStore::connect).

use std::time::Duration;

/// SQLite's `synchronous` setting: how hard SQLite works to survive a power loss.
///
/// Both settings are safe against an application crash (the WAL is always intact). They differ
/// only on an operating-system crash or power loss:
///
/// * [`Normal`](SqliteSynchronous::Normal) (default): in WAL mode, the last transactions
///   committed before the power loss may roll back; the database is never corrupted. Commits
///   do not wait for `fsync`, which makes them several times faster.
/// * [`Full`](SqliteSynchronous::Full): every commit is `fsync`ed before it returns, so a
///   committed webhook event survives a power loss too. Choose this when "200 to Zoom only
///   after the commit" must also hold across power failures.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SqliteSynchronous {
    /// `PRAGMA synchronous = NORMAL` (the default).
    #[default]
    Normal,
    /// `PRAGMA synchronous = FULL`.
    Full,
}

impl SqliteSynchronous {
    pub(crate) fn pragma_value(self) -> &'static str {
        match self {
            SqliteSynchronous::Normal => "NORMAL",
            SqliteSynchronous::Full => "FULL",
        }
    }
}

/// Settings for [`DieselStore::connect`](crate::DieselStore::connect). Start from
/// [`Options::new`] (the defaults) and change what you need:
///
/// ```
/// use std::time::Duration;
/// use attend_diesel::{Options, SqliteSynchronous};
///
/// let options = Options::new()
///     .pool_size(4)
///     .sqlite_synchronous(SqliteSynchronous::Full)
///     .connection_timeout(Duration::from_secs(5));
/// # let _ = options;
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[must_use]
pub struct Options {
    pub(crate) pool_size: Option<u32>,
    pub(crate) run_migrations: bool,
    pub(crate) sqlite_synchronous: SqliteSynchronous,
    pub(crate) busy_timeout: Duration,
    pub(crate) connection_timeout: Duration,
    pub(crate) postgres_schema: Option<String>,
    pub(crate) sqlite_wal_restart_size: u64,
}

impl Default for Options {
    fn default() -> Self {
        Self::new()
    }
}

impl Options {
    /// The defaults: pool size 8 on a SQLite file and 10 on PostgreSQL (always 1 for in-memory
    /// SQLite), migrations run on connect, `synchronous = NORMAL`, `busy_timeout` 5 s, a
    /// connection timeout of 2 s, PostgreSQL's default `search_path`, and a SQLite log
    /// restarted above 1 GiB.
    pub fn new() -> Self {
        Self {
            pool_size: None,
            run_migrations: true,
            sqlite_synchronous: SqliteSynchronous::Normal,
            busy_timeout: Duration::from_secs(5),
            connection_timeout: Duration::from_secs(2),
            postgres_schema: None,
            sqlite_wal_restart_size: DEFAULT_WAL_RESTART_SIZE,
        }
    }

    /// The maximum number of pooled connections (at least 1). Default 8 for a SQLite file, 10
    /// for PostgreSQL. On PostgreSQL up to two of them may be busy with grouped writes at
    /// once, one per lane (see the crate docs on group commit); the rest serve reads and
    /// single writes, so keep at least 4.
    ///
    /// Ignored for in-memory SQLite, which always uses exactly one connection: every
    /// connection to `:memory:` opens a separate, empty database, and SQLite's shared-cache
    /// mode (the alternative) reports `SQLITE_LOCKED` under concurrency without honouring
    /// `busy_timeout`. One connection is also never closed by the pool, so the database
    /// lives as long as the store (unless code holding the connection panics: the pool then
    /// discards it, and the data with it; in-memory databases are for tests and demos).
    pub fn pool_size(mut self, size: u32) -> Self {
        self.pool_size = Some(size.max(1));
        self
    }

    /// Whether [`DieselStore::connect`](crate::DieselStore::connect) applies pending
    /// migrations (default `true`). Hosts that run migrations in a deploy step switch this off
    /// and call [`run_migrations`](crate::run_migrations) themselves.
    pub fn run_migrations(mut self, run: bool) -> Self {
        self.run_migrations = run;
        self
    }

    /// SQLite's durability level (see [`SqliteSynchronous`]). Ignored on PostgreSQL.
    pub fn sqlite_synchronous(mut self, level: SqliteSynchronous) -> Self {
        self.sqlite_synchronous = level;
        self
    }

    /// How long a SQLite statement waits for another writer before failing with
    /// `database is locked` (default 5 s; rounded down to milliseconds). Ignored on
    /// PostgreSQL.
    pub fn busy_timeout(mut self, timeout: Duration) -> Self {
        self.busy_timeout = timeout;
        self
    }

    /// How long a call waits for a free pooled connection (or for a new connection to the
    /// database) before failing with a retryable error (default 2 s).
    ///
    /// The default is below Zoom's 3-second webhook deadline on purpose: while the database
    /// is down, the webhook receiver answers 503 in time (so Zoom retries on a clean refusal
    /// rather than a timeout) instead of holding every request until the deadline passed.
    pub fn connection_timeout(mut self, timeout: Duration) -> Self {
        self.connection_timeout = timeout;
        self
    }

    /// Keeps attend's tables in this PostgreSQL schema: every pooled connection runs
    /// `SET search_path TO "<schema>", public`, and with migrations on, the schema is created
    /// if missing. The name must be a plain identifier (`^[A-Za-z_][A-Za-z0-9_]{0,62}$`);
    /// anything else is refused by `connect`. Ignored on SQLite.
    ///
    /// Host tables in `public` stay visible to [`DieselStore::with_conn`](crate::DieselStore::with_conn)
    /// and to the [host users directory](crate::HostUserDirectory).
    pub fn postgres_schema(mut self, schema: impl Into<String>) -> Self {
        self.postgres_schema = Some(schema.into());
        self
    }

    /// How large SQLite's write-ahead log may grow under a continuous stream of writes before
    /// the store's checkpointer restarts it (default 1 GiB; counted in the database file's
    /// own pages, 4 KiB unless the file was created with another `page_size`). Ignored on
    /// PostgreSQL and for in-memory SQLite.
    ///
    /// The store checkpoints the log in the background every 250 ms without blocking anyone;
    /// in a quiet moment the next commit starts the log from the beginning again. Under a
    /// burst that never pauses the log only grows, so above this size the checkpointer
    /// takes this process's writer turn for one restarting checkpoint, which syncs the
    /// database file: every write of the process (webhook acknowledgements too) waits for
    /// it, 40–230 ms on the benchmark machine (longer for a larger size). A smaller size
    /// keeps the log file smaller (it keeps the largest size it reached) but makes those
    /// waits more frequent: under a webhook burst the log grew by 125–140 MB a second there,
    /// so 1 GiB lasts about 8 s of it and 256 MiB about 2 s (BENCHMARKS.md, "Restarting
    /// SQLite's log less often"). Values below one page count as one page.
    pub fn sqlite_wal_restart_size(mut self, bytes: u64) -> Self {
        self.sqlite_wal_restart_size = bytes;
        self
    }

    /// [`sqlite_wal_restart_size`](Self::sqlite_wal_restart_size) in log frames of
    /// `page_bytes` (the database's `page_size`; 0 counts as 1): whole pages, at least one.
    pub(crate) fn wal_restart_frames(&self, page_bytes: u64) -> i64 {
        i64::try_from(self.sqlite_wal_restart_size / page_bytes.max(1))
            .unwrap_or(i64::MAX)
            .max(1)
    }
}

/// The default of [`Options::sqlite_wal_restart_size`]: 1 GiB.
const DEFAULT_WAL_RESTART_SIZE: u64 = 1 << 30;

#[cfg(test)]
mod tests {
    use super::Options;

    #[test]
    fn the_log_restart_size_is_counted_in_pages() {
        assert_eq!(
            Options::new().wal_restart_frames(4096),
            262_144,
            "1 GiB by default"
        );
        let sized = |bytes, page| {
            Options::new()
                .sqlite_wal_restart_size(bytes)
                .wal_restart_frames(page)
        };
        assert_eq!(sized(256 << 20, 4096), 65_536);
        assert_eq!(sized(256 << 20, 1024), 262_144, "a database of 1 KiB pages");
        assert_eq!(
            sized(256 << 20, 65_536),
            4_096,
            "a database of 64 KiB pages"
        );
        assert_eq!(sized(4096 * 3 + 100, 4096), 3, "whole pages, rounded down");
        assert_eq!(sized(0, 4096), 1, "at least one page");
        assert_eq!(sized(10, 0), 10, "a page size of 0 counts as 1");
        assert_eq!(
            sized(u64::MAX, 4096),
            4_503_599_627_370_495,
            "u64::MAX / 4096"
        );
        assert_eq!(sized(u64::MAX, 1), i64::MAX, "capped");
    }
}
