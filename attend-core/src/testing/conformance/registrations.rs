//! Checks of [`RegistrationStore`](crate::store::RegistrationStore).

use std::sync::Arc;

use crate::model::{MeetingId, RegistrantId, RegistrationStatus, UserId};
use crate::store::{FailureReason, RegistrationCounts, RegistrationRecord, Store};

use super::fixtures::{linked, t, t_us};
use super::{CheckResult, Ctx, Cx, ExpectErr, Failure, ensure, ensure_eq, race};

fn registered(
    meeting: &MeetingId,
    user: &str,
    registrant: &str,
    email: &str,
    at: i64,
) -> RegistrationRecord {
    RegistrationRecord {
        status: RegistrationStatus::Registered,
        registrant_id: Some(RegistrantId::from(registrant)),
        join_url: Some(format!("https://zoom.example/w/1?tk={registrant}")),
        registrant_email: Some(email.to_owned()),
        registered_at: Some(t(at)),
        attempts: 1,
        updated_at: t(at),
        ..RegistrationRecord::pending(meeting.clone(), UserId::from(user), t(0))
    }
}

async fn register(
    s: &dyn Store,
    meeting: &MeetingId,
    user: &str,
    registrant: &str,
    email: &str,
) -> Result<RegistrationRecord, Failure> {
    let user_id = UserId::from(user);
    let row = s
        .ensure_pending_registration(meeting, &user_id, t(0))
        .await
        .ctx("ensure_pending_registration (setup)")?;
    let record = RegistrationRecord {
        created_at: row.created_at,
        ..registered(meeting, user, registrant, email, 10)
    };
    s.update_registration(&record)
        .await
        .ctx("update_registration (setup)")?;
    Ok(record)
}

pub(super) async fn ensure_pending_creates_once(cx: Cx) -> CheckResult {
    let s = &*cx.store;
    let m = linked(s, "m1", 1).await?;
    let u = UserId::from("u1");
    let first = s
        .ensure_pending_registration(&m, &u, t_us(5, 42))
        .await
        .ctx("first ensure_pending_registration")?;
    ensure_eq!(
        first,
        RegistrationRecord::pending(m.clone(), u.clone(), t_us(5, 42)),
        "the row a first ensure_pending_registration creates"
    );
    let again = s
        .ensure_pending_registration(&m, &u, t(50))
        .await
        .ctx("second ensure_pending_registration")?;
    ensure_eq!(
        again,
        first,
        "a second ensure_pending_registration must return the stored row unchanged"
    );

    let done = registered(&m, "u1", "reg-1", "u1@example.org", 60);
    let done = RegistrationRecord {
        created_at: first.created_at,
        ..done
    };
    s.update_registration(&done)
        .await
        .ctx("update to Registered")?;
    let after = s
        .ensure_pending_registration(&m, &u, t(70))
        .await
        .ctx("ensure_pending_registration after registering")?;
    ensure_eq!(
        after,
        done,
        "ensure_pending_registration must not reset a Registered row"
    );
    let rows = s.list_registrations(&m).await.ctx("list_registrations")?;
    ensure_eq!(rows.len(), 1, "number of rows for one (meeting, user)");
    Ok(())
}

pub(super) async fn ensure_pending_needs_the_meeting(cx: Cx) -> CheckResult {
    let s = &*cx.store;
    let err = s
        .ensure_pending_registration(&MeetingId::from("ghost"), &UserId::from("u1"), t(0))
        .await
        .expect_failure("ensure_pending_registration for an unknown meeting")?;
    ensure!(
        err.is_not_found(),
        "an unknown meeting must be NotFound, got {err:?}"
    );
    Ok(())
}

pub(super) async fn update_round_trips_and_needs_the_row(cx: Cx) -> CheckResult {
    let s = &*cx.store;
    let m = linked(s, "m1", 1).await?;
    let u = UserId::from("u1");
    let created = s
        .ensure_pending_registration(&m, &u, t(1))
        .await
        .ctx("ensure_pending_registration")?;
    let deferred = RegistrationRecord {
        status: RegistrationStatus::Pending,
        error: Some(FailureReason::new(
            "rate_limited",
            "daily limit reached – retry tomorrow",
        )),
        attempts: 3,
        next_attempt_at: Some(t_us(86_400, 999_999)),
        updated_at: t(2),
        created_at: t(12_345),
        ..created.clone()
    };
    s.update_registration(&deferred)
        .await
        .ctx("update to a deferred row")?;
    let got = s.get_registration(&m, &u).await.ctx("get_registration")?;
    let expected = RegistrationRecord {
        created_at: created.created_at,
        ..deferred
    };
    ensure_eq!(
        got,
        Some(expected),
        "row after update (every field but created_at replaced)"
    );

    let failed = RegistrationRecord {
        status: RegistrationStatus::Failed,
        error: Some(FailureReason::new(
            "zoom_rejected",
            "Registration is not enabled",
        )),
        next_attempt_at: None,
        ..created.clone()
    };
    s.update_registration(&failed)
        .await
        .ctx("update to Failed")?;
    let got = s.get_registration(&m, &u).await.ctx("get_registration")?;
    ensure_eq!(got, Some(failed), "optional fields can be cleared again");

    let stranger = RegistrationRecord::pending(m.clone(), UserId::from("nobody"), t(0));
    let err = s
        .update_registration(&stranger)
        .await
        .expect_failure("update of a registration that was never created")?;
    ensure!(
        err.is_not_found(),
        "updating a missing row must be NotFound, got {err:?}"
    );
    let missing = s
        .get_registration(&m, &UserId::from("nobody"))
        .await
        .ctx("get_registration unknown")?;
    ensure_eq!(missing, None, "a failed update must not create the row");
    Ok(())
}

pub(super) async fn registrant_id_is_unique_per_meeting(cx: Cx) -> CheckResult {
    let s = &*cx.store;
    let m1 = linked(s, "m1", 1).await?;
    let m2 = linked(s, "m2", 2).await?;
    let r1 = register(s, &m1, "u1", "reg-x", "u1@example.org").await?;

    s.ensure_pending_registration(&m1, &UserId::from("u2"), t(0))
        .await
        .ctx("ensure u2")?;
    let clash = registered(&m1, "u2", "reg-x", "u2@example.org", 20);
    let err = s
        .update_registration(&clash)
        .await
        .expect_failure("giving u2 the registrant id of u1 in the same meeting")?;
    ensure!(
        err.is_conflict(),
        "a registrant id used twice in a meeting must be Conflict, got {err:?}"
    );
    let u2 = s
        .get_registration(&m1, &UserId::from("u2"))
        .await
        .ctx("get u2")?;
    ensure!(
        u2.as_ref().is_some_and(|r| r.registrant_id.is_none()),
        "the conflicting update must change nothing, got {u2:?}"
    );

    register(s, &m2, "u2", "reg-x", "u2@example.org")
        .await
        .map_err(|f| {
            Failure(format!(
                "the same registrant id in another meeting is allowed: {}",
                f.0
            ))
        })?;

    let found = s
        .find_registration_by_registrant_id(&m1, &RegistrantId::from("reg-x"))
        .await
        .ctx("find_registration_by_registrant_id")?;
    ensure_eq!(found, Some(r1), "find by registrant id in m1");
    let found = s
        .find_registration_by_registrant_id(&m1, &RegistrantId::from("reg-none"))
        .await
        .ctx("find unknown registrant id")?;
    ensure_eq!(found, None, "an unknown registrant id");
    Ok(())
}

pub(super) async fn find_by_email_ignores_ascii_case(cx: Cx) -> CheckResult {
    let s = &*cx.store;
    let m1 = linked(s, "m1", 1).await?;
    let m2 = linked(s, "m2", 2).await?;
    let ana = register(s, &m1, "ana", "reg-ana", "Ana.Lopez@Example.ORG").await?;
    register(s, &m1, "bo", "reg-bo", "bo@example.org").await?;
    register(s, &m2, "ana", "reg-ana-2", "ana.lopez@example.org").await?;

    for query in [
        "ana.lopez@example.org",
        "ANA.LOPEZ@EXAMPLE.ORG",
        "Ana.Lopez@Example.ORG",
    ] {
        let found = s
            .find_registrations_by_email(&m1, query)
            .await
            .ctx("find_registrations_by_email")?;
        ensure_eq!(
            found,
            vec![ana.clone()],
            "find_registrations_by_email({query:?}) in m1"
        );
    }
    let none = s
        .find_registrations_by_email(&m1, "ana.lopez@example.com")
        .await
        .ctx("find_registrations_by_email other address")?;
    ensure!(
        none.is_empty(),
        "a different address must match nothing, got {none:?}"
    );
    let pending_only = s
        .ensure_pending_registration(&m1, &UserId::from("cy"), t(0))
        .await
        .ctx("ensure cy")?;
    ensure!(
        pending_only.registrant_email.is_none(),
        "setup: cy has no email"
    );
    let none = s
        .find_registrations_by_email(&m1, "")
        .await
        .ctx("find_registrations_by_email(\"\")")?;
    ensure!(
        none.is_empty(),
        "an empty email must not match rows without an email, got {none:?}"
    );
    Ok(())
}

pub(super) async fn list_count_and_user_listing(cx: Cx) -> CheckResult {
    let s = &*cx.store;
    let m1 = linked(s, "m1", 1).await?;
    let m2 = linked(s, "m2", 2).await?;
    let a = register(s, &m1, "a", "reg-a", "a@example.org").await?;
    let b = register(s, &m1, "b", "reg-b", "b@example.org").await?;
    let c = s
        .ensure_pending_registration(&m1, &UserId::from("c"), t(0))
        .await
        .ctx("ensure c")?;
    let d = s
        .ensure_pending_registration(&m1, &UserId::from("d"), t(0))
        .await
        .ctx("ensure d")?;
    let d = RegistrationRecord {
        status: RegistrationStatus::Failed,
        error: Some(FailureReason::new("zoom_rejected", "no")),
        ..d
    };
    s.update_registration(&d).await.ctx("fail d")?;
    let b = RegistrationRecord {
        status: RegistrationStatus::Cancelled,
        ..b
    };
    s.update_registration(&b).await.ctx("cancel b")?;
    let a2 = register(s, &m2, "a", "reg-a2", "a@example.org").await?;

    let mut rows = s
        .list_registrations(&m1)
        .await
        .ctx("list_registrations(m1)")?;
    rows.sort_by(|x, y| x.user.cmp(&y.user));
    ensure_eq!(
        rows,
        vec![a.clone(), b, c, d],
        "list_registrations(m1), sorted by user"
    );
    let counts = s
        .count_registrations(&m1)
        .await
        .ctx("count_registrations(m1)")?;
    ensure_eq!(
        counts,
        RegistrationCounts {
            registered: 1,
            pending: 1,
            failed: 1,
            cancelled: 1
        },
        "count_registrations(m1)"
    );
    let counts = s
        .count_registrations(&MeetingId::from("ghost"))
        .await
        .ctx("count_registrations(unknown)")?;
    ensure_eq!(
        counts,
        RegistrationCounts::default(),
        "counts of an unknown meeting"
    );
    let rows = s
        .list_registrations(&MeetingId::from("ghost"))
        .await
        .ctx("list_registrations(unknown)")?;
    ensure!(
        rows.is_empty(),
        "an unknown meeting lists nothing, got {rows:?}"
    );

    let mut mine = s
        .list_user_registrations(&UserId::from("a"))
        .await
        .ctx("list_user_registrations(a)")?;
    mine.sort_by(|x, y| x.meeting.cmp(&y.meeting));
    ensure_eq!(
        mine,
        vec![a, a2],
        "list_user_registrations(a) across meetings"
    );
    let none = s
        .list_user_registrations(&UserId::from("zz"))
        .await
        .ctx("list_user_registrations(unknown)")?;
    ensure!(
        none.is_empty(),
        "an unknown user lists nothing, got {none:?}"
    );
    Ok(())
}

pub(super) async fn concurrent_ensure_pending_creates_one_row(cx: Cx) -> CheckResult {
    let m = linked(&*cx.store, "m1", 1).await?;
    let store: Arc<dyn Store> = Arc::clone(&cx.store);
    let results = race(cx.caps.concurrency, |i| {
        let store = Arc::clone(&store);
        let m = m.clone();
        async move {
            store
                .ensure_pending_registration(&m, &UserId::from("same-user"), t(i as i64))
                .await
        }
    })
    .await?;
    let mut rows = Vec::new();
    for r in results {
        rows.push(r.ctx("a racing ensure_pending_registration")?);
    }
    let stored = cx
        .store
        .list_registrations(&m)
        .await
        .ctx("list_registrations")?;
    ensure_eq!(
        stored.len(),
        1,
        "rows after {} concurrent ensure_pending_registration calls",
        rows.len()
    );
    for row in &rows {
        ensure_eq!(
            row,
            &stored[0],
            "every racing call must return the one stored row"
        );
    }
    Ok(())
}
