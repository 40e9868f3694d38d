//! Benchmark of the receiver's CPU work per webhook delivery, before any storage: signature
//! check, parse and dedupe key ([`WebhookVerifier::intake`]), on the participant events the
//! load generator sends (results: BENCHMARKS.md, "Receiver CPU per delivery" and "Participant
//! deliveries read without a JSON tree").
//!
//! Run: `cargo bench -p attend-core --bench intake`.

#![allow(missing_docs)]

use std::hint::black_box;

use attend_core::zoom::{
    Secret, WebhookHeaders, WebhookIntake, WebhookSecrets, WebhookVerifier, compute_signature,
    dedupe_key, parse_event,
};
use chrono::{TimeZone, Utc};
use criterion::{Criterion, Throughput, criterion_group};

/// A `meeting.participant_joined` body of the shape and size Zoom sends (about 700 bytes).
fn participant_joined(connection: u64) -> String {
    serde_json::json!({
        "event": "meeting.participant_joined",
        "event_ts": 1_741_000_000_000_i64 + connection as i64,
        "payload": {
            "account_id": "AAAAAABBBBBBCCCCCC",
            "object": {
                "id": "85749372211",
                "uuid": "4444AAAiAAAAAiAiAiiAii==",
                "host_id": "z8yAAAAA8bbbQ",
                "topic": "Week 3 lecture",
                "type": 2,
                "start_time": "2025-03-01T09:00:00Z",
                "timezone": "UTC",
                "duration": 60,
                "participant": {
                    "user_id": (16_778_240 + connection).to_string(),
                    "user_name": "Ada Lovelace",
                    "id": "",
                    "participant_uuid": format!("bench-{connection:010}"),
                    "join_time": "2025-03-01T09:01:07Z",
                    "email": "ada@example.edu",
                    "registrant_id": "Xb9xQmM8TxyA3YkR1r9kQw",
                    "participant_user_id": ""
                }
            }
        }
    })
    .to_string()
}

fn bench(c: &mut Criterion) {
    let secret = Secret::from("bench-webhook-secret".to_owned());
    let verifier = WebhookVerifier::single("main", WebhookSecrets::new(secret.clone()));
    let now = Utc
        .with_ymd_and_hms(2025, 3, 1, 9, 1, 8)
        .single()
        .unwrap_or_default();
    let timestamp = now.timestamp().to_string();
    let body = participant_joined(42);
    let signature = compute_signature(&secret, &timestamp, body.as_bytes());

    let mut group = c.benchmark_group("intake");
    group.throughput(Throughput::Elements(1));
    group.bench_function("verify+parse+dedupe (participant_joined)", |b| {
        b.iter(|| {
            let headers = WebhookHeaders::new(Some(&signature), Some(&timestamp));
            let intake = verifier.intake(headers, black_box(body.as_bytes()), now);
            assert!(matches!(
                intake,
                Ok(WebhookIntake::Event {
                    event_name: Ok(_),
                    ..
                })
            ));
            intake
        });
    });
    group.bench_function("parse_event only", |b| {
        b.iter(|| parse_event(black_box(body.as_bytes())));
    });
    group.bench_function("dedupe_key of the bytes", |b| {
        b.iter(|| dedupe_key(black_box(body.as_bytes())));
    });
    group.finish();
}

criterion_group!(benches, bench);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
}
