//! [`ApiError`]: the one error type of every attend route, and the JSON error envelope.
//!
//! Every error answer of the API has the same shape,
//! `{"error": {"code": "stable_snake_case_code", "message": "human readable"}}`
//! ([`ErrorBody`]), and a status chosen explicitly per variant (see
//! [`ApiError::status_code`](actix_web::ResponseError::status_code) and the table in the crate
//! docs). Codes are part of the HTTP contract: they are never renamed, only added.
//!
//! Rules this module enforces:
//! * **Opaque 500s.** [`ApiError::Internal`] answers `{"code":"internal","message":"internal
//!   error"}`; the real error (with its source chain) is only logged through `tracing`.
//! * **`Retry-After`** (whole seconds) on every 429 and 503.
//! * **Extractor errors** (bad JSON, bad query strings, bad path segments, oversized bodies) are
//!   mapped by [`json_config`], [`query_config`] and [`path_config`], which the scope installs
//!   itself, so hosts get the same envelope without configuring anything.

use std::{borrow::Cow, error::Error as StdError, fmt, time::Duration};

use actix_web::{
    HttpRequest, HttpResponse, ResponseError,
    error::{JsonPayloadError, PathError, QueryPayloadError},
    http::{StatusCode, header},
    web,
};
use attend_core::service::{Missing, ServiceError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// How long a client is asked to wait when the cause of a 503 gives no better figure.
pub const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(5);

/// A boxed error kept as the hidden cause of a 500.
pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// The JSON body of every error answer: `{"error": {"code", "message"}}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"error": {"code": "meeting_not_found", "message": "no such meeting"}}))]
pub struct ErrorBody {
    /// The error itself.
    pub error: ErrorDetail,
}

/// The inside of [`ErrorBody`]: a stable machine code and a human readable message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ErrorDetail {
    /// A stable `snake_case` code (see the crate docs for the table); match on this, never on
    /// the message.
    #[schema(example = "meeting_not_found")]
    pub code: String,
    /// A human readable explanation. It may change between versions and never contains
    /// internal details.
    #[schema(example = "no such meeting")]
    pub message: String,
}

/// Which kind of thing a 404 is about; each has its own stable code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Resource {
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
    /// A Zoom meeting or webinar that Zoom itself does not know (`zoom_meeting_not_found`).
    ZoomMeeting,
    /// A configured Zoom account (`account_not_found`).
    Account,
    /// No route of the attend scope matches the path (`route_not_found`).
    Route,
}

impl Resource {
    fn code(self) -> &'static str {
        match self {
            Resource::Meeting => "meeting_not_found",
            Resource::Instance => "instance_not_found",
            Resource::Registration => "registration_not_found",
            Resource::User => "user_not_found",
            Resource::Participant => "participant_not_found",
            Resource::ZoomMeeting => "zoom_meeting_not_found",
            Resource::Account => "account_not_found",
            Resource::Route => "route_not_found",
        }
    }

    fn message(self) -> &'static str {
        match self {
            Resource::Meeting => "no such meeting",
            Resource::Instance => "no such instance of this meeting",
            Resource::Registration => "no such registration",
            Resource::User => "no such user",
            Resource::Participant => "no such unmatched participant",
            Resource::ZoomMeeting => "Zoom does not know this meeting or webinar",
            Resource::Account => "no such Zoom account is configured",
            Resource::Route => "no such route",
        }
    }
}

/// Every error an attend route can answer with. The status of each variant is fixed (see the
/// variant docs); the `code` in the body is stable.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// 400 `malformed_json`: the body is not syntactically valid JSON (or is empty).
    #[error("the request body is not valid JSON: {0}")]
    MalformedJson(String),
    /// 422 `invalid_body`: valid JSON of the wrong shape (missing field, wrong type, unknown
    /// enum value).
    #[error("the request body does not have the expected shape: {0}")]
    InvalidBody(String),
    /// 415 `unsupported_media_type`: a JSON body was sent without `Content-Type:
    /// application/json`.
    #[error("the request body must be sent as application/json")]
    UnsupportedMediaType,
    /// 400 `invalid_query`: the query string cannot be read (a value of the wrong type).
    #[error("the query string is invalid: {0}")]
    InvalidQuery(String),
    /// 400 `invalid_path`: a path segment cannot be read.
    #[error("the path is invalid: {0}")]
    InvalidPath(String),
    /// 422 `invalid_value`: a well-formed field or parameter has a value that is not allowed
    /// (an empty id, a ratio outside 0..=1, too many user ids).
    #[error("{0}")]
    InvalidValue(String),
    /// 413 `payload_too_large`: the body is larger than the configured limit.
    #[error("the request body is larger than {limit} bytes")]
    PayloadTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// 401 `missing_credentials`: no `Authorization: Bearer` header (or no session the host's
    /// authenticator recognizes).
    #[error("authentication required")]
    MissingCredentials,
    /// 401 `invalid_token`: the bearer token is malformed, badly signed, or has bad claims.
    #[error("the bearer token is invalid")]
    InvalidToken,
    /// 401 `token_expired`: the bearer token's `exp` has passed.
    #[error("the bearer token has expired")]
    TokenExpired,
    /// 401 `invalid_signature`: a webhook whose Zoom signature is missing, wrong or outside the
    /// replay window.
    #[error("the webhook signature is missing, invalid or stale ({reason})")]
    InvalidSignature {
        /// Which check failed (`missing_signature_header`, `bad_signature`,
        /// `stale_timestamp`, ...).
        reason: &'static str,
    },
    /// 401 `invalid_join_token`: a join link whose token was not signed by us (tampered or
    /// truncated).
    #[error("this join link is not valid")]
    InvalidJoinToken,
    /// 410 `join_link_expired`: a genuine join link whose time is up.
    #[error("this join link has expired; ask for a new one")]
    JoinLinkExpired,
    /// 403 `forbidden`: authenticated, but the role or groups do not allow this.
    #[error("{0}")]
    Forbidden(Cow<'static, str>),
    /// 404 with a per-resource code (`meeting_not_found`, ...).
    #[error("{}", .0.message())]
    NotFound(Resource),
    /// 405 `method_not_allowed`: the path exists but not with this method.
    #[error("this method is not allowed on this route")]
    MethodNotAllowed,
    /// 409 `conflict`: the request collides with stored state (a meeting linked twice, ...).
    #[error("{0}")]
    Conflict(String),
    /// 429 `rate_limited`: Zoom's rate limit (per second or per day) is exhausted.
    #[error("Zoom's rate limit is exhausted; retry later")]
    RateLimited {
        /// When to retry.
        retry_after: Duration,
    },
    /// 502 `zoom_error`: Zoom refused the call for a reason the client cannot fix by changing
    /// the request (its message is passed on when it is safe to show).
    #[error("Zoom refused the request: {0}")]
    Zoom(String),
    /// 503 `zoom_unavailable`: Zoom is down, timing out, or asks us to wait.
    #[error("Zoom is unavailable; retry later")]
    ZoomUnavailable {
        /// When to retry.
        retry_after: Duration,
    },
    /// 503 `storage_unavailable`: attend's storage is unreachable or busy.
    #[error("storage is unavailable; retry later")]
    StorageUnavailable {
        /// When to retry.
        retry_after: Duration,
    },
    /// 500 `internal`: anything else. The body says only "internal error"; the cause is
    /// logged.
    #[error("internal error")]
    Internal(#[source] BoxError),
}

impl ApiError {
    /// A 500 keeping `source` for the log only.
    pub fn internal(source: impl Into<BoxError>) -> Self {
        ApiError::Internal(source.into())
    }

    /// A 403 with a message naming the rule (no personal data).
    pub fn forbidden(message: impl Into<Cow<'static, str>>) -> Self {
        ApiError::Forbidden(message.into())
    }

    /// A 422 `invalid_value` with a message naming the field.
    pub fn invalid_value(message: impl Into<String>) -> Self {
        ApiError::InvalidValue(message.into())
    }

    /// A 503 `storage_unavailable` with the default `Retry-After`.
    pub fn storage_unavailable() -> Self {
        ApiError::StorageUnavailable {
            retry_after: DEFAULT_RETRY_AFTER,
        }
    }

    /// The stable `snake_case` code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::MalformedJson(_) => "malformed_json",
            ApiError::InvalidBody(_) => "invalid_body",
            ApiError::UnsupportedMediaType => "unsupported_media_type",
            ApiError::InvalidQuery(_) => "invalid_query",
            ApiError::InvalidPath(_) => "invalid_path",
            ApiError::InvalidValue(_) => "invalid_value",
            ApiError::PayloadTooLarge { .. } => "payload_too_large",
            ApiError::MissingCredentials => "missing_credentials",
            ApiError::InvalidToken => "invalid_token",
            ApiError::TokenExpired => "token_expired",
            ApiError::InvalidSignature { .. } => "invalid_signature",
            ApiError::InvalidJoinToken => "invalid_join_token",
            ApiError::JoinLinkExpired => "join_link_expired",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound(resource) => resource.code(),
            ApiError::MethodNotAllowed => "method_not_allowed",
            ApiError::Conflict(_) => "conflict",
            ApiError::RateLimited { .. } => "rate_limited",
            ApiError::Zoom(_) => "zoom_error",
            ApiError::ZoomUnavailable { .. } => "zoom_unavailable",
            ApiError::StorageUnavailable { .. } => "storage_unavailable",
            ApiError::Internal(_) => "internal",
        }
    }

    /// How long the client should wait before retrying, for 429 and 503 answers.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ApiError::RateLimited { retry_after }
            | ApiError::ZoomUnavailable { retry_after }
            | ApiError::StorageUnavailable { retry_after } => Some(*retry_after),
            _ => None,
        }
    }

    /// The message shown to the client: the `Display` text, except for 500s, which never
    /// show their cause.
    pub fn public_message(&self) -> String {
        match self {
            ApiError::Internal(_) => "internal error".to_owned(),
            other => other.to_string(),
        }
    }

    /// The envelope this error is answered with.
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                code: self.code().to_owned(),
                message: self.public_message(),
            },
        }
    }

    /// Logs the error at a level fitting its status (500s with their full cause chain).
    pub(crate) fn log(&self) {
        match self {
            ApiError::Internal(source) => {
                tracing::error!(code = self.code(), error = %Chain(source.as_ref()), "internal error");
            }
            ApiError::StorageUnavailable { .. } | ApiError::ZoomUnavailable { .. } => {
                tracing::warn!(code = self.code(), "answered 503");
            }
            other => tracing::debug!(code = other.code(), "answered client error"),
        }
    }

    /// Starts a response with this error's status and `Retry-After` header (if any).
    pub(crate) fn response_builder(&self) -> actix_web::HttpResponseBuilder {
        let mut builder = HttpResponse::build(self.status_code());
        if let Some(after) = self.retry_after() {
            // Round up: "retry in 0 seconds" would invite a hot loop.
            let secs = after.as_secs() + u64::from(after.subsec_nanos() > 0);
            builder.insert_header((header::RETRY_AFTER, secs.max(1).to_string()));
        }
        builder
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::MalformedJson(_) | ApiError::InvalidQuery(_) | ApiError::InvalidPath(_) => {
                StatusCode::BAD_REQUEST
            }
            ApiError::InvalidBody(_) | ApiError::InvalidValue(_) => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::MissingCredentials
            | ApiError::InvalidToken
            | ApiError::TokenExpired
            | ApiError::InvalidSignature { .. }
            | ApiError::InvalidJoinToken => StatusCode::UNAUTHORIZED,
            ApiError::JoinLinkExpired => StatusCode::GONE,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Zoom(_) => StatusCode::BAD_GATEWAY,
            ApiError::ZoomUnavailable { .. } | ApiError::StorageUnavailable { .. } => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        self.log();
        let mut builder = self.response_builder();
        if matches!(
            self,
            ApiError::MissingCredentials | ApiError::InvalidToken | ApiError::TokenExpired
        ) {
            builder.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        builder.json(self.body())
    }
}

/// Displays an error followed by its sources, `a: b: c`, for logs.
struct Chain<'a>(&'a (dyn StdError + 'static));

impl fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut next = self.0.source();
        while let Some(err) = next {
            write!(f, ": {err}")?;
            next = err.source();
        }
        Ok(())
    }
}

impl From<ServiceError> for ApiError {
    fn from(err: ServiceError) -> Self {
        match err {
            ServiceError::NotFound(missing) => ApiError::NotFound(match missing {
                Missing::Meeting => Resource::Meeting,
                Missing::Instance => Resource::Instance,
                Missing::Registration => Resource::Registration,
                Missing::User => Resource::User,
                Missing::Participant => Resource::Participant,
                Missing::ZoomMeeting => Resource::ZoomMeeting,
                Missing::Account => Resource::Account,
                // A kind added to the core later: still a 404, with a generic code.
                _ => Resource::Route,
            }),
            ServiceError::Forbidden { reason } => ApiError::Forbidden(reason.into()),
            ServiceError::Invalid { field, reason } => {
                ApiError::InvalidValue(format!("invalid {field}: {reason}"))
            }
            ServiceError::Conflict { reason } => ApiError::Conflict(reason),
            ServiceError::PayloadTooLarge { limit } => ApiError::PayloadTooLarge { limit },
            ServiceError::Signature(err) => ApiError::InvalidSignature { reason: err.code() },
            ServiceError::TokenInvalid(_) => ApiError::InvalidJoinToken,
            ServiceError::TokenExpired { .. } => ApiError::JoinLinkExpired,
            ServiceError::RateLimited { retry_after, .. } => ApiError::RateLimited { retry_after },
            ServiceError::ZoomUnavailable {
                retry_after,
                source,
            } => {
                tracing::warn!(error = %Chain(source.as_ref()), "Zoom unavailable");
                ApiError::ZoomUnavailable { retry_after }
            }
            ServiceError::ZoomRejected {
                zoom_code, message, ..
            } => {
                tracing::info!(?zoom_code, "Zoom rejected a request");
                ApiError::Zoom(message)
            }
            ServiceError::StorageUnavailable {
                retry_after,
                source,
            } => {
                tracing::warn!(error = %Chain(source.as_ref()), "storage unavailable");
                ApiError::StorageUnavailable { retry_after }
            }
            ServiceError::Internal { source } => ApiError::Internal(source),
            // A variant added to the core later: opaque, but logged in full.
            other => ApiError::internal(other),
        }
    }
}

impl From<JsonPayloadError> for ApiError {
    fn from(err: JsonPayloadError) -> Self {
        match err {
            JsonPayloadError::OverflowKnownLength { limit, .. }
            | JsonPayloadError::Overflow { limit } => ApiError::PayloadTooLarge { limit },
            JsonPayloadError::ContentType => ApiError::UnsupportedMediaType,
            JsonPayloadError::Deserialize(err) => match err.classify() {
                serde_json::error::Category::Data => ApiError::InvalidBody(err.to_string()),
                serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                    ApiError::MalformedJson(err.to_string())
                }
                serde_json::error::Category::Io => ApiError::MalformedJson(err.to_string()),
            },
            JsonPayloadError::Payload(err) => payload_error(err),
            other => ApiError::internal(other.to_string()),
        }
    }
}

/// Maps an error while reading a body.
pub(crate) fn payload_error(err: actix_web::error::PayloadError) -> ApiError {
    use actix_web::error::PayloadError;
    match err {
        PayloadError::Overflow => ApiError::PayloadTooLarge { limit: 0 },
        // A client that hangs up or sends garbage framing is a client error.
        other => ApiError::MalformedJson(format!("the request body could not be read: {other}")),
    }
}

impl From<QueryPayloadError> for ApiError {
    fn from(err: QueryPayloadError) -> Self {
        match err {
            QueryPayloadError::Deserialize(err) => ApiError::InvalidQuery(err.to_string()),
            other => ApiError::InvalidQuery(other.to_string()),
        }
    }
}

impl From<PathError> for ApiError {
    fn from(err: PathError) -> Self {
        match err {
            PathError::Deserialize(err) => ApiError::InvalidPath(err.to_string()),
            other => ApiError::InvalidPath(other.to_string()),
        }
    }
}

/// The `JsonConfig` the scope installs: body limit `limit`, errors mapped to [`ApiError`].
pub fn json_config(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(limit)
        .error_handler(|err, _req: &HttpRequest| ApiError::from(err).into())
}

/// The `QueryConfig` the scope installs: query errors mapped to [`ApiError::InvalidQuery`].
pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err, _req: &HttpRequest| ApiError::from(err).into())
}

/// The `PathConfig` the scope installs: path errors mapped to [`ApiError::InvalidPath`].
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|err, _req: &HttpRequest| ApiError::from(err).into())
}

#[cfg(test)]
mod tests {
    use actix_web::body::MessageBody;

    use super::*;

    fn body_of(resp: HttpResponse) -> serde_json::Value {
        let bytes = resp.into_body().try_into_bytes().expect("in-memory body");
        serde_json::from_slice(&bytes).expect("json body")
    }

    #[test]
    fn internal_errors_are_opaque() {
        let err = ApiError::internal(std::io::Error::other("password=hunter2 at db:5432"));
        let resp = err.error_response();
        assert_eq!(resp.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = body_of(resp);
        assert_eq!(body["error"]["code"], "internal");
        assert_eq!(body["error"]["message"], "internal error");
        assert!(!body.to_string().contains("hunter2"));
    }

    #[test]
    fn retry_after_is_set_on_503_and_429_and_rounded_up() {
        let err = ApiError::StorageUnavailable {
            retry_after: Duration::from_millis(1500),
        };
        let resp = err.error_response();
        assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(resp.headers().get(header::RETRY_AFTER).unwrap(), "2");
        let resp = ApiError::RateLimited {
            retry_after: Duration::ZERO,
        }
        .error_response();
        assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(resp.headers().get(header::RETRY_AFTER).unwrap(), "1");
        let resp = ApiError::Forbidden("no".into()).error_response();
        assert!(resp.headers().get(header::RETRY_AFTER).is_none());
    }

    #[test]
    fn json_errors_are_classified() {
        let syntax = serde_json::from_str::<serde_json::Value>("{").unwrap_err();
        assert_eq!(
            ApiError::from(JsonPayloadError::Deserialize(syntax)).code(),
            "malformed_json"
        );
        let data = serde_json::from_str::<u32>("\"x\"").unwrap_err();
        let err = ApiError::from(JsonPayloadError::Deserialize(data));
        assert_eq!(err.code(), "invalid_body");
        assert_eq!(err.status_code(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            ApiError::from(JsonPayloadError::Overflow { limit: 10 }).status_code(),
            StatusCode::PAYLOAD_TOO_LARGE
        );
    }
}
