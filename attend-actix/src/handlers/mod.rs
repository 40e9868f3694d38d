//! The route handlers: each authenticates, checks the role rules, calls one method of the
//! service and converts the answer into the API object. No business logic lives here.

pub(crate) mod attendance;
pub(crate) mod docs;
pub(crate) mod join;
pub(crate) mod meetings;
pub(crate) mod registrations;
pub(crate) mod users;
pub(crate) mod webhooks;

use actix_web::web;
use attend_core::{
    model::{MeetingId, UserId},
    service::{self, Attend},
};

use crate::{
    auth::{Principal, Role},
    error::ApiError,
};

/// The scope's shared state, stored as `web::Data<State>` on every attend resource.
#[derive(Clone, Debug)]
pub(crate) struct State {
    pub(crate) attend: Attend,
    pub(crate) webhook_body_limit: usize,
    pub(crate) openapi: web::Bytes,
}

/// A non-empty, trimmed id from a path or query value; 422 `invalid_value` otherwise.
pub(crate) fn non_empty(field: &str, value: &str) -> Result<String, ApiError> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(ApiError::invalid_value(format!(
            "{field} must not be empty"
        )));
    }
    if trimmed.len() > 512 {
        return Err(ApiError::invalid_value(format!(
            "{field} must be at most 512 bytes long"
        )));
    }
    Ok(trimmed.to_owned())
}

/// The meeting `id`, after checking that `principal` manages its group (admins: any;
/// instructors: their groups; students: never — answered 403 before the meeting is even
/// looked up, so students learn nothing about which ids exist).
pub(crate) async fn managed_meeting(
    state: &State,
    principal: &Principal,
    id: &str,
) -> Result<service::Meeting, ApiError> {
    principal.require_staff()?;
    let id = MeetingId::new(non_empty("id", id)?);
    let meeting = state.attend.get_meeting(&id).await?;
    principal.require_group(&meeting.group)?;
    Ok(meeting)
}

/// The meeting `id` for a read about `user`: allowed for `user` themself and for whoever
/// manages the meeting's group; 403 for everyone else.
pub(crate) async fn meeting_for_user(
    state: &State,
    principal: &Principal,
    id: &str,
    user: &UserId,
) -> Result<service::Meeting, ApiError> {
    if principal.role == Role::Student && !principal.is_user(user) {
        return Err(ApiError::forbidden("you may only read your own data"));
    }
    let id = MeetingId::new(non_empty("id", id)?);
    let meeting = state.attend.get_meeting(&id).await?;
    principal.require_self_or_group(user, &meeting.group)?;
    Ok(meeting)
}
