//! `POST /meetings`, `GET /meetings`, `GET /meetings/{id}`, `PATCH /meetings/{id}`.

use actix_web::{HttpResponse, web};
use attend_core::model::{GroupKey, MeetingId, RegistrationStatus};

use super::{State, managed_meeting, non_empty};
use crate::{
    auth::{Principal, Role},
    dto::{LinkMeetingRequest, Meeting, MeetingList, MeetingListQuery, MeetingPatch},
    error::{ApiError, ErrorBody},
    openapi::responses as r,
};

/// Link a Zoom meeting or webinar to a group, or create one.
///
/// Links an existing Zoom meeting/webinar (`zoom_meeting_id`) or creates one at Zoom
/// (`create`), and switches registration on. Admins may link to any group, instructors only
/// to their own groups.
#[utoipa::path(
    post,
    path = "/meetings",
    tag = "meetings",
    operation_id = "link_meeting",
    request_body = LinkMeetingRequest,
    responses(
        (status = 201, description = "The meeting is linked and registration is on.", body = Meeting),
        (status = 400, response = r::BadRequest),
        (status = 401, response = r::Unauthenticated),
        (status = 403, response = r::Forbidden),
        (status = 404, description = "Zoom does not know the meeting (`zoom_meeting_not_found`).", body = ErrorBody),
        (status = 409, response = r::Conflict),
        (status = 413, response = r::PayloadTooLarge),
        (status = 415, response = r::UnsupportedMediaType),
        (status = 422, response = r::InvalidValue),
        (status = 429, response = r::RateLimited),
        (status = 500, response = r::Internal),
        (status = 502, response = r::ZoomError),
        (status = 503, response = r::Unavailable),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn link_meeting(
    state: web::Data<State>,
    principal: Principal,
    body: web::Json<LinkMeetingRequest>,
) -> Result<HttpResponse, ApiError> {
    principal.require_staff()?;
    let body = body.into_inner();
    let group = GroupKey::new(non_empty("group", &body.group)?);
    principal.require_group(&group)?;
    match (&body.zoom_meeting_id, &body.create) {
        (Some(_), Some(_)) => {
            return Err(ApiError::invalid_value(
                "give either zoom_meeting_id (to link) or create (to create), not both",
            ));
        }
        (None, None) => {
            return Err(ApiError::invalid_value(
                "give zoom_meeting_id (to link) or create (to create)",
            ));
        }
        _ => {}
    }
    let mut request = attend_core::service::LinkMeeting::from(body);
    request.group = group;
    let meeting = state.attend.link_meeting(request).await?;
    Ok(HttpResponse::Created().json(Meeting::from(meeting)))
}

/// List meetings.
///
/// Admins see every meeting (or those of `group`); instructors see the meetings of their
/// groups (asking for another group is 403).
#[utoipa::path(
    get,
    path = "/meetings",
    tag = "meetings",
    operation_id = "list_meetings",
    params(MeetingListQuery),
    responses(
        (status = 200, description = "The meetings the caller may see, oldest first.", body = MeetingList),
        (status = 400, response = r::BadRequest),
        (status = 401, response = r::Unauthenticated),
        (status = 403, response = r::Forbidden),
        (status = 422, response = r::InvalidValue),
        (status = 500, response = r::Internal),
        (status = 503, response = r::Unavailable),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn list_meetings(
    state: web::Data<State>,
    principal: Principal,
    query: web::Query<MeetingListQuery>,
) -> Result<web::Json<MeetingList>, ApiError> {
    principal.require_staff()?;
    let group = match &query.group {
        Some(group) => {
            let group = GroupKey::new(non_empty("group", group)?);
            principal.require_group(&group)?;
            Some(group)
        }
        None => None,
    };
    let meetings = state.attend.list_meetings(group.as_ref()).await?;
    let meetings = meetings
        .into_iter()
        .filter(|m| principal.manages(&m.group))
        .map(Meeting::from)
        .collect();
    Ok(web::Json(MeetingList { meetings }))
}

/// Get one meeting.
///
/// For admins, instructors of the meeting's group, and students registered for it (or whose
/// token lists its group).
#[utoipa::path(
    get,
    path = "/meetings/{id}",
    tag = "meetings",
    operation_id = "get_meeting",
    params(("id" = String, Path, description = "attend's meeting id")),
    responses(
        (status = 200, description = "The meeting.", body = Meeting),
        (status = 401, response = r::Unauthenticated),
        (status = 403, response = r::Forbidden),
        (status = 404, response = r::NotFound),
        (status = 422, response = r::InvalidValue),
        (status = 500, response = r::Internal),
        (status = 503, response = r::Unavailable),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn get_meeting(
    state: web::Data<State>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<web::Json<Meeting>, ApiError> {
    let id = MeetingId::new(non_empty("id", &id)?);
    let meeting = state.attend.get_meeting(&id).await?;
    if principal.role == Role::Student {
        if !principal.groups.contains(&meeting.group) {
            let registered = state
                .attend
                .registration(&id, &principal.user_id)
                .await?
                .is_some_and(|r| r.status != RegistrationStatus::Cancelled);
            if !registered {
                return Err(ApiError::forbidden(
                    "students may only read meetings they are registered for",
                ));
            }
        }
    } else {
        principal.require_group(&meeting.group)?;
    }
    Ok(web::Json(Meeting::from(meeting)))
}

/// Change a meeting's policy or restriction.
///
/// The policy fields given replace the current ones (rosters use them at once);
/// `restrict_to_registered` switches Zoom's approval type.
#[utoipa::path(
    patch,
    path = "/meetings/{id}",
    tag = "meetings",
    operation_id = "update_meeting",
    params(("id" = String, Path, description = "attend's meeting id")),
    request_body = MeetingPatch,
    responses(
        (status = 200, description = "The changed meeting.", body = Meeting),
        (status = 400, response = r::BadRequest),
        (status = 401, response = r::Unauthenticated),
        (status = 403, response = r::Forbidden),
        (status = 404, response = r::NotFound),
        (status = 413, response = r::PayloadTooLarge),
        (status = 415, response = r::UnsupportedMediaType),
        (status = 422, response = r::InvalidValue),
        (status = 429, response = r::RateLimited),
        (status = 500, response = r::Internal),
        (status = 502, response = r::ZoomError),
        (status = 503, response = r::Unavailable),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn update_meeting(
    state: web::Data<State>,
    principal: Principal,
    id: web::Path<String>,
    body: web::Json<MeetingPatch>,
) -> Result<web::Json<Meeting>, ApiError> {
    let meeting = managed_meeting(&state, &principal, &id).await?;
    let updated = state
        .attend
        .update_meeting(&meeting.id, body.into_inner().into())
        .await?;
    Ok(web::Json(Meeting::from(updated)))
}
