//! The host application's users, as attend sees them: [`HostUser`] and [`UserDirectory`].

use async_trait::async_trait;

use super::BoxError;
use crate::model::{GroupKey, UserId};

/// One user of the host application.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostUser {
    /// The host's own user id.
    pub id: UserId,
    /// The user's email, if the host has one (used to register them at Zoom and to match
    /// participants by email).
    pub email: Option<String>,
    /// The name to register them under at Zoom.
    pub name: String,
}

/// What went wrong when asking the host's user directory.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DirectoryError {
    /// The directory is temporarily unreachable or busy. Retryable.
    #[error("user directory unavailable")]
    Unavailable {
        /// The driver or pool error.
        #[source]
        source: BoxError,
    },
    /// The directory does not offer this operation (e.g. listing the users of a group).
    #[error("user directory does not support {operation}")]
    Unsupported {
        /// The operation, e.g. `"list_group_users"`.
        operation: &'static str,
    },
    /// Any other failure. Not retryable.
    #[error("user directory error")]
    Backend {
        /// The underlying error.
        #[source]
        source: BoxError,
    },
}

impl DirectoryError {
    /// A [`DirectoryError::Unavailable`] wrapping `source`.
    pub fn unavailable(source: impl Into<BoxError>) -> Self {
        DirectoryError::Unavailable {
            source: source.into(),
        }
    }

    /// A [`DirectoryError::Backend`] wrapping `source`.
    pub fn backend(source: impl Into<BoxError>) -> Self {
        DirectoryError::Backend {
            source: source.into(),
        }
    }

    /// Whether the same call may succeed later: `true` only for `Unavailable`.
    pub fn is_retryable(&self) -> bool {
        matches!(self, DirectoryError::Unavailable { .. })
    }
}

/// Read access to the host application's users table.
///
/// attend never writes to it. Emails are compared ASCII case-insensitively. All methods are
/// safe to call concurrently.
#[async_trait]
pub trait UserDirectory: Send + Sync {
    /// The user with this id; `None` if the host has no such user.
    async fn get_user(&self, id: &UserId) -> Result<Option<HostUser>, DirectoryError>;

    /// The users with these ids, each at most once, in any order; unknown ids are left out
    /// (not an error), repeated ids give one user.
    async fn get_users(&self, ids: &[UserId]) -> Result<Vec<HostUser>, DirectoryError>;

    /// The users whose email equals `email` (ASCII case-insensitively), in any order; empty if
    /// none. Several users sharing an email is possible: attend then treats the email as
    /// ambiguous.
    async fn find_users_by_email(&self, email: &str) -> Result<Vec<HostUser>, DirectoryError>;

    /// The members of a host group, in any order (empty if none). Optional: the default
    /// returns [`DirectoryError::Unsupported`]; hosts that implement it let attend register a
    /// whole group at once.
    async fn list_group_users(&self, group: &GroupKey) -> Result<Vec<HostUser>, DirectoryError> {
        let _ = group;
        Err(DirectoryError::Unsupported {
            operation: "list_group_users",
        })
    }
}
