//! `POST /meetings`, `GET /meetings`, `GET /meetings/{id}`, `PATCH /meetings/{id}` and their
//! role rules.

use actix_web::http::StatusCode;
use serde_json::json;

use crate::common::*;

#[actix_web::test]
async fn link_meeting_returns_201_with_the_meeting_object() {
    let h = Harness::new().await;
    let app = app(&h.config).await;
    let zoom_id = h.zoom_meeting("Chemistry");
    let answer = send(
        &app,
        post_json(
            "/attend/meetings",
            &h.instructor(),
            json!({"group": GROUP, "kind": "meeting", "zoom_meeting_id": zoom_id,
                   "restrict_to_registered": true, "policy": {"required_ratio": 0.75}}),
        ),
    )
    .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text());
    let m = answer.json();
    assert_eq!(m["zoom_meeting_id"], json!(zoom_id));
    assert_eq!(m["group"], GROUP);
    assert_eq!(m["kind"], "meeting");
    assert_eq!(m["topic"], "Chemistry");
    assert_eq!(m["restrict_to_registered"], true);
    assert_eq!(m["policy"]["required_ratio"], 0.75);
    assert_eq!(m["policy"]["late_after_seconds"], 300);
    assert!(m["id"].as_str().is_some_and(|id| !id.is_empty()));
    assert!(m["created_at"].as_str().is_some());
    // Zoom now has registration switched on (approval_type 1 for restricted meetings).
    let at_zoom = h.zoom.meeting(zoom_id).expect("still at Zoom");
    assert_eq!(at_zoom.approval_type(), 1);
}

#[actix_web::test]
async fn create_meeting_at_zoom() {
    let h = Harness::new().await;
    let app = app(&h.config).await;
    let before = h.zoom.meetings().len();
    let answer = send(
        &app,
        post_json(
            "/attend/meetings",
            &h.admin(),
            json!({"group": GROUP, "kind": "meeting", "create": {
                "topic": "Created by attend", "start_time": "2031-03-02T09:00:00Z",
                "duration_minutes": 45, "timezone": "Europe/Berlin", "host": "me"}}),
        ),
    )
    .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text());
    assert_eq!(answer.json()["topic"], "Created by attend");
    assert_eq!(answer.json()["duration_minutes"], 45);
    assert_eq!(h.zoom.meetings().len(), before + 1);
}

#[actix_web::test]
async fn link_meeting_role_rules() {
    let h = Harness::new().await;
    let app = app(&h.config).await;
    let body =
        |zoom_id: u64| json!({"group": GROUP, "kind": "meeting", "zoom_meeting_id": zoom_id});
    for (token, expected) in [
        (h.other_instructor(), StatusCode::FORBIDDEN),
        (h.student("u1"), StatusCode::FORBIDDEN),
        (h.instructor(), StatusCode::CREATED),
    ] {
        let zoom_id = h.zoom_meeting("Role rules");
        let answer = send(&app, post_json("/attend/meetings", &token, body(zoom_id))).await;
        assert_eq!(answer.status, expected, "{}", answer.text());
        if expected == StatusCode::FORBIDDEN {
            assert_eq!(answer.code(), "forbidden");
        }
    }
}

#[actix_web::test]
async fn link_meeting_validation() {
    let h = Harness::new().await;
    let app = app(&h.config).await;
    let zoom_id = h.zoom_meeting("Validation");
    let cases = [
        // neither zoom_meeting_id nor create
        (
            json!({"group": GROUP, "kind": "meeting"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_value",
        ),
        // both
        (
            json!({"group": GROUP, "kind": "meeting", "zoom_meeting_id": zoom_id, "create": {
                "topic": "x", "start_time": "2031-01-01T00:00:00Z", "duration_minutes": 30, "host": "me"}}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_value",
        ),
        // empty group
        (
            json!({"group": " ", "kind": "meeting", "zoom_meeting_id": zoom_id}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_value",
        ),
        // unknown kind
        (
            json!({"group": GROUP, "kind": "seminar", "zoom_meeting_id": zoom_id}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        // wrong type
        (
            json!({"group": GROUP, "kind": "meeting", "zoom_meeting_id": "eighty-five"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        // missing field
        (
            json!({"kind": "meeting", "zoom_meeting_id": zoom_id}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        // unknown field
        (
            json!({"group": GROUP, "kind": "meeting", "zoom_meeting_id": zoom_id, "colour": "red"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        // policy out of range
        (
            json!({"group": GROUP, "kind": "meeting", "zoom_meeting_id": zoom_id, "policy": {"required_ratio": 1.5}}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_value",
        ),
    ];
    for (body, status, code) in cases {
        let answer = send(
            &app,
            post_json("/attend/meetings", &h.admin(), body.clone()),
        )
        .await;
        assert_eq!(answer.status, status, "{body}: {}", answer.text());
        assert_eq!(answer.code(), code, "{body}");
    }
}

#[actix_web::test]
async fn linking_a_meeting_twice_is_a_conflict_and_an_unknown_zoom_meeting_is_404() {
    let h = Harness::new().await;
    let app = app(&h.config).await;
    let (_, zoom_id) = linked_meeting(&h, &app).await;
    let answer = send(
        &app,
        post_json(
            "/attend/meetings",
            &h.admin(),
            json!({"group": GROUP, "kind": "meeting", "zoom_meeting_id": zoom_id}),
        ),
    )
    .await;
    assert_eq!(answer.status, StatusCode::CONFLICT, "{}", answer.text());
    assert_eq!(answer.code(), "conflict");

    let answer = send(
        &app,
        post_json(
            "/attend/meetings",
            &h.admin(),
            json!({"group": GROUP, "kind": "meeting", "zoom_meeting_id": 99_999_999_999_u64}),
        ),
    )
    .await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND, "{}", answer.text());
    assert_eq!(answer.code(), "zoom_meeting_not_found");
}

#[actix_web::test]
async fn list_meetings_by_role() {
    let h = Harness::new().await;
    let app = app(&h.config).await;
    let (mine, _) = linked_meeting(&h, &app).await;
    let zoom_id = h.zoom_meeting("Other course");
    let other = send(
        &app,
        post_json(
            "/attend/meetings",
            &h.admin(),
            json!({"group": OTHER_GROUP, "kind": "meeting", "zoom_meeting_id": zoom_id}),
        ),
    )
    .await
    .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let ids = |answer: &Answer| -> Vec<String> {
        answer.json()["meetings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let all = send(&app, get("/attend/meetings", &h.admin())).await;
    assert_eq!(all.status, StatusCode::OK);
    assert_eq!(ids(&all), vec![mine.clone(), other.clone()]);

    let filtered = send(
        &app,
        get(&format!("/attend/meetings?group={OTHER_GROUP}"), &h.admin()),
    )
    .await;
    assert_eq!(ids(&filtered), vec![other.clone()]);

    // An instructor sees only their groups' meetings, and may not ask for another group.
    let teacher = send(&app, get("/attend/meetings", &h.instructor())).await;
    assert_eq!(teacher.status, StatusCode::OK);
    assert_eq!(ids(&teacher), vec![mine.clone()]);
    let elsewhere = send(
        &app,
        get(
            &format!("/attend/meetings?group={OTHER_GROUP}"),
            &h.instructor(),
        ),
    )
    .await;
    assert_eq!(elsewhere.status, StatusCode::FORBIDDEN);

    let student = send(&app, get("/attend/meetings", &h.student("u1"))).await;
    assert_eq!(student.status, StatusCode::FORBIDDEN);
    assert_eq!(student.code(), "forbidden");
}

#[actix_web::test]
async fn get_meeting_role_rules() {
    let h = Harness::new().await;
    let app = app(&h.config).await;
    let (id, _) = linked_meeting(&h, &app).await;
    register(&h, &app, &id, &["u1"]).await;
    let uri = format!("/attend/meetings/{id}");
    for (who, token, expected) in [
        ("admin", h.admin(), StatusCode::OK),
        ("instructor of the group", h.instructor(), StatusCode::OK),
        (
            "instructor of another group",
            h.other_instructor(),
            StatusCode::FORBIDDEN,
        ),
        ("registered student", h.student("u1"), StatusCode::OK),
        (
            "unregistered student",
            h.student("u2"),
            StatusCode::FORBIDDEN,
        ),
        (
            "student of the group",
            h.token("u3", attend_actix::auth::Role::Student, &[GROUP]),
            StatusCode::OK,
        ),
    ] {
        let answer = send(&app, get(&uri, &token)).await;
        assert_eq!(answer.status, expected, "{who}: {}", answer.text());
        if expected == StatusCode::OK {
            assert_eq!(answer.json()["id"], id.as_str());
        }
    }
    let unknown = send(&app, get("/attend/meetings/no-such-meeting", &h.admin())).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.code(), "meeting_not_found");
}

#[actix_web::test]
async fn patch_meeting_changes_policy_and_restriction() {
    let h = Harness::new().await;
    let app = app(&h.config).await;
    let (id, zoom_id) = linked_meeting(&h, &app).await;
    let uri = format!("/attend/meetings/{id}");

    let answer = send(
        &app,
        patch_json(
            &uri,
            &h.instructor(),
            json!({"policy": {"late_after_seconds": 60}, "restrict_to_registered": true}),
        ),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let m = answer.json();
    assert_eq!(m["policy"]["late_after_seconds"], 60);
    assert_eq!(m["policy"]["required_ratio"], 0.5, "other fields stay");
    assert_eq!(m["restrict_to_registered"], true);
    assert_eq!(h.zoom.meeting(zoom_id).unwrap().approval_type(), 1);

    for (token, expected) in [
        (h.other_instructor(), StatusCode::FORBIDDEN),
        (h.student("u1"), StatusCode::FORBIDDEN),
    ] {
        let answer = send(
            &app,
            patch_json(&uri, &token, json!({"restrict_to_registered": false})),
        )
        .await;
        assert_eq!(answer.status, expected);
    }
    let bad = send(
        &app,
        patch_json(
            &uri,
            &h.admin(),
            json!({"policy": {"required_ratio": -0.1}}),
        ),
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.code(), "invalid_value");
    let unknown = send(
        &app,
        patch_json("/attend/meetings/nope", &h.admin(), json!({})),
    )
    .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.code(), "meeting_not_found");
}
