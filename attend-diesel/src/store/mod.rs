//! [`DieselStore`]: the pool, the blocking bridge, and the write-transaction rule. The trait
//! implementations live in the submodules, one per core trait.
//!
//! Single-row lookups use `get_result` (the first row), never `first`: `first` adds a bound
//! `LIMIT ?`, and SQLite marks a statement whose `LIMIT` is a bound parameter for re-preparing
//! at every new binding, so a cached statement was parsed and planned again on every call
//! (about a tenth of the example app's CPU serving join links). Every such lookup here is by a
//! unique key, so there is at most one row to read anyway.

use std::sync::Arc;

use diesel::Connection;
use diesel::connection::{AnsiTransactionManager, TransactionManager};

use crate::connection::{AnyConnection, BackendKind, DatabaseUrl};
use crate::directory::{HostUserDirectory, HostUsersTable};
use crate::error::DieselStoreError;
use crate::ident::Ident;
use crate::migrations;
use crate::options::Options;
use crate::pool::{Pool, build_pool, flag_if_lost};

mod attendance;
mod checkpoint;
mod group;
mod jobs;
mod meetings;
mod pg_deliveries;
#[cfg(test)]
mod planner;
mod prepared;
mod privacy;
mod registrations;
mod webhooks;

/// The most ids bound in one `IN (…)` list (SQLite allows 32,766 parameters per statement).
const ID_CHUNK: usize = 1_000;

/// attend's storage on SQLite or PostgreSQL: implements every core storage trait
/// (`MeetingStore`, `RegistrationStore`, `WebhookInbox`, `AttendanceStore`, `JobQueue`,
/// `Privacy`, hence `Store`).
///
/// Cheap to clone (the pool is shared). Every call checks out a pooled connection inside
/// `tokio::task::spawn_blocking`, so it never blocks the async executor; it must therefore be
/// called from within a Tokio runtime (actix-web's runtime is one).
#[derive(Clone)]
pub struct DieselStore {
    inner: Arc<Inner>,
}

struct Inner {
    pool: Pool,
    backend: BackendKind,
    /// Small concurrent writes (deliveries with their jobs, enqueues, join clicks, the
    /// worker's per-delivery writes) wait here to share a transaction.
    group: group::GroupCommit,
    /// SQLite has one writer at a time. Writers of this process queue here for it instead of
    /// in SQLite's busy handler, which polls with sleeps of up to 100 ms and would add those
    /// sleeps to the webhook receiver's answer times. (Other processes on the same file
    /// still meet at `busy_timeout`.) Unused on PostgreSQL.
    sqlite_writer: std::sync::Mutex<()>,
    /// When this store last looked for expired leases; see [`jobs::LeaseCheck`].
    lease_check: jobs::LeaseCheck,
}

impl std::fmt::Debug for DieselStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.inner.pool.state();
        f.debug_struct("DieselStore")
            .field("backend", &self.inner.backend)
            .field("connections", &state.connections)
            .field("idle_connections", &state.idle_connections)
            .finish()
    }
}

impl DieselStore {
    /// Connects to `url` (see [`DatabaseUrl`] for the accepted forms), builds the pool, and
    /// applies pending migrations unless [`Options::run_migrations`] is off.
    ///
    /// # Errors
    /// `UnsupportedUrl` / `InvalidOption` for bad input; `Pool` or `Connect` (retryable) when
    /// the database cannot be reached within the connection timeout; `Migration` when a
    /// migration fails.
    pub async fn connect(url: &str, options: Options) -> Result<Self, DieselStoreError> {
        let url = url.to_owned();
        tokio::task::spawn_blocking(move || Self::connect_blocking(&url, options)).await?
    }

    /// [`connect`](Self::connect) for synchronous start-up code (no Tokio runtime needed).
    ///
    /// # Errors
    /// As for [`connect`](Self::connect).
    pub fn connect_blocking(url: &str, options: Options) -> Result<Self, DieselStoreError> {
        let url = DatabaseUrl::parse(url)?;
        let pg_schema = match (&options.postgres_schema, url.backend()) {
            (Some(name), BackendKind::Postgres) => Some(
                Ident::new("postgres schema", name)
                    .map_err(|e| DieselStoreError::InvalidOption(e.to_string()))?,
            ),
            _ => None,
        };
        if let Some(schema) = &pg_schema
            && options.run_migrations
        {
            // Before the pool: its customizer already sets `search_path` to this schema.
            let mut conn = url.establish()?;
            diesel::connection::SimpleConnection::batch_execute(
                &mut conn,
                &format!("CREATE SCHEMA IF NOT EXISTS {schema};"),
            )?;
        }
        let pool = build_pool(&url, &options, pg_schema)?;
        let group = match url.backend() {
            BackendKind::Sqlite => group::GroupCommit::shared(),
            BackendKind::Postgres => group::GroupCommit::two_lanes(),
        };
        let store = Self {
            inner: Arc::new(Inner {
                pool,
                backend: url.backend(),
                group,
                sqlite_writer: std::sync::Mutex::new(()),
                lease_check: jobs::LeaseCheck::default(),
            }),
        };
        if options.run_migrations {
            let mut conn = store.inner.pool.get()?;
            migrations::run_migrations(&mut conn)?;
        }
        if store.inner.backend == BackendKind::Sqlite && !url.is_in_memory() {
            checkpoint::spawn(&store.inner, options.clone());
        }
        Ok(store)
    }

    /// Which backend the store talks to.
    pub fn backend(&self) -> BackendKind {
        self.inner.backend
    }

    /// The connection pool, for hosts that keep their own tables in the same database
    /// (clone it freely). Prefer [`with_conn`](Self::with_conn) from async code: checking
    /// out a connection blocks.
    ///
    /// With in-memory SQLite the pool holds exactly one connection: hold a checked-out
    /// connection only briefly, and never across a call into the store, or that call waits
    /// for the connection timeout and fails.
    pub fn pool(&self) -> &Pool {
        &self.inner.pool
    }

    /// Runs `f` with a pooled connection on the blocking thread pool and returns its result.
    ///
    /// For hosts' own queries on the shared database. `f` sees the same connection variant as
    /// attend ([`AnyConnection`]); match on it for backend-specific SQL. To write on SQLite,
    /// use [`with_transaction`](Self::with_transaction), which takes the write lock up front.
    /// The connection's diesel backend type (for boxed queries) is
    /// `<AnyConnection as diesel::Connection>::Backend`. Raw SQL placeholders differ per
    /// backend (`$1` on PostgreSQL, `?1` on SQLite): match on [`AnyConnection::backend`].
    ///
    /// ```no_run
    /// # async fn demo(store: attend_diesel::DieselStore) -> Result<(), attend_diesel::DieselStoreError> {
    /// use diesel::prelude::*;
    /// use diesel::sql_types::BigInt;
    ///
    /// #[derive(QueryableByName)]
    /// struct Count {
    ///     #[diesel(sql_type = BigInt)]
    ///     n: i64,
    /// }
    /// let users = store
    ///     .with_conn(|conn| {
    ///         diesel::sql_query("SELECT COUNT(*) AS n FROM users").get_result::<Count>(conn)
    ///     })
    ///     .await?;
    /// println!("{} users", users.n);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// `Pool` (retryable) when no connection is free within the connection timeout, `Task` if
    /// `f` panicked, or `f`'s own error converted with `Into`.
    pub async fn with_conn<T, E, F>(&self, f: F) -> Result<T, DieselStoreError>
    where
        F: FnOnce(&mut AnyConnection) -> Result<T, E> + Send + 'static,
        E: Into<DieselStoreError>,
        T: Send + 'static,
    {
        self.run(move |conn| f(conn).map_err(Into::into)).await
    }

    /// Like [`with_conn`](Self::with_conn), inside a write transaction: `BEGIN IMMEDIATE` on
    /// SQLite (the write lock is taken at the start, so the transaction never fails half-way
    /// with `database is locked`), a plain transaction on PostgreSQL. Committed when `f`
    /// returns `Ok`, rolled back on `Err`.
    ///
    /// # Errors
    /// As for [`with_conn`](Self::with_conn); `Query` if `BEGIN` or `COMMIT` fails
    /// (retryable when the database is busy).
    pub async fn with_transaction<T, E, F>(&self, f: F) -> Result<T, DieselStoreError>
    where
        F: FnOnce(&mut AnyConnection) -> Result<T, E> + Send + 'static,
        E: Into<DieselStoreError>,
        T: Send + 'static,
    {
        self.write(move |conn| f(conn).map_err(Into::into)).await
    }

    /// Applies pending migrations now (for hosts that connect with
    /// [`Options::run_migrations`]`(false)` and migrate in a deploy step). Returns the
    /// versions applied.
    ///
    /// # Errors
    /// As for [`run_migrations`](crate::run_migrations).
    pub async fn run_migrations(&self) -> Result<Vec<String>, DieselStoreError> {
        self.run(migrations::run_migrations).await
    }

    /// A [`HostUserDirectory`] over the host's users table in this same database, sharing
    /// this store's pool.
    pub fn user_directory(&self, table: HostUsersTable) -> HostUserDirectory {
        HostUserDirectory::new(self.inner.pool.clone(), table)
    }

    /// Runs `f` on a pooled connection in the blocking thread pool.
    pub(crate) async fn run<T, F>(&self, f: F) -> Result<T, DieselStoreError>
    where
        F: FnOnce(&mut AnyConnection) -> Result<T, DieselStoreError> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.inner.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.get()?;
            let result = f(&mut conn);
            if let Err(err) = &result {
                flag_if_lost(&mut conn, err);
            }
            result
        })
        .await?
    }

    /// Runs `f` in a write transaction (see [`write_transaction`]) in the blocking pool.
    pub(crate) async fn write<T, F>(&self, f: F) -> Result<T, DieselStoreError>
    where
        F: FnOnce(&mut AnyConnection) -> Result<T, DieselStoreError> + Send + 'static,
        T: Send + 'static,
    {
        let store = self.clone();
        self.run(move |conn| store.write_now(conn, f)).await
    }

    /// [`write_transaction`] on a connection in hand, on SQLite after taking this process's
    /// writer lock (see `Inner::sqlite_writer`). Blocking.
    pub(crate) fn write_now<T, F>(
        &self,
        conn: &mut AnyConnection,
        f: F,
    ) -> Result<T, DieselStoreError>
    where
        F: FnOnce(&mut AnyConnection) -> Result<T, DieselStoreError>,
    {
        let _writer = matches!(conn, AnyConnection::Sqlite(_))
            .then(|| writer_turn(&self.inner.sqlite_writer));
        write_transaction(conn, f)
    }
}

/// Waits for this process's turn to write to SQLite (`Inner::sqlite_writer`), held until the
/// guard drops. The lock guards no data, only the turn: a poisoned lock is still good.
pub(crate) fn writer_turn(lock: &std::sync::Mutex<()>) -> std::sync::MutexGuard<'_, ()> {
    lock.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Runs `f` in a transaction that may write.
///
/// On SQLite it is `BEGIN IMMEDIATE`: a deferred transaction that reads first and writes
/// later cannot upgrade its lock while another connection writes, and fails at once with
/// `database is locked` without consulting `busy_timeout`; an immediate one waits for the
/// write lock (up to `busy_timeout`) before doing anything. On PostgreSQL it is a plain
/// `BEGIN` (READ COMMITTED); the queries themselves take the row locks they need.
pub(crate) fn write_transaction<T, F>(conn: &mut AnyConnection, f: F) -> Result<T, DieselStoreError>
where
    F: FnOnce(&mut AnyConnection) -> Result<T, DieselStoreError>,
{
    match conn {
        AnyConnection::Postgresql(_) => conn.transaction(f),
        AnyConnection::Sqlite(inner) => {
            AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN IMMEDIATE")?;
            match f(conn) {
                Ok(value) => {
                    <AnyConnection as Connection>::TransactionManager::commit_transaction(conn)?;
                    Ok(value)
                }
                Err(error) => {
                    match <AnyConnection as Connection>::TransactionManager::rollback_transaction(
                        conn,
                    ) {
                        Ok(()) | Err(diesel::result::Error::BrokenTransactionManager) => Err(error),
                        Err(rollback) => Err(rollback.into()),
                    }
                }
            }
        }
    }
}

/// Runs a statement on whichever backend the connection is, for the few queries that
/// MultiConnection's common subset cannot express (`ON CONFLICT`). The macro body is
/// compiled once per backend.
macro_rules! per_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::connection::AnyConnection::Postgresql($c) => $body,
            $crate::connection::AnyConnection::Sqlite($c) => $body,
        }
    };
}
pub(crate) use per_backend;

/// Maps a unique-constraint violation to `Conflict` (the contract's answer), anything else to
/// a query error.
pub(crate) fn conflict_on_unique(
    e: diesel::result::Error,
    entity: attend_core::store::Entity,
    reason: &str,
) -> DieselStoreError {
    match e {
        diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        ) => DieselStoreError::conflict(entity, reason),
        other => DieselStoreError::Query(other),
    }
}
