//! The error type of this crate and how it maps onto the core's retryable/permanent split.

use attend_core::store::{DirectoryError, Entity, StoreError};
use diesel::result::{DatabaseErrorKind, Error as QueryError};

/// Everything that can go wrong inside attend-diesel.
///
/// Converted into the core's `StoreError` with `From` (the source chain is kept). Which
/// variants are *retryable* (the caller should back off and try again, and the HTTP adapter
/// answers 503) is decided by [`DieselStoreError::is_retryable`]:
/// pool timeouts, failed connections, `database is locked` / `SQLITE_BUSY`, PostgreSQL
/// serialization failures and dropped connections.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DieselStoreError {
    /// The database URL has a scheme attend does not support. The URL itself is not
    /// repeated (it may contain a password).
    #[error("unsupported database URL: {reason}")]
    UnsupportedUrl {
        /// What was wrong and which forms are accepted.
        reason: &'static str,
    },
    /// An option passed to [`DieselStore::connect`](crate::DieselStore::connect) is invalid.
    #[error("invalid store option: {0}")]
    InvalidOption(String),
    /// A connection could not be opened (server down, credentials refused, file not
    /// writable). Retryable.
    #[error("could not connect to the database")]
    Connect(#[source] diesel::ConnectionError),
    /// No connection became free within the pool's connection timeout, or the pool could not
    /// open one. Retryable.
    #[error("no database connection available")]
    Pool(#[source] diesel::r2d2::PoolError),
    /// A query failed. Retryable only for lock/busy, serialization and connection errors.
    #[error("database query failed")]
    Query(#[source] QueryError),
    /// Running the embedded migrations failed.
    #[error("running the database migrations failed")]
    Migration(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// A stored value could not be turned back into a domain value (a row written by
    /// something else, or by an incompatible version). Not retryable.
    #[error("stored {entity} is invalid: {detail}")]
    Corrupt {
        /// Which kind of row.
        entity: Entity,
        /// Which column and why it could not be read.
        detail: String,
    },
    /// The row an operation needs does not exist (the core's `NotFound`).
    #[error("{entity} not found")]
    NotFound {
        /// What was missing.
        entity: Entity,
    },
    /// A uniqueness or ownership rule forbids the write; nothing changed (the core's
    /// `Conflict`).
    #[error("{entity} conflict: {reason}")]
    Conflict {
        /// What the conflict is about.
        entity: Entity,
        /// Which rule was hit.
        reason: String,
    },
    /// The blocking task that ran the query panicked or was cancelled.
    #[error("the database task did not complete")]
    Task(#[source] tokio::task::JoinError),
}

impl From<QueryError> for DieselStoreError {
    fn from(e: QueryError) -> Self {
        DieselStoreError::Query(e)
    }
}

impl From<diesel::r2d2::PoolError> for DieselStoreError {
    fn from(e: diesel::r2d2::PoolError) -> Self {
        DieselStoreError::Pool(e)
    }
}

impl From<tokio::task::JoinError> for DieselStoreError {
    fn from(e: tokio::task::JoinError) -> Self {
        DieselStoreError::Task(e)
    }
}

impl DieselStoreError {
    /// Whether trying again later can succeed (the database is busy, locked, restarting or
    /// out of connections) as opposed to a bug or bad data.
    pub fn is_retryable(&self) -> bool {
        match self {
            DieselStoreError::Connect(_) | DieselStoreError::Pool(_) => true,
            DieselStoreError::Query(e) => query_is_retryable(e),
            _ => false,
        }
    }

    /// Whether this is a unique-constraint violation.
    pub fn is_unique_violation(&self) -> bool {
        matches!(
            self,
            DieselStoreError::Query(QueryError::DatabaseError(
                DatabaseErrorKind::UniqueViolation,
                _
            ))
        )
    }

    pub(crate) fn corrupt(entity: Entity, detail: impl std::fmt::Display) -> Self {
        DieselStoreError::Corrupt {
            entity,
            detail: detail.to_string(),
        }
    }

    pub(crate) fn not_found(entity: Entity) -> Self {
        DieselStoreError::NotFound { entity }
    }

    pub(crate) fn conflict(entity: Entity, reason: impl Into<String>) -> Self {
        DieselStoreError::Conflict {
            entity,
            reason: reason.into(),
        }
    }
}

/// Retryable errors become `Unavailable`; `NotFound`, `Conflict` and `Corrupt` keep their
/// meaning; everything else is `Backend`. The original error stays the source.
impl From<DieselStoreError> for StoreError {
    fn from(e: DieselStoreError) -> Self {
        if e.is_retryable() {
            return StoreError::unavailable(e);
        }
        match e {
            DieselStoreError::NotFound { entity } => StoreError::not_found(entity),
            DieselStoreError::Conflict { entity, reason } => StoreError::conflict(entity, reason),
            DieselStoreError::Corrupt { entity, detail } => StoreError::corrupt(entity, detail),
            other => StoreError::backend(other),
        }
    }
}

/// Retryable errors become `Unavailable`, everything else `Backend`, source kept.
impl From<DieselStoreError> for DirectoryError {
    fn from(e: DieselStoreError) -> Self {
        if e.is_retryable() {
            DirectoryError::unavailable(e)
        } else {
            DirectoryError::backend(e)
        }
    }
}

fn query_is_retryable(e: &QueryError) -> bool {
    match e {
        QueryError::DatabaseError(kind, info) => match kind {
            DatabaseErrorKind::SerializationFailure
            | DatabaseErrorKind::UnableToSendCommand
            | DatabaseErrorKind::ClosedConnection => true,
            DatabaseErrorKind::Unknown => {
                let msg = info.message();
                // SQLITE_BUSY / SQLITE_LOCKED text, and PostgreSQL deadlock / lock timeout /
                // admin shutdown messages.
                msg.contains("database is locked")
                    || msg.contains("database table is locked")
                    || msg.contains("database is busy")
                    || msg.contains("deadlock detected")
                    || msg.contains("lock timeout")
                    || msg.contains("terminating connection")
            }
            _ => false,
        },
        QueryError::BrokenTransactionManager => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Info(&'static str);
    impl diesel::result::DatabaseErrorInformation for Info {
        fn message(&self) -> &str {
            self.0
        }
        fn details(&self) -> Option<&str> {
            None
        }
        fn hint(&self) -> Option<&str> {
            None
        }
        fn table_name(&self) -> Option<&str> {
            None
        }
        fn column_name(&self) -> Option<&str> {
            None
        }
        fn constraint_name(&self) -> Option<&str> {
            None
        }
        fn statement_position(&self) -> Option<i32> {
            None
        }
    }

    fn db(kind: DatabaseErrorKind, msg: &'static str) -> DieselStoreError {
        DieselStoreError::Query(QueryError::DatabaseError(kind, Box::new(Info(msg))))
    }

    #[test]
    fn busy_and_connection_errors_are_retryable() {
        assert!(db(DatabaseErrorKind::Unknown, "database is locked").is_retryable());
        assert!(db(DatabaseErrorKind::SerializationFailure, "x").is_retryable());
        assert!(db(DatabaseErrorKind::ClosedConnection, "x").is_retryable());
        assert!(!db(DatabaseErrorKind::UniqueViolation, "x").is_retryable());
        assert!(!db(DatabaseErrorKind::Unknown, "syntax error").is_retryable());
        assert!(!DieselStoreError::corrupt(Entity::Job, "y").is_retryable());
    }

    #[test]
    fn conversion_keeps_meaning_and_source() {
        use std::error::Error as _;
        let locked: StoreError = db(DatabaseErrorKind::Unknown, "database is locked").into();
        assert!(locked.is_retryable());
        assert_eq!(
            locked
                .source()
                .and_then(|s| s.source())
                .map(ToString::to_string),
            Some("database is locked".to_owned())
        );
        let nf: StoreError = DieselStoreError::not_found(Entity::Meeting).into();
        assert!(nf.is_not_found());
        let c: StoreError = DieselStoreError::conflict(Entity::Job, "lease").into();
        assert!(c.is_conflict());
        let syntax: StoreError = db(DatabaseErrorKind::Unknown, "syntax error").into();
        assert!(matches!(syntax, StoreError::Backend { .. }));
        let dir: DirectoryError = db(DatabaseErrorKind::ClosedConnection, "gone").into();
        assert!(dir.is_retryable());
    }

    #[test]
    fn unique_violations_are_recognised() {
        assert!(db(DatabaseErrorKind::UniqueViolation, "dup").is_unique_violation());
        assert!(!db(DatabaseErrorKind::CheckViolation, "chk").is_unique_violation());
    }
}
