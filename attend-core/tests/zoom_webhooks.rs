//! Webhook signature verification: published vectors, Zoom's fixtures, and every way a
//! delivery can be refused.

use std::path::PathBuf;
use std::time::Duration;

use attend_core::model::AccountKey;
use attend_core::zoom::signature::{
    MAX_REPLAY_WINDOW, SIGNATURE_HEADER, SecretSlot, TIMESTAMP_HEADER,
};
use attend_core::zoom::{
    Secret, UrlValidationResponse, VerifyError, WebhookHeaders, WebhookIntake, WebhookSecrets,
    WebhookVerifier, ZoomEvent, compute_signature, encrypt_plain_token, parse_event,
};
use chrono::{DateTime, TimeZone, Utc};

const SECRET: &str = "4fv1RkqGQUq5sWbEz6hA5A";

const V1_TS: &str = "1720705455";
const V1_BODY: &str = r#"{"payload":{"plainToken":"xys8n8PGS7mAU0m5-YJjRA"},"event_ts":1720705455858,"event":"endpoint.url_validation"}"#;
const V1_SIG: &str = "v0=93a1a675965ceb9c5a50c5dfb31f20e50f763be37a54ef74cd2d16a1a8e5c0d6";

const V2_TS: &str = "1720707175";
// A raw string: the `\uD83D…` escapes stay literal 6-byte sequences, `’` and `–` are raw UTF-8,
// exactly as Zoom sent them.
const V2_BODY: &str = r#"{"event":"meeting.started","payload":{"account_id":"VjZoEArIT5y-HlWxkV-tVA","object":{"duration":60,"start_time":"2024-07-11T14:12:55Z","timezone":"America/New_York","topic":"Test \uD83D\uDE92\uD83D\uDE92 ? - ’ - – \uD83D\uDE97 HOLA","id":"85393847045","type":2,"uuid":"jUh5o3dKQIytvcsfTtKBlg==","host_id":"8lzIwvZTSOqjndWPbPqzuA"}},"event_ts":1720707175904}"#;
const V2_SIG: &str = "v0=1a14e79349318fa1bead50ebbd3c185ae078e182d3bbd30ab8010fcb7f4357c7";

fn at(ts: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(ts, 0).unwrap()
}

fn verifier() -> WebhookVerifier {
    WebhookVerifier::single("acme", WebhookSecrets::new(SECRET))
}

fn headers<'a>(sig: &'a str, ts: &'a str) -> WebhookHeaders<'a> {
    WebhookHeaders::new(Some(sig), Some(ts))
}

#[test]
fn vector_v1_url_validation_verifies() {
    let ok = verifier()
        .verify(headers(V1_SIG, V1_TS), V1_BODY.as_bytes(), at(1720705455))
        .unwrap();
    assert_eq!(ok.account, AccountKey::from("acme"));
    assert_eq!(ok.slot, SecretSlot::Current);
    assert_eq!(ok.timestamp, at(1720705455));
    assert_eq!(
        compute_signature(&Secret::new(SECRET), V1_TS, V1_BODY.as_bytes()),
        V1_SIG
    );
}

#[test]
fn vector_v2_literal_unicode_escapes_verify_over_raw_bytes() {
    assert!(
        V2_BODY.contains(r"\uD83D\uDE92"),
        "escapes must stay literal"
    );
    assert!(V2_BODY.contains('’') && V2_BODY.contains('–'));
    verifier()
        .verify(headers(V2_SIG, V2_TS), V2_BODY.as_bytes(), at(1720707175))
        .unwrap();

    // Re-serializing the parsed JSON changes the bytes (and would break the HMAC): this is why
    // the verifier only ever sees the raw body.
    let reserialized =
        serde_json::to_vec(&serde_json::from_str::<serde_json::Value>(V2_BODY).unwrap()).unwrap();
    assert_ne!(reserialized, V2_BODY.as_bytes());
    assert_eq!(
        verifier()
            .verify(headers(V2_SIG, V2_TS), &reserialized, at(1720707175))
            .unwrap_err(),
        VerifyError::BadSignature
    );

    // And the body parses: emoji escapes are decoded in the typed topic.
    let event = parse_event(V2_BODY.as_bytes()).unwrap();
    let ZoomEvent::Started { object, .. } = &event.event else {
        panic!("expected meeting.started, got {:?}", event.event)
    };
    assert_eq!(object.topic.as_deref(), Some("Test 🚒🚒 ? - ’ - – 🚗 HOLA"));
}

#[test]
fn vectors_v3_v4_encrypted_tokens() {
    assert_eq!(
        encrypt_plain_token(
            &Secret::new("UB_rdTwhTruoYCMr6x6-MQ"),
            "qgg8vlvZRS6UYooatFL8Aw"
        ),
        "439d1ed256e8d5513d2acd195e0adc64bbbfeb6b795b9d1880534610b58c674c"
    );
    assert_eq!(
        encrypt_plain_token(&Secret::new(SECRET), "xys8n8PGS7mAU0m5-YJjRA"),
        "2fffc6a967dde4f68024025a5bd991c5ae1e5313b4e6365be4883e3e81d479b3"
    );
}

#[test]
fn url_validation_intake_answers_with_the_matching_secret() {
    let intake = verifier()
        .intake(headers(V1_SIG, V1_TS), V1_BODY.as_bytes(), at(1720705455))
        .unwrap();
    let WebhookIntake::UrlValidation { response, verified } = intake else {
        panic!("expected a url validation answer")
    };
    assert_eq!(verified.account.as_str(), "acme");
    assert_eq!(
        response,
        UrlValidationResponse {
            plain_token: "xys8n8PGS7mAU0m5-YJjRA".into(),
            encrypted_token: "2fffc6a967dde4f68024025a5bd991c5ae1e5313b4e6365be4883e3e81d479b3"
                .into(),
        }
    );
    let json = serde_json::to_value(&response).unwrap();
    assert_eq!(json["plainToken"], "xys8n8PGS7mAU0m5-YJjRA");
    assert_eq!(
        json["encryptedToken"],
        "2fffc6a967dde4f68024025a5bd991c5ae1e5313b4e6365be4883e3e81d479b3"
    );
}

#[test]
fn url_validation_with_a_bad_signature_is_refused() {
    let wrong = compute_signature(&Secret::new("not-the-secret"), V1_TS, V1_BODY.as_bytes());
    assert!(matches!(
        verifier().intake(headers(&wrong, V1_TS), V1_BODY.as_bytes(), at(1720705455)),
        Err(VerifyError::BadSignature)
    ));
}

#[test]
fn tampered_body_is_refused() {
    let mut body = V2_BODY.as_bytes().to_vec();
    // Change one digit of the meeting id.
    let pos = V2_BODY.find("85393847045").unwrap();
    body[pos] = b'9';
    assert_eq!(
        verifier()
            .verify(headers(V2_SIG, V2_TS), &body, at(1720707175))
            .unwrap_err(),
        VerifyError::BadSignature
    );
    // A trailing newline is tampering too.
    let mut body = V2_BODY.as_bytes().to_vec();
    body.push(b'\n');
    assert_eq!(
        verifier()
            .verify(headers(V2_SIG, V2_TS), &body, at(1720707175))
            .unwrap_err(),
        VerifyError::BadSignature
    );
}

#[test]
fn wrong_secret_and_signed_timestamp_mismatch_are_refused() {
    let other = WebhookVerifier::single("acme", WebhookSecrets::new("another-secret"));
    assert_eq!(
        other
            .verify(headers(V1_SIG, V1_TS), V1_BODY.as_bytes(), at(1720705455))
            .unwrap_err(),
        VerifyError::BadSignature
    );
    // The timestamp is part of the signed message: moving it by one second breaks the MAC.
    assert_eq!(
        verifier()
            .verify(
                headers(V1_SIG, "1720705456"),
                V1_BODY.as_bytes(),
                at(1720705455)
            )
            .unwrap_err(),
        VerifyError::BadSignature
    );
    // No accounts configured: nothing verifies.
    assert_eq!(
        WebhookVerifier::new()
            .verify(headers(V1_SIG, V1_TS), V1_BODY.as_bytes(), at(1720705455))
            .unwrap_err(),
        VerifyError::BadSignature
    );
}

#[test]
fn missing_headers_are_reported_by_name() {
    let v = verifier();
    let body = V1_BODY.as_bytes();
    let now = at(1720705455);
    assert_eq!(
        v.verify(WebhookHeaders::new(None, Some(V1_TS)), body, now)
            .unwrap_err(),
        VerifyError::MissingHeader {
            header: SIGNATURE_HEADER
        }
    );
    assert_eq!(
        v.verify(WebhookHeaders::new(Some(V1_SIG), None), body, now)
            .unwrap_err(),
        VerifyError::MissingHeader {
            header: TIMESTAMP_HEADER
        }
    );
    assert_eq!(
        v.verify(WebhookHeaders::default(), body, now)
            .unwrap_err()
            .code(),
        "missing_signature_header"
    );
}

#[test]
fn malformed_headers_are_told_apart_from_bad_signatures() {
    let v = verifier();
    let body = V1_BODY.as_bytes();
    let now = at(1720705455);
    let hex = &V1_SIG[3..];
    let bad_signatures = [
        hex.to_owned(),                 // no prefix
        format!("v1={hex}"),            // wrong scheme
        format!("v0={}", &hex[..63]),   // 63 digits
        format!("v0={hex}0"),           // 65 digits
        format!("v0={}zz", &hex[..62]), // not hex
        format!("V0={hex}"),            // prefix is case-sensitive
        String::new(),
    ];
    for sig in &bad_signatures {
        assert!(
            matches!(
                v.verify(headers(sig, V1_TS), body, now),
                Err(VerifyError::MalformedHeader {
                    header: SIGNATURE_HEADER,
                    ..
                })
            ),
            "{sig:?}"
        );
    }
    for ts in [
        "",
        "abc",
        "-1720705455",
        "1720705455.5",
        " 1720705455",
        "1e9",
    ] {
        assert!(
            matches!(
                v.verify(headers(V1_SIG, ts), body, now),
                Err(VerifyError::MalformedHeader {
                    header: TIMESTAMP_HEADER,
                    ..
                })
            ),
            "{ts:?}"
        );
    }
    // Non-ASCII header bytes are malformed, not missing.
    let raw = WebhookHeaders {
        signature: Some(V1_SIG.as_bytes()),
        timestamp: Some(&[0xff, 0x31]),
    };
    assert!(matches!(
        v.verify(raw, body, now),
        Err(VerifyError::MalformedHeader { .. })
    ));
}

#[test]
fn replay_window_boundaries_in_both_directions() {
    let v = verifier();
    let body = V1_BODY.as_bytes();
    let ts = 1720705455;
    // Default window: 300 s, inclusive.
    assert!(v.verify(headers(V1_SIG, V1_TS), body, at(ts + 300)).is_ok());
    assert!(v.verify(headers(V1_SIG, V1_TS), body, at(ts - 300)).is_ok());
    assert_eq!(
        v.verify(headers(V1_SIG, V1_TS), body, at(ts + 301))
            .unwrap_err(),
        VerifyError::TimestampTooOld {
            timestamp: ts,
            age_seconds: 301,
            window_seconds: 300
        }
    );
    assert_eq!(
        v.verify(headers(V1_SIG, V1_TS), body, at(ts - 301))
            .unwrap_err(),
        VerifyError::TimestampInFuture {
            timestamp: ts,
            ahead_seconds: 301,
            window_seconds: 300
        }
    );

    // A configured 90-minute window (Zoom retries for ≈ 85 min).
    let wide = verifier().with_replay_window(MAX_REPLAY_WINDOW).unwrap();
    assert!(
        wide.verify(headers(V1_SIG, V1_TS), body, at(ts + 5400))
            .is_ok()
    );
    assert!(matches!(
        wide.verify(headers(V1_SIG, V1_TS), body, at(ts + 5401)),
        Err(VerifyError::TimestampTooOld { .. })
    ));

    // A narrow one.
    let narrow = verifier()
        .with_replay_window(Duration::from_secs(10))
        .unwrap();
    assert!(
        narrow
            .verify(headers(V1_SIG, V1_TS), body, at(ts + 10))
            .is_ok()
    );
    assert!(
        narrow
            .verify(headers(V1_SIG, V1_TS), body, at(ts - 11))
            .is_err()
    );
}

#[test]
fn event_ts_is_never_used_for_freshness() {
    // Body says the event happened a day before the delivery; the header timestamp is fresh.
    let body = br#"{"event":"meeting.ended","event_ts":1000,"payload":{"object":{"uuid":"u"}}}"#;
    let ts = "1720705455";
    let sig = compute_signature(&Secret::new(SECRET), ts, body);
    assert!(
        verifier()
            .verify(headers(&sig, ts), body, at(1720705455))
            .is_ok()
    );
}

#[test]
fn rotation_accepts_old_and_new_secret() {
    let v = WebhookVerifier::single(
        "acme",
        WebhookSecrets::new("brand-new-secret").with_previous(SECRET),
    );
    let old = v
        .verify(headers(V1_SIG, V1_TS), V1_BODY.as_bytes(), at(1720705455))
        .unwrap();
    assert_eq!(old.slot, SecretSlot::Previous);

    let new_sig = compute_signature(&Secret::new("brand-new-secret"), V1_TS, V1_BODY.as_bytes());
    let new = v
        .verify(headers(&new_sig, V1_TS), V1_BODY.as_bytes(), at(1720705455))
        .unwrap();
    assert_eq!(new.slot, SecretSlot::Current);

    // The url_validation answer uses the secret that matched.
    assert_eq!(
        old.url_validation_response("xys8n8PGS7mAU0m5-YJjRA")
            .encrypted_token,
        "2fffc6a967dde4f68024025a5bd991c5ae1e5313b4e6365be4883e3e81d479b3"
    );
    assert_eq!(
        new.url_validation_response("xys8n8PGS7mAU0m5-YJjRA")
            .encrypted_token,
        encrypt_plain_token(&Secret::new("brand-new-secret"), "xys8n8PGS7mAU0m5-YJjRA")
    );

    // Once the old secret is dropped from the configuration, it no longer verifies.
    let after = WebhookVerifier::single("acme", WebhookSecrets::new("brand-new-secret"));
    assert_eq!(
        after
            .verify(headers(V1_SIG, V1_TS), V1_BODY.as_bytes(), at(1720705455))
            .unwrap_err(),
        VerifyError::BadSignature
    );
}

#[test]
fn several_accounts_tell_which_one_signed() {
    let v = WebhookVerifier::new()
        .with_account("school-a", WebhookSecrets::new("secret-a"))
        .with_account(
            "school-b",
            WebhookSecrets::new("secret-b").with_previous("secret-b-old"),
        )
        .with_account("school-c", WebhookSecrets::new(SECRET));
    let body = V2_BODY.as_bytes();
    for (secret, account, slot) in [
        ("secret-a", "school-a", SecretSlot::Current),
        ("secret-b", "school-b", SecretSlot::Current),
        ("secret-b-old", "school-b", SecretSlot::Previous),
        (SECRET, "school-c", SecretSlot::Current),
    ] {
        let sig = compute_signature(&Secret::new(secret), V2_TS, body);
        let ok = v
            .verify(headers(&sig, V2_TS), body, at(1720707175))
            .unwrap();
        assert_eq!((ok.account.as_str(), ok.slot), (account, slot));
    }
    let sig = compute_signature(&Secret::new("secret-d"), V2_TS, body);
    assert_eq!(
        v.verify(headers(&sig, V2_TS), body, at(1720707175))
            .unwrap_err(),
        VerifyError::BadSignature
    );
    assert_eq!(v.accounts().count(), 3);
}

#[test]
fn secrets_never_show_in_debug_output() {
    let v = WebhookVerifier::single(
        "acme",
        WebhookSecrets::new("super-secret-current").with_previous("super-secret-previous"),
    );
    let verified = v
        .verify(
            headers(
                &compute_signature(
                    &Secret::new("super-secret-current"),
                    V1_TS,
                    V1_BODY.as_bytes(),
                ),
                V1_TS,
            ),
            V1_BODY.as_bytes(),
            at(1720705455),
        )
        .unwrap();
    let printed = format!("{v:?} {verified:?}");
    assert!(!printed.contains("super-secret"), "{printed}");
    assert!(printed.contains("***"));
}

/// A correctly signed `body` that does not parse: the intake still gives an event to store
/// (with the key `dedupe_key` gives its bytes) and flags it with the parse error.
fn assert_stored_and_flagged(body: &[u8]) {
    let sig = compute_signature(&Secret::new(SECRET), V1_TS, body);
    let intake = verifier()
        .intake(headers(&sig, V1_TS), body, at(1720705455))
        .unwrap();
    let WebhookIntake::Event {
        event_name,
        dedupe_key,
        ..
    } = intake
    else {
        panic!("expected an event")
    };
    assert!(event_name.is_err());
    assert_eq!(dedupe_key, attend_core::zoom::dedupe_key(body));
}

#[test]
fn unparseable_but_signed_bodies_are_events_to_store_and_flag() {
    assert_stored_and_flagged(b"this is not json");
}

#[test]
fn a_known_event_with_a_payload_of_the_wrong_shape_is_stored_and_flagged() {
    // JSON, a known event, but `participant` is not an object: the typed payload fails while
    // the dedupe key is still read from its fields.
    assert_stored_and_flagged(
        br#"{"event":"meeting.participant_joined","event_ts":1,"payload":{"account_id":"a","object":{"id":"1","uuid":"u","participant":"not an object"}}}"#,
    );
}

// ---- Zoom's own fixtures -------------------------------------------------------------------

fn fixtures_dir() -> PathBuf {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/zoom"));
    assert!(
        dir.is_dir(),
        "Zoom fixtures folder not found at {} (Zoom's sample payloads ship with the crate's \
         tests; see SOURCES.md there)",
        dir.display()
    );
    dir
}

fn fixture(name: &str) -> Vec<u8> {
    let path = fixtures_dir().join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read fixture {}: {e}", path.display()))
}

#[test]
fn every_fixture_is_understood() {
    let mut seen = 0;
    for entry in std::fs::read_dir(fixtures_dir()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.ends_with(".json") {
            continue;
        }
        seen += 1;
        let bytes = std::fs::read(&path).unwrap();
        if name.starts_with("webhook-request-headers") {
            let headers: serde_json::Map<String, serde_json::Value> =
                serde_json::from_slice(&bytes).unwrap();
            assert!(headers.contains_key(SIGNATURE_HEADER), "{name}");
            assert!(headers.contains_key(TIMESTAMP_HEADER), "{name}");
        } else if name.ends_with(".response.json") {
            let response: UrlValidationResponse = serde_json::from_slice(&bytes)
                .unwrap_or_else(|e| panic!("{name} is not a url-validation answer: {e}"));
            assert_eq!(response.encrypted_token.len(), 64, "{name}");
        } else {
            let event = parse_event(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(
                name.starts_with(&event.name),
                "{name}: parsed as {}, expected the file to be named after its event",
                event.name
            );
            assert!(event.event_type.is_some(), "{name}: not typed");
        }
    }
    assert!(
        seen >= 5,
        "expected at least the 5 documented fixtures, found {seen}"
    );
}

#[test]
fn fixture_meeting_started() {
    let event = parse_event(&fixture("meeting.started.json")).unwrap();
    assert_eq!(event.event_ts, Some(1626230691572));
    assert_eq!(event.account_id.as_deref(), Some("Wk9PTV9BQ0NPVU5UX0lE"));
    let lifecycle = event.lifecycle().unwrap().unwrap();
    assert_eq!(lifecycle.instance.as_str(), "Wk9PTV9NRUVUSU5HX0lE");
    assert_eq!(lifecycle.meeting_id.map(|m| m.0), Some(1234567890));
    assert_eq!(lifecycle.host_id.as_deref(), Some("Wk9PTV9VU0VSX0lE"));
    assert_eq!(
        lifecycle.started_at,
        Some(Utc.with_ymd_and_hms(2021, 7, 13, 21, 44, 51).unwrap())
    );
    assert_eq!(lifecycle.ended_at, None);
}

#[test]
fn fixture_meeting_started_webhook_sample_with_placeholders() {
    // The sample uses "{MEETING_ID}" placeholders: the non-numeric id becomes None, not an error.
    let event = parse_event(&fixture("meeting.started.webhook-sample.json")).unwrap();
    let lifecycle = event.lifecycle().unwrap().unwrap();
    assert_eq!(lifecycle.meeting_id, None);
    assert_eq!(lifecycle.instance.as_str(), "{MEETING_UUID}");
    assert_eq!(
        lifecycle.started_at,
        Some(Utc.with_ymd_and_hms(2021, 11, 2, 20, 43, 19).unwrap())
    );
}

#[test]
fn fixture_url_validation_request_and_response_shapes() {
    let request = parse_event(&fixture("endpoint.url_validation.json")).unwrap();
    let ZoomEvent::UrlValidation { plain_token } = &request.event else {
        panic!("expected url validation")
    };
    let documented: UrlValidationResponse =
        serde_json::from_slice(&fixture("endpoint.url_validation.response.json")).unwrap();
    assert_eq!(&documented.plain_token, plain_token);
    // The docs do not publish the secret; our answer has the same shape and token.
    let ours = UrlValidationResponse::new(&Secret::new("any"), plain_token);
    let ours_json = serde_json::to_value(&ours).unwrap();
    let documented_json: serde_json::Value =
        serde_json::from_slice(&fixture("endpoint.url_validation.response.json")).unwrap();
    let keys = |v: &serde_json::Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&ours_json), keys(&documented_json));
}

#[test]
fn fixture_example_headers_carry_a_placeholder_signature() {
    let raw: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&fixture("webhook-request-headers.example.json")).unwrap();
    let lookup = |name: &str| raw.get(name).and_then(|v| v.as_str()).map(str::as_bytes);
    let h = WebhookHeaders::from_lookup(lookup);
    assert_eq!(h.timestamp, Some(&b"1739923528"[..]));
    // "v0=WF9aT09NX1NJR05BVFVSRQ" is a documentation placeholder, not 64 hex digits.
    let err = verifier().verify(h, b"{}", at(1739923528)).unwrap_err();
    assert!(
        matches!(
            err,
            VerifyError::MalformedHeader {
                header: SIGNATURE_HEADER,
                ..
            }
        ),
        "{err:?}"
    );
    // Signed properly with those headers' timestamp, the same request verifies.
    let sig = compute_signature(&Secret::new(SECRET), "1739923528", b"{}");
    assert!(
        verifier()
            .verify(headers(&sig, "1739923528"), b"{}", at(1739923528))
            .is_ok()
    );
}
