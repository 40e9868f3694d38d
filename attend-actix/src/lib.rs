//! # attend-actix
//!
//! The actix-web adapter of **attend**: one mountable scope that serves the attend HTTP API v1
//! (link Zoom meetings to your groups, register your users, hand out personal join links,
//! receive Zoom's webhooks, read attendance rosters) and its OpenAPI 3.1 document, as a thin
//! layer over [`attend_core::service::Attend`].
//!
//! ```no_run
//! use std::sync::Arc;
//!
//! use actix_web::{App, HttpServer};
//! use attend_actix::{AttendConfig, auth::JwtAuthenticator};
//! # use attend_core::service::{Attend, ZoomAccount};
//! # fn build_attend() -> Attend { unimplemented!() }
//!
//! # #[actix_web::main]
//! # async fn main() -> std::io::Result<()> {
//! let attend: Attend = build_attend(); // attend_core::service::Attend::builder()...build()
//! let jwt_secret = std::env::var("ATTEND_JWT_SECRET").unwrap_or_default();
//! let cfg = AttendConfig::builder(
//!     attend.clone(),
//!     Arc::new(JwtAuthenticator::new(jwt_secret.as_bytes())),
//! )
//! .build();
//!
//! // Background work (webhook processing, registrations, report pulls): once per process.
//! tokio::spawn(attend.clone().run_worker(std::future::pending()));
//!
//! HttpServer::new(move || App::new().service(attend_actix::scope("/attend", cfg.clone())))
//!     .bind("127.0.0.1:8080")?
//!     .run()
//!     .await
//! # }
//! ```
//!
//! Inside a scope of your own, use [`configure`] instead (and tell the builder the prefix,
//! for the OpenAPI `servers` entry):
//!
//! ```
//! # use actix_web::{App, web};
//! # fn demo(cfg: attend_actix::AttendConfig) {
//! let app = App::new().service(web::scope("/lms/attend").configure(attend_actix::configure(cfg)));
//! # }
//! ```
//!
//! The service's own `mount_prefix` (used to build personal join links) must name the same
//! prefix as the scope.
//!
//! # Routes
//!
//! Relative to the mount prefix (see `API.md` for the full contract):
//!
//! | method, path | who |
//! |---|---|
//! | `GET /openapi.json` | anyone |
//! | `POST /webhooks/zoom` | Zoom (signature) |
//! | `POST /meetings`, `GET /meetings` | admin, instructor (own groups) |
//! | `GET /meetings/{id}` | admin, instructor of its group, registered student |
//! | `PATCH /meetings/{id}` | admin, instructor of its group |
//! | `POST`/`GET /meetings/{id}/registrations`, `DELETE …/registrations/{user_id}` | admin, instructor of its group |
//! | `GET /meetings/{id}/join-link[?user_id=]` | the student (self), admin, instructor of its group |
//! | `GET /join/{token}` | the token holder |
//! | `GET /meetings/{id}/instances`, `…/attendance`, `…/attendance.csv`, `…/live`, `…/unmatched` | admin, instructor of its group |
//! | `POST /meetings/{id}/unmatched/{participant_key}/link`, `POST …/reconcile` | admin, instructor of its group |
//! | `GET /users/{user_id}/attendance` | admin, instructor (records of their groups), the student (self) |
//! | `DELETE /users/{user_id}` | admin |
//!
//! Students get 403 (never 404) on other people's data. A student may read a meeting, and
//! get their own join link, when they are registered for it or when their token's `groups`
//! lists the meeting's group (put a student's courses there to allow lazy registration from
//! the join link).
//!
//! # Authentication
//!
//! The scope takes an `Arc<dyn` [`Authenticator`](auth::Authenticator)`>`: the built-in
//! [`JwtAuthenticator`](auth::JwtAuthenticator) (bearer JWT, HS256, claims `sub`, `role`,
//! `groups`, `exp`) or the host's own (a session cookie, a gateway header). See [`auth`].
//!
//! # Errors
//!
//! Every error is `{"error": {"code", "message"}}` ([`error::ErrorBody`]) with a fixed
//! status per code; 429 and 503 carry `Retry-After`; 500s never show their cause.
//!
//! | code | status |
//! |---|---|
//! | `malformed_json`, `invalid_query`, `invalid_path` | 400 |
//! | `missing_credentials`, `invalid_token`, `token_expired`, `invalid_signature`, `invalid_join_token` | 401 |
//! | `forbidden` | 403 |
//! | `meeting_not_found`, `instance_not_found`, `registration_not_found`, `user_not_found`, `participant_not_found`, `zoom_meeting_not_found`, `account_not_found`, `route_not_found` | 404 |
//! | `method_not_allowed` | 405 |
//! | `conflict` | 409 |
//! | `join_link_expired` | 410 |
//! | `payload_too_large` | 413 |
//! | `unsupported_media_type` | 415 |
//! | `invalid_body`, `invalid_value` | 422 |
//! | `rate_limited` | 429 |
//! | `internal` | 500 |
//! | `zoom_error` | 502 |
//! | `storage_unavailable`, `zoom_unavailable` | 503 |
//!
//! `GET /join/{token}` answers errors as a short HTML page when the client accepts
//! `text/html` (a browser), with the same status.
//!
//! # Webhook body limit
//!
//! `POST /webhooks/zoom` reads the raw body (the signature covers the exact bytes) up to
//! [`AttendConfigBuilder::webhook_body_limit`] (default: the service's, 1 MiB), refusing
//! larger bodies with 413 from their `Content-Length` before reading, or as soon as the limit
//! is crossed. JSON bodies of the other routes are limited by
//! [`AttendConfigBuilder::json_body_limit`].
//!
//! # Observability
//!
//! See [`telemetry`]: one `tracing` span per request (route pattern, status, role; never
//! tokens, secrets or bodies) and `metrics` counters/histograms. The host installs the
//! subscriber and the recorder.
//!
//! # Features
//!
//! * `swagger-ui`: serve Swagger UI at `{prefix}/docs/` (assets compiled in; enable with
//!   `AttendConfigBuilder::swagger_ui`).

#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod auth;
mod config;
mod convert;
pub mod dto;
pub mod error;
mod handlers;
mod html;
pub mod openapi;
pub mod telemetry;

use actix_web::{Resource, Scope, middleware::from_fn, web};

pub use crate::{
    config::{AttendConfig, AttendConfigBuilder, DEFAULT_JSON_BODY_LIMIT},
    openapi::openapi,
};

use crate::{
    auth::AuthData,
    config::normalize_prefix,
    error::{json_config, path_config, query_config},
    handlers::{State, attendance, docs, join, meetings, registrations, users, webhooks},
};

/// Whether `prefix` (normalized) names the service's own mount prefix; logs a warning when
/// not, since personal join links are built from the service's prefix.
pub(crate) fn warn_on_prefix_mismatch(config: &AttendConfig, prefix: &str) -> bool {
    let service = normalize_prefix(config.attend.mount_prefix());
    let matches = service == prefix;
    if !matches {
        tracing::warn!(
            scope_prefix = prefix,
            service_prefix = %service,
            "attend routes are mounted at a prefix other than the service's mount_prefix: \
             personal join links ({{public_url}}{{service_prefix}}/join/...) will not reach \
             them; set AttendBuilder::mount_prefix to the same prefix"
        );
    }
    matches
}

/// The attend routes as an actix [`Scope`] mounted at `prefix` (e.g. `"/attend"`):
/// `App::new().service(attend_actix::scope("/attend", cfg.clone()))`.
///
/// Paths of the scope that match no route answer 404 `route_not_found` in the attend error
/// format. To mount at the application root, or inside a scope of your own, use
/// [`configure`].
///
/// `prefix` must be the service's own [`Attend::mount_prefix`](attend_core::service::Attend::mount_prefix),
/// from which personal join links are built: when they differ, a warning is logged
/// (`attend_actix` target) at start-up, since those links would lead nowhere.
pub fn scope(prefix: &str, mut config: AttendConfig) -> Scope {
    let prefix = normalize_prefix(prefix);
    warn_on_prefix_mismatch(&config, &prefix);
    config.mount_prefix = Some(prefix.clone());
    web::scope(&prefix)
        .configure(configure(config))
        .default_service(web::to(docs::route_not_found))
}

/// The attend routes as a `ServiceConfig` function, for `App::configure` or
/// `Scope::configure`. Everything (service, authenticator, extractor error handlers, limits)
/// is set per attend resource, so the host's own routes are not affected.
pub fn configure(config: AttendConfig) -> impl Fn(&mut web::ServiceConfig) + Clone {
    if let Some(prefix) = &config.mount_prefix {
        warn_on_prefix_mismatch(&config, prefix);
    }
    let prefix = config.mount_prefix.clone().unwrap_or_default();
    let openapi = serde_json::to_vec(&openapi::openapi_for_prefix(&prefix))
        .expect("the OpenAPI document always serializes");
    let state = web::Data::new(State {
        attend: config.attend.clone(),
        webhook_body_limit: config.webhook_body_limit,
        openapi: web::Bytes::from(openapi),
    });
    let auth = web::Data::new(AuthData(config.authenticator.clone()));
    move |cfg: &mut web::ServiceConfig| {
        let res = |path: &str| resource(path, &state, &auth, &config);
        if config.serve_openapi {
            cfg.service(
                res("/openapi.json")
                    .route(web::get().to(docs::openapi_json))
                    .wrap(from_fn(telemetry::middleware)),
            );
        }
        // The two routes hit most (by Zoom, and by every student's click) come first, after
        // the static `/openapi.json`: actix tries routes in order, and each `{param}` route
        // it passes runs a regex.
        cfg.service(
            res("/webhooks/zoom")
                .app_data(web::PayloadConfig::new(config.webhook_body_limit))
                .route(web::post().to(webhooks::zoom_webhook))
                .wrap(from_fn(telemetry::middleware)),
        );
        cfg.service(
            res("/join/{token}")
                .route(web::get().to(join::open_join_link))
                .wrap(from_fn(telemetry::middleware)),
        );
        cfg.service(
            res("/meetings")
                .route(web::post().to(meetings::link_meeting))
                .route(web::get().to(meetings::list_meetings))
                .wrap(from_fn(telemetry::middleware)),
        );
        cfg.service(
            res("/meetings/{id}")
                .route(web::get().to(meetings::get_meeting))
                .route(web::patch().to(meetings::update_meeting))
                .wrap(from_fn(telemetry::middleware)),
        );
        cfg.service(
            res("/meetings/{id}/registrations")
                .route(web::post().to(registrations::register_users))
                .route(web::get().to(registrations::list_registrations))
                .wrap(from_fn(telemetry::middleware)),
        );
        cfg.service(
            res("/meetings/{id}/registrations/{user_id}")
                .route(web::delete().to(registrations::cancel_registration))
                .wrap(from_fn(telemetry::middleware)),
        );
        cfg.service(
            res("/meetings/{id}/join-link")
                .route(web::get().to(registrations::join_link))
                .wrap(from_fn(telemetry::middleware)),
        );
        cfg.service(
            res("/meetings/{id}/instances")
                .route(web::get().to(attendance::list_instances))
                .wrap(from_fn(telemetry::middleware)),
        );
        cfg.service(
            res("/meetings/{id}/attendance")
                .route(web::get().to(attendance::get_attendance))
                .wrap(from_fn(telemetry::middleware)),
        );
        cfg.service(
            res("/meetings/{id}/attendance.csv")
                .route(web::get().to(attendance::get_attendance_csv))
                .wrap(from_fn(telemetry::middleware)),
        );
        cfg.service(
            res("/meetings/{id}/live")
                .route(web::get().to(attendance::get_live))
                .wrap(from_fn(telemetry::middleware)),
        );
        cfg.service(
            res("/meetings/{id}/unmatched")
                .route(web::get().to(attendance::list_unmatched))
                .wrap(from_fn(telemetry::middleware)),
        );
        cfg.service(
            res("/meetings/{id}/unmatched/{participant_key}/link")
                .route(web::post().to(attendance::link_participant))
                .wrap(from_fn(telemetry::middleware)),
        );
        cfg.service(
            res("/meetings/{id}/reconcile")
                .route(web::post().to(attendance::reconcile))
                .wrap(from_fn(telemetry::middleware)),
        );
        cfg.service(
            res("/users/{user_id}/attendance")
                .route(web::get().to(users::get_user_attendance))
                .wrap(from_fn(telemetry::middleware)),
        );
        cfg.service(
            res("/users/{user_id}")
                .route(web::delete().to(users::erase_user))
                .wrap(from_fn(telemetry::middleware)),
        );
        #[cfg(feature = "swagger-ui")]
        if config.swagger_ui {
            swagger::register(cfg, &prefix);
        }
    }
}

/// A resource with the attend state, the authenticator, the extractor error handlers, and a
/// JSON 405 for other methods.
fn resource(
    path: &str,
    state: &web::Data<State>,
    auth: &web::Data<AuthData>,
    config: &AttendConfig,
) -> Resource {
    web::resource(path)
        .app_data(state.clone())
        .app_data(auth.clone())
        .app_data(json_config(config.json_body_limit))
        .app_data(query_config())
        .app_data(path_config())
        .default_service(web::to(docs::method_not_allowed))
}

#[cfg(feature = "swagger-ui")]
mod swagger {
    use actix_web::web;
    use utoipa_swagger_ui::{Config, SwaggerUi};

    /// Swagger UI at `{prefix}/docs/`, reading the served document.
    pub(super) fn register(cfg: &mut web::ServiceConfig, prefix: &str) {
        let spec_url = format!("{prefix}/openapi.json");
        cfg.service(SwaggerUi::new("/docs/{_:.*}").config(Config::new([spec_url])));
    }
}
