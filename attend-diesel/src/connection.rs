//! The connection type over both backends and the database URL formats attend accepts.

use diesel::{Connection, PgConnection, SqliteConnection};

use crate::error::DieselStoreError;

/// One database connection, either PostgreSQL or SQLite.
///
/// This is diesel's [`MultiConnection`](diesel::MultiConnection) derive over the two backends:
/// ordinary DSL queries run on it unchanged, and backend-specific SQL (`ON CONFLICT`,
/// `FOR UPDATE SKIP LOCKED`, `BEGIN IMMEDIATE`) is written by matching on the variant.
/// Only the SQL types the derive supports are used by attend's own tables (`Text`, `BigInt`,
/// `Integer`, `Double`); see the crate docs for the storage conventions.
///
/// Hosts that share attend's pool for their own tables get `&mut AnyConnection` from
/// [`DieselStore::with_conn`](crate::DieselStore::with_conn) and can match on it the same way.
#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    /// A PostgreSQL connection (libpq).
    Postgresql(PgConnection),
    /// A SQLite connection (bundled SQLite).
    Sqlite(SqliteConnection),
}

impl std::fmt::Debug for AnyConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            AnyConnection::Postgresql(_) => "AnyConnection::Postgresql",
            AnyConnection::Sqlite(_) => "AnyConnection::Sqlite",
        })
    }
}

impl AnyConnection {
    /// Which backend this connection talks to.
    pub fn backend(&self) -> BackendKind {
        match self {
            AnyConnection::Postgresql(_) => BackendKind::Postgres,
            AnyConnection::Sqlite(_) => BackendKind::Sqlite,
        }
    }
}

/// The two database backends attend supports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BackendKind {
    /// SQLite, through the bundled library (the embedded default).
    Sqlite,
    /// PostgreSQL (the multi-instance production choice).
    Postgres,
}

/// A parsed database URL: which backend, and what to hand to the driver.
///
/// Accepted forms (the scheme decides the backend; nothing is guessed from the rest):
///
/// | URL | meaning |
/// |---|---|
/// | `postgres://user@host:5432/db`, `postgresql://…` | PostgreSQL, passed to libpq unchanged (libpq query parameters such as `sslmode=require` work) |
/// | `sqlite://attend.db`, `sqlite:///var/lib/app/attend.db` | a SQLite file, relative or absolute; created if missing. Passed to SQLite as the URI `file:…`, so `?mode=ro` style parameters work |
/// | `sqlite::memory:`, `:memory:` | a private in-memory SQLite database (see [`Options`](crate::Options) for its pool) |
///
/// The URL is never shown in errors or `Debug` output, because it may carry a password.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    kind: BackendKind,
    target: String,
    in_memory: bool,
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseUrl")
            .field("kind", &self.kind)
            .field("in_memory", &self.in_memory)
            .finish_non_exhaustive()
    }
}

impl DatabaseUrl {
    /// Parses `url` by its scheme.
    ///
    /// # Errors
    /// [`DieselStoreError::UnsupportedUrl`] for any other scheme (including a bare file path:
    /// write `sqlite://path` so that a typo in a PostgreSQL URL never silently becomes a new
    /// SQLite file).
    pub fn parse(url: &str) -> Result<Self, DieselStoreError> {
        let url = url.trim();
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Self {
                kind: BackendKind::Postgres,
                target: url.to_owned(),
                in_memory: false,
            });
        }
        if url == ":memory:" || url == "sqlite::memory:" || url == "sqlite://:memory:" {
            return Ok(Self {
                kind: BackendKind::Sqlite,
                target: ":memory:".to_owned(),
                in_memory: true,
            });
        }
        if let Some(rest) = url.strip_prefix("sqlite://") {
            if rest.is_empty() || rest.starts_with('?') {
                return Err(DieselStoreError::UnsupportedUrl {
                    reason: "a sqlite:// URL needs a file path, e.g. sqlite://attend.db",
                });
            }
            let in_memory = rest
                .split_once('?')
                .is_some_and(|(_, query)| query.split('&').any(|p| p == "mode=memory"));
            // diesel turns `sqlite://` into SQLite's `file:` URI form itself.
            return Ok(Self {
                kind: BackendKind::Sqlite,
                target: url.to_owned(),
                in_memory,
            });
        }
        Err(DieselStoreError::UnsupportedUrl {
            reason: "expected postgres://, postgresql://, sqlite://PATH, sqlite::memory: or :memory:",
        })
    }

    /// The backend this URL selects.
    pub fn backend(&self) -> BackendKind {
        self.kind
    }

    /// Whether this is an in-memory SQLite database (which lives only as long as its one
    /// connection; see [`Options`](crate::Options)).
    pub fn is_in_memory(&self) -> bool {
        self.in_memory
    }

    /// Opens one connection of the right variant (no PRAGMAs applied: the pool does that).
    ///
    /// # Errors
    /// [`DieselStoreError::Connect`] when the server is unreachable, the credentials are
    /// refused, or the SQLite file cannot be opened. Retryable.
    pub fn establish(&self) -> Result<AnyConnection, DieselStoreError> {
        match self.kind {
            BackendKind::Postgres => PgConnection::establish(&self.target)
                .map(AnyConnection::Postgresql)
                .map_err(DieselStoreError::Connect),
            BackendKind::Sqlite => SqliteConnection::establish(&self.target)
                .map(AnyConnection::Sqlite)
                .map_err(DieselStoreError::Connect),
        }
    }

    /// The string handed to the driver (may contain a password: never log it).
    #[cfg(test)]
    fn target(&self) -> &str {
        &self.target
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes_select_the_backend() {
        let pg = DatabaseUrl::parse("postgres://u:secret@h/db").unwrap();
        assert_eq!(pg.backend(), BackendKind::Postgres);
        assert_eq!(
            DatabaseUrl::parse("postgresql://h/db").unwrap().backend(),
            BackendKind::Postgres
        );
        let file = DatabaseUrl::parse("sqlite://data/attend.db").unwrap();
        assert_eq!(file.backend(), BackendKind::Sqlite);
        assert!(!file.is_in_memory());
        for mem in [":memory:", "sqlite::memory:", "sqlite://:memory:"] {
            let url = DatabaseUrl::parse(mem).unwrap();
            assert!(url.is_in_memory(), "{mem}");
            assert_eq!(url.target(), ":memory:");
        }
        assert!(
            DatabaseUrl::parse("sqlite://x?mode=memory&cache=shared")
                .unwrap()
                .is_in_memory()
        );
    }

    #[test]
    fn other_schemes_and_bare_paths_are_refused() {
        for bad in [
            "mysql://h/db",
            "attend.db",
            "",
            "sqlite://",
            "postgre://h/db",
        ] {
            assert!(
                matches!(
                    DatabaseUrl::parse(bad),
                    Err(DieselStoreError::UnsupportedUrl { .. })
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn debug_never_shows_the_url() {
        let url = DatabaseUrl::parse("postgres://u:hunter2@h/db").unwrap();
        let shown = format!("{url:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
    }
}
