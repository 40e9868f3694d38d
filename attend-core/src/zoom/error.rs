//! The one error type of the Zoom REST client, [`ZoomApiError`], and how Zoom's
//! `{"code","message"}` bodies map onto it.
//!
//! # Mapping of Zoom's answers
//!
//! | Zoom says | variant | disposition |
//! |---|---|---|
//! | 401 after one token refresh (code 124 …) | [`InvalidToken`](ZoomApiError::InvalidToken) | permanent for this call (the client does not loop); the service retries the job later |
//! | token endpoint 4xx (bad client id/secret/account, app deactivated) | [`OAuth`](ZoomApiError::OAuth) | permanent |
//! | 429 per-second / concurrent, still after the retries | [`RateLimited`](ZoomApiError::RateLimited) | retry |
//! | 429 daily (`X-RateLimit-Type: Daily-limit` or "daily" in the message), incl. 3/day/registrant | [`DailyLimit`](ZoomApiError::DailyLimit) | defer until `retry_at` |
//! | report endpoints: 404, or code 3001 ("Meeting ID is invalid or not end") | [`ReportNotReady`](ZoomApiError::ReportNotReady) | retry later |
//! | report endpoints: code 200 ("Only available for Paid user", "No permission"), 4700/4711 (token lacks scopes/permissions), 403 | [`ReportsUnavailable`](ZoomApiError::ReportsUnavailable) | permanent (use webhooks only) |
//! | report endpoints: code 12702 ("Can not access meeting a year ago") | [`ReportExpired`](ZoomApiError::ReportExpired) | permanent |
//! | code 3043 | [`CapacityReached`](ZoomApiError::CapacityReached) | permanent |
//! | batch endpoint: code 303 (only scheduled meetings, type 2) | [`BatchNotSupported`](ZoomApiError::BatchNotSupported) | permanent: add one by one |
//! | code 404 / 300 whose message says registration is not enabled/required | [`RegistrationNotEnabled`](ZoomApiError::RegistrationNotEnabled) | permanent |
//! | code 3038 ("Meeting is over") | [`MeetingOver`](ZoomApiError::MeetingOver) | permanent |
//! | code 3161, or code 200 on non-report endpoints ("Only available for Paid user"), or a message about a licensed/paid host | [`NotLicensedHost`](ZoomApiError::NotLicensedHost) | permanent |
//! | code 1001 / 1010 (host user does not exist / not in this account) | [`HostNotFound`](ZoomApiError::HostNotFound) | permanent |
//! | code 3001, 300 "not found or has expired", or 404 on meeting endpoints | [`MeetingNotFound`](ZoomApiError::MeetingNotFound) | permanent |
//! | other 404 (e.g. a registrant that is gone) | [`NotFound`](ZoomApiError::NotFound) | permanent |
//! | code 4700 / 4711 elsewhere | [`MissingScope`](ZoomApiError::MissingScope) | permanent |
//! | other 4xx | [`Api`](ZoomApiError::Api) | permanent |
//! | 5xx, still after the retries | [`Server`](ZoomApiError::Server) | retry |
//! | timeout / connection failure, still after the retries | [`Timeout`](ZoomApiError::Timeout) / [`Transport`](ZoomApiError::Transport) | retry |

use std::error::Error as StdError;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::rate_limit::{RateLimitCategory, RateLimitHit, RateLimitKind};

/// A boxed error source (so that fakes of [`super::ZoomApi`] can build any variant).
pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// How a caller should react to an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Disposition {
    /// Transient: try again later (after `after` if Zoom said, else with backoff).
    Retry {
        /// How long Zoom asked to wait, if it did.
        after: Option<Duration>,
    },
    /// A daily limit: nothing will succeed before `until`; park the work until then.
    Defer {
        /// When the limit resets.
        until: DateTime<Utc>,
    },
    /// Retrying will not help; the request or the account's setup must change.
    Permanent,
}

/// Which access is missing for the report endpoints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReportAccess {
    /// The account's plan has no reports (Zoom code 200: "Only available for Paid user",
    /// "No permission"). Reports need Pro or higher.
    PlanLacksReports,
    /// The app's token lacks the scope (codes 4700/4711, or HTTP 403), e.g.
    /// `report:read:list_meeting_participants:admin`.
    MissingScope,
}

/// Every way a Zoom REST call can fail.
///
/// [`ZoomApiError::disposition`] tells retryable (`Retry`), deferred (`Defer`, daily limits)
/// and permanent errors apart; [`ZoomApiError::code`] gives a stable snake_case code.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ZoomApiError {
    /// The request is invalid before it is sent (e.g. more than 30 registrants in a batch).
    #[error("invalid Zoom request: {0}")]
    InvalidRequest(String),
    /// The OAuth token endpoint refused the credentials (wrong client id/secret or account
    /// id, app deactivated). Permanent.
    #[error("Zoom OAuth refused the credentials (HTTP {status}): {message}")]
    OAuth {
        /// HTTP status of the token endpoint.
        status: u16,
        /// Zoom's reason (`reason`/`error` field, or the body text).
        message: String,
    },
    /// Zoom answered 401 even with a freshly fetched token. The client does not refresh a
    /// second time; the service treats it like an outage (its background jobs retry with
    /// backoff), since a token revoked twice in a row heals by itself, while credentials
    /// that are really wrong fail earlier, at the token endpoint ([`ZoomApiError::OAuth`]).
    #[error("Zoom rejected the access token: {message}")]
    InvalidToken {
        /// Zoom's message.
        message: String,
    },
    /// The meeting or webinar does not exist (or has expired).
    #[error("Zoom meeting not found: {message}")]
    MeetingNotFound {
        /// Zoom's code.
        code: Option<i64>,
        /// Zoom's message.
        message: String,
    },
    /// The host user does not exist or is not in this account (codes 1001, 1010).
    #[error("Zoom host user not found: {message}")]
    HostNotFound {
        /// Zoom's code.
        code: Option<i64>,
        /// Zoom's message.
        message: String,
    },
    /// Something else was not found (e.g. a registrant that is already deleted).
    #[error("not found at Zoom: {message}")]
    NotFound {
        /// Zoom's code.
        code: Option<i64>,
        /// Zoom's message.
        message: String,
    },
    /// Registration is not switched on for the meeting (`approval_type` is 2).
    #[error("registration is not enabled for this Zoom meeting: {message}")]
    RegistrationNotEnabled {
        /// Zoom's code.
        code: Option<i64>,
        /// Zoom's message.
        message: String,
    },
    /// The meeting has reached its maximum number of registrants (4,999; code 3043).
    #[error("the Zoom meeting has reached its registrant capacity: {message}")]
    CapacityReached {
        /// Zoom's message.
        message: String,
    },
    /// Batch registration is not available for this meeting (only scheduled meetings, type
    /// 2; code 303). Fall back to adding registrants one by one.
    #[error("batch registration is not supported for this Zoom meeting: {message}")]
    BatchNotSupported {
        /// Zoom's code.
        code: Option<i64>,
        /// Zoom's message.
        message: String,
    },
    /// The meeting is over; registration is closed (code 3038).
    #[error("the Zoom meeting is over: {message}")]
    MeetingOver {
        /// Zoom's message.
        message: String,
    },
    /// The host is not a licensed (paid) user, or may not host/schedule meetings (codes 3161,
    /// 200 on meeting/registrant endpoints). Registration needs a licensed host.
    #[error("the Zoom host is not a licensed user: {message}")]
    NotLicensedHost {
        /// Zoom's code.
        code: Option<i64>,
        /// Zoom's message.
        message: String,
    },
    /// The participant report is not available *yet* (404 or code 3001 right after the
    /// meeting ended). Retry later with backoff, for a bounded period.
    #[error("the Zoom report is not ready yet: {message}")]
    ReportNotReady {
        /// Zoom's code.
        code: Option<i64>,
        /// Zoom's message.
        message: String,
    },
    /// Reports cannot be read with this account/app (plan or scope); rely on webhooks.
    #[error("Zoom reports are not available to this account ({access:?}): {message}")]
    ReportsUnavailable {
        /// What is missing.
        access: ReportAccess,
        /// Zoom's code.
        code: Option<i64>,
        /// Zoom's message.
        message: String,
    },
    /// The meeting is too old for the report API (code 12702, about a year).
    #[error("the Zoom report is no longer available: {message}")]
    ReportExpired {
        /// Zoom's message.
        message: String,
    },
    /// The app's token lacks a scope for this endpoint (codes 4700, 4711; HTTP 403).
    #[error("the Zoom app lacks a scope: {message}")]
    MissingScope {
        /// Zoom's code.
        code: Option<i64>,
        /// Zoom's message.
        message: String,
    },
    /// A per-second or concurrency limit, still hit after the configured retries.
    #[error("Zoom per-second rate limit ({kind:?}) still exceeded after retries")]
    RateLimited {
        /// Per-second or concurrent.
        kind: RateLimitKind,
        /// The endpoint's category, if Zoom said.
        category: Option<RateLimitCategory>,
        /// When Zoom said to retry, if it did.
        retry_at: Option<DateTime<Utc>>,
    },
    /// A daily limit: nothing succeeds before `retry_at`. `per_resource` is true for
    /// per-registrant/per-user limits (e.g. 3 registration requests per registrant per
    /// meeting per day), which do not block other registrants.
    #[error("Zoom daily rate limit reached; retry after {retry_at}: {message}")]
    DailyLimit {
        /// When the limit resets (`Retry-After`, else the next 00:00 UTC).
        retry_at: DateTime<Utc>,
        /// Whether the limit concerns one registrant/user only.
        per_resource: bool,
        /// The endpoint's category, if Zoom said.
        category: Option<RateLimitCategory>,
        /// Zoom's message.
        message: String,
    },
    /// Any other 4xx answer.
    #[error("Zoom refused the request (HTTP {status}, code {code:?}): {message}")]
    Api {
        /// HTTP status.
        status: u16,
        /// Zoom's code.
        code: Option<i64>,
        /// Zoom's message.
        message: String,
    },
    /// A 5xx answer, still after the retries.
    #[error("Zoom server error (HTTP {status}): {message}")]
    Server {
        /// HTTP status.
        status: u16,
        /// Zoom's code, if any.
        code: Option<i64>,
        /// Zoom's message or body text.
        message: String,
    },
    /// The request timed out, still after the retries.
    #[error("request to Zoom timed out")]
    Timeout(#[source] BoxError),
    /// The request could not be sent or its answer not received (DNS, connection refused,
    /// TLS, reset), still after the retries.
    #[error("could not reach Zoom")]
    Transport(#[source] BoxError),
    /// Zoom answered 2xx with a body that does not have the expected shape.
    #[error("unexpected response from Zoom for {what}")]
    Decode {
        /// Which call.
        what: &'static str,
        /// The parse error.
        #[source]
        source: serde_json::Error,
    },
    /// Zoom answered 2xx with something unusable (e.g. a pagination token that repeats).
    #[error("unusable response from Zoom: {0}")]
    InvalidResponse(String),
}

impl ZoomApiError {
    /// Retry, defer or give up (see [`Disposition`]).
    pub fn disposition(&self) -> Disposition {
        let after_of = |t: &Option<DateTime<Utc>>| t.and_then(|t| (t - Utc::now()).to_std().ok());
        match self {
            ZoomApiError::RateLimited { retry_at, .. } => Disposition::Retry {
                after: after_of(retry_at),
            },
            ZoomApiError::Server { .. }
            | ZoomApiError::Timeout(_)
            | ZoomApiError::Transport(_)
            | ZoomApiError::ReportNotReady { .. } => Disposition::Retry { after: None },
            ZoomApiError::DailyLimit { retry_at, .. } => Disposition::Defer { until: *retry_at },
            _ => Disposition::Permanent,
        }
    }

    /// Whether retrying later (with backoff) may succeed: rate limits per second, 5xx,
    /// timeouts, transport failures, and a report that is not ready yet. Daily limits are
    /// *not* retryable in this sense (see [`ZoomApiError::retry_at`]).
    pub fn is_retryable(&self) -> bool {
        matches!(self.disposition(), Disposition::Retry { .. })
    }

    /// For a daily limit, when to try again.
    pub fn retry_at(&self) -> Option<DateTime<Utc>> {
        match self {
            ZoomApiError::DailyLimit { retry_at, .. } => Some(*retry_at),
            ZoomApiError::RateLimited { retry_at, .. } => *retry_at,
            _ => None,
        }
    }

    /// Zoom's own error code, if the answer carried one.
    pub fn zoom_code(&self) -> Option<i64> {
        match self {
            ZoomApiError::MeetingNotFound { code, .. }
            | ZoomApiError::HostNotFound { code, .. }
            | ZoomApiError::NotFound { code, .. }
            | ZoomApiError::RegistrationNotEnabled { code, .. }
            | ZoomApiError::BatchNotSupported { code, .. }
            | ZoomApiError::NotLicensedHost { code, .. }
            | ZoomApiError::ReportNotReady { code, .. }
            | ZoomApiError::ReportsUnavailable { code, .. }
            | ZoomApiError::MissingScope { code, .. }
            | ZoomApiError::Api { code, .. }
            | ZoomApiError::Server { code, .. } => *code,
            ZoomApiError::CapacityReached { .. } => Some(3043),
            ZoomApiError::MeetingOver { .. } => Some(3038),
            ZoomApiError::ReportExpired { .. } => Some(12702),
            _ => None,
        }
    }

    /// A stable snake_case code for logs, stored registration errors and API bodies.
    pub fn code(&self) -> &'static str {
        match self {
            ZoomApiError::InvalidRequest(_) => "zoom_invalid_request",
            ZoomApiError::OAuth { .. } => "zoom_oauth_failed",
            ZoomApiError::InvalidToken { .. } => "zoom_invalid_token",
            ZoomApiError::MeetingNotFound { .. } => "zoom_meeting_not_found",
            ZoomApiError::HostNotFound { .. } => "zoom_host_not_found",
            ZoomApiError::NotFound { .. } => "zoom_not_found",
            ZoomApiError::RegistrationNotEnabled { .. } => "zoom_registration_not_enabled",
            ZoomApiError::CapacityReached { .. } => "zoom_capacity_reached",
            ZoomApiError::BatchNotSupported { .. } => "zoom_batch_not_supported",
            ZoomApiError::MeetingOver { .. } => "zoom_meeting_over",
            ZoomApiError::NotLicensedHost { .. } => "zoom_host_not_licensed",
            ZoomApiError::ReportNotReady { .. } => "zoom_report_not_ready",
            ZoomApiError::ReportsUnavailable { .. } => "zoom_reports_unavailable",
            ZoomApiError::ReportExpired { .. } => "zoom_report_expired",
            ZoomApiError::MissingScope { .. } => "zoom_missing_scope",
            ZoomApiError::RateLimited { .. } => "zoom_rate_limited",
            ZoomApiError::DailyLimit { .. } => "zoom_daily_limit",
            ZoomApiError::Api { .. } => "zoom_api_error",
            ZoomApiError::Server { .. } => "zoom_server_error",
            ZoomApiError::Timeout(_) => "zoom_timeout",
            ZoomApiError::Transport(_) => "zoom_unreachable",
            ZoomApiError::Decode { .. } => "zoom_bad_response",
            ZoomApiError::InvalidResponse(_) => "zoom_bad_response",
        }
    }
}

/// Zoom's error body: `{"code": 3001, "message": "Meeting does not exist: 123."}`. Both fields
/// are optional in practice (the code may also come as a string).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct ZoomErrorBody {
    /// Zoom's error code.
    #[serde(default, deserialize_with = "super::de::opt_i64")]
    pub code: Option<i64>,
    /// Zoom's message.
    #[serde(default, deserialize_with = "super::de::opt_string")]
    pub message: Option<String>,
}

impl ZoomErrorBody {
    /// Parses an error body; a body that is not Zoom's JSON keeps its text (cut to 500
    /// characters) as the message.
    pub fn parse(body: &[u8]) -> Self {
        serde_json::from_slice::<ZoomErrorBody>(body).unwrap_or_else(|_| {
            let text = String::from_utf8_lossy(body);
            let text: String = text.trim().chars().take(500).collect();
            ZoomErrorBody {
                code: None,
                message: (!text.is_empty()).then_some(text),
            }
        })
    }
}

/// Which kind of endpoint answered, for the mapping of ambiguous codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EndpointKind {
    /// Meeting and registrant endpoints.
    Meeting,
    /// `batch_registrants`.
    Batch,
    /// `/report/…` and `/past_meetings/…` (participants, instances).
    Report,
}

/// Maps a non-2xx, non-429 answer (after token refresh and retries) to an error.
pub(crate) fn map_status(
    status: u16,
    body: &ZoomErrorBody,
    endpoint: EndpointKind,
) -> ZoomApiError {
    let code = body.code;
    let message = body
        .message
        .clone()
        .unwrap_or_else(|| format!("HTTP {status}"));
    let lower = message.to_ascii_lowercase();
    let registration_off = lower.contains("registration")
        && (lower.contains("not been enabled")
            || lower.contains("not enabled")
            || lower.contains("not registration required")
            || lower.contains("no registration"));

    if status >= 500 {
        return ZoomApiError::Server {
            status,
            code,
            message,
        };
    }
    if status == 401 {
        return ZoomApiError::InvalidToken { message };
    }
    if endpoint == EndpointKind::Report {
        match code {
            Some(12702) => return ZoomApiError::ReportExpired { message },
            Some(200) => {
                return ZoomApiError::ReportsUnavailable {
                    access: ReportAccess::PlanLacksReports,
                    code,
                    message,
                };
            }
            Some(4700 | 4711) => {
                return ZoomApiError::ReportsUnavailable {
                    access: ReportAccess::MissingScope,
                    code,
                    message,
                };
            }
            _ => {}
        }
        if status == 403 {
            return ZoomApiError::ReportsUnavailable {
                access: if lower.contains("paid") || lower.contains("plan") {
                    ReportAccess::PlanLacksReports
                } else {
                    ReportAccess::MissingScope
                },
                code,
                message,
            };
        }
        if status == 404 || code == Some(3001) {
            return ZoomApiError::ReportNotReady { code, message };
        }
        return ZoomApiError::Api {
            status,
            code,
            message,
        };
    }
    if endpoint == EndpointKind::Batch && code == Some(303) {
        return ZoomApiError::BatchNotSupported { code, message };
    }
    if registration_off {
        return ZoomApiError::RegistrationNotEnabled { code, message };
    }
    match code {
        Some(3043) => return ZoomApiError::CapacityReached { message },
        Some(3038) => return ZoomApiError::MeetingOver { message },
        Some(3161 | 200) => return ZoomApiError::NotLicensedHost { code, message },
        Some(1001 | 1010) => return ZoomApiError::HostNotFound { code, message },
        Some(4700 | 4711) => return ZoomApiError::MissingScope { code, message },
        Some(3001) => return ZoomApiError::MeetingNotFound { code, message },
        Some(300) if lower.contains("not found") || lower.contains("expired") => {
            return ZoomApiError::MeetingNotFound { code, message };
        }
        _ => {}
    }
    if lower.contains("licensed") || lower.contains("paid user") {
        return ZoomApiError::NotLicensedHost { code, message };
    }
    if status == 403 {
        return ZoomApiError::MissingScope { code, message };
    }
    if status == 404 {
        return if lower.contains("meeting") || lower.contains("webinar") {
            ZoomApiError::MeetingNotFound { code, message }
        } else {
            ZoomApiError::NotFound { code, message }
        };
    }
    ZoomApiError::Api {
        status,
        code,
        message,
    }
}

/// Turns a classified 429 that will not be retried into an error.
pub(crate) fn rate_limit_error(hit: &RateLimitHit, message: &str) -> ZoomApiError {
    if hit.kind.is_daily() {
        ZoomApiError::DailyLimit {
            retry_at: hit
                .retry_at
                .unwrap_or_else(|| super::rate_limit::next_utc_midnight(Utc::now())),
            per_resource: hit.kind == RateLimitKind::DailyPerResource,
            category: hit.category,
            message: message.to_owned(),
        }
    } else {
        ZoomApiError::RateLimited {
            kind: hit.kind,
            category: hit.category,
            retry_at: hit.retry_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(code: i64, message: &str) -> ZoomErrorBody {
        ZoomErrorBody {
            code: Some(code),
            message: Some(message.into()),
        }
    }

    #[test]
    fn meeting_endpoint_mapping() {
        use EndpointKind::Meeting as M;
        let cases: [(u16, ZoomErrorBody, &str); 10] = [
            (
                404,
                body(3001, "Meeting does not exist: 1."),
                "zoom_meeting_not_found",
            ),
            (
                404,
                body(
                    404,
                    "Registration has not been enabled for this meeting: 1.",
                ),
                "zoom_registration_not_enabled",
            ),
            (
                400,
                body(300, "This meeting has not registration required: 1."),
                "zoom_registration_not_enabled",
            ),
            (
                400,
                body(3043, "Meeting has reached maximum attendee capacity."),
                "zoom_capacity_reached",
            ),
            (
                400,
                body(
                    3161,
                    "Meeting hosting and scheduling capabilities are not allowed for your user account.",
                ),
                "zoom_host_not_licensed",
            ),
            (
                400,
                body(200, "Only available for Paid user: abc."),
                "zoom_host_not_licensed",
            ),
            (
                404,
                body(1001, "User does not exist: x."),
                "zoom_host_not_found",
            ),
            (
                400,
                body(3038, "Meeting is over, you can not register now."),
                "zoom_meeting_over",
            ),
            (
                400,
                body(4711, "Invalid access token, does not contain permissions"),
                "zoom_missing_scope",
            ),
            (
                400,
                body(3000, "Cannot access meeting info."),
                "zoom_api_error",
            ),
        ];
        for (status, b, expected) in cases {
            assert_eq!(map_status(status, &b, M).code(), expected, "{b:?}");
        }
        assert_eq!(
            map_status(
                400,
                &body(303, "This API can only be used for scheduled meeting"),
                EndpointKind::Batch
            )
            .code(),
            "zoom_batch_not_supported"
        );
        assert_eq!(
            map_status(503, &ZoomErrorBody::default(), M).code(),
            "zoom_server_error"
        );
        assert!(map_status(502, &ZoomErrorBody::default(), M).is_retryable());
    }

    #[test]
    fn report_endpoint_mapping() {
        use EndpointKind::Report as R;
        let not_ready = map_status(404, &body(3001, "Meeting ID is invalid or not end."), R);
        assert!(matches!(not_ready, ZoomApiError::ReportNotReady { .. }));
        assert!(not_ready.is_retryable());
        let plan = map_status(400, &body(200, "Only available for Paid user: x."), R);
        assert!(matches!(
            plan,
            ZoomApiError::ReportsUnavailable {
                access: ReportAccess::PlanLacksReports,
                ..
            }
        ));
        assert!(!plan.is_retryable());
        for code in [4700, 4711] {
            assert!(matches!(
                map_status(
                    400,
                    &body(code, "Invalid access token, does not contain scopes"),
                    R
                ),
                ZoomApiError::ReportsUnavailable {
                    access: ReportAccess::MissingScope,
                    ..
                }
            ));
        }
        assert!(matches!(
            map_status(400, &body(12702, "Can not access meeting a year ago."), R),
            ZoomApiError::ReportExpired { .. }
        ));
    }

    #[test]
    fn error_bodies_are_parsed_leniently() {
        assert_eq!(
            ZoomErrorBody::parse(br#"{"code":"3001","message":"x"}"#),
            body(3001, "x")
        );
        assert_eq!(
            ZoomErrorBody::parse(b"<html>Bad gateway</html>")
                .message
                .as_deref(),
            Some("<html>Bad gateway</html>")
        );
        assert_eq!(ZoomErrorBody::parse(b""), ZoomErrorBody::default());
    }

    #[test]
    fn daily_limits_defer() {
        let until = Utc::now() + chrono::Duration::hours(3);
        let e = ZoomApiError::DailyLimit {
            retry_at: until,
            per_resource: true,
            category: None,
            message: String::new(),
        };
        assert_eq!(e.disposition(), Disposition::Defer { until });
        assert!(!e.is_retryable());
        assert_eq!(e.retry_at(), Some(until));
    }
}
