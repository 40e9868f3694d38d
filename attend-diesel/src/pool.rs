//! The r2d2 pool: a connection manager that builds the right variant from the URL, and a
//! customizer that prepares every new connection (SQLite PRAGMAs, PostgreSQL `search_path`).

use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::r2d2::{CustomizeConnection, ManageConnection, R2D2Connection};

use crate::connection::{AnyConnection, BackendKind, DatabaseUrl};
use crate::error::DieselStoreError;
use crate::ident::Ident;
use crate::options::{Options, SqliteSynchronous};

/// attend's connection pool. Cheap to clone (an `Arc` inside).
pub type Pool = diesel::r2d2::Pool<ConnectionManager>;

/// A connection checked out of a [`Pool`]; derefs to [`AnyConnection`].
pub type PooledConnection = diesel::r2d2::PooledConnection<ConnectionManager>;

/// The r2d2 connection manager: opens the variant the URL's scheme names (never by trial,
/// unlike `MultiConnection::establish`).
#[derive(Debug, Clone)]
pub struct ConnectionManager {
    url: DatabaseUrl,
}

impl ConnectionManager {
    /// A manager for `url`.
    pub fn new(url: DatabaseUrl) -> Self {
        Self { url }
    }
}

impl ManageConnection for ConnectionManager {
    type Connection = AnyConnection;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<AnyConnection, Self::Error> {
        self.url.establish().map_err(|e| match e {
            DieselStoreError::Connect(inner) => diesel::r2d2::Error::ConnectionError(inner),
            other => diesel::r2d2::Error::ConnectionError(diesel::ConnectionError::BadConnection(
                other.to_string(),
            )),
        })
    }

    fn is_valid(&self, conn: &mut AnyConnection) -> Result<(), Self::Error> {
        conn.ping().map_err(diesel::r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut AnyConnection) -> bool {
        std::thread::panicking() || conn.is_broken()
    }
}

/// Prepares each new pooled connection.
///
/// SQLite, one PRAGMA per statement, in this order: `busy_timeout` (first, so that the
/// following PRAGMAs already wait for a busy database), `journal_mode = WAL` and
/// `wal_autocheckpoint = 0` (files only: readers never block the writer, and checkpoints run
/// in the background), `synchronous` (see [`SqliteSynchronous`]),
/// `foreign_keys = ON`. PostgreSQL: `SET search_path` when a schema is configured.
#[derive(Debug, Clone)]
pub(crate) struct Customizer {
    busy_timeout: Duration,
    wal: bool,
    synchronous: SqliteSynchronous,
    pg_schema: Option<Ident>,
}

impl Customizer {
    pub(crate) fn new(url: &DatabaseUrl, options: &Options, pg_schema: Option<Ident>) -> Self {
        Self {
            busy_timeout: options.busy_timeout,
            wal: !url.is_in_memory(),
            synchronous: options.sqlite_synchronous,
            pg_schema,
        }
    }

    fn prepare(&self, conn: &mut AnyConnection) -> diesel::QueryResult<()> {
        match conn {
            AnyConnection::Sqlite(c) => {
                let ms = self.busy_timeout.as_millis().min(i32::MAX as u128);
                c.batch_execute(&format!("PRAGMA busy_timeout = {ms};"))?;
                if self.wal {
                    c.batch_execute("PRAGMA journal_mode = WAL;")?;
                    // Checkpoints run on a background thread, not in a commit (see
                    // `store::checkpoint`).
                    c.batch_execute("PRAGMA wal_autocheckpoint = 0;")?;
                }
                c.batch_execute(&format!(
                    "PRAGMA synchronous = {};",
                    self.synchronous.pragma_value()
                ))?;
                c.batch_execute("PRAGMA foreign_keys = ON;")?;
            }
            AnyConnection::Postgresql(c) => {
                if let Some(schema) = &self.pg_schema {
                    c.batch_execute(&format!("SET search_path TO {schema}, public;"))?;
                }
            }
        }
        Ok(())
    }
}

impl CustomizeConnection<AnyConnection, diesel::r2d2::Error> for Customizer {
    fn on_acquire(&self, conn: &mut AnyConnection) -> Result<(), diesel::r2d2::Error> {
        self.prepare(conn).map_err(diesel::r2d2::Error::QueryError)
    }
}

/// The pool's maximum size for a file database or PostgreSQL: `Options::pool_size`, else 8
/// connections for SQLite and 10 for PostgreSQL (in-memory SQLite always has 1).
pub(crate) fn pool_size(url: &DatabaseUrl, options: &Options) -> u32 {
    let default = match url.backend() {
        BackendKind::Sqlite => 8,
        BackendKind::Postgres => 10,
    };
    options.pool_size.unwrap_or(default)
}

/// Builds the pool for `url` with `options` and checks out one connection to prove it works.
pub(crate) fn build_pool(
    url: &DatabaseUrl,
    options: &Options,
    pg_schema: Option<Ident>,
) -> Result<Pool, DieselStoreError> {
    let customizer = Customizer::new(url, options, pg_schema);
    let builder = diesel::r2d2::Pool::builder()
        .connection_timeout(options.connection_timeout)
        .connection_customizer(Box::new(customizer))
        .error_handler(Box::new(LogErrors));
    let builder = if url.is_in_memory() {
        // One connection that is never recycled: it *is* the database.
        builder
            .max_size(1)
            .min_idle(Some(1))
            .max_lifetime(None)
            .idle_timeout(None)
            .test_on_check_out(false)
    } else {
        // No `SELECT 1` at checkout: dead connections are found by their errors instead
        // (`flag_if_lost`).
        builder
            .max_size(pool_size(url, options))
            .min_idle(Some(1))
            .test_on_check_out(false)
    };
    // `build` opens `min_idle` connections and fails if it cannot within the timeout.
    builder
        .build(ConnectionManager::new(url.clone()))
        .map_err(DieselStoreError::Pool)
}

/// After `err` on `conn`: a PostgreSQL connection that may have died (a retryable query error:
/// closed connection, failed send, server shutdown, and the rarer serialization failures and
/// deadlocks, for which a new connection costs little) is flagged broken, so that the pool
/// discards it when it comes back instead of handing it out again.
///
/// This replaces r2d2's `SELECT 1` at every checkout (`test_on_check_out`), a round trip per
/// checkout (a join-link click checks out two connections). The price: after a PostgreSQL
/// restart, each pooled connection fails once (a retryable error: the webhook receiver
/// answers 503 and Zoom sends again; the worker retries) before it is replaced. SQLite
/// connections do not die that way.
pub(crate) fn flag_if_lost(conn: &mut AnyConnection, err: &DieselStoreError) {
    if let (AnyConnection::Postgresql(pg), DieselStoreError::Query(_)) = (conn, err)
        && err.is_retryable()
    {
        use diesel::connection::{AnsiTransactionManager, TransactionManager};
        AnsiTransactionManager::transaction_manager_status_mut(pg).set_in_error();
    }
}

/// Sends r2d2's background connection errors to `tracing` instead of dropping them.
#[derive(Debug)]
struct LogErrors;

impl diesel::r2d2::HandleError<diesel::r2d2::Error> for LogErrors {
    fn handle_error(&self, error: diesel::r2d2::Error) {
        tracing::warn!(error = %error, "attend-diesel: database connection error");
    }
}
