//! [`StoreError`]: the one error type of every storage trait.

use std::fmt;

/// A boxed error from a storage backend (a driver, pool or codec error), kept as the source.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// The result type of every storage method.
pub type StoreResult<T> = Result<T, StoreError>;

/// Which kind of stored thing an error is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Entity {
    /// A [`MeetingRecord`](super::MeetingRecord).
    Meeting,
    /// A [`RegistrationRecord`](super::RegistrationRecord).
    Registration,
    /// A [`RawWebhook`](super::RawWebhook).
    Webhook,
    /// An [`InstanceRecord`](super::InstanceRecord).
    Instance,
    /// A [`StoredEvent`](super::StoredEvent).
    ParticipantEvent,
    /// A [`ReportRow`](super::ReportRow).
    ReportRow,
    /// A [`ManualLink`](super::ManualLink).
    ManualLink,
    /// A [`JoinClick`](super::JoinClick).
    JoinClick,
    /// A [`Job`](super::Job).
    Job,
}

impl Entity {
    /// A stable snake_case name (`"meeting"`, `"registration"`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Entity::Meeting => "meeting",
            Entity::Registration => "registration",
            Entity::Webhook => "webhook",
            Entity::Instance => "instance",
            Entity::ParticipantEvent => "participant_event",
            Entity::ReportRow => "report_row",
            Entity::ManualLink => "manual_link",
            Entity::JoinClick => "join_click",
            Entity::Job => "job",
        }
    }
}

impl fmt::Display for Entity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What went wrong in a storage call.
///
/// Which variant a backend returns is part of every method's contract:
///
/// * [`NotFound`](StoreError::NotFound) and [`Conflict`](StoreError::Conflict) are *answers*
///   about the data (the row the call needs is missing; a uniqueness rule or a lease forbids
///   the write). Retrying the same call gives the same answer.
/// * [`Unavailable`](StoreError::Unavailable) means the store could not be reached or was busy
///   (connection refused or lost, pool exhausted or timed out, SQLite `database is locked`,
///   PostgreSQL serialization failure or deadlock). Nothing was changed, or the change was
///   rolled back; the same call may succeed later. It is the only retryable variant
///   ([`is_retryable`](StoreError::is_retryable)), and the HTTP adapter answers it with 503.
/// * [`Corrupt`](StoreError::Corrupt) means a stored row could not be decoded (an unknown enum
///   string, invalid JSON): a bug or a hand-edited database, not worth retrying.
/// * [`Backend`](StoreError::Backend) is any other backend failure (a constraint the contract
///   does not name, a syntax error, a failed migration). Not retryable.
///
/// Backends define their own error enums and convert into this one, keeping the original error
/// as the [`source`](std::error::Error::source).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The row the operation needs does not exist (for example `update_meeting` of an unknown
    /// id). Lookups never return this: they return `Ok(None)`.
    #[error("{entity} not found")]
    NotFound {
        /// What was missing.
        entity: Entity,
    },
    /// A uniqueness rule, an ownership rule (a job lease held by another worker) or an
    /// immutable field forbids the write. Nothing was changed.
    #[error("{entity} conflict: {reason}")]
    Conflict {
        /// What the conflict is about.
        entity: Entity,
        /// Which rule was hit, for logs (no personal data).
        reason: String,
    },
    /// The store is temporarily unreachable or busy; nothing was changed. Retryable.
    #[error("storage unavailable")]
    Unavailable {
        /// The driver or pool error.
        #[source]
        source: BoxError,
    },
    /// A stored row could not be decoded.
    #[error("corrupt {entity} in storage: {reason}")]
    Corrupt {
        /// What could not be decoded.
        entity: Entity,
        /// Which field and why, for logs.
        reason: String,
        /// The decoding error, if there is one.
        #[source]
        source: Option<BoxError>,
    },
    /// Any other backend failure. Not retryable.
    #[error("storage backend error")]
    Backend {
        /// The driver error.
        #[source]
        source: BoxError,
    },
}

impl StoreError {
    /// A [`StoreError::NotFound`] for `entity`.
    pub fn not_found(entity: Entity) -> Self {
        StoreError::NotFound { entity }
    }

    /// A [`StoreError::Conflict`] for `entity` with a short reason.
    pub fn conflict(entity: Entity, reason: impl Into<String>) -> Self {
        StoreError::Conflict {
            entity,
            reason: reason.into(),
        }
    }

    /// A [`StoreError::Unavailable`] wrapping `source`.
    pub fn unavailable(source: impl Into<BoxError>) -> Self {
        StoreError::Unavailable {
            source: source.into(),
        }
    }

    /// A [`StoreError::Corrupt`] without a source error.
    pub fn corrupt(entity: Entity, reason: impl Into<String>) -> Self {
        StoreError::Corrupt {
            entity,
            reason: reason.into(),
            source: None,
        }
    }

    /// A [`StoreError::Corrupt`] keeping the decoding error as its source.
    pub fn corrupt_with(
        entity: Entity,
        reason: impl Into<String>,
        source: impl Into<BoxError>,
    ) -> Self {
        StoreError::Corrupt {
            entity,
            reason: reason.into(),
            source: Some(source.into()),
        }
    }

    /// A [`StoreError::Backend`] wrapping `source`.
    pub fn backend(source: impl Into<BoxError>) -> Self {
        StoreError::Backend {
            source: source.into(),
        }
    }

    /// Whether the same call may succeed if repeated later: `true` only for
    /// [`StoreError::Unavailable`].
    pub fn is_retryable(&self) -> bool {
        matches!(self, StoreError::Unavailable { .. })
    }

    /// Whether this is a [`StoreError::NotFound`].
    pub fn is_not_found(&self) -> bool {
        matches!(self, StoreError::NotFound { .. })
    }

    /// Whether this is a [`StoreError::Conflict`].
    pub fn is_conflict(&self) -> bool {
        matches!(self, StoreError::Conflict { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_unavailable_is_retryable() {
        let io = || std::io::Error::other("boom");
        assert!(StoreError::unavailable(io()).is_retryable());
        assert!(!StoreError::backend(io()).is_retryable());
        assert!(!StoreError::not_found(Entity::Job).is_retryable());
        assert!(!StoreError::conflict(Entity::Job, "lease").is_retryable());
        assert!(!StoreError::corrupt(Entity::Job, "state").is_retryable());
    }

    #[test]
    fn sources_are_kept() {
        use std::error::Error as _;
        let err = StoreError::unavailable(std::io::Error::other("pool timed out"));
        assert_eq!(
            err.source().map(|s| s.to_string()).as_deref(),
            Some("pool timed out")
        );
        let err =
            StoreError::corrupt_with(Entity::Meeting, "policy", std::io::Error::other("json"));
        assert!(err.source().is_some());
        assert!(
            StoreError::corrupt(Entity::Meeting, "kind")
                .source()
                .is_none()
        );
    }

    #[test]
    fn messages_name_the_entity() {
        assert_eq!(
            StoreError::not_found(Entity::Instance).to_string(),
            "instance not found"
        );
        assert_eq!(
            StoreError::conflict(Entity::Meeting, "zoom meeting already linked").to_string(),
            "meeting conflict: zoom meeting already linked"
        );
    }
}
