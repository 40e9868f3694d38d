//! Instances, attendance (JSON, CSV), live view, unmatched people, manual links and
//! reconciliation, fed by the simulator's exact webhook bodies.

use actix_web::{
    body::MessageBody,
    dev::{Service, ServiceResponse},
    http::StatusCode,
};
use attend_zoom_sim::{Connection, Person, Scenario};
use serde_json::json;

use crate::common::*;

/// A meeting with u1 (whole class) and u2 (never came) registered, and a guest "Guest
/// Lurker" (no email) who stayed 20 minutes. With `ended = false` the events of the end
/// (everyone leaving, `meeting.ended`) are held back, so the instance is still live.
async fn class<S, B>(h: &Harness, app: &S, ended: bool) -> String
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let (id, zoom_id) = linked_meeting(h, app).await;
    register(h, app, &id, &["u1", "u2"]).await;
    let start = chrono::Utc::now() - chrono::Duration::minutes(90);
    let scenario = Scenario::new(zoom_id, start, 3600)
        .person(Person::registrant("u1@lms.test").connection(Connection::main(0, 0, None)))
        .person(Person::registrant("u2@lms.test"))
        .person(
            Person::guest("Guest Lurker", None).connection(Connection::main(0, 600, Some(1800))),
        );
    let timeline = h.zoom.timeline(&scenario).expect("a valid scenario");
    let end = scenario.at(3600);
    for event in &timeline.events {
        if !ended && event.at >= end {
            continue;
        }
        let answer = send(app, signed_webhook(&event.body)).await;
        assert_eq!(
            answer.status,
            StatusCode::OK,
            "{}: {}",
            event.event,
            answer.text()
        );
    }
    h.attend.drain().await.expect("processing runs");
    id
}

#[actix_web::test]
async fn attendance_of_a_finished_class() {
    let h = Harness::new().await;
    let app = app(&h.config).await;
    let id = class(&h, &app, true).await;

    let instances = send(
        &app,
        get(&format!("/attend/meetings/{id}/instances"), &h.instructor()),
    )
    .await;
    assert_eq!(instances.status, StatusCode::OK, "{}", instances.text());
    let instances = instances.json()["instances"].as_array().unwrap().clone();
    assert_eq!(instances.len(), 1);
    assert_eq!(instances[0]["state"], "provisional");
    assert!(instances[0]["ended_at"].as_str().is_some());
    let uuid = instances[0]["uuid"].as_str().unwrap().to_owned();

    let all = send(
        &app,
        get(
            &format!("/attend/meetings/{id}/attendance"),
            &h.instructor(),
        ),
    )
    .await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.text());
    let a = all.json();
    assert_eq!(a["meeting_id"], id.as_str());
    assert_eq!(a["instance"], serde_json::Value::Null);
    let roster = a["roster"].as_array().unwrap();
    let u1 = roster
        .iter()
        .find(|r| r["user_id"] == "u1")
        .expect("u1 on the roster");
    let u2 = roster
        .iter()
        .find(|r| r["user_id"] == "u2")
        .expect("u2 on the roster");
    assert_eq!(u1["status"], "present");
    assert_eq!(u1["attended_seconds"], 3600);
    assert_eq!(u1["matched_by"], "registrant_id");
    assert_eq!(u2["status"], "absent");
    assert_eq!(u2["first_join"], serde_json::Value::Null);
    assert_eq!(a["summary"]["registered"], 2);
    assert_eq!(a["summary"]["absent"], 1);
    let unmatched = a["unmatched"].as_array().unwrap();
    assert_eq!(unmatched.len(), 1);
    assert_eq!(unmatched[0]["display_name"], "Guest Lurker");
    assert_eq!(unmatched[0]["attended_seconds"], 1200);

    let one = send(
        &app,
        get(
            &format!(
                "/attend/meetings/{id}/attendance?instance={}",
                urlencode(&uuid)
            ),
            &h.admin(),
        ),
    )
    .await;
    assert_eq!(one.status, StatusCode::OK, "{}", one.text());
    assert_eq!(one.json()["instance"], uuid.as_str());
    assert!(one.json()["window"]["end"].as_str().is_some());

    let csv = send(
        &app,
        get(
            &format!("/attend/meetings/{id}/attendance.csv"),
            &h.instructor(),
        ),
    )
    .await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
    let disposition = csv.header("content-disposition").unwrap();
    assert!(disposition.starts_with("attachment"), "{disposition}");
    assert!(
        disposition.contains("filename=\"attendance-"),
        "{disposition}"
    );
    let text = csv.text();
    assert!(text.lines().count() >= 3, "{text}");
    assert!(text.contains("u1") && text.contains("present"), "{text}");

    let reconcile = send(
        &app,
        post_json(
            &format!("/attend/meetings/{id}/reconcile"),
            &h.instructor(),
            json!({}),
        ),
    )
    .await;
    assert_eq!(
        reconcile.status,
        StatusCode::ACCEPTED,
        "{}",
        reconcile.text()
    );
    assert_eq!(reconcile.json()["instances"], json!([uuid]));
}

#[actix_web::test]
async fn unmatched_people_can_be_linked_by_hand() {
    let h = Harness::new().await;
    let app = app(&h.config).await;
    let id = class(&h, &app, true).await;

    let list = send(
        &app,
        get(&format!("/attend/meetings/{id}/unmatched"), &h.instructor()),
    )
    .await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text());
    let key = list.json()["unmatched"][0]["participant_key"]
        .as_str()
        .unwrap()
        .to_owned();

    let uri = format!("/attend/meetings/{id}/unmatched/{}/link", urlencode(&key));
    let denied = send(
        &app,
        post_json(&uri, &h.student("u3"), json!({"user_id": "u3"})),
    )
    .await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    let linked = send(
        &app,
        post_json(&uri, &h.instructor(), json!({"user_id": "u3"})),
    )
    .await;
    assert_eq!(linked.status, StatusCode::OK, "{}", linked.text());
    let a = linked.json();
    let u3 = a["roster"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["user_id"] == "u3")
        .expect("u3 now on the roster")
        .clone();
    assert_eq!(u3["matched_by"], "manual");
    assert_eq!(u3["attended_seconds"], 1200);
    assert_eq!(a["unmatched"], json!([]));

    let unknown_key = send(
        &app,
        post_json(
            &format!("/attend/meetings/{id}/unmatched/email%3Anobody%40x/link"),
            &h.admin(),
            json!({"user_id": "u3"}),
        ),
    )
    .await;
    assert_eq!(unknown_key.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown_key.code(), "participant_not_found");
    let bad_body = send(&app, post_json(&uri, &h.admin(), json!({"user": "u3"}))).await;
    assert_eq!(bad_body.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad_body.code(), "invalid_body");
}

#[actix_web::test]
async fn the_live_view_lists_who_is_in_the_meeting() {
    let h = Harness::new().await;
    let app = app(&h.config).await;
    let id = class(&h, &app, false).await;
    let live = send(
        &app,
        get(&format!("/attend/meetings/{id}/live"), &h.instructor()),
    )
    .await;
    assert_eq!(live.status, StatusCode::OK, "{}", live.text());
    let live = live.json();
    assert!(live["instance"].as_str().is_some(), "{live}");
    let people = live["participants"].as_array().unwrap();
    assert!(people.iter().any(|p| p["user_id"] == "u1"), "{live}");
    assert!(
        people.iter().all(|p| p["display_name"] != "Guest Lurker"),
        "the guest left: {live}"
    );

    let attendance = send(
        &app,
        get(&format!("/attend/meetings/{id}/attendance"), &h.admin()),
    )
    .await
    .json();
    assert_eq!(attendance["state"], "live");
}

#[actix_web::test]
async fn attendance_routes_role_rules() {
    let h = Harness::new().await;
    let app = app(&h.config).await;
    let (id, _) = linked_meeting(&h, &app).await;
    let routes = [
        format!("/attend/meetings/{id}/instances"),
        format!("/attend/meetings/{id}/attendance"),
        format!("/attend/meetings/{id}/attendance.csv"),
        format!("/attend/meetings/{id}/live"),
        format!("/attend/meetings/{id}/unmatched"),
    ];
    for uri in &routes {
        for (who, token, expected) in [
            ("admin", h.admin(), StatusCode::OK),
            ("instructor of the group", h.instructor(), StatusCode::OK),
            (
                "instructor of another group",
                h.other_instructor(),
                StatusCode::FORBIDDEN,
            ),
            ("student", h.student("u1"), StatusCode::FORBIDDEN),
        ] {
            let answer = send(&app, get(uri, &token)).await;
            assert_eq!(answer.status, expected, "{uri} as {who}: {}", answer.text());
        }
        let unknown = send(&app, get(&uri.replace(&id, "no-such-meeting"), &h.admin())).await;
        assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{uri}");
        assert_eq!(unknown.code(), "meeting_not_found");
    }
    let reconcile = format!("/attend/meetings/{id}/reconcile");
    for (token, expected) in [
        (h.other_instructor(), StatusCode::FORBIDDEN),
        (h.student("u1"), StatusCode::FORBIDDEN),
        (h.admin(), StatusCode::ACCEPTED),
    ] {
        let answer = send(&app, post_json(&reconcile, &token, json!({}))).await;
        assert_eq!(answer.status, expected, "{}", answer.text());
    }
}

#[actix_web::test]
async fn bad_query_values() {
    let h = Harness::new().await;
    let app = app(&h.config).await;
    let (id, _) = linked_meeting(&h, &app).await;
    let base = format!("/attend/meetings/{id}/attendance");
    let empty = send(&app, get(&format!("{base}?instance="), &h.admin())).await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(empty.code(), "invalid_value");
    let twice = send(
        &app,
        get(&format!("{base}?instance=a&instance=b"), &h.admin()),
    )
    .await;
    assert_eq!(twice.status, StatusCode::BAD_REQUEST, "{}", twice.text());
    assert_eq!(twice.code(), "invalid_query");
    let unknown = send(
        &app,
        get(&format!("{base}?instance=not-an-instance"), &h.admin()),
    )
    .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{}", unknown.text());
    assert_eq!(unknown.code(), "instance_not_found");
    let csv = send(&app, get(&format!("{base}.csv?instance="), &h.admin())).await;
    assert_eq!(csv.status, StatusCode::UNPROCESSABLE_ENTITY);
}

/// Percent-encodes everything but unreserved characters.
pub(crate) fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
