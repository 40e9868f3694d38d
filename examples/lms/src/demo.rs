//! Demo mode: the built-in Zoom simulator, demo data, the dev-only token helper and the
//! "play a simulated class" action.

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use crate::auth::TOKEN_TTL;
use crate::db::{self, Role};
use crate::error::LmsError;
use crate::state::Lms;

/// Demo-mode facilities shared by the routes.
#[derive(Debug, Default)]
pub struct Demo {}

/// Registers the demo-only routes (they answer 404 outside demo mode).
pub fn configure_routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/dev/token", web::get().to(dev_token));
}

/// Query of `GET /lms/dev/token`.
#[derive(Debug, Deserialize)]
pub struct TokenQuery {
    /// The user to mint a token for.
    pub user: String,
}

/// The groups to put in a user's token: the courses an instructor teaches (admins and
/// students need none).
pub(crate) async fn groups_for(
    lms: &Lms,
    user_id: &str,
    role: Role,
) -> Result<Vec<String>, LmsError> {
    if role != Role::Instructor {
        return Ok(Vec::new());
    }
    let id = user_id.to_owned();
    Ok(lms
        .store
        .with_conn(move |conn| db::courses_taught_by(conn, &id))
        .await?)
}

async fn dev_token(
    lms: web::Data<Lms>,
    query: web::Query<TokenQuery>,
) -> Result<HttpResponse, LmsError> {
    if lms.demo.is_none() {
        return Err(LmsError::NotFound(
            "route (the token helper exists only in demo mode)",
        ));
    }
    let id = query.into_inner().user;
    let lookup = id.clone();
    let user = lms
        .store
        .with_conn(move |conn| db::get_user(conn, &lookup))
        .await?
        .ok_or(LmsError::NotFound("user"))?;
    let groups = groups_for(&lms, &user.id, user.role).await?;
    let issued = lms.tokens.issue(&user, groups.clone(), TOKEN_TTL)?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(serde_json::json!({
            "token": issued.token,
            "expires_at": issued.expires_at,
            "user": user,
            "groups": groups,
        })))
}
