//! Request spans name the route pattern and status, and never carry credentials.
//!
//! A test binary of its own: tracing caches per call site whether anyone listens, so a
//! thread-local subscriber installed by one test would miss spans whose interest another test
//! (running with no subscriber) had already cached as "never".

#[path = "api/common.rs"]
#[allow(dead_code, unreachable_pub)]
mod common;

use std::{
    io,
    sync::{Arc, Mutex},
};

use actix_web::{http::StatusCode, test::TestRequest};
use tracing_subscriber::fmt::MakeWriter;

use common::*;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[actix_web::test]
async fn logs_name_route_patterns_and_never_tokens_or_secrets() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(captured.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let h = Harness::new().await;
    let app = app(&h.config).await;
    let (id, zoom_id) = linked_meeting(&h, &app).await;
    let admin = h.admin();
    let link = send(
        &app,
        get(
            &format!("/attend/meetings/{id}/join-link?user_id=u1"),
            &admin,
        ),
    )
    .await;
    let url = link.json()["url"].as_str().unwrap().to_owned();
    let token = url.rsplit('/').next().unwrap().to_owned();
    let opened = send(
        &app,
        TestRequest::get().uri(&format!("/attend/join/{token}")),
    )
    .await;
    assert_eq!(opened.status, StatusCode::FOUND);
    let join_url = opened.header("location").unwrap().to_owned();
    let body = r#"{"event":"meeting.started","payload":{"object":{"id":"1"}}}"#;
    assert_eq!(
        send(&app, signed_webhook(body)).await.status,
        StatusCode::OK
    );
    let expired_or_bad = send(&app, get("/attend/meetings", "not-a-real-token-SECRETISH")).await;
    assert_eq!(expired_or_bad.status, StatusCode::UNAUTHORIZED);

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("attend.request"), "{logs}");
    assert!(
        logs.contains("/attend/join/{token}"),
        "route patterns are logged"
    );
    assert!(logs.contains("http.status_code=302"), "statuses are logged");
    for secret in [
        token.as_str(),
        admin.as_str(),
        join_url.as_str(),
        WEBHOOK_SECRET,
        "not-a-real-token-SECRETISH",
        "meeting.started\",\"payload",
    ] {
        assert!(!logs.contains(secret), "{secret} leaked into the logs");
    }
    assert!(zoom_id > 0);
}
