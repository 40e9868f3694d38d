//! Errors of the LMS's own routes, answered in attend's error envelope
//! `{"error": {"code", "message"}}` so a client handles both APIs the same way.

use std::borrow::Cow;

use actix_web::{HttpResponse, ResponseError, http::StatusCode};
use attend_actix::auth::AuthError;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What went wrong in an `/lms` route.
#[derive(Debug, thiserror::Error)]
pub enum LmsError {
    /// No valid bearer token. 401.
    #[error("authentication failed")]
    Unauthenticated(#[source] AuthError),
    /// Authenticated, but not allowed. 403.
    #[error("{0}")]
    Forbidden(&'static str),
    /// No such user/course/route. 404.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The request conflicts with the current state. 409.
    #[error("{0}")]
    Conflict(&'static str),
    /// A value in the request is not acceptable. 422.
    #[error("{0}")]
    Invalid(Cow<'static, str>),
    /// The database is busy or unreachable. 503 with `Retry-After`.
    #[error("the database is unavailable")]
    Unavailable(#[source] BoxError),
    /// An error from attend itself (its own envelope and status are kept).
    #[error(transparent)]
    Attend(#[from] attend_actix::error::ApiError),
    /// Anything else. 500 with an opaque message; the cause is logged.
    #[error("internal error")]
    Internal(#[source] BoxError),
}

impl LmsError {
    /// An [`LmsError::Internal`] from any error.
    pub fn internal(source: impl Into<BoxError>) -> Self {
        LmsError::Internal(source.into())
    }

    /// An [`LmsError::Invalid`] with a message.
    pub fn invalid(message: impl Into<Cow<'static, str>>) -> Self {
        LmsError::Invalid(message.into())
    }

    fn code(&self) -> &'static str {
        match self {
            LmsError::Unauthenticated(AuthError::Missing) => "missing_credentials",
            LmsError::Unauthenticated(AuthError::Expired) => "token_expired",
            LmsError::Unauthenticated(_) => "invalid_token",
            LmsError::Forbidden(_) => "forbidden",
            LmsError::NotFound(_) => "not_found",
            LmsError::Conflict(_) => "conflict",
            LmsError::Invalid(_) => "invalid_value",
            LmsError::Unavailable(_) => "storage_unavailable",
            LmsError::Attend(e) => e.code(),
            LmsError::Internal(_) => "internal",
        }
    }
}

impl From<AuthError> for LmsError {
    fn from(e: AuthError) -> Self {
        LmsError::Unauthenticated(e)
    }
}

impl From<attend_core::service::ServiceError> for LmsError {
    fn from(e: attend_core::service::ServiceError) -> Self {
        LmsError::Attend(e.into())
    }
}

impl From<attend_diesel::DieselStoreError> for LmsError {
    fn from(e: attend_diesel::DieselStoreError) -> Self {
        if e.is_retryable() {
            LmsError::Unavailable(Box::new(e))
        } else {
            LmsError::Internal(Box::new(e))
        }
    }
}

impl ResponseError for LmsError {
    fn status_code(&self) -> StatusCode {
        match self {
            LmsError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            LmsError::Forbidden(_) => StatusCode::FORBIDDEN,
            LmsError::NotFound(_) => StatusCode::NOT_FOUND,
            LmsError::Conflict(_) => StatusCode::CONFLICT,
            LmsError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            LmsError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            LmsError::Attend(e) => e.status_code(),
            LmsError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let LmsError::Attend(e) = self {
            return e.error_response();
        }
        let message = match self {
            LmsError::Internal(source) => {
                tracing::error!(error = %source, "lms: internal error");
                "internal error".to_owned()
            }
            LmsError::Unavailable(source) => {
                tracing::warn!(error = %source, "lms: database unavailable");
                "the database is busy or unreachable; retry shortly".to_owned()
            }
            LmsError::Unauthenticated(AuthError::Missing) => {
                "send `Authorization: Bearer <token>`".to_owned()
            }
            LmsError::Unauthenticated(AuthError::Expired) => "the bearer token expired".to_owned(),
            LmsError::Unauthenticated(_) => "the bearer token is not valid".to_owned(),
            other => other.to_string(),
        };
        let mut res = HttpResponse::build(self.status_code());
        if matches!(self, LmsError::Unavailable(_)) {
            res.insert_header(("Retry-After", "2"));
        }
        res.json(serde_json::json!({"error": {"code": self.code(), "message": message}}))
    }
}
