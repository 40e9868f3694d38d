//! Benchmark of the pure attendance engine (results and machine: BENCHMARKS.md, "Attendance
//! engine").
//!
//! A webinar of N registered participants, 5 webhook connections each (5·N intervals): a
//! realistic mix of waiting rooms, breakout moves, rejoins, overlapping devices, missing
//! leaves and duplicate deliveries, with the connections in shuffled order as storage might
//! return them. Measured at N = 50,000 and N = 500,000 (the 10× scaling check), plus the same
//! 50,000 with a participant report merged in.
//!
//! Run: `cargo bench -p attend-core --bench engine`; with `ATTEND_ENGINE_CPU=1` it prints the
//! wall-clock and CPU time per call instead.

#![allow(missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use attend_core::attendance::{
    Connection, ConnectionEvent, InstanceInput, ReportInterval, Subject, Window, compute_instance,
};
use attend_core::model::{
    ConnectionKey, InstanceId, InstanceState, MatchedBy, ParticipantAction as A, UserId,
};
use chrono::{DateTime, Duration as Span, TimeZone, Utc};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

const CONNECTIONS_PER_PARTICIPANT: usize = 5;
const WINDOW_SECONDS: i64 = 2 * 3600;

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 1, 9, 0, 0)
        .single()
        .unwrap_or_default()
}

/// One planned connection, as plain data (no allocation yet).
struct Plan {
    participant: usize,
    connection: usize,
    events: Vec<(A, i64)>,
    stay: (i64, i64),
}

/// Builds the webinar input; with `report`, one report row per connection (same Zoom user id,
/// shifted by a few seconds as real reports are).
///
/// Connections come in a random order with respect to participants (the service groups stored
/// events by connection key, which is a random Zoom uuid), and — as in the service, which
/// allocates each connection while grouping — every connection's strings and events are
/// allocated in that order. Registered users come in id order, as a database returns them.
fn webinar(participants: usize, report: bool) -> InstanceInput {
    let mut rng = StdRng::seed_from_u64(0x5eed);
    let start = start();
    let at = |second: i64| start + Span::seconds(second);
    let mut input = InstanceInput::new(
        InstanceId::from("bench-instance=="),
        Window::ended(start, at(WINDOW_SECONDS)),
        at(WINDOW_SECONDS + 60),
    );
    input.state = InstanceState::Provisional;
    input.registered = (0..participants)
        .map(|p| UserId::new(format!("user-{p:07}")))
        .collect();
    let mut plans = Vec::with_capacity(participants * CONNECTIONS_PER_PARTICIPANT);
    for participant in 0..participants {
        // Five stays spread over the window, sometimes overlapping (a second device).
        let mut cursor = rng.random_range(-120..600);
        for connection in 0..CONNECTIONS_PER_PARTICIPANT {
            let join = cursor;
            let leave = join + rng.random_range(300..1800);
            cursor = if rng.random_bool(0.2) {
                join + 60
            } else {
                leave + rng.random_range(0..300)
            };
            let mut events = Vec::with_capacity(8);
            if rng.random_bool(0.2) {
                events.push((A::WaitingRoomJoined, join - 30));
                events.push((A::WaitingRoomLeft, join));
            }
            events.push((A::Joined, join));
            if rng.random_bool(0.3) {
                let out = join + (leave - join) / 3;
                events.push((A::BreakoutJoined, out));
                events.push((A::BreakoutLeft, out + 120));
            }
            if !rng.random_bool(0.05) {
                events.push((A::Left, leave));
            }
            if rng.random_bool(0.1) {
                let again = events[rng.random_range(0..events.len())];
                events.push(again);
            }
            events.shuffle(&mut rng);
            plans.push(Plan {
                participant,
                connection,
                events,
                stay: (join, leave),
            });
        }
    }
    plans.shuffle(&mut rng);
    let subject = |p: usize| {
        // Every 20th participant is a guest nobody matched.
        if p % 20 == 19 {
            Subject::Unmatched {
                person_key: format!("name:Guest {p}"),
                display_name: Some(format!("Guest {p}")),
                email: None,
            }
        } else {
            Subject::User {
                id: UserId::new(format!("user-{p:07}")),
                matched_by: MatchedBy::RegistrantId,
            }
        }
    };
    let zoom_user_id =
        |plan: &Plan| format!("{}", 16_000_000 + plan.participant * 8 + plan.connection);
    input.connections = plans
        .iter()
        .map(|plan| Connection {
            key: ConnectionKey::new(format!("p{}-{}", plan.participant, plan.connection)),
            subject: subject(plan.participant),
            zoom_user_id: Some(zoom_user_id(plan)),
            events: plan
                .events
                .iter()
                .map(|&(action, second)| ConnectionEvent::new(action, at(second)))
                .collect(),
        })
        .collect();
    if report {
        plans.shuffle(&mut rng);
        input.report_rows = plans
            .iter()
            .map(|plan| ReportInterval {
                subject: subject(plan.participant),
                zoom_user_id: Some(zoom_user_id(plan)),
                join: at(plan.stay.0 + 2),
                leave: at(plan.stay.1 + 1),
            })
            .collect();
    }
    input
}

fn engine(c: &mut Criterion) {
    let mut group = c.benchmark_group("compute_instance");
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(2));
    for (name, participants, report) in [
        ("webhooks", 50_000, false),
        ("webhooks", 500_000, false),
        ("webhooks+report", 50_000, true),
    ] {
        let input = webinar(participants, report);
        group.measurement_time(Duration::from_secs(if participants > 100_000 {
            30
        } else {
            5
        }));
        group.throughput(Throughput::Elements(
            (participants * CONNECTIONS_PER_PARTICIPANT) as u64,
        ));
        group.bench_with_input(BenchmarkId::new(name, participants), &input, |b, input| {
            // The roster is dropped outside the timing: producing it is what is measured.
            b.iter_with_large_drop(|| compute_instance(black_box(input)))
        });
    }
    group.finish();
}

criterion_group!(benches, engine);

/// This process's CPU time so far (user + system, every thread, also finished ones), from
/// `/proc/self/stat` (clock ticks, assumed 100 per second as on Linux by default).
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let fields: Vec<&str> = stat.rsplit(')').next()?.split_whitespace().collect();
    let ticks = |at: usize| fields.get(at)?.parse::<f64>().ok();
    Some((ticks(11)? + ticks(12)?) / 100.0)
}

/// `ATTEND_ENGINE_CPU=1 cargo bench -p attend-core --bench engine`: wall-clock and CPU time
/// per call (including dropping the roster), a complement to criterion's wall-clock figures
/// on a machine shared with other work (CPU time does not count the time spent waiting for a
/// core).
fn cpu_report() {
    for (name, participants, report, calls) in [
        ("webhooks", 50_000, false, 30),
        ("webhooks", 500_000, false, 4),
        ("webhooks+report", 50_000, true, 15),
    ] {
        let input = webinar(participants, report);
        let (cpu, wall) = (cpu_seconds(), std::time::Instant::now());
        for _ in 0..calls {
            black_box(compute_instance(black_box(&input)));
        }
        let wall = wall.elapsed().as_secs_f64() / f64::from(calls) * 1e3;
        let cpu = cpu_seconds()
            .zip(cpu)
            .map(|(after, before)| (after - before) / f64::from(calls) * 1e3);
        println!(
            "{name}/{participants}: wall {wall:.1} ms/call, cpu {} ms/call ({calls} calls)",
            cpu.map_or("?".to_owned(), |cpu| format!("{cpu:.1}"))
        );
    }
}

fn main() {
    if std::env::var_os("ATTEND_ENGINE_CPU").is_some() {
        cpu_report();
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
