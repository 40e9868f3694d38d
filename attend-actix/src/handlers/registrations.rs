//! Registrations and personal join links of one meeting.

use actix_web::{HttpResponse, web};
use attend_core::model::{RegistrationStatus, UserId};

use super::{State, managed_meeting, meeting_for_user, non_empty};
use crate::{
    auth::{Principal, Role},
    dto::{
        JoinLink, JoinLinkQuery, RegisterUsersRequest, Registration, RegistrationList,
        RegistrationsResponse,
    },
    error::ApiError,
    openapi::responses as r,
};

/// The most registrants Zoom allows per meeting.
const MAX_USERS: usize = 4999;

/// Register users for a meeting.
///
/// Idempotent: a user who is already registered (or pending) is never registered twice.
/// Answers 200 when every requested user is done (`registered`, `failed` or `cancelled`), and
/// 202 when some are still `pending` (they are finished in the background; poll
/// `GET .../registrations`).
#[utoipa::path(
    post,
    path = "/meetings/{id}/registrations",
    tag = "registrations",
    operation_id = "register_users",
    params(("id" = String, Path, description = "attend's meeting id")),
    request_body = RegisterUsersRequest,
    responses(
        (status = 200, description = "Every requested user is done.", body = RegistrationsResponse),
        (status = 202, description = "Some users are still `pending`; they are finished in the background.", body = RegistrationsResponse),
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
pub(crate) async fn register_users(
    state: web::Data<State>,
    principal: Principal,
    id: web::Path<String>,
    body: web::Json<RegisterUsersRequest>,
) -> Result<HttpResponse, ApiError> {
    let meeting = managed_meeting(&state, &principal, &id).await?;
    let body = body.into_inner();
    if body.user_ids.is_empty() {
        return Err(ApiError::invalid_value("user_ids must not be empty"));
    }
    if body.user_ids.len() > MAX_USERS {
        return Err(ApiError::invalid_value(format!(
            "user_ids may hold at most {MAX_USERS} ids (Zoom's registrant limit)"
        )));
    }
    let users = body
        .user_ids
        .iter()
        .map(|u| non_empty("user_ids[]", u).map(UserId::new))
        .collect::<Result<Vec<_>, _>>()?;
    let outcome = state.attend.register_users(&meeting.id, &users).await?;
    let response = RegistrationsResponse {
        registrations: outcome
            .registrations
            .into_iter()
            .map(Registration::from)
            .collect(),
    };
    Ok(if outcome.complete {
        HttpResponse::Ok().json(response)
    } else {
        HttpResponse::Accepted().json(response)
    })
}

/// List a meeting's registrations.
#[utoipa::path(
    get,
    path = "/meetings/{id}/registrations",
    tag = "registrations",
    operation_id = "list_registrations",
    params(("id" = String, Path, description = "attend's meeting id")),
    responses(
        (status = 200, description = "Every registration of the meeting, with counts per status.", body = RegistrationList),
        (status = 401, response = r::Unauthenticated),
        (status = 403, response = r::Forbidden),
        (status = 404, response = r::NotFound),
        (status = 422, response = r::InvalidValue),
        (status = 500, response = r::Internal),
        (status = 503, response = r::Unavailable),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn list_registrations(
    state: web::Data<State>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<web::Json<RegistrationList>, ApiError> {
    let meeting = managed_meeting(&state, &principal, &id).await?;
    let list = state.attend.registrations(&meeting.id).await?;
    Ok(web::Json(RegistrationList {
        registrations: list
            .registrations
            .into_iter()
            .map(Registration::from)
            .collect(),
        counts: list.counts.into(),
    }))
}

/// Cancel a user's registration.
///
/// Cancels the registrant at Zoom; the user's personal link stops working.
#[utoipa::path(
    delete,
    path = "/meetings/{id}/registrations/{user_id}",
    tag = "registrations",
    operation_id = "cancel_registration",
    params(
        ("id" = String, Path, description = "attend's meeting id"),
        ("user_id" = String, Path, description = "the host user id"),
    ),
    responses(
        (status = 204, description = "Cancelled (or already cancelled)."),
        (status = 401, response = r::Unauthenticated),
        (status = 403, response = r::Forbidden),
        (status = 404, response = r::NotFound),
        (status = 422, response = r::InvalidValue),
        (status = 429, response = r::RateLimited),
        (status = 500, response = r::Internal),
        (status = 502, response = r::ZoomError),
        (status = 503, response = r::Unavailable),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn cancel_registration(
    state: web::Data<State>,
    principal: Principal,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, user) = path.into_inner();
    let meeting = managed_meeting(&state, &principal, &id).await?;
    let user = UserId::new(non_empty("user_id", &user)?);
    state.attend.cancel_registration(&meeting.id, &user).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Get a personal join link.
///
/// Students get their own link (`user_id` omitted or their own) for a meeting they are
/// registered for, or one of a group listed in their token's `groups` (their courses);
/// admins and instructors of the meeting's group may ask for anybody's. Opening the link
/// registers the user on first use if needed.
#[utoipa::path(
    get,
    path = "/meetings/{id}/join-link",
    tag = "registrations",
    operation_id = "get_join_link",
    params(("id" = String, Path, description = "attend's meeting id"), JoinLinkQuery),
    responses(
        (status = 200, description = "The personal link and when it expires.", body = JoinLink),
        (status = 400, response = r::BadRequest),
        (status = 401, response = r::Unauthenticated),
        (status = 403, response = r::Forbidden),
        (status = 404, response = r::NotFound),
        (status = 422, response = r::InvalidValue),
        (status = 500, response = r::Internal),
        (status = 503, response = r::Unavailable),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn join_link(
    state: web::Data<State>,
    principal: Principal,
    id: web::Path<String>,
    query: web::Query<JoinLinkQuery>,
) -> Result<web::Json<JoinLink>, ApiError> {
    let user = match &query.user_id {
        Some(user) => UserId::new(non_empty("user_id", user)?),
        None => principal.user_id.clone(),
    };
    let meeting = meeting_for_user(&state, &principal, &id, &user).await?;
    if principal.role == Role::Student && !principal.groups.contains(&meeting.group) {
        let registered = state
            .attend
            .registration(&meeting.id, &user)
            .await?
            .is_some_and(|r| r.status != RegistrationStatus::Cancelled);
        if !registered {
            return Err(ApiError::forbidden(
                "students may only get links to meetings they are registered for or of their own groups",
            ));
        }
    }
    let link = state.attend.join_link(&meeting.id, &user).await?;
    Ok(web::Json(JoinLink::from(link)))
}
