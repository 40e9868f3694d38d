//! `GET /users/{user_id}/attendance` and `DELETE /users/{user_id}`.

use actix_web::{HttpResponse, web};
use attend_core::model::UserId;

use super::{State, non_empty};
use crate::{
    auth::{Principal, Role},
    dto::UserAttendance,
    error::ApiError,
    openapi::responses as r,
};

/// Get one user's attendance history.
///
/// Admins see every record; instructors only the records of meetings of their groups;
/// students only their own history.
#[utoipa::path(
    get,
    path = "/users/{user_id}/attendance",
    tag = "users",
    operation_id = "get_user_attendance",
    params(("user_id" = String, Path, description = "the host user id")),
    responses(
        (status = 200, description = "One record per meeting instance, oldest first.", body = UserAttendance),
        (status = 401, response = r::Unauthenticated),
        (status = 403, response = r::Forbidden),
        (status = 404, response = r::NotFound),
        (status = 422, response = r::InvalidValue),
        (status = 500, response = r::Internal),
        (status = 503, response = r::Unavailable),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn get_user_attendance(
    state: web::Data<State>,
    principal: Principal,
    user: web::Path<String>,
) -> Result<web::Json<UserAttendance>, ApiError> {
    let user = UserId::new(non_empty("user_id", &user)?);
    if principal.role == Role::Student && !principal.is_user(&user) {
        return Err(ApiError::forbidden("you may only read your own data"));
    }
    let mut history = state.attend.user_history(&user).await?;
    if principal.role == Role::Instructor && !principal.is_user(&user) {
        // Keep only meetings of the instructor's groups.
        history
            .records
            .retain(|record| principal.manages(&record.group));
    }
    Ok(web::Json(UserAttendance::from(history)))
}

/// Erase everything attend stores about a user.
///
/// Registrations, join-link clicks, manual links and the participant data tied to the user are
/// removed; their registrants at Zoom are deleted in the background. Idempotent.
#[utoipa::path(
    delete,
    path = "/users/{user_id}",
    tag = "users",
    operation_id = "erase_user",
    params(("user_id" = String, Path, description = "the host user id")),
    responses(
        (status = 204, description = "Erased (or nothing was stored)."),
        (status = 401, response = r::Unauthenticated),
        (status = 403, response = r::Forbidden),
        (status = 422, response = r::InvalidValue),
        (status = 500, response = r::Internal),
        (status = 503, response = r::Unavailable),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn erase_user(
    state: web::Data<State>,
    principal: Principal,
    user: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    principal.require_admin()?;
    let user = UserId::new(non_empty("user_id", &user)?);
    let erased = state.attend.erase_user(&user).await?;
    tracing::info!(
        registrations = erased.registrations,
        participant_events = erased.participant_events,
        "user erased"
    );
    Ok(HttpResponse::NoContent().finish())
}
