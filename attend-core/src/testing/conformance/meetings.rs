//! Checks of [`MeetingStore`](crate::store::MeetingStore).

use crate::model::{AccountKey, GroupKey, MeetingId, MeetingKind, Policy, ZoomMeetingId};
use crate::store::{MeetingRecord, StoreError};

use super::fixtures::{meeting, t};
use super::{CheckResult, Ctx, Cx, ExpectErr, ensure, ensure_eq};

pub(super) async fn insert_then_get_round_trips(cx: Cx) -> CheckResult {
    let s = &*cx.store;
    let full = meeting("m-full", "acct", 85_393_847_045, "course-101");
    let sparse = MeetingRecord {
        id: MeetingId::from("m-sparse"),
        kind: MeetingKind::Webinar,
        start_time: None,
        duration_minutes: None,
        timezone: None,
        host_id: None,
        restrict_to_registered: false,
        policy: Policy::default(),
        ..meeting("m-sparse", "acct", 12_345_678_901, "course-102")
    };
    s.insert_meeting(&full).await.ctx("insert full meeting")?;
    s.insert_meeting(&sparse)
        .await
        .ctx("insert sparse meeting")?;
    let got = s.get_meeting(&full.id).await.ctx("get_meeting")?;
    ensure_eq!(
        got,
        Some(full.clone()),
        "get_meeting of a meeting with every field set (times keep microseconds)"
    );
    let got = s.get_meeting(&sparse.id).await.ctx("get_meeting")?;
    ensure_eq!(
        got,
        Some(sparse),
        "get_meeting of a webinar without optional fields"
    );
    let missing = s
        .get_meeting(&MeetingId::from("nope"))
        .await
        .ctx("get_meeting unknown")?;
    ensure_eq!(missing, None, "get_meeting of an unknown id");
    Ok(())
}

pub(super) async fn duplicate_zoom_meeting_is_conflict(cx: Cx) -> CheckResult {
    let s = &*cx.store;
    let first = meeting("m1", "acct", 111, "g");
    s.insert_meeting(&first).await.ctx("insert first")?;

    let same_zoom = MeetingRecord {
        topic: "another topic".into(),
        ..meeting("m2", "acct", 111, "g2")
    };
    let err = s
        .insert_meeting(&same_zoom)
        .await
        .expect_failure("insert of the same (account, zoom id) under a new id")?;
    ensure!(
        matches!(err, StoreError::Conflict { .. }),
        "duplicate (account, zoom id) must be Conflict, got {err:?}"
    );
    ensure_eq!(
        s.get_meeting(&MeetingId::from("m2")).await.ctx("get m2")?,
        None,
        "the rejected meeting must not be stored"
    );
    ensure_eq!(
        s.get_meeting(&first.id).await.ctx("get m1")?,
        Some(first.clone()),
        "the first meeting must be unchanged"
    );

    let same_id = meeting("m1", "acct", 222, "g");
    let err = s
        .insert_meeting(&same_id)
        .await
        .expect_failure("insert of an existing meeting id")?;
    ensure!(
        err.is_conflict(),
        "duplicate meeting id must be Conflict, got {err:?}"
    );

    let other_account = meeting("m3", "other-acct", 111, "g");
    s.insert_meeting(&other_account)
        .await
        .ctx("the same zoom id under another account is allowed")?;
    Ok(())
}

pub(super) async fn find_by_zoom_id(cx: Cx) -> CheckResult {
    let s = &*cx.store;
    let a = MeetingRecord {
        created_at: t(10),
        ..meeting("m-a", "acct-a", 555, "g")
    };
    let b = MeetingRecord {
        created_at: t(5),
        ..meeting("m-b", "acct-b", 555, "g")
    };
    let c = meeting("m-c", "acct-a", 556, "g");
    for m in [&a, &b, &c] {
        s.insert_meeting(m).await.ctx("insert")?;
    }
    let found = s
        .find_meeting(&AccountKey::from("acct-a"), ZoomMeetingId(555))
        .await
        .ctx("find_meeting")?;
    ensure_eq!(found, Some(a.clone()), "find_meeting(acct-a, 555)");
    let found = s
        .find_meeting(&AccountKey::from("acct-c"), ZoomMeetingId(555))
        .await
        .ctx("find_meeting other account")?;
    ensure_eq!(
        found,
        None,
        "find_meeting for an account that did not link it"
    );
    let all = s
        .find_meetings_by_zoom_id(ZoomMeetingId(555))
        .await
        .ctx("find_meetings_by_zoom_id")?;
    ensure_eq!(
        all,
        vec![b, a],
        "find_meetings_by_zoom_id: every account, oldest created_at first"
    );
    let none = s
        .find_meetings_by_zoom_id(ZoomMeetingId(999))
        .await
        .ctx("find_meetings_by_zoom_id unknown")?;
    ensure!(
        none.is_empty(),
        "unknown zoom id must give an empty list, got {none:?}"
    );
    Ok(())
}

pub(super) async fn list_filters_by_group_in_created_order(cx: Cx) -> CheckResult {
    let s = &*cx.store;
    let m = |id: &str, zoom: i64, group: &str, created: i64| MeetingRecord {
        created_at: t(created),
        ..meeting(id, "acct", zoom, group)
    };
    let (x1, x2, y1) = (
        m("x1", 1, "gx", 30),
        m("x2", 2, "gx", 10),
        m("y1", 3, "gy", 20),
    );
    for r in [&x1, &x2, &y1] {
        s.insert_meeting(r).await.ctx("insert")?;
    }
    let all = s.list_meetings(None).await.ctx("list_meetings(None)")?;
    ensure_eq!(
        all,
        vec![x2.clone(), y1.clone(), x1.clone()],
        "list_meetings(None), oldest first"
    );
    let gx = s
        .list_meetings(Some(&GroupKey::from("gx")))
        .await
        .ctx("list_meetings(gx)")?;
    ensure_eq!(gx, vec![x2, x1], "list_meetings(gx)");
    let none = s
        .list_meetings(Some(&GroupKey::from("nobody")))
        .await
        .ctx("list_meetings(unknown group)")?;
    ensure!(
        none.is_empty(),
        "unknown group must list nothing, got {none:?}"
    );
    Ok(())
}

pub(super) async fn update_replaces_fields_but_not_created_at(cx: Cx) -> CheckResult {
    let s = &*cx.store;
    let original = meeting("m1", "acct", 100, "g");
    let other = meeting("m2", "acct", 200, "g");
    s.insert_meeting(&original).await.ctx("insert m1")?;
    s.insert_meeting(&other).await.ctx("insert m2")?;

    let changed = MeetingRecord {
        topic: "Renamed".into(),
        group: GroupKey::from("g-new"),
        restrict_to_registered: false,
        policy: Policy::default(),
        start_time: None,
        host_id: Some("new-host".into()),
        created_at: t(99_999),
        ..original.clone()
    };
    s.update_meeting(&changed).await.ctx("update_meeting")?;
    let got = s.get_meeting(&original.id).await.ctx("get after update")?;
    let expected = MeetingRecord {
        created_at: original.created_at,
        ..changed.clone()
    };
    ensure_eq!(
        got,
        Some(expected.clone()),
        "meeting after update (created_at must keep its stored value)"
    );
    s.update_meeting(&changed)
        .await
        .ctx("update with unchanged values must succeed")?;

    let err = s
        .update_meeting(&meeting("ghost", "acct", 300, "g"))
        .await
        .expect_failure("update of an unknown meeting")?;
    ensure!(
        err.is_not_found(),
        "update of an unknown meeting must be NotFound, got {err:?}"
    );

    let clash = MeetingRecord {
        zoom_meeting_id: ZoomMeetingId(200),
        ..original.clone()
    };
    let err = s
        .update_meeting(&clash)
        .await
        .expect_failure("update onto another meeting's (account, zoom id)")?;
    ensure!(
        err.is_conflict(),
        "taking another meeting's zoom id must be Conflict, got {err:?}"
    );
    let got = s
        .get_meeting(&original.id)
        .await
        .ctx("get after conflict")?;
    ensure_eq!(
        got,
        Some(expected),
        "a conflicting update must change nothing"
    );
    Ok(())
}
