//! Instances, attendance (JSON and CSV), live view, unmatched people, manual links and
//! reconciliation of one meeting.

use actix_web::{
    HttpResponse,
    http::header::{self, ContentDisposition, DispositionParam, DispositionType},
    web,
};
use attend_core::model::{InstanceId, UserId};

use super::{State, managed_meeting, non_empty};
use crate::{
    auth::Principal,
    dto::{
        Attendance, InstanceList, InstanceQuery, LinkParticipantRequest, LiveView, ReconcileQueued,
        UnmatchedList,
    },
    error::ApiError,
    openapi::responses as r,
};

fn instance_of(query: &InstanceQuery) -> Result<Option<InstanceId>, ApiError> {
    query
        .instance
        .as_deref()
        .map(|uuid| non_empty("instance", uuid).map(InstanceId::new))
        .transpose()
}

/// List a meeting's instances.
#[utoipa::path(
    get,
    path = "/meetings/{id}/instances",
    tag = "attendance",
    operation_id = "list_instances",
    params(("id" = String, Path, description = "attend's meeting id")),
    responses(
        (status = 200, description = "The instances (one per start), earliest first.", body = InstanceList),
        (status = 401, response = r::Unauthenticated),
        (status = 403, response = r::Forbidden),
        (status = 404, response = r::NotFound),
        (status = 422, response = r::InvalidValue),
        (status = 500, response = r::Internal),
        (status = 503, response = r::Unavailable),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn list_instances(
    state: web::Data<State>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<web::Json<InstanceList>, ApiError> {
    let meeting = managed_meeting(&state, &principal, &id).await?;
    let list = state.attend.instances(&meeting.id).await?;
    Ok(web::Json(InstanceList {
        instances: list.instances.into_iter().map(Into::into).collect(),
    }))
}

/// Get the attendance of a meeting.
///
/// For one instance (`instance=uuid`), or aggregated over all instances when `instance` is
/// absent. Statuses are computed when read, so a policy change or a manual link shows at once.
#[utoipa::path(
    get,
    path = "/meetings/{id}/attendance",
    tag = "attendance",
    operation_id = "get_attendance",
    params(("id" = String, Path, description = "attend's meeting id"), InstanceQuery),
    responses(
        (status = 200, description = "The roster, unmatched people and counts.", body = Attendance),
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
pub(crate) async fn get_attendance(
    state: web::Data<State>,
    principal: Principal,
    id: web::Path<String>,
    query: web::Query<InstanceQuery>,
) -> Result<web::Json<Attendance>, ApiError> {
    let meeting = managed_meeting(&state, &principal, &id).await?;
    let instance = instance_of(&query)?;
    let attendance = state
        .attend
        .attendance(&meeting.id, instance.as_ref())
        .await?;
    Ok(web::Json(Attendance::from(attendance)))
}

/// Download the attendance roster as CSV.
///
/// The same roster as `GET .../attendance`, one row per user, with the host's user names.
#[utoipa::path(
    get,
    path = "/meetings/{id}/attendance.csv",
    tag = "attendance",
    operation_id = "get_attendance_csv",
    params(("id" = String, Path, description = "attend's meeting id"), InstanceQuery),
    responses(
        (status = 200, description = "The roster as CSV (UTF-8, header row first).", content_type = "text/csv", body = String,
            headers(("Content-Disposition" = String, description = "`attachment; filename=\"attendance-{id}.csv\"`"))),
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
pub(crate) async fn get_attendance_csv(
    state: web::Data<State>,
    principal: Principal,
    id: web::Path<String>,
    query: web::Query<InstanceQuery>,
) -> Result<HttpResponse, ApiError> {
    let meeting = managed_meeting(&state, &principal, &id).await?;
    let instance = instance_of(&query)?;
    let csv = state
        .attend
        .attendance_csv(&meeting.id, instance.as_ref())
        .await?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(ContentDisposition {
            disposition: DispositionType::Attachment,
            parameters: vec![DispositionParam::Filename(csv_filename(
                meeting.id.as_str(),
            ))],
        })
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(csv))
}

/// `attendance-{id}.csv` with every character outside `[A-Za-z0-9_-]` replaced by `_`.
fn csv_filename(meeting: &str) -> String {
    let safe: String = meeting
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("attendance-{safe}.csv")
}

/// Who is in the meeting right now.
#[utoipa::path(
    get,
    path = "/meetings/{id}/live",
    tag = "attendance",
    operation_id = "get_live",
    params(("id" = String, Path, description = "attend's meeting id")),
    responses(
        (status = 200, description = "The present participants of the running instance (none when not running).", body = LiveView),
        (status = 401, response = r::Unauthenticated),
        (status = 403, response = r::Forbidden),
        (status = 404, response = r::NotFound),
        (status = 422, response = r::InvalidValue),
        (status = 500, response = r::Internal),
        (status = 503, response = r::Unavailable),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn get_live(
    state: web::Data<State>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<web::Json<LiveView>, ApiError> {
    let meeting = managed_meeting(&state, &principal, &id).await?;
    let live = state.attend.live(&meeting.id).await?;
    Ok(web::Json(LiveView::from(live)))
}

/// List participants no host user was found for.
#[utoipa::path(
    get,
    path = "/meetings/{id}/unmatched",
    tag = "attendance",
    operation_id = "list_unmatched",
    params(("id" = String, Path, description = "attend's meeting id")),
    responses(
        (status = 200, description = "Unmatched people over all instances, grouped per person.", body = UnmatchedList),
        (status = 401, response = r::Unauthenticated),
        (status = 403, response = r::Forbidden),
        (status = 404, response = r::NotFound),
        (status = 422, response = r::InvalidValue),
        (status = 500, response = r::Internal),
        (status = 503, response = r::Unavailable),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn list_unmatched(
    state: web::Data<State>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<web::Json<UnmatchedList>, ApiError> {
    let meeting = managed_meeting(&state, &principal, &id).await?;
    let list = state.attend.unmatched(&meeting.id).await?;
    Ok(web::Json(UnmatchedList::from(list)))
}

/// Link an unmatched participant to a host user by hand.
///
/// Every roster of the meeting shows the link at once (`matched_by: manual`). Linking the same
/// key again replaces the link. Answers with the meeting's aggregated attendance after the
/// change.
#[utoipa::path(
    post,
    path = "/meetings/{id}/unmatched/{participant_key}/link",
    tag = "attendance",
    operation_id = "link_participant",
    params(
        ("id" = String, Path, description = "attend's meeting id"),
        ("participant_key" = String, Path, description = "the key from the unmatched list (percent-encoded)"),
    ),
    request_body = LinkParticipantRequest,
    responses(
        (status = 200, description = "Linked; the meeting's aggregated attendance after the change.", body = Attendance),
        (status = 400, response = r::BadRequest),
        (status = 401, response = r::Unauthenticated),
        (status = 403, response = r::Forbidden),
        (status = 404, response = r::NotFound),
        (status = 413, response = r::PayloadTooLarge),
        (status = 415, response = r::UnsupportedMediaType),
        (status = 422, response = r::InvalidValue),
        (status = 500, response = r::Internal),
        (status = 503, response = r::Unavailable),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn link_participant(
    state: web::Data<State>,
    principal: Principal,
    path: web::Path<(String, String)>,
    body: web::Json<LinkParticipantRequest>,
) -> Result<web::Json<Attendance>, ApiError> {
    let (id, key) = path.into_inner();
    let meeting = managed_meeting(&state, &principal, &id).await?;
    let key = non_empty("participant_key", &key)?;
    let user = UserId::new(non_empty("user_id", &body.user_id)?);
    state
        .attend
        .link_participant(&meeting.id, &key, &user, &principal.user_id)
        .await?;
    let attendance = state.attend.attendance(&meeting.id, None).await?;
    Ok(web::Json(Attendance::from(attendance)))
}

/// Queue a pull of Zoom's participant report.
///
/// For one instance (`instance=uuid`) or every ended instance of the meeting. The pull runs in
/// the background; the roster becomes `final` once it succeeded. An instance named by
/// `instance` is pulled even while live: if Zoom has its report (its `meeting.ended` never
/// arrived), it becomes `final`; if not, it stays live. attend also checks such an instance
/// by itself, three hours after it first saw it and then at doubling intervals.
#[utoipa::path(
    post,
    path = "/meetings/{id}/reconcile",
    tag = "attendance",
    operation_id = "reconcile",
    params(("id" = String, Path, description = "attend's meeting id"), InstanceQuery),
    responses(
        (status = 202, description = "The report pull is queued.", body = ReconcileQueued),
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
pub(crate) async fn reconcile(
    state: web::Data<State>,
    principal: Principal,
    id: web::Path<String>,
    query: web::Query<InstanceQuery>,
) -> Result<HttpResponse, ApiError> {
    let meeting = managed_meeting(&state, &principal, &id).await?;
    let instance = instance_of(&query)?;
    let queued = state
        .attend
        .request_reconcile(&meeting.id, instance.as_ref())
        .await?;
    Ok(HttpResponse::Accepted().json(ReconcileQueued::from(queued)))
}

#[cfg(test)]
mod tests {
    use super::csv_filename;

    #[test]
    fn csv_filenames_are_safe() {
        assert_eq!(csv_filename("mtg_1-a"), "attendance-mtg_1-a.csv");
        assert_eq!(csv_filename("a\"b/c\r\n"), "attendance-a_b_c__.csv");
    }
}
