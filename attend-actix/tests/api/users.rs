//! `GET /users/{user_id}/attendance` and `DELETE /users/{user_id}`.

use actix_web::http::StatusCode;
use serde_json::json;

use crate::common::*;

#[actix_web::test]
async fn user_history_role_rules() {
    let h = Harness::new().await;
    let app = app(&h.config).await;
    let (id, _) = linked_meeting(&h, &app).await;
    register(&h, &app, &id, &["u1"]).await;
    let uri = "/attend/users/u1/attendance";
    for (who, token, expected) in [
        ("student self", h.student("u1"), StatusCode::OK),
        ("student other", h.student("u2"), StatusCode::FORBIDDEN),
        ("admin", h.admin(), StatusCode::OK),
        ("instructor of the group", h.instructor(), StatusCode::OK),
        (
            "instructor of another group",
            h.other_instructor(),
            StatusCode::OK,
        ),
    ] {
        let answer = send(&app, get(uri, &token)).await;
        assert_eq!(answer.status, expected, "{who}: {}", answer.text());
        if expected == StatusCode::OK {
            assert_eq!(answer.json()["user_id"], "u1");
            assert!(answer.json()["records"].is_array());
        } else {
            assert_eq!(answer.code(), "forbidden");
        }
    }
    let unknown = send(&app, get("/attend/users/ghost/attendance", &h.admin())).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.code(), "user_not_found");
}

#[actix_web::test]
async fn instructors_see_only_records_of_their_groups() {
    let h = Harness::new().await;
    let app = app(&h.config).await;
    // A class in GROUP where u1 attended.
    let (id, zoom_id) = linked_meeting(&h, &app).await;
    register(&h, &app, &id, &["u1"]).await;
    let start = chrono::Utc::now() - chrono::Duration::minutes(90);
    let scenario = attend_zoom_sim::Scenario::new(zoom_id, start, 1800).person(
        attend_zoom_sim::Person::registrant("u1@lms.test")
            .connection(attend_zoom_sim::Connection::main(0, 0, None)),
    );
    for event in &h.zoom.timeline(&scenario).unwrap().events {
        assert_eq!(
            send(&app, signed_webhook(&event.body)).await.status,
            StatusCode::OK
        );
    }
    h.attend.drain().await.unwrap();

    let count = |answer: Answer| answer.json()["records"].as_array().unwrap().len();
    assert_eq!(
        count(send(&app, get("/attend/users/u1/attendance", &h.admin())).await),
        1
    );
    assert_eq!(
        count(send(&app, get("/attend/users/u1/attendance", &h.instructor())).await),
        1
    );
    assert_eq!(
        count(send(&app, get("/attend/users/u1/attendance", &h.student("u1"))).await),
        1
    );
    assert_eq!(
        count(
            send(
                &app,
                get("/attend/users/u1/attendance", &h.other_instructor())
            )
            .await
        ),
        0,
        "another group's instructor sees none of it"
    );
    let record = send(&app, get("/attend/users/u1/attendance", &h.admin()))
        .await
        .json()["records"][0]
        .clone();
    assert_eq!(record["meeting_id"], id.as_str());
    assert_eq!(record["status"], "present");
    assert_eq!(record["attended_seconds"], 1800);
}

#[actix_web::test]
async fn erasing_a_user_is_admin_only_and_empties_their_history() {
    let h = Harness::new().await;
    let app = app(&h.config).await;
    let (id, _) = linked_meeting(&h, &app).await;
    register(&h, &app, &id, &["u1"]).await;
    for (token, expected) in [
        (h.instructor(), StatusCode::FORBIDDEN),
        (h.student("u1"), StatusCode::FORBIDDEN),
        (h.admin(), StatusCode::NO_CONTENT),
        (h.admin(), StatusCode::NO_CONTENT),
    ] {
        let answer = send(&app, delete("/attend/users/u1", &token)).await;
        assert_eq!(answer.status, expected, "{}", answer.text());
    }
    let history = send(&app, get("/attend/users/u1/attendance", &h.admin())).await;
    assert_eq!(history.status, StatusCode::OK, "{}", history.text());
    assert_eq!(history.json()["records"], json!([]));
    let regs = send(
        &app,
        get(&format!("/attend/meetings/{id}/registrations"), &h.admin()),
    )
    .await
    .json();
    assert_eq!(regs["registrations"], json!([]));
}
