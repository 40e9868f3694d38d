//! Many writers at once: no `database is locked` on SQLite, no double claims on PostgreSQL.

use std::collections::BTreeSet;
use std::sync::Arc;

use attend_core::model::{
    AccountKey, ConnectionKey, GroupKey, IdentityHints, InstanceId, MeetingId, MeetingKind,
    ParticipantAction, ParticipantEvent, Policy, UserId, ZoomMeetingId,
};
use attend_core::store::{
    AttendanceStore, Job, JobId, JobQueue, MeetingRecord, MeetingStore, NewJob, NewWebhook,
    RegistrationStore, ReportRow, StoredEvent, WebhookId, WebhookInbox, WebhookInsert, WebhookJob,
};
use attend_diesel::DieselStore;
use chrono::{DateTime, TimeDelta, Utc};

use crate::common;

fn t(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_700_000_000 + secs, 0).expect("valid time")
}

fn meeting(id: &str) -> MeetingRecord {
    MeetingRecord {
        id: MeetingId::new(id),
        account: AccountKey::new("acct"),
        zoom_meeting_id: ZoomMeetingId(85_393_847_045),
        kind: MeetingKind::Meeting,
        group: GroupKey::new("course-101"),
        topic: "Physics".to_owned(),
        start_time: Some(t(0)),
        duration_minutes: Some(60),
        timezone: None,
        host_id: None,
        restrict_to_registered: false,
        policy: Policy::default(),
        created_at: t(0),
    }
}

const WRITERS: usize = 8;
const WRITES_PER_WRITER: usize = 40;

/// Every writer registers its own users and stores participant events (with deliberate
/// duplicates across writers), all at once, through one store's pool.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_on_a_sqlite_file_never_see_database_is_locked() {
    let db = common::sqlite_file().await;
    let store = Arc::new(db.store.clone());
    store.insert_meeting(&meeting("m1")).await.expect("meeting");
    let mut tasks = Vec::new();
    for w in 0..WRITERS {
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            let mut errors = Vec::new();
            for i in 0..WRITES_PER_WRITER {
                let user = UserId::new(format!("u{w}-{i}"));
                if let Err(e) = store
                    .ensure_pending_registration(&MeetingId::new("m1"), &user, t(i as i64))
                    .await
                {
                    errors.push(format!("registration: {e:?}"));
                }
                // Event `i` exists once per (i mod 10): every writer inserts the same ten
                // connections' joins, so most inserts are duplicates racing each other.
                let event = StoredEvent {
                    meeting: MeetingId::new("m1"),
                    event: ParticipantEvent {
                        instance: InstanceId::new("inst-1"),
                        connection: ConnectionKey::new(format!("c{}", i % 10)),
                        action: ParticipantAction::Joined,
                        at: t(100 + (i % 10) as i64),
                        hints: IdentityHints::default(),
                    },
                    source: None,
                };
                if let Err(e) = store.insert_participant_events(&[event]).await {
                    errors.push(format!("event: {e:?}"));
                }
            }
            errors
        }));
    }
    let mut errors = Vec::new();
    for task in tasks {
        errors.extend(task.await.expect("writer task"));
    }
    assert!(
        errors.is_empty(),
        "{} errors, first: {:?}",
        errors.len(),
        errors.first()
    );
    let counts = store
        .count_registrations(&MeetingId::new("m1"))
        .await
        .expect("counts");
    assert_eq!(counts.pending, (WRITERS * WRITES_PER_WRITER) as u64);
    let events = store
        .list_participant_events(&InstanceId::new("inst-1"))
        .await
        .expect("events");
    assert_eq!(events.len(), 10, "duplicates were stored once");
}

/// Two independent stores (two pools: like two app instances) drain one queue concurrently.
async fn two_workers_claim_disjoint_jobs(a: DieselStore, b: DieselStore) {
    const JOBS: usize = 120;
    for n in 0..JOBS {
        let job = NewJob::new("test", serde_json::json!({ "n": n }), t(0));
        a.enqueue_job(&job, t(0)).await.expect("enqueue");
    }
    let worker = |store: DieselStore, name: &'static str| async move {
        let mut mine = Vec::new();
        loop {
            let jobs = store
                .claim_jobs(name, 3, TimeDelta::minutes(5), t(10))
                .await
                .expect("claim");
            if jobs.is_empty() {
                break;
            }
            for job in jobs {
                assert_eq!(job.locked_by.as_deref(), Some(name));
                store
                    .complete_job(job.id, name, t(11))
                    .await
                    .expect("complete own job");
                mine.push(job.id);
            }
        }
        mine
    };
    let (one, two) = tokio::join!(
        tokio::spawn(worker(a.clone(), "worker-a")),
        tokio::spawn(worker(b.clone(), "worker-b"))
    );
    let (one, two) = (one.expect("worker a"), two.expect("worker b"));
    let all: Vec<JobId> = one.iter().chain(two.iter()).copied().collect();
    let distinct: BTreeSet<JobId> = all.iter().copied().collect();
    assert_eq!(all.len(), distinct.len(), "a job was claimed twice");
    assert_eq!(distinct.len(), JOBS, "every job was claimed once");
    eprintln!("worker a ran {} jobs, worker b {}", one.len(), two.len());
    let counts = a.job_counts(Some("test")).await.expect("counts");
    assert_eq!(counts.done, JOBS as u64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_workers_on_postgres_never_claim_the_same_job() {
    let Some(db) = common::postgres().await else {
        return;
    };
    // A second pool on the same schema: connect again with the same search_path.
    let schema = db
        .store
        .with_conn(|conn| {
            use diesel::prelude::*;
            #[derive(QueryableByName)]
            struct S {
                #[diesel(sql_type = diesel::sql_types::Text)]
                s: String,
            }
            diesel::sql_query("SELECT current_schema() AS s").get_result::<S>(conn)
        })
        .await
        .expect("schema")
        .s;
    let second = DieselStore::connect(
        &db.url,
        attend_diesel::Options::new()
            .postgres_schema(schema)
            .run_migrations(false),
    )
    .await
    .expect("second instance");
    two_workers_claim_disjoint_jobs(db.store.clone(), second).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_workers_on_a_sqlite_file_never_claim_the_same_job() {
    let db = common::sqlite_file().await;
    let second = DieselStore::connect(&db.url, attend_diesel::Options::new())
        .await
        .expect("second instance");
    two_workers_claim_disjoint_jobs(db.store.clone(), second).await;
}

fn event(i: usize) -> StoredEvent {
    StoredEvent {
        meeting: MeetingId::new("m1"),
        event: ParticipantEvent {
            instance: InstanceId::new("inst-1"),
            connection: ConnectionKey::new(format!("c{i}")),
            action: ParticipantAction::Joined,
            at: t(i as i64),
            hints: IdentityHints::default(),
        },
        source: None,
    }
}

/// Overlapping batches in opposite orders (a classic deadlock on PostgreSQL if rows were
/// inserted in batch order), and concurrent report replacements (which must leave exactly one
/// whole report, never a mix).
async fn overlapping_batches_and_report_replacements(store: DieselStore) {
    store.insert_meeting(&meeting("m1")).await.expect("meeting");
    let mut tasks = Vec::new();
    for w in 0..8usize {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut batch: Vec<StoredEvent> = (0..30).map(event).collect();
            if w % 2 == 1 {
                batch.reverse();
            }
            store.insert_participant_events(&batch).await.map(|_| ())?;
            // Report `w` has w + 1 rows, all marked with the writer's number.
            let rows: Vec<ReportRow> = (0..=w)
                .map(|k| ReportRow {
                    hints: IdentityHints {
                        user_name: Some(format!("writer-{w}")),
                        ..IdentityHints::default()
                    },
                    join: t(k as i64),
                    leave: t(k as i64 + 60),
                })
                .collect();
            store
                .replace_report_rows(&MeetingId::new("m1"), &InstanceId::new("inst-1"), &rows)
                .await
        }));
    }
    for task in tasks {
        task.await
            .expect("task")
            .expect("no deadlock, no lock error");
    }
    let events = store
        .list_participant_events(&InstanceId::new("inst-1"))
        .await
        .expect("events");
    assert_eq!(events.len(), 30);
    let rows = store
        .list_report_rows(&InstanceId::new("inst-1"))
        .await
        .expect("rows");
    let writers: BTreeSet<_> = rows.iter().map(|r| r.hints.user_name.clone()).collect();
    assert_eq!(writers.len(), 1, "a mix of reports: {writers:?}");
    let winner: usize = writers
        .into_iter()
        .next()
        .flatten()
        .and_then(|w| w.strip_prefix("writer-").and_then(|n| n.parse().ok()))
        .expect("writer number");
    assert_eq!(rows.len(), winner + 1, "the winner's report is whole");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn overlapping_writes_on_postgres() {
    if let Some(db) = common::postgres().await {
        overlapping_batches_and_report_replacements(db.store.clone()).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn overlapping_writes_on_a_sqlite_file() {
    let db = common::sqlite_file().await;
    overlapping_batches_and_report_replacements(db.store.clone()).await;
}

/// The job of a delivery stored by `insert_webhook_with_job`: kind `boom` makes the test's
/// trigger refuse it.
fn webhook_job(kind: &str) -> WebhookJob {
    fn bind(template: NewJob, id: WebhookId) -> NewJob {
        NewJob {
            payload: serde_json::json!({ "webhook": id.0 }),
            ..template
        }
        .with_dedupe_key(format!("webhook:{id}"))
    }
    WebhookJob::new(NewJob::new(kind, serde_json::Value::Null, t(0)), bind)
}

/// [`webhook_job`] with a group form: deliveries stored together share one job naming them
/// all (`{"webhooks": [ids]}`).
fn group_webhook_job() -> WebhookJob {
    fn many(template: NewJob, ids: &[WebhookId]) -> NewJob {
        let ids: Vec<i64> = ids.iter().map(|id| id.0).collect();
        NewJob {
            payload: serde_json::json!({ "webhooks": ids }),
            ..template
        }
    }
    webhook_job("process_webhook").with_group(many)
}

/// The deliveries a job of [`webhook_job`] or [`group_webhook_job`] names.
fn named_by(job: &Job) -> Vec<i64> {
    let as_id = |id: &serde_json::Value| id.as_i64().expect("an id");
    match (job.payload.get("webhook"), job.payload.get("webhooks")) {
        (Some(id), None) => vec![as_id(id)],
        (None, Some(ids)) => ids.as_array().expect("a list").iter().map(as_id).collect(),
        _ => panic!("a job naming no delivery: {job:?}"),
    }
}

/// A parseable delivery of account `acct` under `dedupe_key`, received at `t(i)`.
fn delivery(dedupe_key: &str, i: usize) -> NewWebhook {
    NewWebhook {
        account: AccountKey::new("acct"),
        dedupe_key: dedupe_key.to_owned(),
        event_type: "meeting.participant_joined".to_owned(),
        received_at: t(i as i64),
        body: b"{}".to_vec(),
        unparseable: false,
    }
}

/// Concurrent deliveries stored with their jobs, some of whose job inserts fail (a trigger
/// refuses them): a failing member rolls back its group, and every member then runs alone,
/// so each failing call stores neither delivery nor job, and every other call stores both.
async fn a_failed_job_insert_stores_neither(store: DieselStore) {
    store
        .with_conn(|c| {
            use diesel::connection::SimpleConnection;
            match c.backend() {
                attend_diesel::BackendKind::Sqlite => c.batch_execute(
                    "CREATE TRIGGER refuse_boom BEFORE INSERT ON attend_jobs \
                     WHEN NEW.kind = 'boom' BEGIN SELECT RAISE(ABORT, 'boom refused'); END",
                ),
                attend_diesel::BackendKind::Postgres => c.batch_execute(
                    "CREATE FUNCTION refuse_boom() RETURNS trigger LANGUAGE plpgsql AS \
                     $$ BEGIN RAISE EXCEPTION 'boom refused'; END $$; \
                     CREATE TRIGGER refuse_boom BEFORE INSERT ON attend_jobs FOR EACH ROW \
                     WHEN (NEW.kind = 'boom') EXECUTE FUNCTION refuse_boom();",
                ),
            }
        })
        .await
        .expect("create the refusing trigger");
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..60usize {
        let store = store.clone();
        tasks.spawn(async move {
            let hook = delivery(&format!("key-{i}"), i);
            let kind = if i % 5 == 0 {
                "boom"
            } else {
                "process_webhook"
            };
            let result = store
                .insert_webhook_with_job(&hook, &webhook_job(kind), t(0))
                .await;
            (i, result)
        });
    }
    let mut stored = BTreeSet::new();
    while let Some(done) = tasks.join_next().await {
        let (i, result) = done.expect("task");
        if i % 5 == 0 {
            assert!(
                result.is_err(),
                "delivery {i}: its job was refused: {result:?}"
            );
        } else {
            let insert = result.unwrap_or_else(|e| panic!("delivery {i}: {e:?}"));
            assert!(insert.is_new(), "delivery {i}: {insert:?}");
            stored.insert(insert.id().0);
        }
    }
    let rows = store
        .list_unprocessed_webhooks(t(1_000), 1_000)
        .await
        .expect("list deliveries");
    let keys: BTreeSet<String> = rows.iter().map(|w| w.dedupe_key.clone()).collect();
    let expected: BTreeSet<String> = (0..60)
        .filter(|i| i % 5 != 0)
        .map(|i| format!("key-{i}"))
        .collect();
    assert_eq!(
        keys, expected,
        "stored deliveries: the refused ones must not be"
    );
    let jobs = store
        .claim_jobs("checker", 1_000, TimeDelta::seconds(30), t(0))
        .await
        .expect("claim");
    let named: BTreeSet<i64> = jobs
        .iter()
        .filter_map(|j| j.payload["webhook"].as_i64())
        .collect();
    assert_eq!(jobs.len(), stored.len(), "one job per stored delivery");
    assert_eq!(named, stored, "the jobs name the stored deliveries");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failed_job_insert_stores_neither_on_a_sqlite_file() {
    let db = common::sqlite_file().await;
    a_failed_job_insert_stores_neither(db.store.clone()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failed_job_insert_stores_neither_on_postgres() {
    let Some(db) = common::postgres().await else {
        return;
    };
    a_failed_job_insert_stores_neither(db.store.clone()).await;
}

/// Deliveries arriving together share a group commit, and with a template that has a group
/// form they share one processing job: fewer job rows than deliveries, and every delivery
/// named by exactly one job. Rounds of concurrent deliveries until a group job is seen (the
/// first round nearly always has one; a round whose deliveries all committed alone has none).
async fn concurrent_deliveries_share_a_job(store: DieselStore) {
    let job = group_webhook_job();
    for round in 0..10 {
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..64usize {
            let (store, job) = (store.clone(), job.clone());
            tasks.spawn(async move {
                let hook = delivery(&format!("round-{round}-{i}"), i);
                store.insert_webhook_with_job(&hook, &job, t(0)).await
            });
        }
        let mut stored = BTreeSet::new();
        while let Some(done) = tasks.join_next().await {
            let insert = done.expect("task").expect("stored");
            assert!(insert.is_new(), "{insert:?}");
            stored.insert(insert.id().0);
        }
        let jobs = store
            .claim_jobs("checker", 1_000, TimeDelta::seconds(30), t(0))
            .await
            .expect("claim");
        let mut named = Vec::new();
        for job in &jobs {
            let ids = named_by(job);
            if job.payload.get("webhooks").is_some() {
                assert!(ids.len() >= 2, "a group job of one: {job:?}");
                assert_eq!(job.dedupe_key, None, "{job:?}");
            }
            named.extend(ids);
        }
        assert_eq!(
            named.len(),
            stored.len(),
            "each delivery named once: {jobs:?}"
        );
        assert_eq!(named.into_iter().collect::<BTreeSet<_>>(), stored);
        if jobs.len() < stored.len() {
            return;
        }
    }
    panic!("ten rounds of 64 concurrent deliveries and no two shared a job");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_deliveries_share_a_job_on_a_sqlite_file() {
    let db = common::sqlite_file().await;
    concurrent_deliveries_share_a_job(db.store.clone()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_deliveries_share_a_job_on_postgres() {
    let Some(db) = common::postgres().await else {
        return;
    };
    concurrent_deliveries_share_a_job(db.store.clone()).await;
}

/// Redeliveries among concurrent deliveries: each key sent twice at once, half of the keys
/// stored before. Every key ends with one row; each call answers `Inserted` once per new key
/// and `Duplicate` of that row otherwise; every new delivery is named by exactly one job, and
/// no job names a delivery stored before (its work was queued then). A round of only
/// redeliveries queues no job.
async fn redeliveries_in_a_group_keep_one_row_and_queue_no_job(store: DieselStore) {
    let job = group_webhook_job();
    let mut before = std::collections::BTreeMap::new();
    for k in (0..32).filter(|k| k % 2 == 0) {
        let key = format!("again-{k}");
        let first = store
            .insert_webhook_with_job(&delivery(&key, k), &job, t(0))
            .await
            .expect("stored before");
        before.insert(key, first.id().0);
    }
    // The jobs of those first deliveries are out of the way.
    let earlier = store
        .claim_jobs("checker", 1_000, TimeDelta::seconds(30), t(0))
        .await
        .expect("claim the earlier jobs");
    assert!(!earlier.is_empty());
    let send_all = |keys: Vec<String>| {
        let mut tasks = tokio::task::JoinSet::new();
        for (i, key) in keys.into_iter().enumerate() {
            let (store, job) = (store.clone(), job.clone());
            tasks.spawn(async move {
                let insert = store
                    .insert_webhook_with_job(&delivery(&key, i), &job, t(0))
                    .await;
                (key, insert.expect("stored"))
            });
        }
        tasks
    };
    let mut tasks = send_all((0..64).map(|i| format!("again-{}", i % 32)).collect());
    let mut answers: std::collections::BTreeMap<String, Vec<_>> = Default::default();
    while let Some(done) = tasks.join_next().await {
        let (key, insert) = done.expect("task");
        answers.entry(key).or_default().push(insert);
    }
    let mut new = BTreeSet::new();
    for (key, got) in &answers {
        let ids: BTreeSet<i64> = got.iter().map(|i| i.id().0).collect();
        assert_eq!(ids.len(), 1, "{key}: one row for every call: {got:?}");
        let inserted = got.iter().filter(|i| i.is_new()).count();
        match before.get(key) {
            Some(id) => {
                assert_eq!(inserted, 0, "{key} was stored before: {got:?}");
                assert!(ids.contains(id), "{key}: the earlier row: {got:?}");
            }
            None => {
                assert_eq!(inserted, 1, "{key}: inserted once: {got:?}");
                new.extend(ids);
            }
        }
    }
    assert_eq!(new.len(), 16);
    let jobs = store
        .claim_jobs("checker", 1_000, TimeDelta::seconds(30), t(0))
        .await
        .expect("claim");
    let named: Vec<i64> = jobs.iter().flat_map(named_by).collect();
    for id in &new {
        let times = named.iter().filter(|n| *n == id).count();
        assert_eq!(times, 1, "delivery {id} named {times} times: {jobs:?}");
    }
    for id in before.values() {
        assert!(
            !named.contains(id),
            "a job names {id}, stored before: {jobs:?}"
        );
    }
    // Whatever else a job names (an id reserved for a redelivery) is no delivery at all.
    let others: Vec<WebhookId> = named
        .iter()
        .filter(|id| !new.contains(*id))
        .map(|&id| WebhookId(id))
        .collect();
    let rows = store.get_webhooks(&others).await.expect("read");
    assert!(rows.is_empty(), "jobs name other deliveries: {rows:?}");

    let mut tasks = send_all(
        before
            .keys()
            .cloned()
            .chain(before.keys().cloned())
            .collect(),
    );
    while let Some(done) = tasks.join_next().await {
        let (key, insert) = done.expect("task");
        assert_eq!(insert, WebhookInsert::Duplicate(WebhookId(before[&key])));
    }
    let jobs = store
        .claim_jobs("checker", 1_000, TimeDelta::seconds(30), t(0))
        .await
        .expect("claim");
    assert!(jobs.is_empty(), "redeliveries queued jobs: {jobs:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redeliveries_in_a_group_keep_one_row_and_queue_no_job_on_a_sqlite_file() {
    let db = common::sqlite_file().await;
    redeliveries_in_a_group_keep_one_row_and_queue_no_job(db.store.clone()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redeliveries_in_a_group_keep_one_row_and_queue_no_job_on_postgres() {
    let Some(db) = common::postgres().await else {
        return;
    };
    redeliveries_in_a_group_keep_one_row_and_queue_no_job(db.store.clone()).await;
}

/// A reader that keeps an instance's events brings them up to date with
/// `participant_events_since`, as the roster cache does: while one writer stores events the
/// backend must answer with exactly the added ones, and under a concurrent writer its answer
/// (or its `None`, after which the reader loads everything) must still end equal to a full
/// listing.
async fn readers_catch_up_with_added_events(store: DieselStore) {
    store.insert_meeting(&meeting("m1")).await.expect("meeting");
    let instance = InstanceId::new("inst-live");
    // Connection `c` joins at `at`; equal times across batches test the order of ties.
    let event = |c: usize, at: i64| StoredEvent {
        meeting: MeetingId::new("m1"),
        event: ParticipantEvent {
            instance: instance.clone(),
            connection: ConnectionKey::new(format!("c{c}")),
            action: ParticipantAction::Joined,
            at: t(at),
            hints: IdentityHints {
                registrant_id: Some(format!("reg-{c}")),
                ..IdentityHints::default()
            },
        },
        source: None,
    };
    let revision = |store: &DieselStore| {
        let store = store.clone();
        let instance = instance.clone();
        async move {
            store
                .evidence_revision(&instance)
                .await
                .expect("revision")
                .expect("SQL backends keep revisions")
        }
    };
    let merge = |mut kept: Vec<StoredEvent>, added: Vec<StoredEvent>| {
        kept.extend(added);
        kept.sort_by_key(|e| e.event.at);
        kept
    };

    let first: Vec<StoredEvent> = (0..50).map(|c| event(c, (c % 7) as i64)).collect();
    store
        .insert_participant_events(&first)
        .await
        .expect("insert");
    let mut since = revision(&store).await;
    let mut kept = store
        .list_participant_events(&instance)
        .await
        .expect("list");
    for round in 0..20_usize {
        // New connections, one earlier than everything kept, one tied, and a duplicate.
        let base = 100 + round * 3;
        let batch = [
            event(base, 3),
            event(base + 1, -(round as i64)),
            event(base + 2, 1_000 + round as i64),
            event(0, 0),
        ];
        assert_eq!(
            store
                .insert_participant_events(&batch)
                .await
                .expect("insert"),
            3
        );
        let now = revision(&store).await;
        let added = store
            .participant_events_since(&instance, &since, &now)
            .await
            .expect("since")
            .unwrap_or_else(|| panic!("round {round}: only events were added, yet None"));
        assert_eq!(added.len(), 3, "round {round}");
        kept = merge(kept, added);
        let listed = store
            .list_participant_events(&instance)
            .await
            .expect("list");
        assert_eq!(kept, listed, "round {round}");
        since = now;
    }

    // Now with a writer storing events meanwhile.
    let writer = {
        let store = store.clone();
        let batches: Vec<Vec<StoredEvent>> = (0..40)
            .map(|b| {
                (0..5)
                    .map(|i| event(1_000 + b * 5 + i, (b % 9) as i64))
                    .collect()
            })
            .collect();
        tokio::spawn(async move {
            for batch in batches {
                store
                    .insert_participant_events(&batch)
                    .await
                    .expect("insert");
                tokio::task::yield_now().await;
            }
        })
    };
    let (mut caught_up, mut reloaded) = (0, 0);
    loop {
        let done = writer.is_finished();
        let now = revision(&store).await;
        match store
            .participant_events_since(&instance, &since, &now)
            .await
            .expect("since")
        {
            Some(added) => {
                caught_up += 1;
                kept = merge(kept, added);
            }
            None => {
                reloaded += 1;
                kept = store
                    .list_participant_events(&instance)
                    .await
                    .expect("list");
            }
        }
        since = now;
        if done {
            break;
        }
    }
    writer.await.expect("writer");
    let listed = store
        .list_participant_events(&instance)
        .await
        .expect("list");
    assert_eq!(
        kept.len(),
        listed.len(),
        "{caught_up} caught up, {reloaded} reloaded"
    );
    assert_eq!(kept, listed, "{caught_up} caught up, {reloaded} reloaded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn readers_catch_up_with_added_events_on_a_sqlite_file() {
    let db = common::sqlite_file().await;
    readers_catch_up_with_added_events(db.store.clone()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn readers_catch_up_with_added_events_on_postgres() {
    let Some(db) = common::postgres().await else {
        return;
    };
    readers_catch_up_with_added_events(db.store.clone()).await;
}

/// On PostgreSQL a join click is one statement with no transaction around it (a click at a
/// moderate rate was four round trips: BEGIN, a meeting check, the INSERT, COMMIT) that
/// commits without waiting for the WAL flush, for itself only; a click for an unknown meeting
/// is still refused with nothing written.
#[tokio::test]
async fn a_lone_join_click_is_one_statement_on_postgres() {
    use attend_core::store::JoinClick;
    use attend_diesel::AnyConnection;
    use diesel::connection::{Connection, InstrumentationEvent};
    use std::sync::Mutex;

    let Some(db) = common::postgres_with(attend_diesel::Options::new().pool_size(1)).await else {
        return;
    };
    let store = &db.store;
    store.insert_meeting(&meeting("m1")).await.expect("meeting");
    // The pool's only connection reports what it runs from now on.
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let log = Arc::clone(&seen);
    store
        .with_conn(move |conn| {
            if let AnyConnection::Postgresql(pg) = conn {
                pg.set_instrumentation(move |event: InstrumentationEvent<'_>| {
                    let entry = match event {
                        InstrumentationEvent::StartQuery { query, .. } => query.to_string(),
                        InstrumentationEvent::BeginTransaction { .. } => "BEGIN".to_owned(),
                        InstrumentationEvent::CommitTransaction { .. } => "COMMIT".to_owned(),
                        _ => return,
                    };
                    log.lock().expect("log").push(entry);
                });
            }
            Ok::<_, attend_diesel::DieselStoreError>(())
        })
        .await
        .expect("instrument");

    let click = |meeting: &str| JoinClick {
        meeting: MeetingId::new(meeting),
        user: UserId::new("u1"),
        at: t(5),
    };
    store.record_join_click(&click("m1")).await.expect("click");
    let ran = std::mem::take(&mut *seen.lock().expect("log"));
    assert_eq!(ran.len(), 1, "one statement, no transaction: {ran:#?}");
    assert!(ran[0].starts_with("INSERT INTO"), "{ran:#?}");
    // Committed without waiting for the WAL flush, for that statement's transaction only:
    // the pool's connection (the next delivery's, maybe) commits synchronously again.
    assert!(
        ran[0].contains("set_config($") || ran[0].contains("set_config('synchronous_commit'"),
        "the click turns synchronous_commit off for itself: {ran:#?}"
    );
    #[derive(diesel::QueryableByName)]
    struct Setting {
        #[diesel(sql_type = diesel::sql_types::Text)]
        synchronous_commit: String,
    }
    let after = store
        .with_conn(|conn| {
            diesel::RunQueryDsl::get_result::<Setting>(
                diesel::sql_query("SHOW synchronous_commit"),
                conn,
            )
        })
        .await
        .expect("show");
    assert_eq!(
        after.synchronous_commit, "on",
        "the setting outlived the click"
    );
    seen.lock().expect("log").clear();

    let err = store
        .record_join_click(&click("ghost"))
        .await
        .expect_err("unknown meeting");
    assert!(err.is_not_found(), "{err:?}");
    let clicks = store
        .list_join_clicks(&MeetingId::new("m1"))
        .await
        .expect("list");
    assert_eq!(clicks, vec![click("m1")]);
    assert!(
        store
            .list_join_clicks(&MeetingId::new("ghost"))
            .await
            .expect("list")
            .is_empty()
    );
}

/// On PostgreSQL the receiver's writes and the worker's are grouped in separate lanes: with
/// the worker's "processed" marks stuck behind row locks another transaction holds (every
/// worker leader blocked), a new delivery is still stored and committed at once. With one
/// queue for both, the delivery waited until the locks went, however many leaders the queue
/// had once each had picked up a stuck mark.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn deliveries_do_not_wait_behind_the_workers_writes_on_postgres() {
    use diesel::RunQueryDsl;
    use diesel::connection::Connection;
    use diesel::sql_types::{Array, BigInt};
    use std::time::Duration;

    let Some(db) = common::postgres().await else {
        return;
    };
    let store = db.store.clone();
    let mut held = Vec::new();
    for i in 0..6 {
        let insert = store
            .insert_webhook(&delivery(&format!("held-{i}"), i))
            .await
            .expect("store");
        held.push(insert.id());
    }
    // Another transaction locks the six rows until told to finish.
    let (locked_tx, locked_rx) = tokio::sync::oneshot::channel();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let ids: Vec<i64> = held.iter().map(|id| id.0).collect();
    let holder = tokio::spawn({
        let store = store.clone();
        async move {
            store
                .with_conn(move |conn| {
                    let attend_diesel::AnyConnection::Postgresql(pg) = conn else {
                        unreachable!("a PostgreSQL store");
                    };
                    pg.transaction(|c| {
                        diesel::sql_query(
                            "SELECT id FROM attend_webhooks WHERE id = ANY($1) FOR UPDATE",
                        )
                        .bind::<Array<BigInt>, _>(&ids)
                        .execute(c)?;
                        let _ = locked_tx.send(());
                        // Bounded, so a failing test cannot hang.
                        let _ = release_rx.recv_timeout(Duration::from_secs(30));
                        Ok::<_, diesel::result::Error>(())
                    })
                })
                .await
        }
    });
    locked_rx.await.expect("rows locked");
    // The worker's marks, one at a time, so that each would take a leader of its own.
    let mut marks = tokio::task::JoinSet::new();
    for id in held.clone() {
        let store = store.clone();
        marks.spawn(async move { store.mark_webhook_processed(id, t(100)).await });
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let fresh = tokio::time::timeout(
        Duration::from_secs(10),
        store.insert_webhook_with_job(
            &delivery("fresh", 50),
            &webhook_job("process_webhook"),
            t(50),
        ),
    )
    .await;
    let waiting_marks = marks.len();
    release_tx.send(()).expect("release the locks");
    holder.await.expect("holder").expect("holder transaction");
    while let Some(done) = marks.join_next().await {
        done.expect("task").expect("mark once the locks are gone");
    }
    let fresh = fresh
        .expect("the delivery waited behind the worker's blocked writes")
        .expect("stored");
    assert!(fresh.is_new(), "{fresh:?}");
    assert_eq!(waiting_marks, held.len(), "the marks were still blocked");
    let waiting = store
        .list_unprocessed_webhooks(t(1_000), 100)
        .await
        .expect("list");
    let keys: Vec<&str> = waiting.iter().map(|w| w.dedupe_key.as_str()).collect();
    assert_eq!(
        keys,
        vec!["fresh"],
        "the held deliveries are marked processed now"
    );
}

/// A lone single-statement write on PostgreSQL (no transaction around it) whose connection
/// was lost runs again on a fresh connection: the caller sees it done, not an error. Here the
/// server ends the pool's only connection before a "processed" mark is written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lone_statement_on_a_lost_connection_runs_again_on_postgres() {
    use diesel::connection::Connection;
    use diesel::sql_types::Integer;
    use diesel::{PgConnection, RunQueryDsl};

    #[derive(diesel::QueryableByName)]
    struct Pid {
        #[diesel(sql_type = Integer)]
        pid: i32,
    }

    /// The server process of the connection the pool hands out next (its only one).
    async fn backend_pid(store: &DieselStore) -> i32 {
        store
            .with_conn(|conn| {
                diesel::sql_query("SELECT pg_backend_pid() AS pid").get_result::<Pid>(conn)
            })
            .await
            .expect("pid")
            .pid
    }

    let Some(db) = common::postgres_with(attend_diesel::Options::new().pool_size(1)).await else {
        return;
    };
    let store = &db.store;
    let id = store
        .insert_webhook(&delivery("lost-connection", 1))
        .await
        .expect("store")
        .id();
    let pid = backend_pid(store).await;
    let mut admin = PgConnection::establish(&db.url).expect("a second connection");
    diesel::sql_query("SELECT pg_terminate_backend($1)")
        .bind::<Integer, _>(pid)
        .execute(&mut admin)
        .expect("terminate the pool's connection");

    store
        .mark_webhook_processed(id, t(10))
        .await
        .expect("marked on a fresh connection");
    let waiting = store
        .list_unprocessed_webhooks(t(1_000), 10)
        .await
        .expect("list");
    assert!(waiting.is_empty(), "still waiting: {waiting:?}");
    let now = backend_pid(store).await;
    assert_ne!(now, pid, "the lost connection went back into the pool");
}
