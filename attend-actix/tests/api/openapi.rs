//! The OpenAPI document: served, complete, and pinned by a snapshot so that every change to
//! the HTTP contract shows up as a reviewed diff.

use actix_web::{http::StatusCode, test::TestRequest};

use crate::common::*;

#[actix_web::test]
async fn the_served_document_is_pinned_by_a_snapshot() {
    let h = Harness::new().await;
    let app = app(&h.config).await;
    let answer = send(&app, TestRequest::get().uri("/attend/openapi.json")).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(
        answer
            .header("content-type")
            .unwrap()
            .starts_with("application/json")
    );
    let doc = answer.json();
    insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false}, {
        insta::assert_json_snapshot!("openapi", doc);
    });
}

#[actix_web::test]
async fn the_document_describes_every_route_of_the_contract() {
    let doc = serde_json::to_value(attend_actix::openapi()).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["info"]["license"]["identifier"], "MIT OR Apache-2.0");
    assert!(doc.get("servers").is_none(), "nestable: no servers entry");
    let expected = [
        ("/openapi.json", "get"),
        ("/webhooks/zoom", "post"),
        ("/meetings", "post"),
        ("/meetings", "get"),
        ("/meetings/{id}", "get"),
        ("/meetings/{id}", "patch"),
        ("/meetings/{id}/registrations", "post"),
        ("/meetings/{id}/registrations", "get"),
        ("/meetings/{id}/registrations/{user_id}", "delete"),
        ("/meetings/{id}/join-link", "get"),
        ("/join/{token}", "get"),
        ("/meetings/{id}/instances", "get"),
        ("/meetings/{id}/attendance", "get"),
        ("/meetings/{id}/attendance.csv", "get"),
        ("/meetings/{id}/live", "get"),
        ("/meetings/{id}/unmatched", "get"),
        ("/meetings/{id}/unmatched/{participant_key}/link", "post"),
        ("/meetings/{id}/reconcile", "post"),
        ("/users/{user_id}/attendance", "get"),
        ("/users/{user_id}", "delete"),
    ];
    let paths = doc["paths"].as_object().unwrap();
    let operations: usize = paths.values().map(|p| p.as_object().unwrap().len()).sum();
    assert_eq!(operations, expected.len(), "no undocumented extras");
    for (path, method) in expected {
        let op = &doc["paths"][path][method];
        assert!(op.is_object(), "{method} {path} missing");
        for (status, response) in op["responses"].as_object().unwrap() {
            let described = response.get("description").is_some() || response.get("$ref").is_some();
            assert!(described, "{method} {path} {status} has no description");
        }
    }
    // Security: bearer everywhere but the webhook (signature), the join link (token in the
    // path) and the document itself.
    assert_eq!(
        doc["paths"]["/webhooks/zoom"]["post"]["security"][0]["zoom_signature"],
        serde_json::json!([])
    );
    assert_eq!(
        doc["paths"]["/join/{token}"]["get"]["security"],
        serde_json::json!([{}])
    );
    assert_eq!(
        doc["paths"]["/meetings"]["get"]["security"][0]["bearer"],
        serde_json::json!([])
    );
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
}

#[cfg(feature = "swagger-ui")]
#[actix_web::test]
async fn swagger_ui_is_served_when_enabled() {
    let h = Harness::new().await;
    let config = attend_actix::AttendConfig::builder(
        h.attend.clone(),
        std::sync::Arc::new(attend_actix::auth::JwtAuthenticator::new(JWT_SECRET)),
    )
    .swagger_ui(true)
    .build();
    let app = crate::common::app(&config).await;
    let page = send(&app, TestRequest::get().uri("/attend/docs/")).await;
    assert_eq!(page.status, StatusCode::OK);
    let init = send(
        &app,
        TestRequest::get().uri("/attend/docs/swagger-initializer.js"),
    )
    .await;
    assert_eq!(init.status, StatusCode::OK);
    assert!(
        init.text().contains("/attend/openapi.json"),
        "{}",
        init.text()
    );
}
