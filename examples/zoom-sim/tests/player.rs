//! The meeting player: signatures, event sequences, reports, delivery behaviour.

mod common;

use attend_zoom_sim::*;
use chrono::{DateTime, TimeZone, Utc};
use common::{Api, Receiver, encode_uuid, expected_signature};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

const SECRET: &str = "wh-secret-123";

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 5, 12, 9, 0, 0).unwrap()
}

async fn sim() -> SimHandle {
    Simulator::start(SimConfig {
        rate_limits: RateLimits::unlimited(),
        ..SimConfig::default()
    })
    .await
    .unwrap()
}

fn class_meeting(zoom: &Simulator, n: usize) -> (u64, Vec<String>) {
    let m = zoom
        .create_meeting(&MeetingSpec::scheduled("Biology 101", t0(), 60))
        .unwrap();
    let emails: Vec<String> = (0..n)
        .map(|i| format!("student{i:02}@lms.example"))
        .collect();
    for (i, e) in emails.iter().enumerate() {
        zoom.add_registrant(m.id, e, "Student", &format!("N{i}"))
            .unwrap();
    }
    (m.id, emails)
}

/// A hand-built scenario whose events are checked one by one.
fn small(meeting: u64) -> Scenario {
    Scenario::new(meeting, t0(), 3600)
        .person(Person::host().connection(Connection::main(0, 0, None)))
        .person(
            Person::registrant("a@lms.example")
                .label("waits, breakout, leaves")
                .connection(
                    Connection::main(0, 120, Some(1500))
                        .via_waiting_room(60)
                        .breakout("Room A", 600, Some(900)),
                ),
        )
        .person(
            Person::registrant("b@lms.example")
                .label("drops and rejoins")
                .connection(Connection::main(0, 30, Some(300)).disconnected())
                .connection(Connection::main(0, 400, None).breakout("Room A", 600, None)),
        )
        .person(
            Person::guest("Kiosk 🚒", None)
                .label("guest")
                .connection(Connection::main(0, 200, Some(260))),
        )
}

fn small_setup(zoom: &Simulator) -> u64 {
    let m = zoom
        .create_meeting(&MeetingSpec::scheduled("Small", t0(), 60))
        .unwrap();
    zoom.add_registrant(m.id, "a@lms.example", "Ann", "Able")
        .unwrap();
    zoom.add_registrant(m.id, "b@lms.example", "Bob", "Baker")
        .unwrap();
    m.id
}

fn participant(v: &Value) -> &Value {
    &v["payload"]["object"]["participant"]
}

#[test]
fn zoom_vector_v2_with_escaped_emoji() {
    let body = r#"{"event":"meeting.started","payload":{"account_id":"VjZoEArIT5y-HlWxkV-tVA","object":{"duration":60,"start_time":"2024-07-11T14:12:55Z","timezone":"America/New_York","topic":"Test \uD83D\uDE92\uD83D\uDE92 ? - ’ - – \uD83D\uDE97 HOLA","id":"85393847045","type":2,"uuid":"jUh5o3dKQIytvcsfTtKBlg==","host_id":"8lzIwvZTSOqjndWPbPqzuA"}},"event_ts":1720707175904}"#;
    let expected = "v0=1a14e79349318fa1bead50ebbd3c185ae078e182d3bbd30ab8010fcb7f4357c7";
    assert_eq!(
        sign("4fv1RkqGQUq5sWbEz6hA5A", "1720707175", body.as_bytes()),
        expected
    );
    assert_eq!(
        expected_signature("4fv1RkqGQUq5sWbEz6hA5A", "1720707175", body.as_bytes()),
        expected
    );
}

#[tokio::test]
async fn deliveries_are_signed_and_verify_independently() {
    let zoom = sim().await;
    let id = small_setup(&zoom);
    let rx = Receiver::start(0).await;
    let target = WebhookTarget::new(rx.url.clone(), SECRET);
    let out = zoom
        .play(&small(id), &target, &DeliveryOptions::for_tests())
        .await
        .unwrap();
    assert!(out.report.all_acked());
    let got = rx.captured();
    assert_eq!(got.len(), out.timeline.events.len());
    let now = Utc::now().timestamp();
    let mut ids = HashSet::new();
    for (c, ev) in got.iter().zip(&out.timeline.events) {
        // Bytes on the wire are exactly the generated body.
        assert_eq!(c.body, ev.body.as_bytes());
        let ts = c.header("x-zm-request-timestamp").unwrap();
        assert!(ts.chars().all(|ch| ch.is_ascii_digit()), "seconds, not ms");
        assert!((ts.parse::<i64>().unwrap() - now).abs() < 30);
        let sig = c.header("x-zm-signature").unwrap();
        assert_eq!(sig, expected_signature(SECRET, ts, &c.body));
        assert_ne!(sig, expected_signature("other-secret", ts, &c.body));
        assert!(
            c.header("content-type")
                .unwrap()
                .starts_with("application/json")
        );
        assert!(ids.insert(c.header("x-zm-request-id").unwrap().to_owned()));
    }
    // The emoji in the guest name travels as a surrogate-pair escape, like Zoom's.
    let guest = got
        .iter()
        .find(|c| String::from_utf8_lossy(&c.body).contains("Kiosk"))
        .unwrap();
    let raw = String::from_utf8_lossy(&guest.body);
    assert!(raw.contains(r"Kiosk \uD83D\uDE92"), "{raw}");
    assert_eq!(participant(&guest.json())["user_name"], "Kiosk 🚒");
    rx.stop().await;
}

#[tokio::test]
async fn skewed_timestamp_is_signed_with_the_skewed_value() {
    let zoom = sim().await;
    let id = small_setup(&zoom);
    let rx = Receiver::start(0).await;
    let target = WebhookTarget::new(rx.url.clone(), SECRET);
    let opts = DeliveryOptions {
        timestamp_skew_secs: -3600,
        ..DeliveryOptions::for_tests()
    };
    zoom.play(&small(id), &target, &opts).await.unwrap();
    let c = &rx.captured()[0];
    let ts: i64 = c.header("x-zm-request-timestamp").unwrap().parse().unwrap();
    assert!(Utc::now().timestamp() - ts >= 3590);
    assert_eq!(
        c.header("x-zm-signature").unwrap(),
        expected_signature(SECRET, &ts.to_string(), &c.body)
    );
}

#[tokio::test]
async fn endpoint_validation_round_trip() {
    let rx = Receiver::start(0).await;
    let crc_url = rx.url.replace("/hook", "/crc");
    WebhookTarget::new(crc_url.clone(), common::CRC_SECRET)
        .validate_endpoint()
        .await
        .unwrap();
    assert!(
        WebhookTarget::new(crc_url, "wrong-secret")
            .validate_endpoint()
            .await
            .is_err()
    );
}

#[tokio::test]
async fn scenario_produces_the_expected_events() {
    let zoom = sim().await;
    let id = small_setup(&zoom);
    let sc = small(id);
    let tl = zoom.timeline(&sc).unwrap();
    let regs: HashMap<String, String> = zoom
        .registrants(id)
        .into_iter()
        .map(|r| (r.email, r.id))
        .collect();

    let names: Vec<(String, Option<usize>)> = tl
        .events
        .iter()
        .map(|e| (e.event.clone(), e.person))
        .collect();
    let of = |p: usize| -> Vec<String> {
        names
            .iter()
            .filter(|(_, q)| *q == Some(p))
            .map(|(n, _)| n.trim_start_matches("meeting.").to_owned())
            .collect()
    };
    assert_eq!(names.first().unwrap().0, "meeting.started");
    assert_eq!(names.last().unwrap().0, "meeting.ended");
    assert_eq!(of(0), ["participant_joined", "participant_left"]);
    assert_eq!(
        of(1),
        [
            "participant_joined_waiting_room",
            "participant_left_waiting_room",
            "participant_joined",
            "participant_left",
            "participant_joined_breakout_room",
            "participant_left_breakout_room",
            "participant_joined",
            "participant_left",
        ]
    );
    assert_eq!(
        of(2),
        [
            "participant_joined",
            "participant_left",
            "participant_joined",
            "participant_left",
            "participant_joined_breakout_room",
            "participant_left_breakout_room",
        ]
    );
    assert_eq!(of(3), ["participant_joined", "participant_left"]);

    // Chronological order of the whole stream.
    assert!(tl.events.windows(2).all(|w| w[0].at <= w[1].at));

    let ev: Vec<Value> = tl.events.iter().map(WebhookEvent::json).collect();
    let uuid = &tl.instances[0].uuid;
    for (v, e) in ev.iter().zip(&tl.events) {
        assert_eq!(v["event"], e.event.as_str());
        assert!(v["event_ts"].is_i64());
        let ts = v["event_ts"].as_i64().unwrap();
        assert!(ts >= e.at.timestamp_millis() && ts < e.at.timestamp_millis() + 1000);
        assert_eq!(v["payload"]["account_id"], "SimAccount-0001");
        let o = &v["payload"]["object"];
        assert_eq!(o["id"], id.to_string(), "meeting id is a string");
        assert_eq!(o["uuid"], uuid.as_str());
        assert_eq!(o["host_id"], "sim-host-0001");
        assert_eq!(o["start_time"], "2025-05-12T09:00:00Z");
        assert_eq!(o["type"], 2);
    }
    assert_eq!(
        ev.last().unwrap()["payload"]["object"]["end_time"],
        "2025-05-12T10:00:00Z"
    );

    let person = |p: usize| -> Vec<&Value> {
        tl.events
            .iter()
            .zip(&ev)
            .filter(|(e, _)| e.person == Some(p))
            .map(|(_, v)| participant(v))
            .collect()
    };
    // Host.
    let host = person(0);
    assert_eq!(host[0]["id"], "sim-host-0001");
    assert_eq!(host[0]["user_name"], "Sam Host");
    assert_eq!(host[1]["leave_reason"], LEAVE_HOST_ENDED);

    // Ann: waiting room, admission, breakout move and return keep the main user_id.
    let a = person(1);
    let ann_rid = &regs["a@lms.example"];
    for p in &a {
        assert_eq!(p["registrant_id"], ann_rid.as_str());
        assert_eq!(p["email"], "a@lms.example");
        assert_eq!(p["user_name"], "Ann Able");
        assert_eq!(p["id"], "");
        assert_eq!(p["participant_uuid"], a[0]["participant_uuid"]);
    }
    assert_eq!(a[0]["date_time"], "2025-05-12T09:01:00Z");
    assert_eq!(a[1]["date_time"], "2025-05-12T09:02:00Z");
    assert_eq!(a[2]["join_time"], "2025-05-12T09:02:00Z");
    assert_eq!(a[3]["leave_reason"], LEAVE_TO_BREAKOUT);
    assert_eq!(a[3]["leave_time"], "2025-05-12T09:10:00Z");
    assert_eq!(a[4]["parent_user_id"], a[2]["user_id"]);
    assert_ne!(
        a[4]["user_id"], a[2]["user_id"],
        "breakout rooms have their own user_id"
    );
    assert_eq!(a[5]["leave_reason"], LEAVE_BREAKOUT_TO_MAIN);
    assert_eq!(
        a[6]["user_id"], a[2]["user_id"],
        "back in the main room: same user_id"
    );
    assert_eq!(a[6]["join_time"], "2025-05-12T09:15:00Z");
    assert_eq!(a[7]["leave_reason"], LEAVE_LEFT);
    assert_eq!(a[7]["leave_time"], "2025-05-12T09:25:00Z");
    let bo_events: Vec<&Value> = tl
        .events
        .iter()
        .zip(&ev)
        .filter(|(e, _)| e.event.contains("breakout"))
        .map(|(_, v)| v)
        .collect();
    assert!(
        bo_events
            .iter()
            .all(|v| v["payload"]["object"]["breakout_room_uuid"].is_string())
    );

    // Bob: disconnect, rejoin on a new connection, leaves from a breakout room at the end.
    let b = person(2);
    assert_eq!(b[1]["leave_reason"], LEAVE_DISCONNECTED);
    assert_ne!(b[2]["user_id"], b[0]["user_id"]);
    assert_ne!(b[2]["participant_uuid"], b[0]["participant_uuid"]);
    assert_eq!(b[5]["leave_reason"], LEAVE_HOST_ENDED);
    assert_eq!(b[5]["leave_time"], "2025-05-12T10:00:00Z");

    // Guest: no registrant id, no email.
    let g = person(3);
    assert_eq!(g[0]["registrant_id"], "");
    assert_eq!(g[0]["email"], "");
}

#[tokio::test]
async fn unregistered_email_in_scenario_is_an_error() {
    let zoom = sim().await;
    let id = small_setup(&zoom);
    let sc = small(id).person(Person::registrant("ghost@lms.example"));
    assert!(matches!(
        zoom.timeline(&sc),
        Err(PlayError::Timeline(TimelineError::NotRegistered(_)))
    ));
    let mut other = small(id);
    other.meeting_id = 1;
    assert!(matches!(
        zoom.timeline(&other),
        Err(PlayError::UnknownMeeting(1))
    ));
}

#[tokio::test]
async fn typical_class_events_are_consistent() {
    let zoom = sim().await;
    let (id, emails) = class_meeting(&zoom, 30);
    let sc = Scenario::typical_class(id, &emails, t0(), 11);
    let tl = zoom.timeline(&sc).unwrap();
    assert_eq!(tl.instances.len(), 2);
    assert!(tl.instances[1].uuid.starts_with('/'));
    let regs: HashSet<String> = zoom.registrants(id).into_iter().map(|r| r.id).collect();
    let mut open: BTreeMap<(usize, String), i32> = BTreeMap::new();
    let mut kinds = HashSet::new();
    let mut started = 0;
    for e in &tl.events {
        let v = e.json();
        kinds.insert(e.event.clone());
        if e.event == "meeting.started" {
            started += 1;
            assert_eq!(
                v["payload"]["object"]["uuid"],
                tl.instances[e.instance].uuid.as_str()
            );
        }
        let p = participant(&v);
        if p.is_null() {
            continue;
        }
        let rid = p["registrant_id"].as_str().unwrap();
        let who = &sc.people[e.person.unwrap()].identity;
        match who {
            Identity::Registrant { .. } => assert!(regs.contains(rid)),
            _ => assert_eq!(rid, ""),
        }
        let key = (e.instance, p["user_id"].as_str().unwrap().to_owned());
        match e.event.as_str() {
            "meeting.participant_joined" => *open.entry(key).or_default() += 1,
            "meeting.participant_left" => *open.entry(key).or_default() -= 1,
            _ => {}
        }
    }
    assert_eq!(started, 2);
    assert!(
        open.values().all(|n| *n == 0),
        "every main join has its leave"
    );
    for k in [
        "meeting.participant_joined_waiting_room",
        "meeting.participant_left_waiting_room",
        "meeting.participant_joined_breakout_room",
        "meeting.participant_left_breakout_room",
        "meeting.ended",
    ] {
        assert!(kinds.contains(k), "{k}");
    }
    // The description names every registrant.
    let d = sc.describe();
    assert!(emails.iter().all(|e| d.contains(e.as_str())));
}

async fn fetch_report(
    api: &Api,
    path_id: &str,
    page_size: usize,
    registrant: bool,
) -> (u16, Vec<Value>) {
    let mut rows = Vec::new();
    let mut token = String::new();
    loop {
        let fields = if registrant {
            "&include_fields=registrant_id"
        } else {
            ""
        };
        let (s, _, page) = api
            .get(&format!(
                "/report/meetings/{path_id}/participants?page_size={page_size}{fields}&next_page_token={token}"
            ))
            .await;
        if s != 200 {
            return (s, rows);
        }
        rows.extend(page["participants"].as_array().unwrap().iter().cloned());
        token = page["next_page_token"].as_str().unwrap().to_owned();
        if token.is_empty() {
            return (200, rows);
        }
    }
}

fn union_seconds(mut iv: Vec<(DateTime<Utc>, DateTime<Utc>)>) -> i64 {
    iv.sort();
    let mut total = 0;
    let mut cur: Option<(DateTime<Utc>, DateTime<Utc>)> = None;
    for (a, b) in iv {
        match cur {
            Some((s, e)) if a <= e => cur = Some((s, e.max(b))),
            Some((s, e)) => {
                total += (e - s).num_seconds();
                cur = Some((a, b));
            }
            None => cur = Some((a, b)),
        }
    }
    if let Some((s, e)) = cur {
        total += (e - s).num_seconds();
    }
    total
}

#[tokio::test]
async fn report_matches_scenario_and_webhooks() {
    let zoom = sim().await;
    let (id, emails) = class_meeting(&zoom, 30);
    let sc = Scenario::typical_class(id, &emails, t0(), 3);
    let rx = Receiver::start(0).await;
    let out = zoom
        .play(
            &sc,
            &WebhookTarget::new(rx.url.clone(), SECRET),
            &DeliveryOptions::for_tests(),
        )
        .await
        .unwrap();
    let api = Api::connect(&zoom).await;

    let (s, _, inst) = api.get(&format!("/past_meetings/{id}/instances")).await;
    assert_eq!(s, 200);
    let uuids: Vec<&str> = inst["meetings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["uuid"].as_str().unwrap())
        .collect();
    assert_eq!(
        uuids,
        [
            out.timeline.instances[0].uuid.as_str(),
            out.timeline.instances[1].uuid.as_str()
        ]
    );

    // A UUID starting with "/" must be double-encoded.
    let u2 = &out.timeline.instances[1].uuid;
    let single =
        percent_encoding::utf8_percent_encode(u2, percent_encoding::NON_ALPHANUMERIC).to_string();
    let (s, _) = fetch_report(&api, &single, 300, true).await;
    assert_eq!(s, 404);

    let regs: HashMap<String, String> = zoom
        .registrants(id)
        .into_iter()
        .map(|r| (r.id, r.email))
        .collect();
    let expectations = sc.expectations();
    for (ii, played) in out.timeline.instances.iter().enumerate() {
        let (s, rows) = fetch_report(&api, &encode_uuid(&played.uuid), 7, true).await;
        assert_eq!(s, 200);
        assert_eq!(rows.len(), played.report.len());
        let connections: usize = sc
            .people
            .iter()
            .flat_map(|p| &p.connections)
            .filter(|c| c.instance == ii)
            .count();
        assert_eq!(rows.len(), connections, "one row per join session");
        for r in &rows {
            let join = DateTime::parse_from_rfc3339(r["join_time"].as_str().unwrap()).unwrap();
            let leave = DateTime::parse_from_rfc3339(r["leave_time"].as_str().unwrap()).unwrap();
            assert_eq!(
                r["duration"].as_i64().unwrap(),
                (leave - join).num_seconds()
            );
            let rid = r["registrant_id"].as_str().unwrap();
            if !rid.is_empty() {
                assert_eq!(r["user_email"].as_str().unwrap(), regs[rid]);
            }
        }
        // Per registrant: the union of in-meeting rows is the expected attended time, and the
        // rows match what the webhooks said.
        for e in expectations.iter().filter(|e| e.instance == ii) {
            let Identity::Registrant { email } = &e.identity else {
                continue;
            };
            let mine: Vec<&Value> = rows
                .iter()
                .filter(|r| r["user_email"] == email.as_str() && r["status"] == "in_meeting")
                .collect();
            let iv = mine
                .iter()
                .map(|r| {
                    (
                        DateTime::parse_from_rfc3339(r["join_time"].as_str().unwrap())
                            .unwrap()
                            .to_utc(),
                        DateTime::parse_from_rfc3339(r["leave_time"].as_str().unwrap())
                            .unwrap()
                            .to_utc(),
                    )
                })
                .collect();
            assert_eq!(
                union_seconds(iv),
                e.attended_seconds,
                "{email} instance {ii}"
            );
            assert_eq!(
                mine.len(),
                e.joins,
                "{email}: rows = connections, breakouts do not split"
            );
        }
        // Each in-meeting row's user_id joined the main meeting in the webhooks at join_time.
        for r in rows.iter().filter(|r| r["status"] == "in_meeting") {
            let found = out.timeline.events.iter().any(|e| {
                let v = e.json();
                let p = participant(&v);
                e.event == "meeting.participant_joined"
                    && p["user_id"] == r["user_id"]
                    && p["join_time"] == r["join_time"]
            });
            assert!(found, "{r}");
        }
        assert!(rows.iter().any(|r| r["status"] == "in_waiting_room") == (ii == 0));
    }

    // Past meeting details of instance 2 (double-encoded UUID).
    let (s, _, details) = api
        .get(&format!("/past_meetings/{}", encode_uuid(u2)))
        .await;
    assert_eq!(s, 200);
    assert_eq!(details["start_time"], "2025-05-12T09:32:00Z");
    assert_eq!(details["end_time"], "2025-05-12T10:00:00Z");
    assert_eq!(details["duration"], 28);

    // Without include_fields there is no registrant_id; numeric id = latest instance.
    let (s, rows) = fetch_report(&api, &id.to_string(), 300, false).await;
    assert_eq!(s, 200);
    assert_eq!(rows.len(), out.timeline.instances[1].report.len());
    assert!(rows.iter().all(|r| r.get("registrant_id").is_none()));
    // Past participants carry registrant_id without asking.
    let (s, _, page) = api
        .get(&format!(
            "/past_meetings/{}/participants?page_size=300",
            encode_uuid(&out.timeline.instances[0].uuid)
        ))
        .await;
    assert_eq!(s, 200);
    assert!(
        page["participants"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["registrant_id"].is_string())
    );
    rx.stop().await;
}

#[tokio::test]
async fn report_not_ready_then_ready_and_plans_without_reports() {
    let zoom = Simulator::start(SimConfig {
        rate_limits: RateLimits::unlimited(),
        report_delay: Duration::from_secs(600),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let id = small_setup(&zoom);
    let tl = zoom.timeline(&small(id)).unwrap();
    let api = Api::connect(&zoom).await;
    let path = encode_uuid(&tl.instances[0].uuid);
    // Not played yet: not found.
    assert_eq!(fetch_report(&api, &path, 30, true).await.0, 404);
    // In progress: not found either (reports cover meetings that ended), delay or not.
    zoom.record_started(&tl);
    zoom.set_report_delay(Duration::from_secs(0));
    let (s, _, body) = api
        .get(&format!("/report/meetings/{path}/participants"))
        .await;
    assert_eq!((s, body["code"].as_i64()), (404, Some(3001)));
    zoom.set_report_delay(Duration::from_secs(600));
    zoom.record(&tl);
    let (s, _, body) = api
        .get(&format!("/report/meetings/{path}/participants"))
        .await;
    assert_eq!((s, body["code"].as_i64()), (404, Some(3001)));
    zoom.advance_clock(Duration::from_secs(601));
    let api = Api::connect(&zoom).await;
    let (s, rows) = fetch_report(&api, &path, 30, true).await;
    assert_eq!((s, rows.len()), (200, 5));

    zoom.set_report_delay(Duration::from_secs(0));
    zoom.set_reports_available(false);
    let (s, _, body) = api
        .get(&format!("/report/meetings/{path}/participants"))
        .await;
    assert_eq!(s, 400);
    assert_eq!(body["code"], 200);
    assert_eq!(body["message"], "Only available for Paid user.");
}

#[tokio::test]
async fn not_ready_can_be_an_empty_report() {
    let zoom = Simulator::start(SimConfig {
        rate_limits: RateLimits::unlimited(),
        report_delay: Duration::from_secs(60),
        report_not_ready: NotReady::Empty,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let id = small_setup(&zoom);
    let tl = zoom.timeline(&small(id)).unwrap();
    zoom.record(&tl);
    let api = Api::connect(&zoom).await;
    let (s, _, body) = api
        .get(&format!("/report/meetings/{id}/participants"))
        .await;
    assert_eq!((s, body["total_records"].as_u64()), (200, Some(0)));
}

#[tokio::test]
async fn duplicates_reordering_and_retries_like_zoom() {
    let zoom = sim().await;
    let (id, emails) = class_meeting(&zoom, 12);
    let sc = Scenario::typical_class(id, &emails, t0(), 5);
    let rx = Receiver::start(4).await; // first four deliveries answer 503
    let opts = DeliveryOptions::chaotic(21);
    let out = zoom
        .play(&sc, &WebhookTarget::new(rx.url.clone(), SECRET), &opts)
        .await
        .unwrap();
    let n = out.timeline.events.len();
    assert!(out.report.all_acked());
    assert_eq!(out.report.count_status(503), 4);
    let retried: Vec<&Delivery> = out
        .report
        .deliveries
        .iter()
        .filter(|d| d.attempt > 0)
        .collect();
    assert_eq!(retried.len(), 4, "each 503 was retried once and then acked");
    let got = rx.captured();
    assert!(
        got.len() > n + 4,
        "1–3 copies each: {} deliveries for {n} events",
        got.len()
    );
    // Same set of bodies, different order.
    let sent: HashSet<Vec<u8>> = got.iter().map(|c| c.body.clone()).collect();
    let want: HashSet<Vec<u8>> = out
        .timeline
        .events
        .iter()
        .map(|e| e.body.as_bytes().to_vec())
        .collect();
    assert_eq!(sent, want);
    let first_seen: Vec<Vec<u8>> = {
        let mut seen = HashSet::new();
        got.iter()
            .filter(|c| seen.insert(c.body.clone()))
            .map(|c| c.body.clone())
            .collect()
    };
    let original: Vec<Vec<u8>> = out
        .timeline
        .events
        .iter()
        .map(|e| e.body.as_bytes().to_vec())
        .collect();
    assert_ne!(first_seen, original, "reordered");
    // Every delivery of the same event carries the same bytes but its own signature check.
    for c in &got {
        let ts = c.header("x-zm-request-timestamp").unwrap();
        assert_eq!(
            c.header("x-zm-signature").unwrap(),
            expected_signature(SECRET, ts, &c.body)
        );
    }
    rx.stop().await;
}

#[tokio::test]
async fn four_xx_is_never_retried_and_the_event_is_lost() {
    let zoom = sim().await;
    let id = small_setup(&zoom);
    let rx = Receiver::start_with(2, 401).await;
    let out = zoom
        .play(
            &small(id),
            &WebhookTarget::new(rx.url.clone(), SECRET),
            &DeliveryOptions::for_tests(),
        )
        .await
        .unwrap();
    assert_eq!(out.report.lost_events(), vec![0, 1]);
    assert!(out.report.deliveries.iter().all(|d| d.attempt == 0));
    assert_eq!(rx.captured().len(), out.timeline.events.len());
}

#[tokio::test]
async fn unreachable_receiver_is_retried_then_dropped() {
    let zoom = sim().await;
    let id = small_setup(&zoom);
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", free.local_addr().unwrap());
    drop(free);
    let sc =
        Scenario::new(id, t0(), 60).person(Person::host().connection(Connection::main(0, 0, None)));
    let out = zoom
        .play(
            &sc,
            &WebhookTarget::new(url, SECRET),
            &DeliveryOptions::for_tests(),
        )
        .await
        .unwrap();
    let n = out.timeline.events.len();
    assert_eq!(
        out.report.deliveries.len(),
        n * 4,
        "first try + 3 retries each"
    );
    assert_eq!(out.report.lost_events().len(), n);
    assert!(out.report.deliveries.iter().all(|d| d.error.is_some()));
    // Zoom's own state does not depend on delivery: the instance is over and reported.
    assert!(zoom.meeting(id).unwrap().instances[0].end_time.is_some());
}

#[tokio::test]
async fn live_speed_spreads_the_class_over_real_time() {
    let zoom = sim().await;
    let id = small_setup(&zoom);
    let sc =
        Scenario::new(id, t0(), 20).person(Person::host().connection(Connection::main(0, 0, None)));
    let rx = Receiver::start(0).await;
    let opts = DeliveryOptions {
        speed: Some(20.0),
        ..DeliveryOptions::for_tests()
    };
    let started = std::time::Instant::now();
    zoom.play(&sc, &WebhookTarget::new(rx.url.clone(), SECRET), &opts)
        .await
        .unwrap();
    // 20 s of meeting at 20x: about a second of real time, certainly not instantaneous.
    assert!(started.elapsed() >= Duration::from_millis(900));
    assert_eq!(rx.captured().len(), 4);
}

/// The demo spawns `play` on a multi-threaded runtime: its future must be `Send` (this test
/// fails to compile otherwise), and it must run to completion there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn play_runs_in_a_spawned_task() {
    let zoom = sim().await;
    let id = small_setup(&zoom);
    let rx = Receiver::start(0).await;
    let sim: Simulator = zoom.sim().clone();
    let target = WebhookTarget::new(rx.url.clone(), SECRET);
    let task = tokio::spawn(async move {
        sim.play(&small(id), &target, &DeliveryOptions::for_tests())
            .await
            .map(|o| o.report.all_acked())
    });
    assert!(task.await.unwrap().unwrap());
    assert!(!rx.captured().is_empty());
}
