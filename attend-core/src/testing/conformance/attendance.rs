//! Checks of [`AttendanceStore`](crate::store::AttendanceStore).

use std::sync::Arc;

use crate::model::{InstanceId, InstanceState, MeetingId, ParticipantAction, UserId};
use crate::store::{JoinClick, ManualLink, Store, StoredEvent, WebhookId};

use super::fixtures::{event, hints, instance_update, linked, report_row, t, t_us};
use super::{CheckResult, Ctx, Cx, ExpectErr, ensure, ensure_eq, race};

use ParticipantAction::{Joined, Left};

pub(super) async fn instance_upsert_is_order_independent(cx: Cx) -> CheckResult {
    let s = &*cx.store;
    let m = linked(s, "m1", 1).await?;
    // (started, ended) observations: a start, a duplicate start with an earlier time, an end,
    // and an earlier end (e.g. from a report).
    let observations = [
        (Some(10), None),
        (Some(5), None),
        (None, Some(3_600)),
        (None, Some(3_500)),
    ];
    let orders: [[usize; 4]; 5] = [
        [0, 1, 2, 3],
        [2, 0, 3, 1],
        [3, 2, 1, 0],
        [2, 3, 0, 1],
        [1, 2, 0, 3],
    ];
    for (n, order) in orders.iter().enumerate() {
        let uuid = format!("uuid-order-{n}");
        let mut last = None;
        for (step, &i) in order.iter().enumerate() {
            let (started, ended) = observations[i];
            let update = instance_update(&m, &uuid, started, ended, 100 + step as i64);
            last = Some(s.upsert_instance(&update).await.ctx("upsert_instance")?);
        }
        let got = s
            .get_instance(&InstanceId::from(uuid.as_str()))
            .await
            .ctx("get_instance")?;
        ensure_eq!(
            got,
            last,
            "get_instance must equal what the last upsert returned"
        );
        let row = got.ok_or_else(|| super::Failure(format!("instance {uuid} missing")))?;
        ensure_eq!(
            (row.started_at, row.ended_at, row.state, row.reconciled_at),
            (Some(t(5)), Some(t(3_600)), InstanceState::Provisional, None),
            "(started_at, ended_at, state, reconciled_at) after observations in order {order:?}"
        );
        ensure_eq!(row.meeting, m, "instance meeting");
        ensure_eq!(
            row.updated_at,
            t(103),
            "updated_at is the last update's `at`"
        );
    }

    let live = s
        .upsert_instance(&instance_update(&m, "uuid-live", Some(0), None, 1))
        .await
        .ctx("upsert a started instance")?;
    ensure_eq!(
        (live.state, live.ended_at),
        (InstanceState::Live, None),
        "an instance without an end is Live"
    );
    Ok(())
}

pub(super) async fn instances_listed_by_start(cx: Cx) -> CheckResult {
    let s = &*cx.store;
    let m = linked(s, "m1", 1).await?;
    let other = linked(s, "m2", 2).await?;
    for (uuid, started, ended) in [
        ("later", Some(100), None),
        ("no-start", None, Some(50)),
        ("earlier", Some(50), None),
    ] {
        s.upsert_instance(&instance_update(&m, uuid, started, ended, 1))
            .await
            .ctx("upsert_instance")?;
    }
    s.upsert_instance(&instance_update(&other, "elsewhere", Some(0), None, 1))
        .await
        .ctx("upsert_instance other meeting")?;
    let listed = s.list_instances(&m).await.ctx("list_instances")?;
    let uuids: Vec<&str> = listed.iter().map(|i| i.uuid.as_str()).collect();
    ensure_eq!(
        uuids,
        vec!["earlier", "later", "no-start"],
        "instances by start, without a start last"
    );
    let none = s
        .list_instances(&MeetingId::from("ghost"))
        .await
        .ctx("list_instances unknown")?;
    ensure!(
        none.is_empty(),
        "an unknown meeting lists no instances, got {none:?}"
    );
    Ok(())
}

pub(super) async fn finalize_is_sticky(cx: Cx) -> CheckResult {
    let s = &*cx.store;
    let m = linked(s, "m1", 1).await?;
    let uuid = InstanceId::from("u1");
    s.upsert_instance(&instance_update(&m, "u1", Some(0), Some(3_600), 1))
        .await
        .ctx("upsert")?;
    let fin = s
        .finalize_instance(&uuid, t_us(5_000, 7))
        .await
        .ctx("finalize_instance")?;
    ensure_eq!(
        (fin.state, fin.reconciled_at, fin.started_at, fin.ended_at),
        (
            InstanceState::Final,
            Some(t_us(5_000, 7)),
            Some(t(0)),
            Some(t(3_600))
        ),
        "(state, reconciled_at, started_at, ended_at) after finalize"
    );
    let again = s
        .finalize_instance(&uuid, t(4_000))
        .await
        .ctx("finalize again, earlier")?;
    ensure_eq!(
        again.reconciled_at,
        Some(t_us(5_000, 7)),
        "reconciled_at keeps the later time"
    );
    let late = s
        .upsert_instance(&instance_update(&m, "u1", Some(-10), None, 6_000))
        .await
        .ctx("upsert after finalize")?;
    ensure_eq!(
        (late.state, late.started_at, late.reconciled_at),
        (InstanceState::Final, Some(t(-10)), Some(t_us(5_000, 7))),
        "(state, started_at, reconciled_at) after a late observation: Final never goes back"
    );
    let got = s.get_instance(&uuid).await.ctx("get_instance")?;
    ensure_eq!(got, Some(late), "get_instance after the late upsert");

    let err = s
        .finalize_instance(&InstanceId::from("ghost"), t(1))
        .await
        .expect_failure("finalize_instance of an unknown instance")?;
    ensure!(
        err.is_not_found(),
        "finalizing an unknown instance must be NotFound, got {err:?}"
    );
    let missing = s
        .get_instance(&InstanceId::from("ghost"))
        .await
        .ctx("get unknown")?;
    ensure_eq!(missing, None, "get_instance of an unknown uuid");
    Ok(())
}

pub(super) async fn instance_rules(cx: Cx) -> CheckResult {
    let s = &*cx.store;
    let m1 = linked(s, "m1", 1).await?;
    let m2 = linked(s, "m2", 2).await?;
    let row = s
        .upsert_instance(&instance_update(&m1, "shared", Some(0), None, 1))
        .await
        .ctx("upsert")?;
    let err = s
        .upsert_instance(&instance_update(&m2, "shared", None, Some(10), 2))
        .await
        .expect_failure("upsert of an instance uuid under another meeting")?;
    ensure!(
        err.is_conflict(),
        "a uuid of another meeting must be Conflict, got {err:?}"
    );
    let got = s
        .get_instance(&InstanceId::from("shared"))
        .await
        .ctx("get")?;
    ensure_eq!(got, Some(row), "a conflicting upsert must change nothing");
    let err = s
        .upsert_instance(&instance_update(
            &MeetingId::from("ghost"),
            "u9",
            Some(0),
            None,
            1,
        ))
        .await
        .expect_failure("upsert for an unknown meeting")?;
    ensure!(
        err.is_not_found(),
        "an unknown meeting must be NotFound, got {err:?}"
    );
    Ok(())
}

pub(super) async fn concurrent_instance_upserts_keep_both_times(cx: Cx) -> CheckResult {
    let m = linked(&*cx.store, "m1", 1).await?;
    let tasks = cx.caps.concurrency;
    let store: Arc<dyn Store> = Arc::clone(&cx.store);
    let results = race(tasks, |i| {
        let store = Arc::clone(&store);
        let m = m.clone();
        async move {
            let i = i as i64;
            let (started, ended) = if i % 2 == 0 {
                (Some(100 + i), None)
            } else {
                (None, Some(5_000 + i))
            };
            store
                .upsert_instance(&instance_update(&m, "raced", started, ended, i))
                .await
        }
    })
    .await?;
    for r in results {
        r.ctx("a racing upsert_instance")?;
    }
    let row = cx
        .store
        .get_instance(&InstanceId::from("raced"))
        .await
        .ctx("get_instance")?;
    let last_odd = if tasks.is_multiple_of(2) {
        tasks - 1
    } else {
        tasks - 2
    } as i64;
    ensure_eq!(
        row.map(|r| (r.started_at, r.ended_at, r.state)),
        Some((
            Some(t(100)),
            Some(t(5_000 + last_odd)),
            InstanceState::Provisional
        )),
        "(started_at, ended_at, state) after {tasks} racing upserts: no observation may be lost"
    );
    Ok(())
}

fn sorted(mut events: Vec<StoredEvent>) -> Vec<StoredEvent> {
    events.sort_by(|a, b| {
        (a.event.at, &a.event.connection, a.event.action).cmp(&(
            b.event.at,
            &b.event.connection,
            b.event.action,
        ))
    });
    events
}

pub(super) async fn events_are_deduplicated(cx: Cx) -> CheckResult {
    let s = &*cx.store;
    let m = linked(s, "m1", 1).await?;
    let ana = hints(Some("reg-ana"), Some("ana@example.org"), "Ana");
    let join = StoredEvent {
        source: Some(WebhookId(7)),
        ..event(&m, "i1", "c1", Joined, t_us(10, 500), ana.clone())
    };
    let leave = event(&m, "i1", "c1", Left, t(50), ana.clone());
    let rejoin = event(&m, "i1", "c1", Joined, t(60), ana.clone());
    let same_time_other_action = event(&m, "i1", "c1", Left, t_us(10, 500), ana.clone());
    let dup_of_join = StoredEvent {
        source: Some(WebhookId(8)),
        ..event(
            &m,
            "i1",
            "c1",
            Joined,
            t_us(10, 500),
            hints(None, Some("changed@example.org"), "Changed"),
        )
    };
    let other_instance = event(&m, "i2", "c1", Joined, t_us(10, 500), ana.clone());

    let n = s
        .insert_participant_events(&[join.clone(), leave.clone(), dup_of_join.clone()])
        .await
        .ctx("insert_participant_events")?;
    ensure_eq!(n, 2, "newly stored events of a batch holding one duplicate");
    let n = s
        .insert_participant_events(&[leave.clone(), join.clone(), dup_of_join])
        .await
        .ctx("insert the same events again")?;
    ensure_eq!(n, 0, "newly stored events when all are duplicates");
    let n = s
        .insert_participant_events(&[
            rejoin.clone(),
            same_time_other_action.clone(),
            other_instance.clone(),
        ])
        .await
        .ctx("insert distinct events")?;
    ensure_eq!(
        n,
        3,
        "events differing in time, action or instance are not duplicates"
    );
    let n = s
        .insert_participant_events(&[])
        .await
        .ctx("insert no events")?;
    ensure_eq!(n, 0, "inserting an empty batch");

    let listed = s
        .list_participant_events(&InstanceId::from("i1"))
        .await
        .ctx("list_participant_events")?;
    let times: Vec<_> = listed.iter().map(|e| e.event.at).collect();
    ensure!(
        times.windows(2).all(|w| w[0] <= w[1]),
        "events must be listed by time, got {times:?}"
    );
    ensure_eq!(
        sorted(listed),
        sorted(vec![join, same_time_other_action, leave, rejoin]),
        "events of i1 (the first copy of a duplicate wins, hints and source included)"
    );
    let listed = s
        .list_participant_events(&InstanceId::from("i2"))
        .await
        .ctx("list i2")?;
    ensure_eq!(listed, vec![other_instance], "events of i2");
    let none = s
        .list_participant_events(&InstanceId::from("ghost"))
        .await
        .ctx("list unknown instance")?;
    ensure!(
        none.is_empty(),
        "an unknown instance lists nothing, got {none:?}"
    );
    Ok(())
}

pub(super) async fn event_insert_is_atomic(cx: Cx) -> CheckResult {
    let s = &*cx.store;
    let m = linked(s, "m1", 1).await?;
    let good = event(&m, "i1", "c1", Joined, t(10), hints(None, None, "A"));
    let orphan = event(
        &MeetingId::from("ghost"),
        "i1",
        "c2",
        Joined,
        t(11),
        hints(None, None, "B"),
    );
    let err = s
        .insert_participant_events(&[good.clone(), orphan])
        .await
        .expect_failure("insert of a batch holding an event of an unknown meeting")?;
    ensure!(
        err.is_not_found(),
        "an event of an unknown meeting must be NotFound, got {err:?}"
    );
    let listed = s
        .list_participant_events(&InstanceId::from("i1"))
        .await
        .ctx("list after failed batch")?;
    ensure!(
        listed.is_empty(),
        "a failed batch must store nothing, got {listed:?}"
    );
    let n = s
        .insert_participant_events(&[good])
        .await
        .ctx("insert good alone")?;
    ensure_eq!(n, 1, "the good event alone is then new");
    Ok(())
}

pub(super) async fn concurrent_event_inserts_store_each_once(cx: Cx) -> CheckResult {
    let m = linked(&*cx.store, "m1", 1).await?;
    let batch: Vec<StoredEvent> = (0..5)
        .map(|i| {
            event(
                &m,
                "i1",
                &format!("c{i}"),
                Joined,
                t(i),
                hints(None, None, "P"),
            )
        })
        .collect();
    let batch = Arc::new(batch);
    let store: Arc<dyn Store> = Arc::clone(&cx.store);
    let results = race(cx.caps.concurrency, |_| {
        let store = Arc::clone(&store);
        let batch = Arc::clone(&batch);
        async move { store.insert_participant_events(&batch).await }
    })
    .await?;
    let mut total = 0;
    for r in results {
        total += r.ctx("a racing insert_participant_events")?;
    }
    ensure_eq!(
        total,
        5,
        "sum of newly stored counts over racing inserts of one batch"
    );
    let listed = cx
        .store
        .list_participant_events(&InstanceId::from("i1"))
        .await
        .ctx("list")?;
    ensure_eq!(listed.len(), 5, "stored events after racing inserts");
    Ok(())
}

pub(super) async fn report_rows_are_replaced_whole(cx: Cx) -> CheckResult {
    let s = &*cx.store;
    let m = linked(s, "m1", 1).await?;
    let i1 = InstanceId::from("i1");
    let i2 = InstanceId::from("i2");
    let a = vec![
        report_row(hints(Some("reg-b"), Some("b@example.org"), "B"), 300, 900),
        report_row(hints(Some("reg-a"), Some("a@example.org"), "A"), 0, 600),
        report_row(hints(None, None, "Guest"), 100, 200),
    ];
    let by_join = |mut rows: Vec<crate::store::ReportRow>| {
        rows.sort_by_key(|r| r.join);
        rows
    };
    s.replace_report_rows(&m, &i1, &a)
        .await
        .ctx("replace_report_rows")?;
    let other = vec![report_row(hints(None, None, "Other"), 5, 6)];
    s.replace_report_rows(&m, &i2, &other)
        .await
        .ctx("replace i2")?;
    ensure_eq!(
        s.list_report_rows(&i1).await.ctx("list")?,
        by_join(a.clone()),
        "rows of i1, by join time"
    );
    s.replace_report_rows(&m, &i1, &a)
        .await
        .ctx("replace with the same report")?;
    ensure_eq!(
        s.list_report_rows(&i1).await.ctx("list")?,
        by_join(a),
        "a re-fetch of the same report must not duplicate rows"
    );
    let b = vec![report_row(hints(Some("reg-a"), None, "A"), 0, 1_200)];
    s.replace_report_rows(&m, &i1, &b)
        .await
        .ctx("replace with another report")?;
    ensure_eq!(
        s.list_report_rows(&i1).await.ctx("list")?,
        b.clone(),
        "rows after replacing with a new report"
    );
    ensure_eq!(
        s.list_report_rows(&i2).await.ctx("list i2")?,
        other,
        "another instance's rows are untouched"
    );

    let err = s
        .replace_report_rows(&MeetingId::from("ghost"), &i1, &[])
        .await
        .expect_failure("replace_report_rows for an unknown meeting")?;
    ensure!(
        err.is_not_found(),
        "an unknown meeting must be NotFound, got {err:?}"
    );
    ensure_eq!(
        s.list_report_rows(&i1).await.ctx("list")?,
        b,
        "a failed replace changes nothing"
    );
    s.replace_report_rows(&m, &i1, &[])
        .await
        .ctx("replace with an empty report")?;
    let none = s.list_report_rows(&i1).await.ctx("list")?;
    ensure!(
        none.is_empty(),
        "an empty report clears the rows, got {none:?}"
    );
    Ok(())
}

pub(super) async fn evidence_revision_follows_every_change(cx: Cx) -> CheckResult {
    let s = &*cx.store;
    let m = linked(s, "m1", 1).await?;
    let i1 = InstanceId::from("i1");
    let rev = || async { s.evidence_revision(&i1).await.ctx("evidence_revision") };
    let Some(empty) = rev().await? else {
        // The backend cannot tell: readers reload every time. It must say so consistently.
        let later = rev().await?;
        ensure!(later.is_none(), "None once, then {later:?}");
        return Ok(());
    };
    ensure_eq!(
        rev().await?,
        Some(empty.clone()),
        "two reads with nothing changed in between"
    );

    let ana = hints(Some("reg-ana"), Some("ana@example.org"), "Ana");
    let join = event(&m, "i1", "c1", Joined, t(10), ana.clone());
    s.insert_participant_events(std::slice::from_ref(&join))
        .await
        .ctx("insert an event")?;
    let one = rev().await?;
    ensure!(
        one.is_some() && one != Some(empty.clone()),
        "storing an event must change the revision, got {one:?}"
    );
    s.insert_participant_events(std::slice::from_ref(&join))
        .await
        .ctx("insert a duplicate")?;
    ensure_eq!(
        rev().await?,
        one,
        "storing only a duplicate changes nothing"
    );
    let leave = event(&m, "i1", "c1", Left, t(50), ana.clone());
    s.insert_participant_events(&[leave])
        .await
        .ctx("insert a second event")?;
    let two = rev().await?;
    ensure!(
        two.is_some() && two != one && two != Some(empty),
        "each stored event changes the revision, got {two:?}"
    );

    let rows = vec![report_row(ana.clone(), 10, 50)];
    s.replace_report_rows(&m, &i1, &rows)
        .await
        .ctx("replace_report_rows")?;
    let reported = rev().await?;
    ensure!(
        reported.is_some() && reported != two,
        "storing report rows changes the revision, got {reported:?}"
    );
    let other = vec![report_row(hints(None, None, "Guest"), 20, 40)];
    s.replace_report_rows(&m, &i1, &other)
        .await
        .ctx("replace with another report of as many rows")?;
    let replaced = rev().await?;
    ensure!(
        replaced.is_some() && replaced != reported,
        "replacing the report with as many other rows changes the revision, got {replaced:?}"
    );
    s.replace_report_rows(&m, &i1, &[])
        .await
        .ctx("clear the report")?;
    let cleared = rev().await?;
    ensure!(
        cleared.is_some() && cleared != replaced,
        "clearing the report changes the revision, got {cleared:?}"
    );

    // Erasing the person behind the events (matched by email) removes them.
    let summary = s
        .erase_user(&UserId::from("u-ana"), &["ana@example.org".to_owned()])
        .await
        .ctx("erase_user")?;
    ensure_eq!(summary.participant_events, 2, "events erased");
    let erased = rev().await?;
    ensure!(
        erased.is_some() && erased != cleared,
        "erasing events changes the revision, got {erased:?}"
    );
    Ok(())
}

/// What `participant_events_since` may answer: `None` always; `Some` only with exactly the
/// events that turn the listing at `since` into the listing at `now`.
pub(super) async fn events_since_are_exactly_the_added_ones(cx: Cx) -> CheckResult {
    use crate::store::EvidenceRevision;

    let s = &*cx.store;
    let m = linked(s, "m1", 1).await?;
    let i1 = InstanceId::from("i1");
    let rev = || async {
        s.evidence_revision(&i1)
            .await
            .ctx("evidence_revision")
            // (A backend without revisions stops below; `evidence_revision_follows_every_change`
            // checks that it never has them.)
            .map(|r| r.unwrap_or_else(|| EvidenceRevision::new(Vec::<i64>::new())))
    };
    let list = || async {
        s.list_participant_events(&i1)
            .await
            .ctx("list_participant_events")
    };
    let since = |a: EvidenceRevision, b: EvidenceRevision| {
        let i1 = i1.clone();
        async move {
            s.participant_events_since(&i1, &a, &b)
                .await
                .ctx("participant_events_since")
        }
    };
    // `Some(added)` must bring `before` to `after`: added by `at`, each after the older
    // events of its `at` (the times below are distinct, so the order is exact).
    let brings = |before: &[StoredEvent], added: &[StoredEvent], after: &[StoredEvent]| {
        let mut merged = before.to_vec();
        merged.extend_from_slice(added);
        merged.sort_by_key(|e| e.event.at);
        merged == after && added.windows(2).all(|w| w[0].event.at <= w[1].event.at)
    };

    if s.evidence_revision(&i1)
        .await
        .ctx("evidence_revision")?
        .is_none()
    {
        return Ok(());
    }
    let r0 = rev().await?;
    let ana = hints(Some("reg-ana"), Some("ana@example.org"), "Ana");
    let bo = hints(Some("reg-bo"), None, "Bo");
    s.insert_participant_events(&[
        event(&m, "i1", "c1", Joined, t(10), ana.clone()),
        event(&m, "i1", "c2", Joined, t(30), bo.clone()),
    ])
    .await
    .ctx("insert two events")?;
    let r1 = rev().await?;
    let at_r1 = list().await?;
    // Another instance's event, one that goes between the kept ones, one after them, and a
    // duplicate (which changes nothing).
    s.insert_participant_events(&[event(&m, "i2", "c9", Joined, t(5), bo.clone())])
        .await
        .ctx("insert into another instance")?;
    s.insert_participant_events(&[
        event(&m, "i1", "c1", Left, t(20), ana.clone()),
        event(&m, "i1", "c2", Left, t(60), bo.clone()),
        event(&m, "i1", "c1", Joined, t(10), ana.clone()),
    ])
    .await
    .ctx("insert two more and a duplicate")?;
    let r2 = rev().await?;
    let at_r2 = list().await?;
    ensure_eq!(at_r2.len(), 4, "events of i1");

    if let Some(added) = since(r1.clone(), r2.clone()).await? {
        ensure!(
            brings(&at_r1, &added, &at_r2),
            "since r1: {added:?} does not turn {at_r1:?} into {at_r2:?}"
        );
    }
    if let Some(added) = since(r0.clone(), r2.clone()).await? {
        ensure!(
            brings(&[], &added, &at_r2),
            "since the empty instance: {added:?} is not {at_r2:?}"
        );
    }
    if let Some(added) = since(r2.clone(), r2.clone()).await? {
        ensure!(added.is_empty(), "nothing changed, yet {added:?}");
    }
    let foreign = EvidenceRevision::new([-7_i64]);
    ensure_eq!(
        since(foreign, r2.clone()).await?,
        None,
        "a revision the backend did not make"
    );

    // Changes other than added events: never `Some`.
    s.replace_report_rows(&m, &i1, &[report_row(ana.clone(), 10, 20)])
        .await
        .ctx("replace_report_rows")?;
    let r3 = rev().await?;
    ensure_eq!(
        since(r2.clone(), r3.clone()).await?,
        None,
        "the report was replaced"
    );
    s.insert_participant_events(&[event(&m, "i1", "c3", Joined, t(70), bo.clone())])
        .await
        .ctx("insert after the report")?;
    let r4 = rev().await?;
    let at_r4 = list().await?;
    ensure_eq!(
        since(r2, r4.clone()).await?,
        None,
        "the report was replaced in between"
    );
    let at_r3: Vec<StoredEvent> = at_r4
        .iter()
        .filter(|e| e.event.at != t(70))
        .cloned()
        .collect();
    if let Some(added) = since(r3, r4.clone()).await? {
        ensure!(
            brings(&at_r3, &added, &at_r4),
            "since the report: {added:?} does not turn {at_r3:?} into {at_r4:?}"
        );
    }
    let erased = s
        .erase_user(&UserId::from("u-ana"), &["ana@example.org".to_owned()])
        .await
        .ctx("erase_user")?;
    ensure_eq!(erased.participant_events, 2, "events erased");
    let r5 = rev().await?;
    ensure_eq!(since(r4, r5).await?, None, "events were erased");
    Ok(())
}

pub(super) async fn manual_links_upsert(cx: Cx) -> CheckResult {
    let s = &*cx.store;
    let m1 = linked(s, "m1", 1).await?;
    let m2 = linked(s, "m2", 2).await?;
    let link = |m: &MeetingId, key: &str, user: &str, at: i64| ManualLink {
        meeting: m.clone(),
        participant_key: key.to_owned(),
        user: UserId::from(user),
        linked_by: UserId::from("teacher"),
        linked_at: t(at),
    };
    s.upsert_manual_link(&link(&m1, "name:Ana L", "u1", 1))
        .await
        .ctx("upsert")?;
    let replaced = link(&m1, "name:Ana L", "u2", 2);
    s.upsert_manual_link(&replaced)
        .await
        .ctx("upsert same key")?;
    let second = link(&m1, "email:x@example.org", "u3", 3);
    s.upsert_manual_link(&second)
        .await
        .ctx("upsert another key")?;
    let elsewhere = link(&m2, "name:Ana L", "u9", 4);
    s.upsert_manual_link(&elsewhere).await.ctx("upsert in m2")?;

    let mut listed = s.list_manual_links(&m1).await.ctx("list_manual_links")?;
    listed.sort_by(|a, b| a.participant_key.cmp(&b.participant_key));
    ensure_eq!(
        listed,
        vec![second, replaced],
        "links of m1: one per participant key, last write wins"
    );
    ensure_eq!(
        s.list_manual_links(&m2).await.ctx("list m2")?,
        vec![elsewhere],
        "links of m2"
    );
    let err = s
        .upsert_manual_link(&link(&MeetingId::from("ghost"), "k", "u", 1))
        .await
        .expect_failure("upsert_manual_link for an unknown meeting")?;
    ensure!(
        err.is_not_found(),
        "an unknown meeting must be NotFound, got {err:?}"
    );
    Ok(())
}

pub(super) async fn join_clicks_are_all_kept(cx: Cx) -> CheckResult {
    let s = &*cx.store;
    let m1 = linked(s, "m1", 1).await?;
    let m2 = linked(s, "m2", 2).await?;
    let click = |m: &MeetingId, user: &str, at: i64| JoinClick {
        meeting: m.clone(),
        user: UserId::from(user),
        at: t(at),
    };
    for c in [
        click(&m1, "u1", 10),
        click(&m1, "u1", 10),
        click(&m1, "u2", 5),
        click(&m2, "u1", 1),
    ] {
        s.record_join_click(&c).await.ctx("record_join_click")?;
    }
    let listed = s.list_join_clicks(&m1).await.ctx("list_join_clicks")?;
    ensure_eq!(
        listed,
        vec![
            click(&m1, "u2", 5),
            click(&m1, "u1", 10),
            click(&m1, "u1", 10)
        ],
        "clicks of m1, oldest first, repeated clicks kept"
    );
    let err = s
        .record_join_click(&click(&MeetingId::from("ghost"), "u1", 1))
        .await
        .expect_failure("record_join_click for an unknown meeting")?;
    ensure!(
        err.is_not_found(),
        "an unknown meeting must be NotFound, got {err:?}"
    );
    Ok(())
}
