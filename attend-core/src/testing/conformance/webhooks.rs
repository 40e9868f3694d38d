//! Checks of [`WebhookInbox`](crate::store::WebhookInbox).

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::TimeDelta;
use serde_json::json;

use crate::model::AccountKey;
use crate::store::{
    Job, JobCounts, NewJob, NewWebhook, RawWebhook, Store, WebhookId, WebhookInsert, WebhookJob,
    WebhookStatus,
};

use super::fixtures::{UNKNOWN_WEBHOOK, t, t_us, webhook};
use super::{CheckResult, Ctx, Cx, ExpectErr, Failure, ensure, ensure_eq, race};

const LEASE: TimeDelta = TimeDelta::seconds(30);

fn stored_as(hook: &NewWebhook, insert: WebhookInsert) -> RawWebhook {
    RawWebhook {
        id: insert.id(),
        account: hook.account.clone(),
        dedupe_key: hook.dedupe_key.clone(),
        event_type: hook.event_type.clone(),
        received_at: hook.received_at,
        body: Some(hook.body.clone()),
        status: if hook.unparseable {
            WebhookStatus::Unparseable
        } else {
            WebhookStatus::Received
        },
        processed_at: None,
        failure: None,
    }
}

pub(super) async fn insert_then_get_round_trips(cx: Cx) -> CheckResult {
    let s = &*cx.store;
    let mut hook = webhook("acct", "k1", 0);
    hook.received_at = t_us(0, 654_321);
    // Raw bytes are stored as bytes: invalid UTF-8 and NUL must survive.
    hook.body = vec![0x7b, 0x00, 0xff, 0xfe, b'"', b'\\', 0x7d];
    let inserted = s.insert_webhook(&hook).await.ctx("insert_webhook")?;
    ensure!(
        inserted.is_new(),
        "a new delivery must be Inserted, got {inserted:?}"
    );
    let got = s.get_webhook(inserted.id()).await.ctx("get_webhook")?;
    ensure_eq!(
        got,
        Some(stored_as(&hook, inserted)),
        "stored delivery (raw bytes kept exactly)"
    );
    let missing = s
        .get_webhook(UNKNOWN_WEBHOOK)
        .await
        .ctx("get_webhook unknown")?;
    ensure_eq!(missing, None, "get_webhook of an unknown id");

    let second = s
        .insert_webhook(&webhook("acct", "k2", 1))
        .await
        .ctx("insert second delivery")?;
    ensure!(
        second.is_new() && second.id() != inserted.id(),
        "a second key must be Inserted under a new id, got {second:?} after {inserted:?}"
    );
    Ok(())
}

pub(super) async fn duplicate_changes_nothing(cx: Cx) -> CheckResult {
    let s = &*cx.store;
    let hook = webhook("acct", "same-key", 0);
    let first = s.insert_webhook(&hook).await.ctx("first insert")?;
    s.mark_webhook_processed(first.id(), t(5))
        .await
        .ctx("mark processed")?;
    let before = s.get_webhook(first.id()).await.ctx("get")?;

    let retry = NewWebhook {
        body: b"{\"a different\":\"body\"}".to_vec(),
        event_type: "meeting.ended".into(),
        received_at: t(300),
        unparseable: true,
        ..hook.clone()
    };
    let second = s
        .insert_webhook(&retry)
        .await
        .ctx("insert of a duplicate must not be an error")?;
    ensure_eq!(
        second,
        WebhookInsert::Duplicate(first.id()),
        "outcome of a duplicate insert"
    );
    let after = s.get_webhook(first.id()).await.ctx("get after duplicate")?;
    ensure_eq!(
        after,
        before,
        "a duplicate must change nothing (body, type, status, times)"
    );
    let queue = s
        .list_unprocessed_webhooks(t(1_000), 100)
        .await
        .ctx("list_unprocessed_webhooks")?;
    ensure!(
        queue.is_empty(),
        "a duplicate must not re-open processing, got {queue:?}"
    );

    let other_account = NewWebhook {
        account: AccountKey::from("acct-2"),
        ..hook
    };
    let third = s
        .insert_webhook(&other_account)
        .await
        .ctx("insert of the same key under another account")?;
    ensure!(
        third.is_new() && third.id() != first.id(),
        "the dedupe key is per account: expected a new Inserted id, got {third:?}"
    );
    Ok(())
}

pub(super) async fn status_marks(cx: Cx) -> CheckResult {
    let s = &*cx.store;
    let bad = NewWebhook {
        unparseable: true,
        event_type: "unknown".into(),
        body: b"not json".to_vec(),
        ..webhook("acct", "bad", 0)
    };
    let bad_id = s.insert_webhook(&bad).await.ctx("insert unparseable")?.id();
    let got = s.get_webhook(bad_id).await.ctx("get unparseable")?;
    ensure_eq!(
        got.map(|w| w.status),
        Some(WebhookStatus::Unparseable),
        "status of a delivery stored as unparseable"
    );

    let id = s
        .insert_webhook(&webhook("acct", "good", 1))
        .await
        .ctx("insert")?
        .id();
    s.mark_webhook_failed(id, "first reason", t(10))
        .await
        .ctx("mark_webhook_failed")?;
    s.mark_webhook_failed(id, "second reason", t(11))
        .await
        .ctx("mark_webhook_failed again")?;
    let got = must_get(s, id).await?;
    ensure_eq!(
        (got.status, got.failure.as_deref(), got.processed_at),
        (WebhookStatus::Failed, Some("second reason"), Some(t(11))),
        "(status, failure, processed_at) after marking failed twice"
    );
    s.mark_webhook_processed(id, t(20))
        .await
        .ctx("mark processed")?;
    s.mark_webhook_processed(id, t(21))
        .await
        .ctx("marking processed again must succeed")?;
    let got = must_get(s, id).await?;
    ensure_eq!(
        (got.status, got.failure, got.processed_at.is_some()),
        (WebhookStatus::Processed, None, true),
        "(status, failure, processed_at set) after marking processed"
    );
    s.mark_webhook_unparseable(id, "schema changed", t(30))
        .await
        .ctx("mark_webhook_unparseable")?;
    let got = must_get(s, id).await?;
    ensure_eq!(
        (got.status, got.failure.as_deref()),
        (WebhookStatus::Unparseable, Some("schema changed")),
        "(status, failure) after marking unparseable"
    );
    ensure!(got.body.is_some(), "marking must keep the body");

    for (what, result) in [
        (
            "mark_webhook_processed",
            s.mark_webhook_processed(UNKNOWN_WEBHOOK, t(1)).await,
        ),
        (
            "mark_webhook_failed",
            s.mark_webhook_failed(UNKNOWN_WEBHOOK, "x", t(1)).await,
        ),
        (
            "mark_webhook_unparseable",
            s.mark_webhook_unparseable(UNKNOWN_WEBHOOK, "x", t(1)).await,
        ),
    ] {
        let err = result.expect_failure(what)?;
        ensure!(
            err.is_not_found(),
            "{what} of an unknown id must be NotFound, got {err:?}"
        );
    }
    Ok(())
}

/// The stored delivery, or a failure if it is missing.
async fn must_get(s: &dyn Store, id: WebhookId) -> Result<RawWebhook, Failure> {
    match s.get_webhook(id).await.ctx("get_webhook")? {
        Some(row) => Ok(row),
        None => Err(Failure(format!("stored delivery {id} is missing"))),
    }
}

pub(super) async fn list_unprocessed_oldest_first(cx: Cx) -> CheckResult {
    let s = &*cx.store;
    // Inserted out of order; k-late is received at the boundary and must be left out.
    let mut ids = std::collections::BTreeMap::new();
    for (key, at) in [
        ("k3", 30),
        ("k1", 10),
        ("k-late", 100),
        ("k2", 20),
        ("k2b", 20),
        ("k0", 0),
    ] {
        let id = s
            .insert_webhook(&webhook("acct", key, at))
            .await
            .ctx("insert")?
            .id();
        ids.insert(key, id);
    }
    s.mark_webhook_processed(ids["k0"], t(1))
        .await
        .ctx("mark k0 processed")?;
    s.mark_webhook_failed(ids["k3"], "x", t(1))
        .await
        .ctx("mark k3 failed")?;

    let listed = s
        .list_unprocessed_webhooks(t(100), 10)
        .await
        .ctx("list_unprocessed_webhooks")?;
    let keys: Vec<&str> = listed.iter().map(|w| w.dedupe_key.as_str()).collect();
    // k2 and k2b share received_at: ties go by id, and k2 was inserted first.
    ensure_eq!(
        keys,
        vec!["k1", "k2", "k2b"],
        "unprocessed before t+100, oldest first, ties by id"
    );
    let limited = s
        .list_unprocessed_webhooks(t(100), 2)
        .await
        .ctx("list_unprocessed_webhooks with limit")?;
    ensure_eq!(limited.len(), 2, "the limit must be applied");
    ensure_eq!(
        limited[0].dedupe_key.as_str(),
        "k1",
        "the limit keeps the oldest"
    );
    Ok(())
}

pub(super) async fn purge_drops_bodies_keeps_dedupe(cx: Cx) -> CheckResult {
    let s = &*cx.store;
    let old = s
        .insert_webhook(&webhook("acct", "old", 0))
        .await
        .ctx("insert old")?
        .id();
    let processed = s
        .insert_webhook(&webhook("acct", "old-processed", 5))
        .await
        .ctx("insert")?
        .id();
    s.mark_webhook_processed(processed, t(6))
        .await
        .ctx("mark processed")?;
    let boundary = s
        .insert_webhook(&webhook("acct", "boundary", 10))
        .await
        .ctx("insert boundary")?
        .id();
    let young = s
        .insert_webhook(&webhook("acct", "young", 20))
        .await
        .ctx("insert young")?
        .id();

    let purged = s
        .purge_webhook_bodies(t(10))
        .await
        .ctx("purge_webhook_bodies")?;
    ensure_eq!(
        purged,
        2,
        "bodies purged strictly before the cut-off, whatever the status"
    );
    for (id, has_body) in [
        (old, false),
        (processed, false),
        (boundary, true),
        (young, true),
    ] {
        let row = s.get_webhook(id).await.ctx("get after purge")?;
        ensure!(row.is_some(), "purging must keep the row of {id}");
        ensure_eq!(
            row.map(|w| w.body.is_some()),
            Some(has_body),
            "body present for delivery {id}"
        );
    }
    let row = s.get_webhook(processed).await.ctx("get")?;
    ensure_eq!(
        row.map(|w| w.status),
        Some(WebhookStatus::Processed),
        "status kept by the purge"
    );
    let again = s.purge_webhook_bodies(t(10)).await.ctx("purge again")?;
    ensure_eq!(again, 0, "a second purge with the same cut-off");
    let retry = s
        .insert_webhook(&webhook("acct", "old", 0))
        .await
        .ctx("late retry of a purged delivery")?;
    ensure_eq!(
        retry,
        WebhookInsert::Duplicate(old),
        "a purged delivery must still be recognized as a duplicate"
    );
    Ok(())
}

/// A store may purge in batches (attend-diesel: 500 bodies per transaction); one call still
/// drops every body older than the cut-off and counts each once.
pub(super) async fn purge_takes_every_old_body_however_many(cx: Cx) -> CheckResult {
    const OLD: i64 = 1_234;
    let s = &*cx.store;
    for i in 0..OLD {
        s.insert_webhook(&webhook("acct", &format!("old-{i}"), i % 100))
            .await
            .ctx("insert old")?;
    }
    let young = s
        .insert_webhook(&webhook("acct", "young", 100))
        .await
        .ctx("insert young")?
        .id();
    let purged = s.purge_webhook_bodies(t(100)).await.ctx("purge")?;
    ensure_eq!(purged, OLD as u64, "every old body, each counted once");
    let again = s.purge_webhook_bodies(t(100)).await.ctx("purge again")?;
    ensure_eq!(again, 0, "nothing left to purge");
    let row = s.get_webhook(young).await.ctx("get young")?;
    ensure_eq!(
        row.map(|w| w.body.is_some()),
        Some(true),
        "a delivery at the cut-off keeps its body"
    );
    Ok(())
}

pub(super) async fn concurrent_duplicates_store_one(cx: Cx) -> CheckResult {
    let store: Arc<dyn Store> = Arc::clone(&cx.store);
    let results = race(cx.caps.concurrency, |i| {
        let store = Arc::clone(&store);
        async move {
            let mut hook = webhook("acct", "raced", 0);
            hook.received_at = t(i as i64);
            store.insert_webhook(&hook).await
        }
    })
    .await?;
    let mut outcomes = Vec::new();
    for r in results {
        outcomes.push(r.ctx("a racing insert_webhook")?);
    }
    let inserted = outcomes.iter().filter(|o| o.is_new()).count();
    ensure_eq!(
        inserted,
        1,
        "racing inserts of one key that got Inserted ({outcomes:?})"
    );
    let id = outcomes[0].id();
    ensure!(
        outcomes.iter().all(|o| o.id() == id),
        "all racing inserts must name the same id, got {outcomes:?}"
    );
    let listed = cx
        .store
        .list_unprocessed_webhooks(t(1_000_000), 1_000)
        .await
        .ctx("list_unprocessed_webhooks")?;
    ensure_eq!(listed.len(), 1, "stored rows after racing inserts");
    Ok(())
}

/// The job the `with_job` checks queue: its payload and dedupe key name the delivery.
fn process_job(template: NewJob, id: WebhookId) -> NewJob {
    NewJob {
        payload: json!({ "webhook": id.0, "nested": { "kept": true } }),
        ..template
    }
    .with_dedupe_key(format!("webhook:{id}"))
}

/// A template for [`process_job`], runnable at `t(run_at)`, 3 attempts.
fn process_template(run_at: i64) -> WebhookJob {
    WebhookJob::new(
        NewJob::new("process_webhook", serde_json::Value::Null, t(run_at)).with_max_attempts(3),
        process_job,
    )
}

/// Every job currently claimable at `t(at)` (leased to a checker), by id.
async fn claim_all(s: &dyn Store, at: i64) -> Result<Vec<Job>, Failure> {
    let mut jobs = s
        .claim_jobs("conformance-checker", 1_000, LEASE, t(at))
        .await
        .ctx("claim_jobs")?;
    jobs.sort_by_key(|j| j.id);
    Ok(jobs)
}

pub(super) async fn with_job_stores_delivery_and_job(cx: Cx) -> CheckResult {
    let s = &*cx.store;
    let mut hook = webhook("acct", "with-job", 0);
    hook.received_at = t_us(0, 250_001);
    let inserted = s
        .insert_webhook_with_job(&hook, &process_template(5), t(1))
        .await
        .ctx("insert_webhook_with_job")?;
    let WebhookInsert::Inserted(id) = inserted else {
        return Err(Failure(format!(
            "a new delivery must be Inserted, got {inserted:?}"
        )));
    };
    let got = s.get_webhook(id).await.ctx("get_webhook")?;
    ensure_eq!(got, Some(stored_as(&hook, inserted)), "the stored delivery");
    ensure_eq!(
        s.job_counts(None).await.ctx("job_counts")?,
        JobCounts {
            ready: 1,
            ..JobCounts::default()
        },
        "jobs after storing one new delivery with its job"
    );
    ensure!(
        claim_all(s, 4).await?.is_empty(),
        "the job must keep the template's run_at (t(5)), but it was claimable at t(4)"
    );
    let jobs = claim_all(s, 5).await?;
    ensure_eq!(jobs.len(), 1, "jobs claimable at the template's run_at");
    let job = &jobs[0];
    ensure_eq!(
        (
            job.kind.as_str(),
            &job.payload,
            job.dedupe_key.as_deref(),
            job.max_attempts,
            job.run_at,
            job.created_at,
        ),
        (
            "process_webhook",
            &json!({ "webhook": id.0, "nested": { "kept": true } }),
            Some(format!("webhook:{id}").as_str()),
            3,
            t(5),
            t(1),
        ),
        "the queued job (kind, payload naming the delivery, dedupe key, max_attempts, run_at, \
         created_at = now)"
    );

    // A second delivery gets its own job, naming its own id.
    let second = s
        .insert_webhook_with_job(
            &webhook("acct", "with-job-2", 1),
            &process_template(5),
            t(2),
        )
        .await
        .ctx("insert_webhook_with_job of a second delivery")?;
    ensure!(
        second.is_new() && second.id() != id,
        "a second key must be Inserted under a new id, got {second:?} after {inserted:?}"
    );
    let jobs = claim_all(s, 10).await?;
    ensure_eq!(
        jobs.iter()
            .map(|j| j.payload["webhook"].clone())
            .collect::<Vec<_>>(),
        vec![json!(second.id().0)],
        "the second delivery's job (the first one is already claimed)"
    );
    Ok(())
}

pub(super) async fn with_job_duplicate_adds_no_job(cx: Cx) -> CheckResult {
    let s = &*cx.store;
    let hook = webhook("acct", "dup-with-job", 0);
    let first = s
        .insert_webhook_with_job(&hook, &process_template(0), t(0))
        .await
        .ctx("first insert_webhook_with_job")?;
    ensure!(
        first.is_new(),
        "first insert must be Inserted, got {first:?}"
    );
    let before = s.get_webhook(first.id()).await.ctx("get")?;

    let retry = NewWebhook {
        body: b"{\"a different\":\"body\"}".to_vec(),
        received_at: t(30),
        ..hook.clone()
    };
    let second = s
        .insert_webhook_with_job(&retry, &process_template(30), t(30))
        .await
        .ctx("insert_webhook_with_job of a duplicate must not be an error")?;
    ensure_eq!(
        second,
        WebhookInsert::Duplicate(first.id()),
        "outcome of a duplicate insert_webhook_with_job"
    );
    ensure_eq!(
        s.get_webhook(first.id()).await.ctx("get after duplicate")?,
        before,
        "a duplicate must change nothing"
    );
    ensure_eq!(
        s.job_counts(None).await.ctx("job_counts")?,
        JobCounts {
            ready: 1,
            ..JobCounts::default()
        },
        "jobs after a delivery and its duplicate"
    );

    // Even once the first job is finished (so its dedupe key no longer blocks), a duplicate
    // queues nothing: it is the delivery that is a duplicate, not only the job.
    let jobs = claim_all(s, 60).await?;
    ensure_eq!(jobs.len(), 1, "claimable jobs");
    s.complete_job(jobs[0].id, "conformance-checker", t(61))
        .await
        .ctx("complete_job")?;
    let third = s
        .insert_webhook_with_job(&retry, &process_template(70), t(70))
        .await
        .ctx("insert_webhook_with_job of a late duplicate")?;
    ensure_eq!(
        third,
        WebhookInsert::Duplicate(first.id()),
        "outcome of a late duplicate"
    );
    ensure_eq!(
        s.job_counts(None).await.ctx("job_counts")?,
        JobCounts {
            done: 1,
            ..JobCounts::default()
        },
        "jobs after a duplicate of a delivery whose job is done"
    );

    // A delivery stored without a job: a later insert_webhook_with_job of it is a duplicate
    // too, and queues nothing (the sweep's business).
    let plain = s
        .insert_webhook(&webhook("acct", "plain", 80))
        .await
        .ctx("insert_webhook")?;
    let again = s
        .insert_webhook_with_job(&webhook("acct", "plain", 81), &process_template(81), t(81))
        .await
        .ctx("insert_webhook_with_job of a delivery stored by insert_webhook")?;
    ensure_eq!(
        again,
        WebhookInsert::Duplicate(plain.id()),
        "outcome for a delivery stored by insert_webhook"
    );
    ensure_eq!(
        s.job_counts(None).await.ctx("job_counts")?.ready,
        0,
        "ready jobs after a duplicate of a delivery stored without a job"
    );
    Ok(())
}

pub(super) async fn with_job_unparseable_gets_no_job(cx: Cx) -> CheckResult {
    let s = &*cx.store;
    let bad = NewWebhook {
        unparseable: true,
        event_type: "unknown".into(),
        body: b"not json".to_vec(),
        ..webhook("acct", "bad-with-job", 0)
    };
    let inserted = s
        .insert_webhook_with_job(&bad, &process_template(0), t(0))
        .await
        .ctx("insert_webhook_with_job of an unparseable delivery")?;
    ensure!(
        inserted.is_new(),
        "a new unparseable delivery must be Inserted, got {inserted:?}"
    );
    ensure_eq!(
        s.get_webhook(inserted.id()).await.ctx("get")?,
        Some(stored_as(&bad, inserted)),
        "the stored unparseable delivery"
    );
    ensure_eq!(
        s.job_counts(None).await.ctx("job_counts")?,
        JobCounts::default(),
        "jobs after storing an unparseable delivery"
    );
    Ok(())
}

/// A template whose dedupe key does not depend on the delivery: every delivery's job
/// competes for one key.
fn shared_key_template(run_at: i64) -> WebhookJob {
    fn bind(template: NewJob, id: WebhookId) -> NewJob {
        NewJob {
            payload: json!({ "webhook": id.0 }),
            ..template
        }
    }
    WebhookJob::new(
        NewJob::new("shared", serde_json::Value::Null, t(run_at)).with_dedupe_key("shared-key"),
        bind,
    )
}

pub(super) async fn with_job_obeys_the_job_dedupe_key(cx: Cx) -> CheckResult {
    let s = &*cx.store;
    let first = s
        .insert_webhook_with_job(&webhook("acct", "a", 0), &shared_key_template(0), t(0))
        .await
        .ctx("insert a")?;
    let second = s
        .insert_webhook_with_job(&webhook("acct", "b", 1), &shared_key_template(1), t(1))
        .await
        .ctx("insert b")?;
    ensure!(
        first.is_new() && second.is_new(),
        "distinct deliveries must be Inserted, got {first:?}, {second:?}"
    );
    ensure_eq!(
        s.job_counts(None).await.ctx("job_counts")?,
        JobCounts {
            ready: 1,
            ..JobCounts::default()
        },
        "a Ready job holding the dedupe key: the second delivery is stored, its job is not"
    );
    let jobs = claim_all(s, 10).await?;
    ensure_eq!(
        jobs.iter().map(|j| j.payload.clone()).collect::<Vec<_>>(),
        vec![json!({ "webhook": first.id().0 })],
        "the one job (the first delivery's)"
    );
    let third = s
        .insert_webhook_with_job(&webhook("acct", "c", 11), &shared_key_template(11), t(11))
        .await
        .ctx("insert c")?;
    ensure!(third.is_new(), "c must be Inserted, got {third:?}");
    ensure_eq!(
        s.job_counts(None).await.ctx("job_counts")?,
        JobCounts {
            running: 1,
            ..JobCounts::default()
        },
        "a Running job holding the dedupe key: no new job"
    );
    s.complete_job(jobs[0].id, "conformance-checker", t(12))
        .await
        .ctx("complete_job")?;
    let fourth = s
        .insert_webhook_with_job(&webhook("acct", "d", 13), &shared_key_template(13), t(13))
        .await
        .ctx("insert d")?;
    ensure!(fourth.is_new(), "d must be Inserted, got {fourth:?}");
    ensure_eq!(
        s.job_counts(None).await.ctx("job_counts")?,
        JobCounts {
            ready: 1,
            done: 1,
            ..JobCounts::default()
        },
        "a finished job does not block its key: d gets a job"
    );
    let jobs = claim_all(s, 20).await?;
    ensure_eq!(
        jobs.iter().map(|j| j.payload.clone()).collect::<Vec<_>>(),
        vec![json!({ "webhook": fourth.id().0 })],
        "the new job names d"
    );
    Ok(())
}

pub(super) async fn concurrent_with_job_stores_one_with_one_job(cx: Cx) -> CheckResult {
    let store: Arc<dyn Store> = Arc::clone(&cx.store);
    let results = race(cx.caps.concurrency, |i| {
        let store = Arc::clone(&store);
        async move {
            let mut hook = webhook("acct", "raced-with-job", 0);
            hook.received_at = t(i as i64);
            store
                .insert_webhook_with_job(&hook, &process_template(0), t(i as i64))
                .await
        }
    })
    .await?;
    let mut outcomes = Vec::new();
    for r in results {
        outcomes.push(r.ctx("a racing insert_webhook_with_job")?);
    }
    ensure_eq!(
        outcomes.iter().filter(|o| o.is_new()).count(),
        1,
        "racing inserts of one key that got Inserted ({outcomes:?})"
    );
    let id = outcomes[0].id();
    ensure!(
        outcomes.iter().all(|o| o.id() == id),
        "all racing inserts must name the same id, got {outcomes:?}"
    );
    let listed = cx
        .store
        .list_unprocessed_webhooks(t(1_000_000), 1_000)
        .await
        .ctx("list_unprocessed_webhooks")?;
    ensure_eq!(listed.len(), 1, "stored rows after racing inserts");
    let jobs = claim_all(&*cx.store, 0).await?;
    ensure_eq!(
        jobs.iter()
            .map(|j| j.payload["webhook"].clone())
            .collect::<Vec<_>>(),
        vec![json!(id.0)],
        "jobs after racing inserts of one key: exactly one, naming the stored delivery"
    );
    ensure_eq!(
        cx.store.job_counts(None).await.ctx("job_counts")?,
        JobCounts {
            running: 1,
            ..JobCounts::default()
        },
        "all jobs after racing inserts of one key"
    );
    Ok(())
}

pub(super) async fn concurrent_with_job_gives_each_delivery_its_job(cx: Cx) -> CheckResult {
    let store: Arc<dyn Store> = Arc::clone(&cx.store);
    let results = race(cx.caps.concurrency, |i| {
        let store = Arc::clone(&store);
        async move {
            store
                .insert_webhook_with_job(
                    &webhook("acct", &format!("many-{i}"), i as i64),
                    &process_template(0),
                    t(0),
                )
                .await
        }
    })
    .await?;
    let mut ids = BTreeSet::new();
    for r in results {
        let outcome = r.ctx("a racing insert_webhook_with_job")?;
        ensure!(
            outcome.is_new(),
            "distinct keys must each be Inserted, got {outcome:?}"
        );
        ids.insert(outcome.id().0);
    }
    ensure_eq!(
        ids.len(),
        cx.caps.concurrency,
        "distinct ids of racing distinct deliveries"
    );
    let jobs = claim_all(&*cx.store, 0).await?;
    let named: Vec<i64> = jobs
        .iter()
        .filter_map(|j| j.payload["webhook"].as_i64())
        .collect();
    ensure_eq!(
        named.len(),
        jobs.len(),
        "every job's payload must name a delivery ({jobs:?})"
    );
    ensure_eq!(
        named.iter().copied().collect::<BTreeSet<_>>(),
        ids,
        "the deliveries the jobs name"
    );
    ensure_eq!(jobs.len(), ids.len(), "one job per delivery, no more");
    Ok(())
}

/// A group form of [`process_job`]: one job naming every delivery of `ids`.
fn process_group(template: NewJob, ids: &[WebhookId]) -> NewJob {
    let ids: Vec<i64> = ids.iter().map(|id| id.0).collect();
    NewJob {
        payload: json!({ "webhooks": ids }),
        ..template
    }
}

pub(super) async fn concurrent_grouped_jobs_name_each_delivery_once(cx: Cx) -> CheckResult {
    let store: Arc<dyn Store> = Arc::clone(&cx.store);
    let unparseable = |i: usize| i % 7 == 3;
    let results = race(cx.caps.concurrency, |i| {
        let store = Arc::clone(&store);
        async move {
            let mut hook = webhook("acct", &format!("grouped-{i}"), i as i64);
            hook.unparseable = unparseable(i);
            // Templates differ in `run_at` only, so they may share a group job.
            let job = process_template(i as i64 % 3).with_group(process_group);
            store.insert_webhook_with_job(&hook, &job, t(0)).await
        }
    })
    .await?;
    // Each new parseable delivery, with the `run_at` of its template.
    let mut run_at = std::collections::BTreeMap::new();
    for (i, r) in results.into_iter().enumerate() {
        let outcome = r.ctx("a racing insert_webhook_with_job")?;
        ensure!(
            outcome.is_new(),
            "distinct keys must each be Inserted, got {outcome:?}"
        );
        if !unparseable(i) {
            run_at.insert(outcome.id().0, t(i as i64 % 3));
        }
    }
    let ids: BTreeSet<i64> = run_at.keys().copied().collect();
    let jobs = claim_all(&*cx.store, 2).await?;
    let mut named = Vec::new();
    for job in &jobs {
        ensure_eq!(job.kind.as_str(), "process_webhook", "a queued job's kind");
        let these: Vec<i64> = match (job.payload.get("webhook"), job.payload.get("webhooks")) {
            (Some(one), None) => one.as_i64().into_iter().collect(),
            (None, Some(many)) => {
                let many: Vec<i64> = many
                    .as_array()
                    .map(Vec::as_slice)
                    .unwrap_or_default()
                    .iter()
                    .filter_map(serde_json::Value::as_i64)
                    .collect();
                ensure!(
                    many.len() >= 2,
                    "a group job must name two or more deliveries: {job:?}"
                );
                many
            }
            _ => return Err(Failure(format!("a job naming no delivery: {job:?}"))),
        };
        let earliest = these.iter().filter_map(|id| run_at.get(id)).min();
        ensure!(
            earliest == Some(&job.run_at),
            "a job runs at the earliest run_at of the deliveries it names ({earliest:?}): {job:?}"
        );
        named.extend(these);
    }
    ensure_eq!(
        named.len(),
        ids.len(),
        "deliveries named by the jobs, counting repeats (each new parseable one exactly once)"
    );
    ensure_eq!(
        named.into_iter().collect::<BTreeSet<_>>(),
        ids,
        "the deliveries the jobs name"
    );
    Ok(())
}

pub(super) async fn get_and_mark_many(cx: Cx) -> CheckResult {
    let s = &*cx.store;
    ensure_eq!(
        s.get_webhooks(&[]).await.ctx("get_webhooks of nothing")?,
        Vec::<RawWebhook>::new(),
        "get_webhooks of no ids"
    );
    ensure_eq!(
        s.mark_webhooks_processed(&[], t(1))
            .await
            .ctx("mark_webhooks_processed of nothing")?,
        0,
        "deliveries marked for no ids"
    );
    let hooks: Vec<NewWebhook> = (0..4)
        .map(|n| webhook("acct", &format!("many-{n}"), n))
        .collect();
    let mut stored = Vec::new();
    for hook in &hooks {
        let insert = s.insert_webhook(hook).await.ctx("insert_webhook")?;
        stored.push(stored_as(hook, insert));
    }
    s.mark_webhook_failed(stored[3].id, "gave up", t(5))
        .await
        .ctx("mark_webhook_failed")?;
    stored[3].status = WebhookStatus::Failed;
    stored[3].failure = Some("gave up".into());
    stored[3].processed_at = Some(t(5));

    let mut got = s
        .get_webhooks(&[stored[2].id, UNKNOWN_WEBHOOK, stored[0].id, stored[3].id])
        .await
        .ctx("get_webhooks")?;
    got.sort_by_key(|w| w.id);
    ensure_eq!(
        got,
        vec![stored[0].clone(), stored[2].clone(), stored[3].clone()],
        "get_webhooks: each stored delivery asked for, whole; the unknown id left out"
    );

    let marked = s
        .mark_webhooks_processed(&[stored[0].id, UNKNOWN_WEBHOOK, stored[3].id], t(20))
        .await
        .ctx("mark_webhooks_processed")?;
    ensure_eq!(marked, 2, "deliveries marked (the unknown id skipped)");
    let mut after = Vec::new();
    for w in &stored {
        let got = must_get(s, w.id).await?;
        after.push((got.status, got.processed_at, got.failure));
    }
    ensure_eq!(
        after,
        vec![
            (WebhookStatus::Processed, Some(t(20)), None),
            (WebhookStatus::Received, None, None),
            (WebhookStatus::Received, None, None),
            (WebhookStatus::Processed, Some(t(20)), None),
        ],
        "(status, processed_at, failure) after marking two of four (one had failed)"
    );
    Ok(())
}
