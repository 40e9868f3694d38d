//! `POST /webhooks/zoom`: signature, URL validation, storage, size limit, outages.

use actix_web::{
    http::{StatusCode, header},
    test::{self, TestRequest},
};
use attend_core::zoom::signature::encrypt_plain_token;
use serde_json::json;

use crate::common::*;

fn started_event(uuid: &str) -> String {
    json!({
        "event": "meeting.started",
        "event_ts": chrono::Utc::now().timestamp_millis(),
        "payload": {"account_id": "acc", "object": {
            "id": "85393847045", "uuid": uuid, "host_id": "h1", "topic": "Biology",
            "type": 2, "start_time": "2026-03-02T09:00:00Z", "duration": 60, "timezone": "UTC"}}
    })
    .to_string()
}

#[actix_web::test]
async fn url_validation_is_answered_with_the_encrypted_token() {
    let h = Harness::new().await;
    let app = app(&h.config).await;
    let body = json!({"event": "endpoint.url_validation", "event_ts": 1_700_000_000_000_u64,
                      "payload": {"plainToken": "qgg8vlvZRS6UYooatFL8Aw"}})
    .to_string();
    let answer = send(&app, signed_webhook(&body)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let expected = encrypt_plain_token(&WEBHOOK_SECRET.into(), "qgg8vlvZRS6UYooatFL8Aw");
    assert_eq!(
        answer.json(),
        json!({"plainToken": "qgg8vlvZRS6UYooatFL8Aw", "encryptedToken": expected})
    );

    // The same request with a bad signature is refused.
    let forged = signed_webhook(&body).insert_header(("x-zm-signature", "v0=00ff"));
    let answer = send(&app, forged).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.code(), "invalid_signature");
}

#[actix_web::test]
async fn events_are_acknowledged_once_stored_and_duplicates_are_recognised() {
    let h = Harness::new().await;
    let app = app(&h.config).await;
    let body = started_event("abc123==");
    let first = send(&app, signed_webhook(&body)).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text());
    assert_eq!(first.json(), json!({"status": "stored"}));
    let again = send(&app, signed_webhook(&body)).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.json(), json!({"status": "duplicate"}));
}

#[actix_web::test]
async fn a_signed_but_unparseable_event_is_stored_and_answered_200() {
    let h = Harness::new().await;
    let app = app(&h.config).await;
    for body in ["{not json", "[]", "{\"event\": 42}", ""] {
        let answer = send(&app, signed_webhook(body)).await;
        assert_eq!(answer.status, StatusCode::OK, "{body:?}: {}", answer.text());
        assert_eq!(
            answer.json(),
            json!({"status": "stored_unparseable"}),
            "{body:?}: stored but flagged"
        );
    }
}

#[actix_web::test]
async fn signature_problems_are_401() {
    let h = Harness::new().await;
    let app = app(&h.config).await;
    let body = started_event("sig==");

    let unsigned = TestRequest::post()
        .uri("/attend/webhooks/zoom")
        .insert_header(("content-type", "application/json"))
        .set_payload(body.clone());
    let answer = send(&app, unsigned).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.code(), "invalid_signature");

    let wrong_secret = {
        let ts = chrono::Utc::now().timestamp().to_string();
        let sig = attend_core::zoom::signature::compute_signature(
            &"another-secret".into(),
            &ts,
            body.as_bytes(),
        );
        TestRequest::post()
            .uri("/attend/webhooks/zoom")
            .insert_header(("x-zm-request-timestamp", ts))
            .insert_header(("x-zm-signature", sig))
            .set_payload(body.clone())
    };
    assert_eq!(
        send(&app, wrong_secret).await.status,
        StatusCode::UNAUTHORIZED
    );

    let stale = {
        let ts = (chrono::Utc::now().timestamp() - 3600).to_string();
        let sig = attend_core::zoom::signature::compute_signature(
            &WEBHOOK_SECRET.into(),
            &ts,
            body.as_bytes(),
        );
        TestRequest::post()
            .uri("/attend/webhooks/zoom")
            .insert_header(("x-zm-request-timestamp", ts))
            .insert_header(("x-zm-signature", sig))
            .set_payload(body.clone())
    };
    let answer = send(&app, stale).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert!(
        answer.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("stale")
    );

    // A body changed after signing.
    let tampered = signed_webhook(&body).set_payload(body.replace("Biology", "Biolog_"));
    assert_eq!(send(&app, tampered).await.status, StatusCode::UNAUTHORIZED);
}

#[actix_web::test]
async fn oversized_bodies_are_refused_with_413_before_and_while_reading() {
    let h = Harness::with(Options {
        webhook_body_limit: Some(1024),
        ..Options::default()
    })
    .await;
    let app = app(&h.config).await;
    let big = format!("{{\"event\":\"x\",\"pad\":\"{}\"}}", "a".repeat(2000));

    // Declared too large.
    let answer = send(&app, signed_webhook(&big)).await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(answer.code(), "payload_too_large");

    // No Content-Length: refused once the limit is crossed while reading.
    let mut req = signed_webhook(&big).to_request();
    req.headers_mut().remove(header::CONTENT_LENGTH);
    let res = test::call_service(&app, req).await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);

    // A body at the limit still passes the size check (and then the signature check).
    let fits = format!("{{\"event\":\"x\",\"pad\":\"{}\"}}", "a".repeat(1024 - 22));
    assert_eq!(fits.len(), 1024);
    assert_eq!(
        send(&app, signed_webhook(&fits)).await.status,
        StatusCode::OK
    );
}

#[actix_web::test]
async fn the_default_limit_is_one_mebibyte() {
    let h = Harness::new().await;
    let app = app(&h.config).await;
    let big = "x".repeat(1024 * 1024 + 1);
    let answer = send(&app, signed_webhook(&big)).await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[actix_web::test]
async fn storage_down_is_503_with_retry_after_and_nothing_is_lost() {
    let h = Harness::new().await;
    let app = app(&h.config).await;
    let body = started_event("outage==");
    h.store.set_unavailable(true);
    let answer = send(&app, signed_webhook(&body)).await;
    assert_eq!(
        answer.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        answer.text()
    );
    assert_eq!(answer.code(), "storage_unavailable");
    let after: u64 = answer.header("retry-after").unwrap().parse().unwrap();
    assert!(after >= 1);

    // Zoom retries after the outage: stored now, as new.
    h.store.set_unavailable(false);
    let answer = send(&app, signed_webhook(&body)).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.json(), json!({"status": "stored"}));
}

#[actix_web::test]
async fn only_post_is_allowed() {
    let h = Harness::new().await;
    let app = app(&h.config).await;
    let answer = send(&app, TestRequest::get().uri("/attend/webhooks/zoom")).await;
    assert_eq!(answer.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(answer.code(), "method_not_allowed");
}
