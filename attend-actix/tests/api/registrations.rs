//! Registrations and personal join links.

use actix_web::http::StatusCode;
use attend_actix::auth::Role;
use serde_json::json;

use crate::common::*;

#[actix_web::test]
async fn registering_is_idempotent_and_answers_200_when_all_are_done() {
    let h = Harness::new().await;
    let app = app(&h.config).await;
    let (id, zoom_id) = linked_meeting(&h, &app).await;
    let uri = format!("/attend/meetings/{id}/registrations");

    let first = send(
        &app,
        post_json(
            &uri,
            &h.instructor(),
            json!({"user_ids": ["u1", "u2", "nobody"]}),
        ),
    )
    .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text());
    let regs = first.json()["registrations"].as_array().unwrap().clone();
    assert_eq!(regs.len(), 3);
    assert_eq!(regs[0]["user_id"], "u1");
    assert_eq!(regs[0]["status"], "registered");
    assert!(regs[0]["registrant_id"].as_str().is_some());
    let link = regs[0]["join_link"].as_str().unwrap();
    assert!(link.starts_with("http://lms.test/attend/join/"), "{link}");
    assert_eq!(regs[2]["user_id"], "nobody");
    assert_eq!(regs[2]["status"], "failed");
    assert_eq!(regs[2]["error"]["code"], "user_not_found");
    // absent fields are omitted, not null
    assert!(regs[2].get("registrant_id").is_none());

    let again = send(
        &app,
        post_json(&uri, &h.admin(), json!({"user_ids": ["u1", "u2"]})),
    )
    .await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(
        h.zoom.registrants(zoom_id).len(),
        2,
        "never a second registrant"
    );

    let list = send(&app, get(&uri, &h.instructor())).await;
    assert_eq!(list.status, StatusCode::OK);
    let list = list.json();
    assert_eq!(list["counts"]["registered"], 2);
    assert_eq!(list["counts"]["pending"], 0);
    assert_eq!(list["registrations"].as_array().unwrap().len(), 2);
}

#[actix_web::test]
async fn registering_more_than_the_inline_limit_answers_202_with_pending_users() {
    let h = Harness::with(Options {
        inline_limit: 2,
        ..Options::default()
    })
    .await;
    let app = app(&h.config).await;
    let (id, _) = linked_meeting(&h, &app).await;
    let uri = format!("/attend/meetings/{id}/registrations");
    let answer = send(
        &app,
        post_json(
            &uri,
            &h.admin(),
            json!({"user_ids": ["u1", "u2", "u3", "u4"]}),
        ),
    )
    .await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{}", answer.text());
    let statuses: Vec<_> = answer.json()["registrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap().to_owned())
        .collect();
    assert!(statuses.iter().all(|s| s == "pending"), "{statuses:?}");

    // The background job finishes them.
    h.attend.drain().await.expect("jobs run");
    let list = send(&app, get(&uri, &h.admin())).await.json();
    assert_eq!(list["counts"]["registered"], 4, "{list}");
    assert_eq!(list["counts"]["pending"], 0);
}

#[actix_web::test]
async fn registration_validation_and_roles() {
    let h = Harness::new().await;
    let app = app(&h.config).await;
    let (id, _) = linked_meeting(&h, &app).await;
    let uri = format!("/attend/meetings/{id}/registrations");
    let empty = send(&app, post_json(&uri, &h.admin(), json!({"user_ids": []}))).await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(empty.code(), "invalid_value");
    let too_many: Vec<String> = (0..5000).map(|i| format!("user-{i}")).collect();
    let answer = send(
        &app,
        post_json(&uri, &h.admin(), json!({ "user_ids": too_many })),
    )
    .await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(answer.code(), "invalid_value");
    let wrong = send(&app, post_json(&uri, &h.admin(), json!({"user_ids": "u1"}))).await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(wrong.code(), "invalid_body");

    for (token, expected) in [
        (h.other_instructor(), StatusCode::FORBIDDEN),
        (h.student("u1"), StatusCode::FORBIDDEN),
    ] {
        let answer = send(&app, post_json(&uri, &token, json!({"user_ids": ["u1"]}))).await;
        assert_eq!(answer.status, expected);
        let answer = send(&app, get(&uri, &token)).await;
        assert_eq!(answer.status, expected);
        let answer = send(&app, delete(&format!("{uri}/u1"), &token)).await;
        assert_eq!(answer.status, expected);
    }
    let unknown = send(&app, get("/attend/meetings/nope/registrations", &h.admin())).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.code(), "meeting_not_found");
}

#[actix_web::test]
async fn cancelling_a_registration_answers_204_and_the_link_stops_working() {
    let h = Harness::new().await;
    let app = app(&h.config).await;
    let (id, _) = linked_meeting(&h, &app).await;
    register(&h, &app, &id, &["u1"]).await;
    let answer = send(
        &app,
        delete(
            &format!("/attend/meetings/{id}/registrations/u1"),
            &h.instructor(),
        ),
    )
    .await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT, "{}", answer.text());
    assert!(answer.body.is_empty());
    let list = send(
        &app,
        get(&format!("/attend/meetings/{id}/registrations"), &h.admin()),
    )
    .await
    .json();
    assert_eq!(list["counts"]["cancelled"], 1);
    // Cancelled: no more link for the student.
    let link = send(
        &app,
        get(
            &format!("/attend/meetings/{id}/join-link"),
            &h.student("u1"),
        ),
    )
    .await;
    assert_eq!(link.status, StatusCode::FORBIDDEN, "{}", link.text());

    let never = send(
        &app,
        delete(
            &format!("/attend/meetings/{id}/registrations/u5"),
            &h.admin(),
        ),
    )
    .await;
    assert_eq!(never.status, StatusCode::NOT_FOUND);
    assert_eq!(never.code(), "registration_not_found");
}

#[actix_web::test]
async fn join_link_role_rules() {
    let h = Harness::new().await;
    let app = app(&h.config).await;
    let (id, _) = linked_meeting(&h, &app).await;
    register(&h, &app, &id, &["u1"]).await;
    let uri = format!("/attend/meetings/{id}/join-link");
    let group_student = h.token("u3", Role::Student, &[GROUP]);
    for (who, token, query, expected) in [
        ("student self", h.student("u1"), "", StatusCode::OK),
        (
            "student self by id",
            h.student("u1"),
            "?user_id=u1",
            StatusCode::OK,
        ),
        (
            "student other",
            h.student("u1"),
            "?user_id=u2",
            StatusCode::FORBIDDEN,
        ),
        (
            "unregistered student outside the group",
            h.student("u2"),
            "",
            StatusCode::FORBIDDEN,
        ),
        (
            "unregistered student of the group",
            group_student,
            "",
            StatusCode::OK,
        ),
        ("admin for a user", h.admin(), "?user_id=u1", StatusCode::OK),
        (
            "instructor for a user",
            h.instructor(),
            "?user_id=u2",
            StatusCode::OK,
        ),
        (
            "other instructor",
            h.other_instructor(),
            "?user_id=u1",
            StatusCode::FORBIDDEN,
        ),
    ] {
        let answer = send(&app, get(&format!("{uri}{query}"), &token)).await;
        assert_eq!(answer.status, expected, "{who}: {}", answer.text());
        if expected == StatusCode::OK {
            let link = answer.json();
            assert!(
                link["url"]
                    .as_str()
                    .unwrap()
                    .starts_with("http://lms.test/attend/join/")
            );
            assert!(link["expires_at"].as_str().is_some());
        } else {
            assert_eq!(answer.code(), "forbidden", "{who}");
        }
    }
    let empty = send(&app, get(&format!("{uri}?user_id="), &h.admin())).await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    let unknown_user = send(&app, get(&format!("{uri}?user_id=ghost"), &h.admin())).await;
    assert_eq!(unknown_user.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown_user.code(), "user_not_found");
}
