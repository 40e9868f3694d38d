//! # attend-diesel
//!
//! Storage for [attend](attend_core) on **SQLite** (bundled, the embedded default) and
//! **PostgreSQL** (for deployments with several app instances), with one code base: sync diesel
//! 2.3 over a [`MultiConnection`](diesel::MultiConnection) enum ([`AnyConnection`]), an r2d2
//! pool, embedded migrations per backend, attend's own job queue, and a
//! [`UserDirectory`](attend_core::store::UserDirectory) over the host application's own users
//! table ([`HostUserDirectory`]).
//!
//! [`DieselStore`] implements every storage trait of `attend_core::store` (and so
//! [`Store`](attend_core::store::Store)). Each call runs its blocking diesel work in
//! `tokio::task::spawn_blocking`, never on the async executor.
//!
//! ## Connect
//!
//! ```
//! use std::sync::Arc;
//!
//! use attend_core::store::Store;
//! use attend_diesel::{DieselStore, Options};
//!
//! # #[tokio::main(flavor = "multi_thread", worker_threads = 2)]
//! # async fn main() -> Result<(), attend_diesel::DieselStoreError> {
//! // "sqlite://attend.db" in an app; "postgres://user:pass@host/db" in production.
//! let store = DieselStore::connect("sqlite::memory:", Options::new()).await?;
//! // attend's service and the actix adapter take the store as a trait object.
//! let shared: Arc<dyn Store> = Arc::new(store.clone());
//! # let _ = shared;
//! # Ok(()) }
//! ```
//!
//! | URL | backend |
//! |---|---|
//! | `sqlite://attend.db` (relative), `sqlite:///var/lib/app/attend.db` (absolute) | a SQLite file, created if missing |
//! | `sqlite::memory:` or `:memory:` | a private in-memory SQLite database (tests, demos) |
//! | `postgres://…` or `postgresql://…` | PostgreSQL (libpq; `?sslmode=require` etc. work) |
//!
//! Anything else is refused with [`DieselStoreError::UnsupportedUrl`] (a bare path too, so a
//! mistyped PostgreSQL URL never quietly becomes a new SQLite file). See [`DatabaseUrl`].
//!
//! [`Options`] sets the pool size (default 8 on SQLite files, 10 on PostgreSQL; always 1 for
//! in-memory SQLite, since every connection to `:memory:` is a separate database), the
//! connection timeout, SQLite's `busy_timeout` and `synchronous` level, the size at which a
//! SQLite write-ahead log that never gets a quiet moment is restarted, whether to migrate on
//! connect, and an optional PostgreSQL schema for attend's tables.
//!
//! ## Migrate
//!
//! By default [`DieselStore::connect`] applies pending migrations. Hosts that migrate in a
//! deploy step connect with [`Options::run_migrations`]`(false)` and call
//! [`DieselStore::run_migrations`] (or [`run_migrations`] on any [`AnyConnection`]) themselves;
//! [`has_pending_migrations`] tells whether the schema is current. The SQL lives in
//! `attend-diesel/migrations/{sqlite,postgres}/` and is embedded in the binary
//! ([`SQLITE_MIGRATIONS`], [`POSTGRES_MIGRATIONS`]). On PostgreSQL the run holds an advisory
//! lock, so several instances starting together migrate one at a time.
//!
//! ## Plug in the host's users table
//!
//! attend reads (never writes) the host's users. Name the table and its id, email and name
//! columns, and optionally a membership table for groups. Names are validated up front
//! (plain identifiers, optionally `schema.table`) and quoted; values are always bound
//! parameters. Email look-ups are case-insensitive.
//!
//! ```
//! use attend_core::store::UserDirectory;
//! use attend_core::model::UserId;
//! use attend_diesel::{DieselStore, HostIdType, HostUsersTable, Options};
//! use diesel::RunQueryDsl;
//!
//! # #[tokio::main(flavor = "multi_thread", worker_threads = 2)]
//! # async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! let store = DieselStore::connect("sqlite::memory:", Options::new()).await?;
//! // The host's own table, in the same database (any names, any id type):
//! store
//!     .with_transaction(|conn| {
//!         diesel::sql_query(
//!             "CREATE TABLE members (member_no INTEGER PRIMARY KEY, mail TEXT, full_name TEXT)",
//!         )
//!         .execute(conn)?;
//!         diesel::sql_query("INSERT INTO members VALUES (7, 'Ana@Example.org', 'Ana')")
//!             .execute(conn)
//!     })
//!     .await?;
//!
//! let directory = store.user_directory(
//!     HostUsersTable::new("members", "member_no", "mail", "full_name")?
//!         .id_type(HostIdType::Integer),
//! );
//! let ana = directory.find_users_by_email("ana@example.org").await?;
//! assert_eq!(ana[0].id, UserId::new("7"));
//! # Ok(()) }
//! ```
//!
//! ## Share the database with the host
//!
//! The host may keep its own tables next to attend's (all of attend's are prefixed
//! `attend_`). [`DieselStore::with_conn`] runs a closure on a pooled connection off the
//! executor; [`DieselStore::with_transaction`] does the same inside a write transaction
//! (`BEGIN IMMEDIATE` on SQLite). [`DieselStore::pool`] hands out the pool itself. With
//! in-memory SQLite there is a single connection: never hold it across a call into the store.
//! On PostgreSQL, [`Options::postgres_schema`] keeps attend's tables in their own schema
//! (`search_path` is that schema, then `public`, so host tables in `public` stay visible).
//!
//! ## Storage conventions
//!
//! Everything stays within the SQL types MultiConnection supports, identically on both
//! backends:
//!
//! * times are `BIGINT` **microseconds since the Unix epoch (UTC)** (exact, sortable; attend
//!   never reads the database clock: callers pass `now`);
//! * booleans are `INTEGER` 0/1; enums are their snake_case names in `TEXT`;
//! * JSON (a meeting's policy, a job's payload) is `TEXT`;
//! * raw webhook bodies are `TEXT`: the body as is when it is UTF-8 without NUL (readable by
//!   operators), otherwise base64, as `body_encoding` records, so the exact bytes come back;
//! * host user ids are `TEXT` with no foreign key into host tables; attend's own tables refer
//!   to `attend_meetings` with `ON DELETE CASCADE`;
//! * identity hints of participant events and report rows are columns (not JSON), and emails
//!   also have an ASCII-lower-cased column, so look-ups and erasure use indexes.
//!
//! `src/schema.rs` is generated by `diesel print-schema` from the PostgreSQL migrations
//! (`diesel.toml`); a test fails when it drifts from what either backend's migrations create
//! (`migrations/README.md` has the commands).
//!
//! ## Concurrency and durability
//!
//! * **SQLite**: every connection gets `busy_timeout` (first), `journal_mode = WAL` (files),
//!   `synchronous` and `foreign_keys = ON`. Every write runs in `BEGIN IMMEDIATE`: a deferred
//!   transaction that reads before writing fails at once with `database is locked` when
//!   another connection writes, whatever `busy_timeout` says; an immediate one waits for the
//!   lock. `synchronous = NORMAL` (default) survives application crashes but may lose the last
//!   commits on power loss; [`SqliteSynchronous::Full`] makes every commit durable (see its
//!   docs).
//!   Writers of one process also take turns on an in-process lock before `BEGIN IMMEDIATE`,
//!   so they hand the write lock over at once instead of sleeping in SQLite's busy handler.
//!   A database file's write-ahead log is checkpointed by a background thread (a passive
//!   checkpoint every 250 ms; `wal_autocheckpoint = 0`), so no commit pays for copying the
//!   log into the database while other writers wait. Under a burst that never pauses, the
//!   log is restarted once it passes [`Options::sqlite_wal_restart_size`] (1 GiB by default),
//!   which holds every writer of the process for one sync of the database file.
//! * **Group commit** (both backends): the small writes that arrive many at a time (a webhook
//!   delivery with its job, job enqueues, join clicks on SQLite, and the worker's per-delivery event
//!   insert, "processed" mark and job completion) share one transaction among concurrent
//!   callers; each call still returns only after the transaction holding its write committed,
//!   and a failure in the group makes every member run alone. SQLite runs one group at a
//!   time. PostgreSQL has two lanes, each running one group at a time on its own connection:
//!   writes an HTTP request waits on (deliveries, enqueues), and the worker's, so an
//!   acknowledgement never waits behind the worker's larger writes. See `BENCHMARKS.md` for
//!   what it changes.
//! * **Join clicks on PostgreSQL** are one statement each, committed without waiting for the
//!   WAL flush (`synchronous_commit` off for that statement's own transaction): a click is a
//!   hint for the roster, not attendance evidence, and the redirect should not wait on a disk
//!   flush. A server crash may lose the last fraction of a second of clicks and nothing else;
//!   every other write commits synchronously.
//! * **PostgreSQL**: `ON CONFLICT` for idempotent inserts, `SELECT … FOR UPDATE` where a row
//!   is read, merged and written back, and `FOR UPDATE SKIP LOCKED` to claim jobs, so several
//!   app instances can share one database and one queue.
//!
//! ## Observability
//!
//! The SQLite checkpointer records into the host's `metrics` recorder, if it installed one
//! (the example app serves them at `GET /metrics`), as attend-core does:
//!
//! | metric | labels | what |
//! |---|---|---|
//! | `attend_sqlite_checkpoint_seconds` | `mode` = `passive`, `restart` | histogram: how long each checkpoint took; for `restart`, how long every writer of the process (acknowledgements included) was held back |
//! | `attend_sqlite_log_frames` | | gauge: the log's length in pages after the latest passive checkpoint |
//!
//! A rising `attend_sqlite_log_frames` under a steady load, or `restart` checkpoints taking
//! longer than a webhook acknowledgement may, are the signs to look at the disk or at
//! [`Options::sqlite_wal_restart_size`].
//!
//! ## Errors
//!
//! [`DieselStoreError`] keeps the driver error as its source and converts into the core's
//! `StoreError` and `DirectoryError`: pool timeouts, connection failures, `database is locked`,
//! serialization failures and deadlocks become the retryable `Unavailable` (503 at the HTTP
//! edge); unique violations the contract names become `Conflict`; undecodable rows `Corrupt`.
//!
//! ## Run the tests
//!
//! ```text
//! cargo test -p attend-diesel
//! ATTEND_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test cargo test -p attend-diesel
//! ```
//!
//! The core's storage conformance suite runs on a SQLite file, in-memory SQLite and
//! PostgreSQL (each check on a fresh database; each PostgreSQL store in its own
//! `attend_test_…` schema, dropped afterwards). Without `ATTEND_TEST_POSTGRES_URL` the
//! PostgreSQL tests print "skipping PostgreSQL tests: ATTEND_TEST_POSTGRES_URL not set" and
//! pass, unless `CI` is set: then they fail. `ATTEND_CONFORMANCE_FILTER=jobs::` runs a subset
//! of the suite.

#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod codec;
mod connection;
mod directory;
mod error;
mod ident;
mod migrations;
mod options;
mod pool;
mod schema;
mod store;

pub use crate::connection::{AnyConnection, BackendKind, DatabaseUrl};
pub use crate::directory::{HostIdType, HostUserDirectory, HostUsersTable};
pub use crate::error::DieselStoreError;
pub use crate::ident::{Ident, IdentifierError, TableName};
pub use crate::migrations::{
    POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS, has_pending_migrations, run_migrations,
};
pub use crate::options::{Options, SqliteSynchronous};
pub use crate::pool::{ConnectionManager, Pool, PooledConnection};
pub use crate::store::DieselStore;
