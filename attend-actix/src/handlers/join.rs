//! `GET /join/{token}`: a personal join link, opened by its holder (usually in a browser).

use actix_web::{HttpRequest, HttpResponse, http::header, web};

use super::State;
use crate::{error::ApiError, html, openapi::responses as r};

/// Open a personal join link.
///
/// Authenticated by the signed token in the path. Registers the user at Zoom on first use if
/// needed, records the click, and redirects to the user's own Zoom `join_url`. Errors are a
/// short readable HTML page for browsers (`Accept: text/html`) and JSON otherwise: an
/// expired link is 410, a tampered one 401, and 503/429 with `Retry-After` when Zoom or
/// storage asks us to wait.
#[utoipa::path(
    get,
    path = "/join/{token}",
    tag = "join",
    operation_id = "open_join_link",
    params(("token" = String, Path, description = "the signed join token (a credential: never log it)")),
    responses(
        (status = 302, description = "Redirect to the user's personal Zoom join URL.",
            headers(("Location" = String, description = "the user's Zoom `join_url`"))),
        (status = 401, description = "The token is not valid (tampered or truncated): `invalid_join_token`. HTML for browsers.", body = crate::error::ErrorBody),
        (status = 403, response = r::Forbidden),
        (status = 404, response = r::NotFound),
        (status = 410, description = "The link has expired: `join_link_expired`. HTML for browsers.", body = crate::error::ErrorBody),
        (status = 429, response = r::RateLimited),
        (status = 500, response = r::Internal),
        (status = 502, response = r::ZoomError),
        (status = 503, response = r::Unavailable),
    ),
    security(())
)]
pub(crate) async fn open_join_link(
    state: web::Data<State>,
    req: HttpRequest,
    token: web::Path<String>,
) -> HttpResponse {
    let token = token.into_inner();
    let result = if token.trim().is_empty() || token.len() > 4096 {
        Err(ApiError::InvalidJoinToken)
    } else {
        state
            .attend
            .open_join_link(token.trim())
            .await
            .map_err(ApiError::from)
    };
    match result {
        Ok(redirect) => HttpResponse::Found()
            .insert_header((header::LOCATION, redirect.zoom_join_url))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .insert_header((header::REFERRER_POLICY, "no-referrer"))
            .finish(),
        Err(err) => html::error_for(&req, err),
    }
}
