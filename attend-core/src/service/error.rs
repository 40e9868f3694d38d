//! [`ServiceError`]: the one error type of every [`Attend`](super::Attend) operation.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::join_token::JoinTokenError;
use crate::store::{BoxError, DirectoryError, Entity, StoreError};
use crate::zoom::VerifyError;

/// What a [`ServiceError::NotFound`] is about. Each has its own stable code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Missing {
    /// A linked meeting (`meeting_not_found`).
    Meeting,
    /// An instance of a meeting (`instance_not_found`).
    Instance,
    /// A registration of a user for a meeting (`registration_not_found`).
    Registration,
    /// A host user (`user_not_found`).
    User,
    /// An unmatched participant (`participant_not_found`).
    Participant,
    /// A Zoom meeting or webinar Zoom itself does not know (`zoom_meeting_not_found`).
    ZoomMeeting,
    /// A Zoom account key that is not configured (`account_not_found`).
    Account,
}

impl Missing {
    /// The stable snake_case code of the 404.
    pub fn code(self) -> &'static str {
        match self {
            Missing::Meeting => "meeting_not_found",
            Missing::Instance => "instance_not_found",
            Missing::Registration => "registration_not_found",
            Missing::User => "user_not_found",
            Missing::Participant => "participant_not_found",
            Missing::ZoomMeeting => "zoom_meeting_not_found",
            Missing::Account => "account_not_found",
        }
    }
}

/// Every error an [`Attend`](super::Attend) operation returns.
///
/// Each variant has a stable [`code`](ServiceError::code) and an intended HTTP status
/// ([`http_status`](ServiceError::http_status)), so an HTTP adapter maps errors without
/// looking inside. Sources are kept ([`std::error::Error::source`]) for logs; messages
/// ([`Display`](std::fmt::Display)) never contain secrets or internal details except for
/// [`ServiceError::Internal`], whose message must not be shown to clients.
///
/// Retryable variants ([`is_retryable`](ServiceError::is_retryable)) carry a
/// [`retry_after`](ServiceError::retry_after).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServiceError {
    /// 404: the thing does not exist (see [`Missing`] for the per-resource code).
    #[error("{} not found", .0.code().trim_end_matches("_not_found").replace('_', " "))]
    NotFound(Missing),
    /// 403 `forbidden`: the operation is not allowed on this object (e.g. opening a join
    /// link of a cancelled registration).
    #[error("{reason}")]
    Forbidden {
        /// A readable reason (no personal data).
        reason: String,
    },
    /// 422 `invalid_value`: a field has a value that is not allowed.
    #[error("invalid {field}: {reason}")]
    Invalid {
        /// The field, as named in the API (`policy.required_ratio`, `user_ids`, ...).
        field: String,
        /// Why.
        reason: String,
    },
    /// 409 `conflict`: the request collides with stored state (a Zoom meeting linked twice).
    #[error("{reason}")]
    Conflict {
        /// What collides.
        reason: String,
    },
    /// 413 `payload_too_large`: a webhook body over the configured limit.
    #[error("the body is larger than {limit} bytes")]
    PayloadTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// 401 `invalid_signature`: a webhook whose signature is missing, wrong or outside the
    /// replay window. Never retry with the same bytes.
    #[error("the webhook signature is missing, invalid or stale")]
    Signature(#[source] VerifyError),
    /// 401 `invalid_join_token`: a join token not signed by us, or not a join token, or for
    /// another meeting.
    #[error("this join link is not valid")]
    TokenInvalid(#[source] JoinTokenError),
    /// 410 `join_link_expired`: a genuine join token whose time is up.
    #[error("this join link expired at {expired_at}; ask for a new one")]
    TokenExpired {
        /// When it expired.
        expired_at: DateTime<Utc>,
    },
    /// 429 `rate_limited`: Zoom's rate limit (per second, or per day for a daily limit) is
    /// exhausted; retry after `retry_after`.
    #[error("Zoom's rate limit is exhausted; retry in {} s", .retry_after.as_secs())]
    RateLimited {
        /// How long to wait.
        retry_after: Duration,
        /// When the limit resets, if Zoom said (daily limits reset at 00:00 UTC).
        until: Option<DateTime<Utc>>,
    },
    /// 503 `zoom_unavailable`: Zoom is down, timing out, or its token endpoint fails.
    #[error("Zoom is unavailable; retry later")]
    ZoomUnavailable {
        /// How long to wait.
        retry_after: Duration,
        /// The Zoom client error.
        #[source]
        source: BoxError,
    },
    /// 502 `zoom_error`: Zoom refused the call for a reason the client cannot fix by changing
    /// the request (registration not enabled, capacity reached, missing scopes...).
    #[error("Zoom refused the request: {message}")]
    ZoomRejected {
        /// Zoom's error code, if it gave one.
        zoom_code: Option<i64>,
        /// Zoom's message (safe to show: Zoom's own wording about the request).
        message: String,
        /// The Zoom client error.
        #[source]
        source: BoxError,
    },
    /// 503 `storage_unavailable`: attend's storage (or the host's user directory) is
    /// unreachable or busy. Nothing was changed; retry.
    #[error("storage is unavailable; retry later")]
    StorageUnavailable {
        /// How long to wait.
        retry_after: Duration,
        /// The storage or directory error.
        #[source]
        source: BoxError,
    },
    /// 500 `internal`: anything else (a corrupt row, a backend bug). Log it; show nothing.
    #[error("internal error")]
    Internal {
        /// The cause.
        #[source]
        source: BoxError,
    },
}

/// How long callers are asked to wait after a storage hiccup.
pub const STORAGE_RETRY_AFTER: Duration = Duration::from_secs(5);
/// How long callers are asked to wait when Zoom is down and gave no figure.
pub const ZOOM_RETRY_AFTER: Duration = Duration::from_secs(30);

impl ServiceError {
    /// The stable snake_case code of the error (part of the HTTP contract).
    pub fn code(&self) -> &'static str {
        match self {
            ServiceError::NotFound(missing) => missing.code(),
            ServiceError::Forbidden { .. } => "forbidden",
            ServiceError::Invalid { .. } => "invalid_value",
            ServiceError::Conflict { .. } => "conflict",
            ServiceError::PayloadTooLarge { .. } => "payload_too_large",
            ServiceError::Signature(_) => "invalid_signature",
            ServiceError::TokenInvalid(_) => "invalid_join_token",
            ServiceError::TokenExpired { .. } => "join_link_expired",
            ServiceError::RateLimited { .. } => "rate_limited",
            ServiceError::ZoomUnavailable { .. } => "zoom_unavailable",
            ServiceError::ZoomRejected { .. } => "zoom_error",
            ServiceError::StorageUnavailable { .. } => "storage_unavailable",
            ServiceError::Internal { .. } => "internal",
        }
    }

    /// The intended HTTP status: 404, 403, 422, 409, 413, 401 (signature, invalid token),
    /// 410 (expired token), 429, 503 (Zoom or storage unavailable), 502 (Zoom refused), 500.
    pub fn http_status(&self) -> u16 {
        match self {
            ServiceError::NotFound(_) => 404,
            ServiceError::Forbidden { .. } => 403,
            ServiceError::Invalid { .. } => 422,
            ServiceError::Conflict { .. } => 409,
            ServiceError::PayloadTooLarge { .. } => 413,
            ServiceError::Signature(_) | ServiceError::TokenInvalid(_) => 401,
            ServiceError::TokenExpired { .. } => 410,
            ServiceError::RateLimited { .. } => 429,
            ServiceError::ZoomUnavailable { .. } | ServiceError::StorageUnavailable { .. } => 503,
            ServiceError::ZoomRejected { .. } => 502,
            ServiceError::Internal { .. } => 500,
        }
    }

    /// How long to wait before retrying, for the retryable variants (`RateLimited`,
    /// `ZoomUnavailable`, `StorageUnavailable`); `None` otherwise.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ServiceError::RateLimited { retry_after, .. }
            | ServiceError::ZoomUnavailable { retry_after, .. }
            | ServiceError::StorageUnavailable { retry_after, .. } => Some(*retry_after),
            _ => None,
        }
    }

    /// Whether the same call may succeed later (see [`retry_after`](Self::retry_after)).
    pub fn is_retryable(&self) -> bool {
        self.retry_after().is_some()
    }

    /// An [`Invalid`](ServiceError::Invalid) error.
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        ServiceError::Invalid {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// An [`Internal`](ServiceError::Internal) error.
    pub fn internal(source: impl Into<BoxError>) -> Self {
        ServiceError::Internal {
            source: source.into(),
        }
    }

    /// A [`Forbidden`](ServiceError::Forbidden) error.
    pub fn forbidden(reason: impl Into<String>) -> Self {
        ServiceError::Forbidden {
            reason: reason.into(),
        }
    }
}

impl From<StoreError> for ServiceError {
    fn from(err: StoreError) -> Self {
        match &err {
            StoreError::Unavailable { .. } => ServiceError::StorageUnavailable {
                retry_after: STORAGE_RETRY_AFTER,
                source: Box::new(err),
            },
            StoreError::NotFound { entity } => match entity {
                Entity::Meeting => ServiceError::NotFound(Missing::Meeting),
                Entity::Registration => ServiceError::NotFound(Missing::Registration),
                Entity::Instance => ServiceError::NotFound(Missing::Instance),
                _ => ServiceError::internal(err),
            },
            StoreError::Conflict { reason, .. } => ServiceError::Conflict {
                reason: reason.clone(),
            },
            _ => ServiceError::internal(err),
        }
    }
}

impl From<DirectoryError> for ServiceError {
    fn from(err: DirectoryError) -> Self {
        if err.is_retryable() {
            ServiceError::StorageUnavailable {
                retry_after: STORAGE_RETRY_AFTER,
                source: Box::new(err),
            }
        } else {
            ServiceError::internal(err)
        }
    }
}

impl From<JoinTokenError> for ServiceError {
    fn from(err: JoinTokenError) -> Self {
        match err {
            JoinTokenError::Expired { expired_at } => ServiceError::TokenExpired { expired_at },
            other => ServiceError::TokenInvalid(other),
        }
    }
}

impl From<VerifyError> for ServiceError {
    fn from(err: VerifyError) -> Self {
        ServiceError::Signature(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_statuses_are_stable() {
        let cases: Vec<(ServiceError, &str, u16)> = vec![
            (
                ServiceError::NotFound(Missing::Meeting),
                "meeting_not_found",
                404,
            ),
            (ServiceError::forbidden("no"), "forbidden", 403),
            (ServiceError::invalid("f", "r"), "invalid_value", 422),
            (
                ServiceError::Conflict { reason: "x".into() },
                "conflict",
                409,
            ),
            (
                ServiceError::PayloadTooLarge { limit: 1 },
                "payload_too_large",
                413,
            ),
            (
                ServiceError::Signature(VerifyError::BadSignature),
                "invalid_signature",
                401,
            ),
            (JoinTokenError::Invalid.into(), "invalid_join_token", 401),
            (
                JoinTokenError::Expired {
                    expired_at: DateTime::<Utc>::MIN_UTC,
                }
                .into(),
                "join_link_expired",
                410,
            ),
            (
                ServiceError::RateLimited {
                    retry_after: Duration::from_secs(3),
                    until: None,
                },
                "rate_limited",
                429,
            ),
            (
                StoreError::unavailable(std::io::Error::other("down")).into(),
                "storage_unavailable",
                503,
            ),
            (
                StoreError::corrupt(Entity::Meeting, "bad").into(),
                "internal",
                500,
            ),
        ];
        for (err, code, status) in cases {
            assert_eq!(err.code(), code, "{err:?}");
            assert_eq!(err.http_status(), status, "{err:?}");
        }
    }

    #[test]
    fn retryable_errors_say_when() {
        let err: ServiceError = StoreError::unavailable(std::io::Error::other("down")).into();
        assert_eq!(err.retry_after(), Some(STORAGE_RETRY_AFTER));
        assert!(err.is_retryable());
        assert!(std::error::Error::source(&err).is_some());
        assert!(!ServiceError::NotFound(Missing::User).is_retryable());
        assert_eq!(
            ServiceError::NotFound(Missing::ZoomMeeting).to_string(),
            "zoom meeting not found"
        );
    }
}
