//! The embedded migrations, one set per backend, and how to run them.

use diesel::connection::SimpleConnection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::connection::AnyConnection;
use crate::error::DieselStoreError;

/// attend's SQLite migrations (`attend-diesel/migrations/sqlite/`), embedded in the binary.
///
/// Exposed for hosts that merge attend's migrations into their own harness; most hosts call
/// [`run_migrations`] or let [`DieselStore::connect`](crate::DieselStore::connect) do it.
pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

/// attend's PostgreSQL migrations (`attend-diesel/migrations/postgres/`), embedded in the
/// binary. See [`SQLITE_MIGRATIONS`].
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// A fixed key for `pg_advisory_lock`, so that several app instances starting at once on one
/// PostgreSQL database migrate one after the other instead of racing.
const PG_MIGRATION_LOCK_KEY: i64 = 0x6174_7465_6e64_0001; // "attend" + 1

/// Applies every pending attend migration for the connection's backend and returns the
/// versions it applied (empty when the schema was already current).
///
/// Idempotent and safe to call from several processes at once: on PostgreSQL the run holds a
/// session advisory lock; each migration runs in its own transaction. The migrations table is
/// diesel's `__diesel_schema_migrations` (in the first schema of the `search_path` on
/// PostgreSQL), so it coexists with a host's own diesel migrations as long as their version
/// strings differ (attend's are dated `2026-11-27-…` and named `attend_…`).
///
/// # Errors
/// [`DieselStoreError::Migration`] if a migration fails (the failing one is rolled back),
/// [`DieselStoreError::Query`] if the advisory lock cannot be taken.
pub fn run_migrations(conn: &mut AnyConnection) -> Result<Vec<String>, DieselStoreError> {
    match conn {
        AnyConnection::Sqlite(c) => apply(c, SQLITE_MIGRATIONS),
        AnyConnection::Postgresql(c) => {
            c.batch_execute(&format!(
                "SELECT pg_advisory_lock({PG_MIGRATION_LOCK_KEY});"
            ))?;
            let result = apply(c, POSTGRES_MIGRATIONS);
            let unlocked = c.batch_execute(&format!(
                "SELECT pg_advisory_unlock({PG_MIGRATION_LOCK_KEY});"
            ));
            let applied = result?;
            unlocked?;
            Ok(applied)
        }
    }
}

/// Whether attend migrations are pending on this connection (for hosts that refuse to start
/// on an old schema instead of migrating).
///
/// # Errors
/// [`DieselStoreError::Migration`] if the migrations table cannot be read.
pub fn has_pending_migrations(conn: &mut AnyConnection) -> Result<bool, DieselStoreError> {
    let pending = match conn {
        AnyConnection::Sqlite(c) => c.has_pending_migration(SQLITE_MIGRATIONS),
        AnyConnection::Postgresql(c) => c.has_pending_migration(POSTGRES_MIGRATIONS),
    };
    pending.map_err(DieselStoreError::Migration)
}

fn apply<C>(c: &mut C, migrations: EmbeddedMigrations) -> Result<Vec<String>, DieselStoreError>
where
    C: MigrationHarness<C::Backend> + diesel::Connection,
{
    let applied = c
        .run_pending_migrations(migrations)
        .map_err(DieselStoreError::Migration)?;
    Ok(applied.iter().map(ToString::to_string).collect())
}
