//! `GET /join/{token}`: redirect, lazy registration, and the readable error pages.

use actix_web::{http::StatusCode, test::TestRequest};
use attend_core::{
    join_token::{JoinTokens, JwtSecret},
    model::{MeetingId, UserId},
};
use attend_zoom_sim::{Fault, FaultTrigger};

use crate::common::*;

const BROWSER: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

fn open(url: &str, accept: Option<&str>) -> TestRequest {
    let path = url
        .strip_prefix("http://lms.test")
        .expect("a link on the host's domain");
    let req = TestRequest::get().uri(path);
    match accept {
        Some(accept) => req.insert_header(("accept", accept)),
        None => req,
    }
}

async fn link_for<S, B>(h: &Harness, app: &S, meeting: &str, user: &str) -> String
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let answer = send(
        app,
        get(
            &format!("/attend/meetings/{meeting}/join-link?user_id={user}"),
            &h.admin(),
        ),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    answer.json()["url"].as_str().unwrap().to_owned()
}

#[actix_web::test]
async fn a_join_link_registers_lazily_and_redirects_to_the_users_own_zoom_url() {
    let h = Harness::new().await;
    let app = app(&h.config).await;
    let (id, zoom_id) = linked_meeting(&h, &app).await;
    let url = link_for(&h, &app, &id, "u2").await;
    assert!(
        h.zoom.registrants(zoom_id).is_empty(),
        "nothing registered before the click"
    );

    let answer = send(&app, open(&url, Some(BROWSER))).await;
    assert_eq!(answer.status, StatusCode::FOUND, "{}", answer.text());
    let registrants = h.zoom.registrants(zoom_id);
    assert_eq!(registrants.len(), 1);
    assert_eq!(registrants[0].email, "u2@lms.test");
    assert_eq!(
        answer.header("location"),
        Some(registrants[0].join_url.as_str())
    );
    assert_eq!(answer.header("cache-control"), Some("no-store"));

    // A second click goes to the same place without registering again.
    let again = send(&app, open(&url, None)).await;
    assert_eq!(again.status, StatusCode::FOUND);
    assert_eq!(
        again.header("location"),
        Some(registrants[0].join_url.as_str())
    );
    assert_eq!(h.zoom.registrants(zoom_id).len(), 1);
}

#[actix_web::test]
async fn a_tampered_link_is_401_html_for_browsers_and_json_otherwise() {
    let h = Harness::new().await;
    let app = app(&h.config).await;
    let (id, _) = linked_meeting(&h, &app).await;
    let url = link_for(&h, &app, &id, "u1").await;
    let mut tampered = url.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });

    let page = send(&app, open(&tampered, Some(BROWSER))).await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    assert!(
        page.header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    assert!(page.text().contains("not valid"), "{}", page.text());

    let json = send(&app, open(&tampered, Some("application/json"))).await;
    assert_eq!(json.status, StatusCode::UNAUTHORIZED);
    assert_eq!(json.code(), "invalid_join_token");

    let garbage = send(&app, TestRequest::get().uri("/attend/join/not-a-token")).await;
    assert_eq!(garbage.status, StatusCode::UNAUTHORIZED);
    assert_eq!(garbage.code(), "invalid_join_token");
}

#[actix_web::test]
async fn an_expired_link_is_410() {
    let h = Harness::new().await;
    let app = app(&h.config).await;
    let (id, _) = linked_meeting(&h, &app).await;
    let tokens = JoinTokens::new(&JwtSecret::new(JWT_SECRET.to_vec()).unwrap());
    let (token, _) = tokens
        .issue_at(
            &UserId::from("u1"),
            &MeetingId::from(id.as_str()),
            chrono::Utc::now() - chrono::Duration::days(2),
            chrono::Duration::days(1),
        )
        .unwrap();
    let uri = format!("/attend/join/{token}");

    let page = send(
        &app,
        TestRequest::get()
            .uri(&uri)
            .insert_header(("accept", BROWSER)),
    )
    .await;
    assert_eq!(page.status, StatusCode::GONE);
    assert!(
        page.header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    assert!(page.text().contains("expired"));

    let json = send(&app, TestRequest::get().uri(&uri)).await;
    assert_eq!(json.status, StatusCode::GONE);
    assert_eq!(json.code(), "join_link_expired");
}

#[actix_web::test]
async fn zoom_asking_us_to_wait_is_503_with_retry_after() {
    let h = Harness::new().await;
    let app = app(&h.config).await;
    let (id, _) = linked_meeting(&h, &app).await;
    let url = link_for(&h, &app, &id, "u3").await;

    h.zoom
        .sim()
        .schedule_fault(FaultTrigger::Next(None), Fault::ServerError(503));
    let page = send(&app, open(&url, Some(BROWSER))).await;
    assert_eq!(
        page.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        page.text()
    );
    assert!(
        page.header("retry-after")
            .is_some_and(|s| s.parse::<u64>().unwrap() >= 1)
    );
    assert!(
        page.header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    assert!(page.text().contains("try again"));

    // Once Zoom answers again, the same link works.
    let answer = send(&app, open(&url, None)).await;
    assert_eq!(answer.status, StatusCode::FOUND, "{}", answer.text());
}
