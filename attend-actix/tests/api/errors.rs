//! Error paths shared by every route: authentication, bodies, unknown routes, outages, and
//! opaque 500s.

use std::sync::Arc;

use actix_web::{
    App, HttpRequest, HttpResponse,
    http::StatusCode,
    test::{self, TestRequest},
    web,
};
use attend_actix::auth::{AuthError, Authenticator, Claims, JwtAuthenticator, Principal, Role};
use futures::future::LocalBoxFuture;
use serde_json::json;

use crate::common::*;

#[actix_web::test]
async fn missing_invalid_and_expired_bearer_tokens_are_401_with_distinct_codes() {
    let h = Harness::new().await;
    let app = app(&h.config).await;
    let none = send(&app, TestRequest::get().uri("/attend/meetings")).await;
    assert_eq!(none.status, StatusCode::UNAUTHORIZED);
    assert_eq!(none.code(), "missing_credentials");
    assert_eq!(none.header("www-authenticate"), Some("Bearer"));

    let expired = h
        .auth
        .issue(&Claims {
            sub: "a1".into(),
            role: Role::Admin,
            groups: vec![],
            exp: chrono::Utc::now().timestamp() - 3600,
        })
        .unwrap();
    let answer = send(&app, get("/attend/meetings", &expired)).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.code(), "token_expired");

    let forged = JwtAuthenticator::new(b"some-other-secret-that-is-long-enough!")
        .issue(&Claims {
            sub: "a1".into(),
            role: Role::Admin,
            groups: vec![],
            exp: chrono::Utc::now().timestamp() + 3600,
        })
        .unwrap();
    for token in [forged.as_str(), "garbage", "a.b.c"] {
        let answer = send(&app, get("/attend/meetings", token)).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{token}");
        assert_eq!(answer.code(), "invalid_token");
    }
    let basic = TestRequest::get()
        .uri("/attend/meetings")
        .insert_header(("authorization", "Basic YTpi"));
    assert_eq!(send(&app, basic).await.code(), "invalid_token");

    // A personal join token is not a bearer token, though signed with the same secret.
    let (join, _) = attend_core::join_token::JoinTokens::new(
        &attend_core::join_token::JwtSecret::new(JWT_SECRET.to_vec()).unwrap(),
    )
    .issue(&"a1".into(), &"m1".into(), chrono::Duration::hours(1))
    .unwrap();
    assert_eq!(
        send(&app, get("/attend/meetings", &join)).await.code(),
        "invalid_token"
    );
}

#[actix_web::test]
async fn malformed_and_mistyped_json_bodies() {
    let h = Harness::new().await;
    let app = app(&h.config).await;
    let raw = |body: &str, content_type: &str| {
        TestRequest::post()
            .uri("/attend/meetings")
            .insert_header(("authorization", format!("Bearer {}", h.admin())))
            .insert_header(("content-type", content_type.to_owned()))
            .set_payload(body.to_owned())
    };
    for body in ["{\"group\": ", "{group: 1}", "", "nul"] {
        let answer = send(&app, raw(body, "application/json")).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{body:?}");
        assert_eq!(answer.code(), "malformed_json", "{body:?}");
    }
    for body in ["[]", "42", "{\"group\": 7, \"kind\": \"meeting\"}"] {
        let answer = send(&app, raw(body, "application/json")).await;
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{body:?}");
        assert_eq!(answer.code(), "invalid_body", "{body:?}");
    }
    let answer = send(&app, raw("{}", "text/plain")).await;
    assert_eq!(answer.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(answer.code(), "unsupported_media_type");

    let huge = format!("{{\"user_ids\": [\"{}\"]}}", "x".repeat(600 * 1024));
    let answer = send(
        &app,
        TestRequest::post()
            .uri("/attend/meetings/any/registrations")
            .insert_header(("authorization", format!("Bearer {}", h.admin())))
            .insert_header(("content-type", "application/json"))
            .set_payload(huge),
    )
    .await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(answer.code(), "payload_too_large");
}

#[actix_web::test]
async fn unknown_routes_and_methods_answer_in_the_error_format() {
    let h = Harness::new().await;
    let app = app(&h.config).await;
    let answer = send(&app, get("/attend/no/such/route", &h.admin())).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert_eq!(answer.code(), "route_not_found");
    let answer = send(&app, delete("/attend/meetings", &h.admin())).await;
    assert_eq!(answer.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(answer.code(), "method_not_allowed");
}

#[actix_web::test]
async fn storage_down_on_a_read_is_503_with_retry_after() {
    let h = Harness::new().await;
    let app = app(&h.config).await;
    let (id, _) = linked_meeting(&h, &app).await;
    h.store.set_unavailable(true);
    for uri in [
        format!("/attend/meetings/{id}"),
        format!("/attend/meetings/{id}/attendance"),
        "/attend/meetings".to_owned(),
    ] {
        let answer = send(&app, get(&uri, &h.admin())).await;
        assert_eq!(
            answer.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{uri}: {}",
            answer.text()
        );
        assert_eq!(answer.code(), "storage_unavailable");
        assert!(
            answer
                .header("retry-after")
                .is_some_and(|v| v.parse::<u64>().unwrap() >= 1)
        );
    }
    h.store.set_unavailable(false);
    assert_eq!(
        send(&app, get(&format!("/attend/meetings/{id}"), &h.admin()))
            .await
            .status,
        StatusCode::OK
    );
}

/// An authenticator whose backend fails with an error full of internal details.
#[derive(Debug)]
struct BrokenSessions {
    retryable: bool,
}

impl Authenticator for BrokenSessions {
    fn authenticate<'a>(
        &'a self,
        _req: &'a HttpRequest,
    ) -> LocalBoxFuture<'a, Result<Principal, AuthError>> {
        let retryable = self.retryable;
        Box::pin(async move {
            Err(AuthError::Backend {
                retryable,
                source: "session db at 10.0.0.7:5432 rejected password=hunter2".into(),
            })
        })
    }
}

#[actix_web::test]
async fn an_internal_errors_text_never_reaches_the_500_body() {
    let h = Harness::with(Options {
        authenticator: Some(Arc::new(BrokenSessions { retryable: false })),
        ..Options::default()
    })
    .await;
    let app = app(&h.config).await;
    let answer = send(&app, TestRequest::get().uri("/attend/meetings")).await;
    assert_eq!(answer.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        answer.json(),
        json!({"error": {"code": "internal", "message": "internal error"}})
    );
    let text = answer.text();
    assert!(
        !text.contains("hunter2") && !text.contains("10.0.0.7"),
        "{text}"
    );

    // The same backend failing in a retryable way is a 503, equally opaque.
    let h = Harness::with(Options {
        authenticator: Some(Arc::new(BrokenSessions { retryable: true })),
        ..Options::default()
    })
    .await;
    let app2 = crate::common::app(&h.config).await;
    let answer = send(&app2, TestRequest::get().uri("/attend/meetings")).await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(answer.header("retry-after").is_some());
    assert!(!answer.text().contains("hunter2"));
}

#[actix_web::test]
async fn configure_mounts_inside_a_host_scope_without_touching_host_routes() {
    let h = Harness::new().await;
    let config = attend_actix::AttendConfig::builder(
        h.attend.clone(),
        Arc::new(JwtAuthenticator::new(JWT_SECRET)),
    )
    .mount_prefix("/lms/attend")
    .build();
    let app = test::init_service(
        App::new()
            .service(web::scope("/lms/attend").configure(attend_actix::configure(config)))
            .route(
                "/host/echo",
                web::post().to(|body: web::Json<serde_json::Value>| async move {
                    HttpResponse::Ok().json(body.into_inner())
                }),
            ),
    )
    .await;
    let doc = send(&app, TestRequest::get().uri("/lms/attend/openapi.json")).await;
    assert_eq!(doc.status, StatusCode::OK);
    assert_eq!(doc.json()["servers"][0]["url"], "/lms/attend");
    let answer = send(&app, TestRequest::get().uri("/lms/attend/meetings")).await;
    assert_eq!(answer.code(), "missing_credentials");

    // The host's own JSON route keeps actix's default error handling.
    let host = send(
        &app,
        TestRequest::post()
            .uri("/host/echo")
            .insert_header(("content-type", "application/json"))
            .set_payload("{broken"),
    )
    .await;
    assert_eq!(host.status, StatusCode::BAD_REQUEST);
    assert!(
        serde_json::from_slice::<serde_json::Value>(&host.body).is_err(),
        "not our envelope"
    );
}
