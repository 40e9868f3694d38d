//! The REST side: OAuth, tokens, meetings, registrants, pagination, rate limits, faults.

mod common;

use attend_zoom_sim::*;
use base64::Engine as _;
use common::{Api, token};
use serde_json::json;
use std::time::Duration;

fn config() -> SimConfig {
    SimConfig {
        rate_limits: RateLimits::unlimited(),
        ..SimConfig::default()
    }
}

async fn meeting_with_registration(api: &Api, approval_type: u8) -> u64 {
    let (status, _, m) = api
        .post(
            "/users/me/meetings",
            json!({"topic": "Chemistry", "type": 2, "start_time": "2030-01-10T15:00:00Z",
                   "duration": 60, "timezone": "Europe/Paris",
                   "settings": {"approval_type": approval_type}}),
        )
        .await;
    assert_eq!(status, 201, "{m}");
    m["id"].as_u64().unwrap()
}

#[tokio::test]
async fn oauth_rejects_bad_credentials_and_issues_tokens() {
    let zoom = Simulator::start(config()).await.unwrap();
    let http = reqwest::Client::new();
    let bad = base64::engine::general_purpose::STANDARD.encode("sim-client-id:wrong");
    let resp = http
        .post(format!(
            "{}?grant_type=account_credentials&account_id=SimAccount-0001",
            zoom.oauth_url()
        ))
        .header("authorization", format!("Basic {bad}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let v: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(v["error"], "invalid_client");

    // Form body works as well as the query string.
    let c = zoom.credentials();
    let good = base64::engine::general_purpose::STANDARD
        .encode(format!("{}:{}", c.client_id, c.client_secret));
    let resp = http
        .post(zoom.oauth_url())
        .header("authorization", format!("Basic {good}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "grant_type=account_credentials&account_id={}",
            c.account_id
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let v: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(v["token_type"], "bearer");
    assert_eq!(v["expires_in"], 3600);

    // No token at all, or a made-up one: code 124.
    let resp = http
        .get(format!("{}/meetings/1", zoom.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let v: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(v, json!({"code": 124, "message": "Invalid access token."}));
    assert!(!format!("{c:?}").contains(&c.client_secret));
}

#[tokio::test]
async fn token_ttl_expires() {
    let zoom = Simulator::start(SimConfig {
        token_ttl: Duration::from_secs(60),
        ..config()
    })
    .await
    .unwrap();
    let api = Api::connect(&zoom).await;
    let (s, _, _) = api.get("/meetings/123").await;
    assert_eq!(s, 404, "valid token reaches the endpoint");
    zoom.advance_clock(Duration::from_secs(61));
    let (s, _, body) = api.get("/meetings/123").await;
    assert_eq!(s, 401);
    assert_eq!(body["code"], 124);
    // A new token works again.
    let fresh = Api::connect(&zoom).await;
    assert_eq!(fresh.get("/meetings/123").await.0, 404);
}

#[tokio::test]
async fn real_short_ttl_expires_without_clock_tricks() {
    let zoom = Simulator::start(SimConfig {
        token_ttl: Duration::from_millis(300),
        ..config()
    })
    .await
    .unwrap();
    let api = Api::connect(&zoom).await;
    assert_eq!(api.get("/meetings/1").await.0, 404);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(api.get("/meetings/1").await.0, 401);
}

#[tokio::test]
async fn meetings_and_registration_settings() {
    let zoom = Simulator::start(config()).await.unwrap();
    let api = Api::connect(&zoom).await;
    let (s, _, body) = api.get("/meetings/99999999999").await;
    assert_eq!(s, 404);
    assert_eq!(
        body,
        json!({"code": 3001, "message": "Meeting does not exist: 99999999999."})
    );
    let (s, _, body) = api
        .post("/users/nobody@x.example/meetings", json!({"topic": "x"}))
        .await;
    assert_eq!((s, body["code"].as_i64()), (404, Some(1001)));

    let id = meeting_with_registration(&api, 2).await;
    let (s, _, m) = api.get(&format!("/meetings/{id}")).await;
    assert_eq!(s, 200);
    assert_eq!(m["id"], id);
    assert_eq!(m["host_id"], "sim-host-0001");
    assert_eq!(m["timezone"], "Europe/Paris");
    assert_eq!(m["start_time"], "2030-01-10T15:00:00Z");
    assert_eq!(m["settings"]["approval_type"], 2);

    // Registration off: Zoom's 404.
    let (s, _, body) = api
        .post(
            &format!("/meetings/{id}/registrants"),
            json!({"email": "a@lms.example", "first_name": "A"}),
        )
        .await;
    assert_eq!(s, 404);
    assert_eq!(
        body["message"],
        format!("Registration has not been enabled for this meeting: {id}.")
    );

    // Switch it on.
    let (s, _, _) = api
        .call(
            reqwest::Method::PATCH,
            &format!("/meetings/{id}"),
            Some(json!({"settings": {"approval_type": 1}})),
        )
        .await;
    assert_eq!(s, 204);
    assert!(zoom.meeting(id).unwrap().registration_enabled());

    // Manual approval: without auto_approve the registrant is pending and gets no join_url.
    let (s, _, r) = api
        .post(
            &format!("/meetings/{id}/registrants"),
            json!({"email": "p@lms.example", "first_name": "P"}),
        )
        .await;
    assert_eq!(s, 201);
    assert!(r.get("join_url").is_none());
    let (s, _, r) = api
        .post(
            &format!("/meetings/{id}/registrants"),
            json!({"email": "a@lms.example", "first_name": "A", "last_name": "B", "auto_approve": true}),
        )
        .await;
    assert_eq!(s, 201);
    assert_eq!(r["id"], id);
    assert_eq!(r["topic"], "Chemistry");
    assert!(r["join_url"].as_str().unwrap().contains("tk="));
    let rid = r["registrant_id"].as_str().unwrap().to_owned();

    // Same email again (other case): the existing registrant comes back.
    let (_, _, again) = api
        .post(
            &format!("/meetings/{id}/registrants"),
            json!({"email": "A@LMS.example", "first_name": "A", "auto_approve": true}),
        )
        .await;
    assert_eq!(again["registrant_id"], rid);
    assert_eq!(again["join_url"], r["join_url"]);
    assert_eq!(zoom.registrants(id).len(), 2);

    // Host cannot register; bad email is a validation error.
    let (s, _, body) = api
        .post(
            &format!("/meetings/{id}/registrants"),
            json!({"email": "host@sim.example", "first_name": "H"}),
        )
        .await;
    assert_eq!((s, body["code"].as_i64()), (400, Some(3027)));
    let (s, _, body) = api
        .post(
            &format!("/meetings/{id}/registrants"),
            json!({"email": "not-an-email", "first_name": "X"}),
        )
        .await;
    assert_eq!((s, body["code"].as_i64()), (400, Some(300)));

    // Type 3 (recurring, no fixed time) silently keeps registration off.
    let (_, _, m3) = api
        .post(
            "/users/me/meetings",
            json!({"topic": "Office hours", "type": 3, "settings": {"approval_type": 0}}),
        )
        .await;
    assert_eq!(m3["settings"]["approval_type"], 2);
}

#[tokio::test]
async fn join_urls_are_unique_and_open_the_join_page() {
    let zoom = Simulator::start(config()).await.unwrap();
    let api = Api::connect(&zoom).await;
    let id = meeting_with_registration(&api, 0).await;
    let mut urls = std::collections::HashSet::new();
    for i in 0..20 {
        let (_, _, r) = api
            .post(
                &format!("/meetings/{id}/registrants"),
                json!({"email": format!("u{i}@lms.example"), "first_name": "U"}),
            )
            .await;
        assert!(urls.insert(r["join_url"].as_str().unwrap().to_owned()));
    }
    let url = urls.iter().next().unwrap().clone();
    assert!(url.starts_with(zoom.origin()));
    let page = reqwest::get(&url).await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("@lms.example"));
    assert_eq!(zoom.join_clicks().len(), 1);
    let bad = reqwest::get(format!("{}/w/{id}?tk=nope", zoom.origin()))
        .await
        .unwrap();
    assert_eq!(bad.status(), 404);
}

#[tokio::test]
async fn registrant_pagination_and_status_filter() {
    let zoom = Simulator::start(config()).await.unwrap();
    let api = Api::connect(&zoom).await;
    let id = meeting_with_registration(&api, 0).await;
    for i in 0..75 {
        zoom.add_registrant(id, &format!("s{i:02}@lms.example"), "S", &i.to_string())
            .unwrap();
    }
    let mut seen = Vec::new();
    let mut token = String::new();
    let mut pages = 0;
    loop {
        let (s, _, page) = api
            .get(&format!(
                "/meetings/{id}/registrants?page_size=30&next_page_token={token}"
            ))
            .await;
        assert_eq!(s, 200, "{page}");
        pages += 1;
        assert_eq!(page["total_records"], 75);
        assert_eq!(page["page_count"], 3);
        for r in page["registrants"].as_array().unwrap() {
            seen.push(r["email"].as_str().unwrap().to_owned());
            assert_eq!(r["status"], "approved");
        }
        token = page["next_page_token"].as_str().unwrap().to_owned();
        if token.is_empty() {
            break;
        }
    }
    assert_eq!(pages, 3);
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), 75, "every registrant exactly once");

    // page_size above 300 is capped; a bogus token is refused.
    let (_, _, page) = api
        .get(&format!("/meetings/{id}/registrants?page_size=1000"))
        .await;
    assert_eq!(page["page_size"], 300);
    assert_eq!(page["registrants"].as_array().unwrap().len(), 75);
    let (s, _, _) = api
        .get(&format!("/meetings/{id}/registrants?next_page_token=bogus"))
        .await;
    assert_eq!(s, 400);

    // Page tokens expire after 15 minutes.
    let (_, _, first) = api
        .get(&format!("/meetings/{id}/registrants?page_size=10"))
        .await;
    let t = first["next_page_token"].as_str().unwrap().to_owned();
    zoom.advance_clock(Duration::from_secs(16 * 60));
    let api = Api::connect(&zoom).await;
    let (s, _, _) = api
        .get(&format!("/meetings/{id}/registrants?next_page_token={t}"))
        .await;
    assert_eq!(s, 400);

    // Cancel two, deny none: they move to status=denied.
    let regs = zoom.registrants(id);
    let (s, _, _) = api
        .call(
            reqwest::Method::PUT,
            &format!("/meetings/{id}/registrants/status"),
            Some(json!({"action": "cancel", "registrants": [
                {"id": regs[0].id}, {"email": regs[1].email}]})),
        )
        .await;
    assert_eq!(s, 204);
    let (_, _, denied) = api
        .get(&format!("/meetings/{id}/registrants?status=denied"))
        .await;
    assert_eq!(denied["total_records"], 2);
    assert_eq!(zoom.registrants(id)[0].status, RegistrantStatus::Cancelled);
    let (_, _, approved) = api.get(&format!("/meetings/{id}/registrants")).await;
    assert_eq!(approved["total_records"], 73);

    // Get and delete one registrant.
    let rid = &regs[5].id;
    let (s, _, r) = api.get(&format!("/meetings/{id}/registrants/{rid}")).await;
    assert_eq!(
        (s, r["email"].as_str()),
        (200, Some(regs[5].email.as_str()))
    );
    let (s, _, _) = api
        .call(
            reqwest::Method::DELETE,
            &format!("/meetings/{id}/registrants/{rid}"),
            None,
        )
        .await;
    assert_eq!(s, 204);
    assert_eq!(zoom.registrants(id).len(), 74);
}

#[tokio::test]
async fn batch_limits_type_and_capacity() {
    let zoom = Simulator::start(SimConfig {
        max_registrants: 40,
        ..config()
    })
    .await
    .unwrap();
    let api = Api::connect(&zoom).await;
    let id = meeting_with_registration(&api, 0).await;
    let batch = |from: usize, n: usize| {
        json!({"auto_approve": true, "registrants": (from..from + n)
            .map(|i| json!({"email": format!("b{i}@lms.example"), "first_name": "B"}))
            .collect::<Vec<_>>()})
    };
    let (s, _, body) = api
        .post(&format!("/meetings/{id}/batch_registrants"), batch(0, 31))
        .await;
    assert_eq!((s, body["code"].as_i64()), (400, Some(300)));
    let (s, _, body) = api
        .post(&format!("/meetings/{id}/batch_registrants"), batch(0, 30))
        .await;
    assert_eq!(s, 200);
    let list = body["registrants"].as_array().unwrap();
    assert_eq!(list.len(), 30);
    assert!(list.iter().all(|r| r["join_url"].as_str().is_some()));
    // 30 + 20 > 40: refused whole, nothing added.
    let (s, _, body) = api
        .post(&format!("/meetings/{id}/batch_registrants"), batch(30, 20))
        .await;
    assert_eq!((s, body["code"].as_i64()), (400, Some(3043)));
    assert_eq!(zoom.registrants(id).len(), 30);
    for i in 30..40 {
        let (s, _, _) = api
            .post(
                &format!("/meetings/{id}/registrants"),
                json!({"email": format!("b{i}@lms.example"), "first_name": "B"}),
            )
            .await;
        assert_eq!(s, 201);
    }
    let (s, _, body) = api
        .post(
            &format!("/meetings/{id}/registrants"),
            json!({"email": "one-too-many@lms.example", "first_name": "B"}),
        )
        .await;
    assert_eq!((s, body["code"].as_i64()), (400, Some(3043)));

    // Batch on a recurring meeting (type 8) is refused.
    let (_, _, m8) = api
        .post(
            "/users/me/meetings",
            json!({"topic": "Weekly", "type": 8, "settings": {"approval_type": 0}}),
        )
        .await;
    let (s, _, _) = api
        .post(
            &format!("/meetings/{}/batch_registrants", m8["id"]),
            batch(0, 2),
        )
        .await;
    assert_eq!(s, 400);
}

#[tokio::test]
async fn qps_limit_answers_429_with_headers_and_paced_client_never_hits_it() {
    let zoom = Simulator::start(SimConfig {
        rate_limits: RateLimits::plan(Plan::Free),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let api = Api::connect(&zoom).await;
    // Medium on Free is 2/s: a paced client (one call every 550 ms) is never refused.
    for _ in 0..6 {
        let (s, _, _) = api.get("/meetings/1/registrants").await;
        assert_eq!(s, 404);
        tokio::time::sleep(Duration::from_millis(550)).await;
    }
    assert_eq!(zoom.rate_limited().total(), 0);
    // A burst is refused.
    let mut refused = None;
    for _ in 0..5 {
        let (s, h, body) = api.get("/meetings/1/registrants").await;
        if s == 429 {
            refused = Some((h, body));
            break;
        }
    }
    let (h, body) = refused.expect("a burst of 5 Medium calls must hit 2/s");
    assert_eq!(h["x-ratelimit-category"], "Medium");
    assert_eq!(h["x-ratelimit-type"], "QPS");
    assert_eq!(h["x-ratelimit-limit"], "2");
    assert!(h.contains_key("x-ratelimit-reset"));
    assert_eq!(
        body["message"],
        "You have reached the maximum per-second rate limit for this API. Try again later."
    );
    assert!(zoom.rate_limited().qps >= 1);
    // Light has its own bucket.
    assert_eq!(api.get("/meetings/1").await.0, 404);
}

#[tokio::test]
async fn daily_limit_answers_retry_after_iso() {
    let mut limits = RateLimits::plan(Plan::Free);
    limits.heavy = Some(CategoryLimit {
        rate: 100,
        per: Duration::from_secs(1),
        daily: Some(2),
    });
    let zoom = Simulator::start(SimConfig {
        rate_limits: limits,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let api = Api::connect(&zoom).await;
    for _ in 0..2 {
        assert_eq!(api.get("/report/meetings/1/participants").await.0, 404);
    }
    let (s, h, body) = api.get("/report/meetings/1/participants").await;
    assert_eq!(s, 429);
    assert_eq!(h["x-ratelimit-type"], "Daily-limit");
    assert_eq!(h["x-ratelimit-category"], "Heavy");
    let retry = h["retry-after"].to_str().unwrap();
    let at = chrono::DateTime::parse_from_rfc3339(retry).unwrap();
    assert_eq!(at.format("%H:%M:%S").to_string(), "00:00:00");
    assert!(at > zoom.now());
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("daily rate limit")
    );
    assert_eq!(zoom.rate_limited().daily, 1);
    // Next day (simulator clock) it works again.
    zoom.advance_clock(Duration::from_secs(24 * 3600));
    let api = Api::connect(&zoom).await;
    assert_eq!(api.get("/report/meetings/1/participants").await.0, 404);
}

#[tokio::test]
async fn three_registrations_per_registrant_per_day() {
    for headers in [true, false] {
        let mut limits = RateLimits::unlimited();
        limits.registrations_per_registrant_daily = Some(3);
        let zoom = Simulator::start(SimConfig {
            rate_limits: limits,
            user_level_limit_headers: headers,
            ..SimConfig::default()
        })
        .await
        .unwrap();
        let api = Api::connect(&zoom).await;
        let id = meeting_with_registration(&api, 0).await;
        let body = json!({"email": "same@lms.example", "first_name": "S"});
        for _ in 0..3 {
            let (s, _, _) = api
                .post(&format!("/meetings/{id}/registrants"), body.clone())
                .await;
            assert_eq!(s, 201);
        }
        let (s, h, b) = api
            .post(&format!("/meetings/{id}/registrants"), body.clone())
            .await;
        assert_eq!(s, 429);
        assert_eq!(
            b["message"],
            "You have exceeded the daily rate limit of (3) for Add meeting registrant API requests for the registrant (same@lms.example). You can resume these API requests at GMT 00:00:00."
        );
        assert_eq!(h.contains_key("retry-after"), headers);
        if headers {
            assert_eq!(h["x-ratelimit-type"], "Daily-limit");
        }
        // Another email is fine; so is the same email tomorrow.
        let (s, _, _) = api
            .post(
                &format!("/meetings/{id}/registrants"),
                json!({"email": "other@lms.example", "first_name": "O"}),
            )
            .await;
        assert_eq!(s, 201);
        zoom.advance_clock(Duration::from_secs(24 * 3600));
        let api = Api::connect(&zoom).await;
        let (s, _, _) = api.post(&format!("/meetings/{id}/registrants"), body).await;
        assert_eq!(s, 201);
        assert_eq!(zoom.rate_limited().user_level, 1);
    }
}

#[tokio::test]
async fn scheduled_faults_and_token_revocation() {
    let zoom = Simulator::start(config()).await.unwrap();
    let api = Api::connect(&zoom).await;
    zoom.schedule_fault(
        FaultTrigger::Next(Some(Endpoint::GetMeeting)),
        Fault::ServerError(502),
    );
    zoom.schedule_fault(
        FaultTrigger::Nth(Some(Endpoint::GetMeeting), 3),
        Fault::TooManyRequests,
    );
    assert_eq!(api.get("/meetings/1").await.0, 502);
    assert_eq!(api.get("/meetings/1").await.0, 404);
    let (s, h, _) = api.get("/meetings/1").await;
    assert_eq!((s, h["x-ratelimit-type"].to_str().unwrap()), (429, "QPS"));
    assert_eq!(api.get("/meetings/1").await.0, 404);
    assert_eq!(zoom.calls(Endpoint::GetMeeting), 4);
    assert_eq!(zoom.rate_limited().injected, 1);

    // Slow: the registrant is created, but the answer comes late.
    let id = meeting_with_registration(&api, 0).await;
    zoom.schedule_fault(
        FaultTrigger::Next(Some(Endpoint::AddRegistrant)),
        Fault::Slow(Duration::from_millis(800)),
    );
    let quick = reqwest::Client::builder()
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let r = quick
        .post(format!("{}/meetings/{id}/registrants", zoom.base_url()))
        .bearer_auth(&api.token)
        .json(&json!({"email": "slow@lms.example", "first_name": "S"}))
        .send()
        .await;
    assert!(r.is_err(), "the client timed out");
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(zoom.registrants(id).len(), 1, "but Zoom did register");

    // Revocation.
    zoom.schedule_fault(FaultTrigger::Next(None), Fault::RevokeTokens);
    assert_eq!(api.get("/meetings/1").await.0, 401);
    let t = token(&zoom, &zoom.oauth_url()).await;
    let api = Api { token: t, ..api };
    assert_eq!(api.get("/meetings/1").await.0, 404);
    zoom.revoke_tokens();
    assert_eq!(api.get("/meetings/1").await.0, 401);
}

#[tokio::test]
async fn random_faults_follow_probabilities() {
    let zoom = Simulator::start(SimConfig {
        faults: RandomFaults {
            server_error: 0.5,
            server_error_status: 503,
            seed: 9,
            only: Some(vec![Endpoint::GetMeeting]),
            ..RandomFaults::default()
        },
        ..config()
    })
    .await
    .unwrap();
    let api = Api::connect(&zoom).await;
    let mut errors = 0;
    for _ in 0..60 {
        if api.get("/meetings/1").await.0 == 503 {
            errors += 1;
        }
    }
    assert!((15..=45).contains(&errors), "{errors} of 60");
    // Other endpoints are untouched.
    for _ in 0..10 {
        assert_eq!(api.get("/meetings/1/registrants").await.0, 404);
    }
    let log = zoom.call_log();
    assert_eq!(
        log.iter().filter(|c| c.status == 503).count(),
        errors as usize
    );
}

#[tokio::test]
async fn mounted_under_a_prefix() {
    use actix_web::{App, test, web};
    let sim = Simulator::new(SimConfig {
        public_url: Some("http://lms.local/zoom".into()),
        ..config()
    });
    let s = sim.clone();
    let app = test::init_service(
        App::new().service(web::scope("/zoom").configure(move |c| s.configure(c))),
    )
    .await;
    let c = sim.credentials();
    let basic = base64::engine::general_purpose::STANDARD
        .encode(format!("{}:{}", c.client_id, c.client_secret));
    let req = test::TestRequest::post()
        .uri(&format!(
            "/zoom/oauth/token?grant_type=account_credentials&account_id={}",
            c.account_id
        ))
        .insert_header(("authorization", format!("Basic {basic}")))
        .to_request();
    let v: serde_json::Value = test::call_and_read_body_json(&app, req).await;
    let tok = v["access_token"].as_str().unwrap();
    let m = sim
        .create_meeting(&MeetingSpec::scheduled("Mounted", chrono::Utc::now(), 30))
        .unwrap();
    let req = test::TestRequest::post()
        .uri(&format!("/zoom/v2/meetings/{}/registrants", m.id))
        .insert_header(("authorization", format!("Bearer {tok}")))
        .set_json(json!({"email": "m@lms.example", "first_name": "M"}))
        .to_request();
    let resp = test::call_service(&app, req).await;
    assert_eq!(resp.status(), 201);
    let r: serde_json::Value = test::read_body_json(resp).await;
    assert!(
        r["join_url"]
            .as_str()
            .unwrap()
            .starts_with(&format!("http://lms.local/zoom/w/{}?tk=", m.id))
    );
    assert_eq!(
        Simulator::api_base_at("http://lms.local/zoom/"),
        "http://lms.local/zoom/v2"
    );
}

#[tokio::test]
async fn random_token_revocation() {
    let zoom = Simulator::start(config()).await.unwrap();
    let api = Api::connect(&zoom).await;
    zoom.set_random_faults(RandomFaults {
        revoke_tokens: 1.0,
        only: Some(vec![Endpoint::GetMeeting]),
        ..RandomFaults::default()
    });
    assert_eq!(api.get("/meetings/1").await.0, 401);
    zoom.set_random_faults(RandomFaults::default());
    assert_eq!(
        api.get("/meetings/1").await.0,
        401,
        "the token stays revoked"
    );
    let api = Api::connect(&zoom).await;
    assert_eq!(api.get("/meetings/1").await.0, 404);
}
