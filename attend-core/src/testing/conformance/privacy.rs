//! Checks of [`Privacy`](crate::store::Privacy).

use crate::model::{
    IdentityHints, InstanceId, MeetingId, ParticipantAction, RegistrantId, RegistrationStatus,
    UserId,
};
use crate::store::{ErasureSummary, JoinClick, ManualLink, RegistrationRecord, Store, StoredEvent};

use super::fixtures::{event, hints, linked, report_row, t};
use super::{CheckResult, Ctx, Cx, Failure, ensure, ensure_eq};

struct World {
    m1: MeetingId,
    m2: MeetingId,
    /// Events that must survive erasing u1, per instance.
    kept_i1: Vec<StoredEvent>,
    kept_i2: Vec<StoredEvent>,
}

async fn register(
    s: &dyn Store,
    m: &MeetingId,
    user: &str,
    rid: &str,
    email: &str,
) -> Result<(), Failure> {
    let row = s
        .ensure_pending_registration(m, &UserId::from(user), t(0))
        .await
        .ctx("ensure_pending_registration (setup)")?;
    let row = RegistrationRecord {
        status: RegistrationStatus::Registered,
        registrant_id: Some(RegistrantId::from(rid)),
        registrant_email: Some(email.to_owned()),
        join_url: Some("https://zoom.example/w/1?tk=secret".into()),
        ..row
    };
    s.update_registration(&row)
        .await
        .ctx("update_registration (setup)")
}

fn customer(key: &str) -> IdentityHints {
    IdentityHints {
        customer_key: Some(key.to_owned()),
        ..hints(None, None, key)
    }
}

/// u1 is registered in m1 (registrant `reg-u1`, a synthetic email) and also has a personal
/// email; u2 is registered in m1 too.
async fn world(s: &dyn Store) -> Result<World, Failure> {
    use ParticipantAction::Joined;
    let m1 = linked(s, "m1", 1).await?;
    let m2 = linked(s, "m2", 2).await?;
    register(s, &m1, "u1", "reg-u1", "u1.synthetic@attend.invalid").await?;
    register(s, &m1, "u2", "reg-u2", "u2@example.org").await?;

    let erase_i1 = [
        event(
            &m1,
            "i1",
            "c1",
            Joined,
            t(1),
            hints(Some("reg-u1"), None, "Ana"),
        ),
        event(
            &m1,
            "i1",
            "c2",
            Joined,
            t(2),
            hints(None, Some("U1.Synthetic@attend.invalid"), "Ana"),
        ),
    ];
    let kept_i1 = vec![
        event(
            &m1,
            "i1",
            "c3",
            Joined,
            t(3),
            hints(Some("reg-u2"), Some("u2@example.org"), "Bo"),
        ),
        event(&m1, "i1", "c4", Joined, t(4), hints(None, None, "Guest")),
    ];
    let erase_i2 = [
        event(&m2, "i2", "c1", Joined, t(5), customer("u1")),
        event(
            &m2,
            "i2",
            "c2",
            Joined,
            t(6),
            hints(None, Some("ANA@home.example"), "Ana"),
        ),
    ];
    let kept_i2 = vec![event(&m2, "i2", "c3", Joined, t(7), customer("u2"))];
    let all: Vec<StoredEvent> = erase_i1
        .iter()
        .chain(&kept_i1)
        .chain(&erase_i2)
        .chain(&kept_i2)
        .cloned()
        .collect();
    s.insert_participant_events(&all)
        .await
        .ctx("insert events (setup)")?;

    s.replace_report_rows(
        &m1,
        &InstanceId::from("i1"),
        &[
            report_row(hints(Some("reg-u1"), None, "Ana"), 0, 100),
            report_row(hints(Some("reg-u2"), None, "Bo"), 0, 100),
            report_row(hints(None, Some("ana@HOME.example"), "Ana"), 200, 300),
        ],
    )
    .await
    .ctx("replace_report_rows (setup)")?;

    for (user, at) in [("u1", 1), ("u1", 2), ("u2", 3)] {
        s.record_join_click(&JoinClick {
            meeting: m1.clone(),
            user: UserId::from(user),
            at: t(at),
        })
        .await
        .ctx("record_join_click (setup)")?;
    }
    for (key, user, by) in [
        ("k1", "u1", "teacher"),
        ("k2", "u2", "teacher"),
        ("k3", "u2", "u1"),
    ] {
        s.upsert_manual_link(&ManualLink {
            meeting: m2.clone(),
            participant_key: key.to_owned(),
            user: UserId::from(user),
            linked_by: UserId::from(by),
            linked_at: t(9),
        })
        .await
        .ctx("upsert_manual_link (setup)")?;
    }
    Ok(World {
        m1,
        m2,
        kept_i1,
        kept_i2,
    })
}

fn by_connection(mut events: Vec<StoredEvent>) -> Vec<StoredEvent> {
    events.sort_by(|a, b| a.event.connection.cmp(&b.event.connection));
    events
}

pub(super) async fn erase_removes_exactly_the_users_data(cx: Cx) -> CheckResult {
    let s = &*cx.store;
    let w = world(s).await?;
    let u1 = UserId::from("u1");
    let u2 = UserId::from("u2");
    let u2_before = s.list_user_registrations(&u2).await.ctx("list u2")?;

    let summary = s
        .erase_user(&u1, &["ana@home.example".to_owned()])
        .await
        .ctx("erase_user")?;
    ensure_eq!(
        summary,
        ErasureSummary {
            registrations: 1,
            join_clicks: 2,
            manual_links: 1,
            participant_events: 4,
            report_rows: 2
        },
        "what erase_user(u1) removed"
    );
    let left = s.list_user_registrations(&u1).await.ctx("list u1")?;
    ensure!(
        left.is_empty(),
        "u1 must have no registrations left, got {left:?}"
    );
    ensure_eq!(
        s.list_user_registrations(&u2).await.ctx("list u2")?,
        u2_before,
        "u2's registrations are untouched"
    );

    let i1 = s
        .list_participant_events(&InstanceId::from("i1"))
        .await
        .ctx("events i1")?;
    ensure_eq!(
        by_connection(i1),
        w.kept_i1,
        "events of i1 after erasing u1 (by registrant id and registrant email)"
    );
    let i2 = s
        .list_participant_events(&InstanceId::from("i2"))
        .await
        .ctx("events i2")?;
    ensure_eq!(
        by_connection(i2),
        w.kept_i2,
        "events of i2 after erasing u1 (by customer key and the given email)"
    );
    let rows = s
        .list_report_rows(&InstanceId::from("i1"))
        .await
        .ctx("report rows")?;
    let names: Vec<_> = rows.iter().map(|r| r.hints.user_name.clone()).collect();
    ensure_eq!(
        names,
        vec![Some("Bo".to_owned())],
        "report rows left after erasing u1"
    );

    let clicks = s.list_join_clicks(&w.m1).await.ctx("clicks")?;
    ensure!(
        clicks.iter().all(|c| c.user == u2) && clicks.len() == 1,
        "only u2's click may remain, got {clicks:?}"
    );
    let mut links: Vec<String> = s
        .list_manual_links(&w.m2)
        .await
        .ctx("links")?
        .into_iter()
        .map(|l| l.participant_key)
        .collect();
    links.sort();
    ensure_eq!(
        links,
        vec!["k2".to_owned(), "k3".to_owned()],
        "manual links left (links u1 made for others stay)"
    );
    Ok(())
}

pub(super) async fn erase_is_idempotent(cx: Cx) -> CheckResult {
    let s = &*cx.store;
    world(s).await?;
    let u1 = UserId::from("u1");
    let first = s.erase_user(&u1, &[]).await.ctx("first erase_user")?;
    ensure!(
        first.total() > 0,
        "the first erase must remove something, got {first:?}"
    );
    let second = s.erase_user(&u1, &[]).await.ctx("second erase_user")?;
    ensure_eq!(
        second,
        ErasureSummary::default(),
        "a second erase of the same user"
    );
    let unknown = s
        .erase_user(
            &UserId::from("never-seen"),
            &["nobody@example.org".to_owned()],
        )
        .await
        .ctx("erase_user of an unknown user")?;
    ensure_eq!(
        unknown,
        ErasureSummary::default(),
        "erasing an unknown user"
    );
    Ok(())
}
