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
}

impl Default for Options {
    fn default() -> Self {
        Self::new()
    }
}

impl Options {
    /// The defaults: pool size 8 on a SQLite file and 10 on PostgreSQL (always 1 for in-memory
    /// SQLite), migrations run on connect, `synchronous = NORMAL`, `busy_timeout` 5 s, a
    /// connection timeout of 2 s, and PostgreSQL's default `search_path`.
    pub fn new() -> Self {
        Self {
            pool_size: None,
            run_migrations: true,
            sqlite_synchronous: SqliteSynchronous::Normal,
            busy_timeout: Duration::from_secs(5),
            connection_timeout: Duration::from_secs(2),
            postgres_schema: None,
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
}
