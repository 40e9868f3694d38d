//! `GET /openapi.json` and the 404/405 answers of the scope.

use actix_web::{HttpResponse, http::header, web};

use super::State;
use crate::error::{ApiError, Resource};

/// The OpenAPI 3.1 document of these routes.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "meta",
    operation_id = "get_openapi",
    responses(
        (status = 200, description = "The OpenAPI 3.1 document of the attend API (paths relative to the mount prefix, which is the first `servers` entry).", content_type = "application/json", body = Object),
    ),
    security(())
)]
pub(crate) async fn openapi_json(state: web::Data<State>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .body(state.openapi.clone())
}

/// 404 `route_not_found` for paths of the scope that match no route.
pub(crate) async fn route_not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound(Resource::Route))
}

/// 405 `method_not_allowed` for a known path with another method.
pub(crate) async fn method_not_allowed() -> Result<HttpResponse, ApiError> {
    Err(ApiError::MethodNotAllowed)
}
