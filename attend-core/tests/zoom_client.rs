//! The Zoom REST client against a fake HTTP server: OAuth token caching and refresh,
//! pagination, retries, rate limits, timeouts, tolerant responses, UUID encoding, and the
//! mapping of Zoom's errors.

use std::time::{Duration, Instant};

use attend_core::model::{InstanceId, MeetingKind, ZoomMeetingId};
use attend_core::zoom::api::{
    AddRegistrantRequest, BatchRegistrantInput, BatchRegistrantsRequest, CreateMeetingRequest,
    ListRegistrantsQuery, RegistrantAction, RegistrantRef, RegistrantStatus,
    RegistrantStatusUpdate, RegistrationSettings,
};
use attend_core::zoom::error::ReportAccess;
use attend_core::zoom::{
    Disposition, PastMeeting, RatePlan, RetryPolicy, S2SCredentials, ZoomApi, ZoomApiError,
    ZoomClient, ZoomClientConfig,
};
use chrono::{TimeZone, Utc};
use serde_json::json;
use wiremock::matchers::{
    basic_auth, bearer_token, body_json, body_string_contains, header, method, path, query_param,
    query_param_is_missing,
};
use wiremock::{Mock, MockServer, ResponseTemplate};

const MEETING: ZoomMeetingId = ZoomMeetingId(85746065);

fn config(server: &MockServer) -> ZoomClientConfig {
    ZoomClientConfig {
        api_base: format!("{}/v2/", server.uri()),
        oauth_url: format!("{}/oauth/token", server.uri()),
        request_timeout: Duration::from_secs(5),
        retry: RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(200),
        },
        pacing: None,
    }
}

fn credentials() -> S2SCredentials {
    S2SCredentials::new("acc-1", "client-id", "client-secret")
}

fn client_with(config: ZoomClientConfig) -> ZoomClient {
    ZoomClient::new(config, credentials()).unwrap()
}

async fn client(server: &MockServer) -> ZoomClient {
    client_with(config(server))
}

fn token_response(token: &str, expires_in: i64) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "access_token": token, "token_type": "bearer", "expires_in": expires_in,
        "scope": "meeting:read:admin", "api_url": "https://api.zoom.us"
    }))
}

/// The token endpoint, answering `token` (valid one hour); expects `times` calls.
async fn mount_token(server: &MockServer, token: &str, times: u64) {
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .and(basic_auth("client-id", "client-secret"))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .and(body_string_contains("grant_type=account_credentials"))
        .and(body_string_contains("account_id=acc-1"))
        .respond_with(token_response(token, 3600))
        .expect(times)
        .mount(server)
        .await;
}

fn meeting_json(id: serde_json::Value) -> serde_json::Value {
    json!({
        "id": id, "uuid": "aDYlohsHRtCd4ii1uC2+hA==", "host_id": "host-1", "topic": "Algebra",
        "type": 2, "start_time": "2026-01-05T09:00:00Z", "duration": 60, "timezone": "UTC",
        "join_url": "https://zoom.us/j/85746065", "settings": {"approval_type": 0}
    })
}

fn zoom_error(status: u16, code: i64, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({"code": code, "message": message}))
}

// ---- OAuth ----------------------------------------------------------------------------------

#[tokio::test]
async fn token_is_cached_across_calls() {
    let server = MockServer::start().await;
    mount_token(&server, "tok-1", 1).await;
    Mock::given(method("GET"))
        .and(path("/v2/meetings/85746065"))
        .and(bearer_token("tok-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(meeting_json(json!(85746065))))
        .expect(3)
        .mount(&server)
        .await;
    let zoom = client(&server).await;
    for _ in 0..3 {
        let meeting = zoom
            .get_meeting(MeetingKind::Meeting, MEETING)
            .await
            .unwrap();
        assert_eq!(meeting.id, MEETING);
    }
}

#[tokio::test]
async fn token_with_sixty_seconds_left_is_replaced_before_use() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(token_response("short-lived", 60))
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/meetings/85746065"))
        .respond_with(ResponseTemplate::new(200).set_body_json(meeting_json(json!(85746065))))
        .expect(2)
        .mount(&server)
        .await;
    let zoom = client(&server).await;
    zoom.get_meeting(MeetingKind::Meeting, MEETING)
        .await
        .unwrap();
    zoom.get_meeting(MeetingKind::Meeting, MEETING)
        .await
        .unwrap();
}

#[tokio::test]
async fn expired_token_mid_run_is_refreshed_once_then_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(token_response("tok-old", 3600))
        .up_to_n_times(1)
        .expect(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(token_response("tok-new", 3600))
        .expect(1)
        .with_priority(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/meetings/85746065"))
        .and(bearer_token("tok-old"))
        .respond_with(zoom_error(401, 124, "Access token is expired."))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/meetings/85746065"))
        .and(bearer_token("tok-new"))
        .respond_with(ResponseTemplate::new(200).set_body_json(meeting_json(json!("85746065"))))
        .expect(2)
        .mount(&server)
        .await;
    let zoom = client(&server).await;
    assert_eq!(
        zoom.get_meeting(MeetingKind::Meeting, MEETING)
            .await
            .unwrap()
            .id,
        MEETING
    );
    // The new token is cached: no third token request.
    zoom.get_meeting(MeetingKind::Meeting, MEETING)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_second_401_is_an_invalid_token_error_without_looping() {
    let server = MockServer::start().await;
    mount_token(&server, "tok", 2).await;
    Mock::given(method("GET"))
        .and(path("/v2/meetings/85746065"))
        .respond_with(zoom_error(401, 124, "Invalid access token."))
        .expect(2)
        .mount(&server)
        .await;
    let err = client(&server)
        .await
        .get_meeting(MeetingKind::Meeting, MEETING)
        .await
        .unwrap_err();
    assert!(matches!(err, ZoomApiError::InvalidToken { .. }), "{err:?}");
    assert_eq!(err.disposition(), Disposition::Permanent);
}

#[tokio::test]
async fn refused_credentials_are_a_permanent_oauth_error() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(400).set_body_json(
            json!({"reason": "Invalid client_id or client_secret", "error": "invalid_client"}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let err = client(&server)
        .await
        .get_meeting(MeetingKind::Meeting, MEETING)
        .await
        .unwrap_err();
    match &err {
        ZoomApiError::OAuth { status, message } => {
            assert_eq!(*status, 400);
            assert_eq!(message, "Invalid client_id or client_secret");
        }
        other => panic!("{other:?}"),
    }
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn credentials_never_show_in_debug_output() {
    let server = MockServer::start().await;
    let zoom = client(&server).await;
    let printed = format!("{zoom:?} {:?}", credentials());
    assert!(!printed.contains("client-secret"), "{printed}");
}

// ---- meetings -------------------------------------------------------------------------------

#[tokio::test]
async fn create_meeting_with_registration_settings() {
    let server = MockServer::start().await;
    mount_token(&server, "tok", 1).await;
    Mock::given(method("POST"))
        .and(path("/v2/users/teacher%40school.example/meetings"))
        .and(body_json(json!({
            "topic": "Algebra", "type": 2, "start_time": "2026-01-05T09:00:00Z", "duration": 60,
            "timezone": "Europe/Berlin", "settings": {"approval_type": 1}
        })))
        .respond_with(ResponseTemplate::new(201).set_body_json(meeting_json(json!(85746065))))
        .expect(1)
        .mount(&server)
        .await;
    let request = CreateMeetingRequest {
        topic: "Algebra".into(),
        meeting_type: None,
        start_time: Some(Utc.with_ymd_and_hms(2026, 1, 5, 9, 0, 0).unwrap()),
        duration_minutes: Some(60),
        timezone: Some("Europe/Berlin".into()),
        agenda: None,
        registration: RegistrationSettings::enabled(true),
    };
    let meeting = client(&server)
        .await
        .create_meeting(MeetingKind::Meeting, "teacher@school.example", &request)
        .await
        .unwrap();
    assert_eq!(meeting.id, MEETING);
    assert_eq!(meeting.uuid.as_deref(), Some("aDYlohsHRtCd4ii1uC2+hA=="));
}

#[tokio::test]
async fn create_is_not_resent_after_a_server_error() {
    let server = MockServer::start().await;
    mount_token(&server, "tok", 1).await;
    Mock::given(method("POST"))
        .and(path("/v2/users/me/webinars"))
        .and(body_string_contains("\"type\":5"))
        .respond_with(ResponseTemplate::new(502))
        .expect(1)
        .mount(&server)
        .await;
    let request = CreateMeetingRequest {
        topic: "Town hall".into(),
        meeting_type: None,
        start_time: None,
        duration_minutes: None,
        timezone: None,
        agenda: None,
        registration: RegistrationSettings::enabled(false),
    };
    let err = client(&server)
        .await
        .create_meeting(MeetingKind::Webinar, "me", &request)
        .await
        .unwrap_err();
    assert!(
        matches!(err, ZoomApiError::Server { status: 502, .. }),
        "{err:?}"
    );
    assert!(
        err.is_retryable(),
        "the caller decides whether to look and retry"
    );
}

#[tokio::test]
async fn meeting_ids_as_string_or_number() {
    let server = MockServer::start().await;
    mount_token(&server, "tok", 1).await;
    Mock::given(method("GET"))
        .and(path("/v2/meetings/85746065"))
        .respond_with(ResponseTemplate::new(200).set_body_json(meeting_json(json!("85746065"))))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/meetings/85746065"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": 85746065, "type": 8})))
        .mount(&server)
        .await;
    let zoom = client(&server).await;
    let as_string = zoom
        .get_meeting(MeetingKind::Meeting, MEETING)
        .await
        .unwrap();
    let as_number = zoom
        .get_meeting(MeetingKind::Meeting, MEETING)
        .await
        .unwrap();
    assert_eq!(as_string.id, MEETING);
    assert_eq!(as_number.id, MEETING);
    assert!(as_string.registration_enabled());
    // Missing optional fields are fine.
    assert_eq!(as_number.topic, None);
    assert!(!as_number.registration_enabled());
    assert!(!as_number.supports_batch_registration(MeetingKind::Meeting));
}

#[tokio::test]
async fn switching_registration_on_patches_the_settings() {
    let server = MockServer::start().await;
    mount_token(&server, "tok", 1).await;
    Mock::given(method("PATCH"))
        .and(path("/v2/meetings/85746065"))
        .and(body_json(json!({"settings": {"approval_type": 0}})))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path("/v2/webinars/85746065"))
        .and(body_json(json!({"settings": {"approval_type": 1}})))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let zoom = client(&server).await;
    zoom.update_registration_settings(
        MeetingKind::Meeting,
        MEETING,
        &RegistrationSettings::enabled(false),
    )
    .await
    .unwrap();
    zoom.update_registration_settings(
        MeetingKind::Webinar,
        MEETING,
        &RegistrationSettings::enabled(true),
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn meeting_errors_are_typed() {
    let server = MockServer::start().await;
    mount_token(&server, "tok", 1).await;
    Mock::given(method("GET"))
        .and(path("/v2/meetings/1"))
        .respond_with(zoom_error(404, 3001, "Meeting does not exist: 1."))
        .mount(&server)
        .await;
    let err = client(&server)
        .await
        .get_meeting(MeetingKind::Meeting, ZoomMeetingId(1))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            ZoomApiError::MeetingNotFound {
                code: Some(3001),
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.code(), "zoom_meeting_not_found");
    assert_eq!(err.zoom_code(), Some(3001));
}

// ---- registrants ----------------------------------------------------------------------------

#[tokio::test]
async fn add_registrant_with_auto_approve_and_occurrences() {
    let server = MockServer::start().await;
    mount_token(&server, "tok", 1).await;
    Mock::given(method("POST"))
        .and(path("/v2/meetings/85746065/registrants"))
        .and(query_param("occurrence_ids", "1648194360000,1648799160000"))
        .and(body_json(json!({
            "email": "u42@attend.example", "first_name": "Ada", "last_name": "Lovelace",
            "auto_approve": true
        })))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "id": 85746065, "join_url": "https://zoom.us/w/85746065?tk=abc",
            "registrant_id": "fdgsfh2ey82fuh", "start_time": "2021-07-13T21:44:51Z",
            "topic": "My Meeting", "participant_pin_code": 380303
        })))
        .expect(1)
        .mount(&server)
        .await;
    let mut request = AddRegistrantRequest::new("u42@attend.example", "Ada");
    request.last_name = Some("Lovelace".into());
    request.auto_approve = Some(true);
    request.occurrence_ids = vec!["1648194360000".into(), "1648799160000".into()];
    let created = client(&server)
        .await
        .add_registrant(MeetingKind::Meeting, MEETING, &request)
        .await
        .unwrap();
    assert_eq!(created.registrant_id, "fdgsfh2ey82fuh");
    assert_eq!(
        created.join_url.as_deref(),
        Some("https://zoom.us/w/85746065?tk=abc")
    );
    assert_eq!(created.meeting_id, Some(MEETING));
    assert_eq!(created.participant_pin_code, Some(380303));
}

#[tokio::test]
async fn registrant_errors_are_typed() {
    let cases = [
        (
            zoom_error(400, 3043, "Meeting has reached maximum attendee capacity."),
            "zoom_capacity_reached",
        ),
        (
            zoom_error(
                404,
                404,
                "Registration has not been enabled for this meeting: 85746065.",
            ),
            "zoom_registration_not_enabled",
        ),
        (
            zoom_error(
                400,
                3161,
                "Meeting hosting and scheduling capabilities are not allowed for your user account.",
            ),
            "zoom_host_not_licensed",
        ),
        (
            zoom_error(400, 200, "Only available for Paid user: x."),
            "zoom_host_not_licensed",
        ),
    ];
    for (response, expected) in cases {
        let server = MockServer::start().await;
        mount_token(&server, "tok", 1).await;
        Mock::given(method("POST"))
            .and(path("/v2/meetings/85746065/registrants"))
            .respond_with(response)
            .expect(1)
            .mount(&server)
            .await;
        let err = client(&server)
            .await
            .add_registrant(
                MeetingKind::Meeting,
                MEETING,
                &AddRegistrantRequest::new("a@b.c", "A"),
            )
            .await
            .unwrap_err();
        assert_eq!(err.code(), expected, "{err:?}");
        assert_eq!(err.disposition(), Disposition::Permanent);
    }
}

fn batch_of(n: usize) -> BatchRegistrantsRequest {
    BatchRegistrantsRequest {
        auto_approve: Some(true),
        registrants_confirmation_email: Some(false),
        registrants: (0..n)
            .map(|i| BatchRegistrantInput {
                email: format!("u{i}@attend.example"),
                first_name: format!("User {i}"),
                last_name: None,
            })
            .collect(),
    }
}

#[tokio::test]
async fn batch_registration() {
    let server = MockServer::start().await;
    mount_token(&server, "tok", 1).await;
    Mock::given(method("POST"))
        .and(path("/v2/meetings/85746065/batch_registrants"))
        .and(body_json(json!({
            "auto_approve": true, "registrants_confirmation_email": false,
            "registrants": [
                {"email": "u0@attend.example", "first_name": "User 0"},
                {"email": "u1@attend.example", "first_name": "User 1"}
            ]
        })))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"registrants": [
            {"email": "u0@attend.example", "join_url": "https://zoom.us/w/1?tk=a", "registrant_id": "r0"},
            {"email": "u1@attend.example", "join_url": "https://zoom.us/w/1?tk=b", "registrant_id": "r1", "participant_pin_code": 1}
        ]})))
        .expect(1)
        .mount(&server)
        .await;
    let zoom = client(&server).await;
    let created = zoom
        .batch_add_registrants(MeetingKind::Meeting, MEETING, &batch_of(2))
        .await
        .unwrap();
    assert_eq!(
        created
            .iter()
            .map(|r| r.registrant_id.as_str())
            .collect::<Vec<_>>(),
        ["r0", "r1"]
    );
    assert_eq!(created[0].email.as_deref(), Some("u0@attend.example"));

    // More than 30: refused before any request (the mock expects exactly one call).
    let err = zoom
        .batch_add_registrants(MeetingKind::Meeting, MEETING, &batch_of(31))
        .await
        .unwrap_err();
    assert!(matches!(err, ZoomApiError::InvalidRequest(_)), "{err:?}");
    // Nothing to do: no request either.
    assert!(
        zoom.batch_add_registrants(MeetingKind::Meeting, MEETING, &batch_of(0))
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn batch_on_a_recurring_meeting_is_batch_not_supported() {
    let server = MockServer::start().await;
    mount_token(&server, "tok", 1).await;
    Mock::given(method("POST"))
        .and(path("/v2/meetings/85746065/batch_registrants"))
        .respond_with(zoom_error(
            400,
            303,
            "This API can only be used for scheduled meeting(meeting type: 2). Batch registration is not supported for other meeting types.",
        ))
        .expect(1)
        .mount(&server)
        .await;
    let err = client(&server)
        .await
        .batch_add_registrants(MeetingKind::Meeting, MEETING, &batch_of(3))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            ZoomApiError::BatchNotSupported {
                code: Some(303),
                ..
            }
        ),
        "{err:?}"
    );
}

fn registrant(i: usize) -> serde_json::Value {
    json!({
        "id": format!("r{i}"), "email": format!("u{i}@attend.example"), "first_name": "U",
        "last_name": "", "status": "approved", "create_time": "2026-01-01T10:00:00Z",
        "join_url": format!("https://zoom.us/w/1?tk={i}")
    })
}

#[tokio::test]
async fn registrants_are_listed_across_all_pages() {
    let server = MockServer::start().await;
    mount_token(&server, "tok", 1).await;
    let page = |items: std::ops::Range<usize>, next: &str| {
        ResponseTemplate::new(200).set_body_json(json!({
            "page_size": 300, "total_records": 5, "next_page_token": next,
            "registrants": items.map(registrant).collect::<Vec<_>>()
        }))
    };
    Mock::given(method("GET"))
        .and(path("/v2/meetings/85746065/registrants"))
        .and(query_param("page_size", "300"))
        .and(query_param("status", "pending"))
        .and(query_param_is_missing("next_page_token"))
        .respond_with(page(0..2, "tok-p2"))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/meetings/85746065/registrants"))
        .and(query_param("page_size", "300"))
        .and(query_param("next_page_token", "tok-p2"))
        .respond_with(page(2..4, "tok-p3"))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/meetings/85746065/registrants"))
        .and(query_param("next_page_token", "tok-p3"))
        .respond_with(page(4..5, ""))
        .expect(1)
        .mount(&server)
        .await;
    let all = client(&server)
        .await
        .list_registrants(
            MeetingKind::Meeting,
            MEETING,
            &ListRegistrantsQuery {
                status: Some(RegistrantStatus::Pending),
                occurrence_id: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        all.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        ["r0", "r1", "r2", "r3", "r4"]
    );
    assert_eq!(all[0].last_name, None, "empty strings are None");
    assert_eq!(
        all[4].create_time,
        Some(Utc.with_ymd_and_hms(2026, 1, 1, 10, 0, 0).unwrap())
    );
}

#[tokio::test]
async fn a_repeating_page_token_is_an_error_not_a_loop() {
    let server = MockServer::start().await;
    mount_token(&server, "tok", 1).await;
    Mock::given(method("GET"))
        .and(path("/v2/meetings/85746065/registrants"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "next_page_token": "same", "registrants": [registrant(0)]
        })))
        .expect(2)
        .mount(&server)
        .await;
    let err = client(&server)
        .await
        .list_registrants(
            MeetingKind::Meeting,
            MEETING,
            &ListRegistrantsQuery::default(),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, ZoomApiError::InvalidResponse(_)), "{err:?}");
}

#[tokio::test]
async fn registrant_status_update_and_delete() {
    let server = MockServer::start().await;
    mount_token(&server, "tok", 1).await;
    Mock::given(method("PUT"))
        .and(path("/v2/meetings/85746065/registrants/status"))
        .and(query_param("occurrence_id", "1648194360000"))
        .and(body_json(
            json!({"action": "deny", "registrants": [{"id": "r9", "email": "x@y.z"}]}),
        ))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/v2/webinars/85746065/registrants/r%2B1"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/v2/meetings/85746065/registrants/gone"))
        .respond_with(zoom_error(404, 3027, "Registrant not found"))
        .expect(1)
        .mount(&server)
        .await;
    let zoom = client(&server).await;
    zoom.update_registrant_status(
        MeetingKind::Meeting,
        MEETING,
        &RegistrantStatusUpdate {
            action: RegistrantAction::Deny,
            registrants: vec![RegistrantRef {
                id: "r9".into(),
                email: Some("x@y.z".into()),
            }],
            occurrence_id: Some("1648194360000".into()),
        },
    )
    .await
    .unwrap();
    let too_many = RegistrantStatusUpdate {
        action: RegistrantAction::Cancel,
        registrants: (0..31)
            .map(|i| RegistrantRef {
                id: format!("r{i}"),
                email: None,
            })
            .collect(),
        occurrence_id: None,
    };
    assert!(matches!(
        zoom.update_registrant_status(MeetingKind::Meeting, MEETING, &too_many)
            .await,
        Err(ZoomApiError::InvalidRequest(_))
    ));
    zoom.delete_registrant(MeetingKind::Webinar, MEETING, "r+1", None)
        .await
        .unwrap();
    let err = zoom
        .delete_registrant(MeetingKind::Meeting, MEETING, "gone", None)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            ZoomApiError::NotFound {
                code: Some(3027),
                ..
            }
        ),
        "{err:?}"
    );
}

// ---- rate limits, retries, timeouts ---------------------------------------------------------

#[tokio::test]
async fn per_second_429_is_retried_then_succeeds() {
    let server = MockServer::start().await;
    mount_token(&server, "tok", 1).await;
    Mock::given(method("POST"))
        .and(path("/v2/meetings/85746065/registrants"))
        .respond_with(
            zoom_error(
                429,
                429,
                "You have reached the maximum per-second rate limit for this API. Try again later.",
            )
            .insert_header("X-RateLimit-Type", "QPS")
            .insert_header("X-RateLimit-Category", "Light")
            .insert_header("Retry-After", "0"),
        )
        .up_to_n_times(2)
        .expect(2)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v2/meetings/85746065/registrants"))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(json!({"registrant_id": "r1", "id": "85746065"})),
        )
        .expect(1)
        .with_priority(2)
        .mount(&server)
        .await;
    let created = client(&server)
        .await
        .add_registrant(
            MeetingKind::Meeting,
            MEETING,
            &AddRegistrantRequest::new("a@b.c", "A"),
        )
        .await
        .unwrap();
    assert_eq!(created.registrant_id, "r1");
}

#[tokio::test]
async fn per_second_429_that_persists_is_a_retryable_error_after_max_attempts() {
    let server = MockServer::start().await;
    mount_token(&server, "tok", 1).await;
    Mock::given(method("GET"))
        .and(path("/v2/meetings/85746065"))
        .respond_with(
            zoom_error(
                429,
                429,
                "You have reached the maximum per-second rate limit for this API. Try again later.",
            )
            .insert_header("X-RateLimit-Type", "QPS"),
        )
        .expect(3)
        .mount(&server)
        .await;
    let err = client(&server)
        .await
        .get_meeting(MeetingKind::Meeting, MEETING)
        .await
        .unwrap_err();
    assert!(matches!(err, ZoomApiError::RateLimited { .. }), "{err:?}");
    assert!(err.is_retryable());
}

#[tokio::test]
async fn daily_limit_is_a_typed_outcome_with_the_reset_time_and_no_retry() {
    let server = MockServer::start().await;
    mount_token(&server, "tok", 1).await;
    Mock::given(method("GET"))
        .and(path("/v2/report/meetings/85746065/participants"))
        .respond_with(
            zoom_error(429, 429, "You have reached the maximum daily rate limit for this API. Refer to the response header for details on when you can make another request.")
                .insert_header("X-RateLimit-Type", "Daily-limit")
                .insert_header("X-RateLimit-Category", "Heavy")
                .insert_header("Retry-After", "2026-01-06T00:00:00Z"),
        )
        .expect(1)
        .mount(&server)
        .await;
    let err = client(&server)
        .await
        .report_participants(MeetingKind::Meeting, &PastMeeting::Latest(MEETING))
        .await
        .unwrap_err();
    let reset = Utc.with_ymd_and_hms(2026, 1, 6, 0, 0, 0).unwrap();
    match &err {
        ZoomApiError::DailyLimit {
            retry_at,
            per_resource,
            category,
            ..
        } => {
            assert_eq!(*retry_at, reset);
            assert!(!per_resource);
            assert_eq!(
                *category,
                Some(attend_core::zoom::rate_limit::RateLimitCategory::Heavy)
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(err.disposition(), Disposition::Defer { until: reset });
    assert_eq!(err.retry_at(), Some(reset));
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn three_per_day_per_registrant_limit_from_the_body_alone() {
    let server = MockServer::start().await;
    mount_token(&server, "tok", 1).await;
    Mock::given(method("POST"))
        .and(path("/v2/meetings/85746065/registrants"))
        .respond_with(zoom_error(
            429,
            429,
            "You have reached the daily rate limit of 3 for Add meeting registrant API request for the registrant a@b.c. You can resume these API requests at GMT 00:00:00.",
        ))
        .expect(1)
        .mount(&server)
        .await;
    let before = Utc::now();
    let err = client(&server)
        .await
        .add_registrant(
            MeetingKind::Meeting,
            MEETING,
            &AddRegistrantRequest::new("a@b.c", "A"),
        )
        .await
        .unwrap_err();
    let ZoomApiError::DailyLimit {
        retry_at,
        per_resource,
        ..
    } = err
    else {
        panic!("{err:?}")
    };
    assert!(per_resource);
    assert_eq!(
        retry_at,
        attend_core::zoom::rate_limit::next_utc_midnight(before)
    );
}

#[tokio::test]
async fn server_errors_are_retried_then_succeed() {
    let server = MockServer::start().await;
    mount_token(&server, "tok", 1).await;
    Mock::given(method("GET"))
        .and(path("/v2/past_meetings/85746065/instances"))
        .respond_with(ResponseTemplate::new(503).set_body_string("upstream unavailable"))
        .up_to_n_times(2)
        .expect(2)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/past_meetings/85746065/instances"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"meetings": [
            {"uuid": "/abc==", "start_time": "2026-01-05T09:00:00Z"},
            {"uuid": "def==", "start_time": "2026-01-12T09:00:00Z", "occurrence_id": 1648194360000_i64}
        ]})))
        .expect(1)
        .with_priority(2)
        .mount(&server)
        .await;
    let instances = client(&server)
        .await
        .past_instances(MeetingKind::Meeting, MEETING)
        .await
        .unwrap();
    assert_eq!(instances.len(), 2);
    assert_eq!(instances[0].uuid, "/abc==");
    assert_eq!(instances[1].occurrence_id.as_deref(), Some("1648194360000"));
}

#[tokio::test]
async fn persistent_server_errors_give_up_after_max_attempts() {
    let server = MockServer::start().await;
    mount_token(&server, "tok", 1).await;
    Mock::given(method("GET"))
        .and(path("/v2/meetings/85746065"))
        .respond_with(
            ResponseTemplate::new(500)
                .set_body_json(json!({"code": 500, "message": "Internal error"})),
        )
        .expect(3)
        .mount(&server)
        .await;
    let err = client(&server)
        .await
        .get_meeting(MeetingKind::Meeting, MEETING)
        .await
        .unwrap_err();
    assert!(
        matches!(err, ZoomApiError::Server { status: 500, .. }),
        "{err:?}"
    );
    assert!(err.is_retryable());
}

#[tokio::test]
async fn timeouts_are_retried_then_succeed() {
    let server = MockServer::start().await;
    mount_token(&server, "tok", 1).await;
    Mock::given(method("GET"))
        .and(path("/v2/meetings/85746065"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(meeting_json(json!(85746065)))
                .set_delay(Duration::from_secs(3)),
        )
        .up_to_n_times(1)
        .expect(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/meetings/85746065"))
        .respond_with(ResponseTemplate::new(200).set_body_json(meeting_json(json!(85746065))))
        .expect(1)
        .with_priority(2)
        .mount(&server)
        .await;
    let mut cfg = config(&server);
    cfg.request_timeout = Duration::from_millis(300);
    let zoom = client_with(cfg);
    assert_eq!(
        zoom.get_meeting(MeetingKind::Meeting, MEETING)
            .await
            .unwrap()
            .id,
        MEETING
    );
}

#[tokio::test]
async fn persistent_timeouts_are_a_retryable_timeout_error() {
    let server = MockServer::start().await;
    mount_token(&server, "tok", 1).await;
    Mock::given(method("GET"))
        .and(path("/v2/meetings/85746065"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(3)))
        .expect(2)
        .mount(&server)
        .await;
    let mut cfg = config(&server);
    cfg.request_timeout = Duration::from_millis(200);
    cfg.retry.max_attempts = 2;
    let err = client_with(cfg)
        .get_meeting(MeetingKind::Meeting, MEETING)
        .await
        .unwrap_err();
    assert!(matches!(err, ZoomApiError::Timeout(_)), "{err:?}");
    assert!(err.is_retryable());
    assert!(
        std::error::Error::source(&err).is_some(),
        "the reqwest error is kept as source"
    );
}

#[tokio::test]
async fn unreachable_server_is_a_transport_error() {
    let server = MockServer::start().await;
    let mut cfg = config(&server);
    // A port nothing listens on.
    cfg.oauth_url = "http://127.0.0.1:9/oauth/token".into();
    cfg.retry.max_attempts = 2;
    let err = client_with(cfg)
        .get_meeting(MeetingKind::Meeting, MEETING)
        .await
        .unwrap_err();
    assert!(
        matches!(err, ZoomApiError::Transport(_) | ZoomApiError::Timeout(_)),
        "{err:?}"
    );
    assert!(err.is_retryable());
}

#[tokio::test]
async fn pacing_spaces_requests_of_a_category() {
    let server = MockServer::start().await;
    mount_token(&server, "tok", 1).await;
    Mock::given(method("GET"))
        .and(path("/v2/meetings/85746065"))
        .respond_with(ResponseTemplate::new(200).set_body_json(meeting_json(json!(85746065))))
        .expect(3)
        .mount(&server)
        .await;
    let mut cfg = config(&server);
    cfg.pacing = Some(RatePlan::Free); // Light: 4 per second → 250 ms apart
    let zoom = client_with(cfg);
    let started = Instant::now();
    for _ in 0..3 {
        zoom.get_meeting(MeetingKind::Meeting, MEETING)
            .await
            .unwrap();
    }
    // Three requests of one category on the Free plan cannot complete in under 2 × 250 ms.
    assert!(
        started.elapsed() >= Duration::from_millis(500),
        "{:?}",
        started.elapsed()
    );
}

// ---- reports --------------------------------------------------------------------------------

fn report_row(user: &str, registrant: &str) -> serde_json::Value {
    json!({
        "id": "", "user_id": user, "name": "Ada", "user_email": "u42@attend.example",
        "join_time": "2026-01-05T09:01:00Z", "leave_time": "2026-01-05T09:59:00Z",
        "duration": 3480, "registrant_id": registrant, "failover": false, "status": "in_meeting"
    })
}

#[tokio::test]
async fn report_participants_every_page_with_registrant_ids() {
    let server = MockServer::start().await;
    mount_token(&server, "tok", 1).await;
    Mock::given(method("GET"))
        .and(path("/v2/report/meetings/%252Fabc%253D%253D/participants"))
        .and(query_param("include_fields", "registrant_id"))
        .and(query_param("page_size", "300"))
        .and(query_param_is_missing("next_page_token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "page_count": 2, "page_size": 300, "total_records": 3, "next_page_token": "n2",
            "participants": [report_row("16778240", "r1"), report_row("16778241", "")]
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/report/meetings/%252Fabc%253D%253D/participants"))
        .and(query_param("include_fields", "registrant_id"))
        .and(query_param("next_page_token", "n2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "next_page_token": "", "participants": [report_row(&16778242.to_string(), "r3")]
        })))
        .expect(1)
        .mount(&server)
        .await;
    let rows = client(&server)
        .await
        .report_participants(
            MeetingKind::Meeting,
            &PastMeeting::Instance(InstanceId::from("/abc==")),
        )
        .await
        .unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0].registrant_id.as_deref(), Some("r1"));
    assert_eq!(rows[1].registrant_id, None);
    assert_eq!(rows[2].user_id.as_deref(), Some("16778242"));
    assert_eq!(rows[0].duration, Some(3480));
    assert_eq!(rows[0].identity_hints().participant_user_id, None);
}

#[tokio::test]
async fn uuids_are_encoded_once_or_twice() {
    let server = MockServer::start().await;
    mount_token(&server, "tok", 1).await;
    let ok = || ResponseTemplate::new(200).set_body_json(json!({"participants": []}));
    for encoded in [
        "%252Fabc%253D%253D",
        "ab%252F%252Fcd%253D%253D",
        "ab%2Bc%2Fd%3D%3D",
    ] {
        Mock::given(method("GET"))
            .and(path(format!("/v2/past_meetings/{encoded}/participants")))
            .respond_with(ok())
            .expect(1)
            .mount(&server)
            .await;
    }
    Mock::given(method("GET"))
        .and(path("/v2/past_webinars/85746065/participants"))
        .respond_with(ok())
        .expect(1)
        .mount(&server)
        .await;
    let zoom = client(&server).await;
    for uuid in ["/abc==", "ab//cd==", "ab+c/d=="] {
        zoom.past_participants(
            MeetingKind::Meeting,
            &PastMeeting::Instance(InstanceId::from(uuid)),
        )
        .await
        .unwrap_or_else(|e| panic!("{uuid}: {e:?}"));
    }
    zoom.past_participants(MeetingKind::Webinar, &PastMeeting::Latest(MEETING))
        .await
        .unwrap();
}

#[tokio::test]
async fn report_not_ready_is_told_apart_from_no_access() {
    let cases = [
        (
            zoom_error(404, 3001, "Meeting ID is invalid or not end."),
            "not ready",
        ),
        (
            zoom_error(
                400,
                3001,
                "This meeting is not available or ID is not valid.",
            ),
            "not ready",
        ),
        (ResponseTemplate::new(404), "not ready"),
        (
            zoom_error(400, 200, "Only available for Paid user: x."),
            "plan",
        ),
        (
            zoom_error(
                400,
                4711,
                "Invalid access token, does not contain permissions:[report:read:admin]",
            ),
            "scope",
        ),
        (
            zoom_error(
                400,
                4700,
                "Invalid access token, does not contain scopes:[report:read:admin]",
            ),
            "scope",
        ),
        (
            zoom_error(400, 12702, "Can not access meeting a year ago."),
            "expired",
        ),
    ];
    for (response, expected) in cases {
        let server = MockServer::start().await;
        mount_token(&server, "tok", 1).await;
        Mock::given(method("GET"))
            .and(path("/v2/report/meetings/85746065/participants"))
            .respond_with(response)
            .expect(1)
            .mount(&server)
            .await;
        let err = client(&server)
            .await
            .report_participants(MeetingKind::Meeting, &PastMeeting::Latest(MEETING))
            .await
            .unwrap_err();
        match (expected, &err) {
            ("not ready", ZoomApiError::ReportNotReady { .. }) => assert!(err.is_retryable()),
            (
                "plan",
                ZoomApiError::ReportsUnavailable {
                    access: ReportAccess::PlanLacksReports,
                    ..
                },
            )
            | (
                "scope",
                ZoomApiError::ReportsUnavailable {
                    access: ReportAccess::MissingScope,
                    ..
                },
            )
            | ("expired", ZoomApiError::ReportExpired { .. }) => {
                assert_eq!(err.disposition(), Disposition::Permanent)
            }
            _ => panic!("expected {expected}, got {err:?}"),
        }
    }
}

#[tokio::test]
async fn the_trait_is_usable_as_a_shared_object() {
    let server = MockServer::start().await;
    mount_token(&server, "tok", 1).await;
    Mock::given(method("GET"))
        .and(path("/v2/webinars/85746065"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": 85746065, "type": 5})))
        .expect(2)
        .mount(&server)
        .await;
    let api: std::sync::Arc<dyn ZoomApi> = std::sync::Arc::new(client(&server).await);
    let handles: Vec<_> = (0..2)
        .map(|_| {
            let api = api.clone();
            tokio::spawn(async move { api.get_meeting(MeetingKind::Webinar, MEETING).await })
        })
        .collect();
    for handle in handles {
        let meeting = handle.await.unwrap().unwrap();
        assert!(meeting.supports_batch_registration(MeetingKind::Webinar));
    }
}
