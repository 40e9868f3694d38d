//! The OpenAPI 3.1 document of the attend HTTP API v1.
//!
//! [`openapi()`] returns it with paths relative to wherever the routes are mounted and no
//! `servers` entry: a host that keeps its own utoipa document nests it under its prefix,
//! `host_doc.nest("/attend", attend_actix::openapi())`. The scope serves it at
//! `GET {prefix}/openapi.json` with `servers: [{"url": prefix}]` added
//! ([`openapi_for_prefix`]), so clients generated from the served document call the right
//! URLs.
//!
//! Security schemes: `bearer` (HTTP bearer, JWT) on the management and read routes;
//! `zoom_signature` (the `x-zm-signature` header) on `POST /webhooks/zoom`; none on
//! `GET /join/{token}` (the signed token in the path is the credential) and on
//! `GET /openapi.json`.

use utoipa::{
    Modify, OpenApi,
    openapi::{
        self, ComponentsBuilder, InfoBuilder, LicenseBuilder, ServerBuilder,
        security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme},
    },
};

use crate::{dto, error, handlers};

/// The document, as derived. Use [`openapi()`] to get it.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "attend HTTP API",
        version = "1",
        description = "Know which of your own users attended a Zoom meeting or webinar, and for \
how long. Paths are relative to where the host mounts the attend scope (the first `servers` \
entry). Errors are always `{\"error\": {\"code\", \"message\"}}` with a stable `code`.",
        license(name = "MIT OR Apache-2.0", identifier = "MIT OR Apache-2.0"),
    ),
    paths(
        handlers::docs::openapi_json,
        handlers::webhooks::zoom_webhook,
        handlers::meetings::link_meeting,
        handlers::meetings::list_meetings,
        handlers::meetings::get_meeting,
        handlers::meetings::update_meeting,
        handlers::registrations::register_users,
        handlers::registrations::list_registrations,
        handlers::registrations::cancel_registration,
        handlers::registrations::join_link,
        handlers::join::open_join_link,
        handlers::attendance::list_instances,
        handlers::attendance::get_attendance,
        handlers::attendance::get_attendance_csv,
        handlers::attendance::get_live,
        handlers::attendance::list_unmatched,
        handlers::attendance::link_participant,
        handlers::attendance::reconcile,
        handlers::users::get_user_attendance,
        handlers::users::erase_user,
    ),
    components(
        schemas(
            error::ErrorBody, error::ErrorDetail,
            dto::Meeting, dto::MeetingList, dto::MeetingKind, dto::Policy, dto::PolicyPatch,
            dto::LinkMeetingRequest, dto::CreateZoomMeeting, dto::MeetingPatch,
            dto::RegisterUsersRequest, dto::Registration, dto::RegistrationStatus,
            dto::RegistrationsResponse, dto::RegistrationList, dto::RegistrationCounts,
            dto::JoinLink,
            dto::Instance, dto::InstanceList, dto::InstanceState,
            dto::Attendance, dto::AttendanceWindow, dto::RosterEntry, dto::AttendanceStatus,
            dto::MatchedBy, dto::Interval, dto::IntervalSource, dto::UnmatchedParticipant,
            dto::AttendanceSummary, dto::SharedLink,
            dto::LiveView, dto::LiveParticipant, dto::UnmatchedList,
            dto::LinkParticipantRequest, dto::ReconcileQueued,
            dto::UserAttendance, dto::UserAttendanceRecord,
            dto::WebhookResponse, dto::UrlValidationResponse, dto::WebhookAck,
        ),
        responses(
            responses::BadRequest, responses::Unauthenticated, responses::Forbidden,
            responses::NotFound, responses::Conflict, responses::PayloadTooLarge,
            responses::UnsupportedMediaType, responses::InvalidValue, responses::RateLimited,
            responses::Internal, responses::ZoomError, responses::Unavailable,
        ),
    ),
    modifiers(&SecuritySchemes),
    tags(
        (name = "meetings", description = "Link Zoom meetings and webinars to host groups."),
        (name = "registrations", description = "One Zoom registrant per host user, and personal join links."),
        (name = "join", description = "Personal join links, opened by their holder."),
        (name = "attendance", description = "Instances, rosters, live view, unmatched people, reconciliation."),
        (name = "users", description = "One user's history; erasure."),
        (name = "webhooks", description = "Zoom's event notifications."),
        (name = "meta", description = "This document."),
    )
)]
struct ApiDoc;

/// Adds the security schemes (utoipa's derive cannot describe them all).
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, doc: &mut openapi::OpenApi) {
        let components = doc
            .components
            .get_or_insert_with(|| ComponentsBuilder::new().build());
        let bearer = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .bearer_format("JWT")
            .description(Some(
                "HS256 JWT with the claims `sub` (host user id), `role` (`admin` | `instructor` | \
             `student`), `groups` (group keys an instructor manages) and `exp`; or whatever \
             the host's own authenticator accepts.",
            ))
            .build();
        components.add_security_scheme("bearer", SecurityScheme::Http(bearer));
        components.add_security_scheme(
            "zoom_signature",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "x-zm-signature",
                "Zoom's webhook signature: `v0=` + hex HMAC-SHA256 of \
                 `v0:{x-zm-request-timestamp}:{raw body}` with the app's secret token.",
            ))),
        );
    }
}

/// The OpenAPI 3.1 document of every attend route, paths relative to the mount prefix, no
/// `servers` entry.
pub fn openapi() -> openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    // The crate's own version, not the macro-expansion-time one of the derive.
    doc.info = InfoBuilder::from(doc.info)
        .version(env!("CARGO_PKG_VERSION"))
        .license(Some(
            LicenseBuilder::new()
                .name("MIT OR Apache-2.0")
                .identifier(Some("MIT OR Apache-2.0"))
                .build(),
        ))
        .build();
    doc
}

/// [`openapi()`] with `servers: [{"url": prefix}]` (when `prefix` is not empty): the document
/// the scope serves.
pub fn openapi_for_prefix(prefix: &str) -> openapi::OpenApi {
    let mut doc = openapi();
    if !prefix.is_empty() {
        doc.servers = Some(vec![
            ServerBuilder::new()
                .url(prefix)
                .description(Some("where the host mounts the attend routes"))
                .build(),
        ]);
    }
    doc
}

/// Reusable error responses (`#/components/responses/...`), each with the
/// [`ErrorBody`](crate::error::ErrorBody) envelope.
pub(crate) mod responses {
    use utoipa::{
        ToResponse,
        openapi::{
            ContentBuilder, HeaderBuilder, Ref, RefOr, ResponseBuilder, Type, response::Response,
            schema::ObjectBuilder,
        },
    };

    fn error(description: &str, retry_after: bool, www_authenticate: bool) -> RefOr<Response> {
        let mut builder = ResponseBuilder::new().description(description).content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        );
        if retry_after {
            builder = builder.header(
                "Retry-After",
                HeaderBuilder::new()
                    .schema(Some(
                        ObjectBuilder::new()
                            .schema_type(Type::Integer)
                            .minimum(Some(1)),
                    ))
                    .description(Some("seconds to wait before retrying"))
                    .build(),
            );
        }
        if www_authenticate {
            builder = builder.header(
                "WWW-Authenticate",
                HeaderBuilder::new()
                    .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                    .description(Some("`Bearer`"))
                    .build(),
            );
        }
        builder.build().into()
    }

    macro_rules! error_response {
        ($(#[$doc:meta])* $name:ident, $description:expr $(, $flag:ident)*) => {
            $(#[$doc])*
            pub(crate) struct $name;

            impl<'r> ToResponse<'r> for $name {
                fn response() -> (&'r str, RefOr<Response>) {
                    let retry_after = false $(|| stringify!($flag) == "retry_after")*;
                    let www = false $(|| stringify!($flag) == "www_authenticate")*;
                    (stringify!($name), error($description, retry_after, www))
                }
            }
        };
    }

    error_response!(
        /// 400.
        BadRequest,
        "Malformed request: the body is not JSON (`malformed_json`), or the query string or a \
         path segment cannot be read (`invalid_query`, `invalid_path`)."
    );
    error_response!(
        /// 401.
        Unauthenticated,
        "No credentials (`missing_credentials`), an invalid bearer token (`invalid_token`) or \
         an expired one (`token_expired`).",
        www_authenticate
    );
    error_response!(
        /// 403.
        Forbidden,
        "Authenticated, but not allowed (`forbidden`): instructors only manage their own \
         groups' meetings, students only read their own data."
    );
    error_response!(
        /// 404.
        NotFound,
        "Unknown meeting, instance, registration, user or participant (`meeting_not_found`, \
         `instance_not_found`, `registration_not_found`, `user_not_found`, \
         `participant_not_found`, `zoom_meeting_not_found`, `account_not_found`)."
    );
    error_response!(
        /// 409.
        Conflict,
        "The request collides with stored state (`conflict`), e.g. a Zoom meeting already \
         linked."
    );
    error_response!(
        /// 413.
        PayloadTooLarge,
        "The body is larger than the configured limit (`payload_too_large`)."
    );
    error_response!(
        /// 415.
        UnsupportedMediaType,
        "The body must be sent as `application/json` (`unsupported_media_type`)."
    );
    error_response!(
        /// 422.
        InvalidValue,
        "Well-formed but invalid: wrong JSON shape or types (`invalid_body`) or a value that is \
         not allowed (`invalid_value`)."
    );
    error_response!(
        /// 429.
        RateLimited,
        "Zoom's rate limit is exhausted (`rate_limited`); retry after `Retry-After` seconds.",
        retry_after
    );
    error_response!(
        /// 500.
        Internal,
        "An unexpected error (`internal`); the body never says more than \"internal error\"."
    );
    error_response!(
        /// 502.
        ZoomError,
        "Zoom refused the request for a reason retrying will not fix (`zoom_error`)."
    );
    error_response!(
        /// 503.
        Unavailable,
        "Storage or Zoom is unavailable (`storage_unavailable`, `zoom_unavailable`); retry \
         after `Retry-After` seconds.",
        retry_after
    );
}
