//! Builders for the records the checks store.

use chrono::{DateTime, TimeDelta, Utc};

use crate::model::{
    AccountKey, ConnectionKey, GroupKey, IdentityHints, InstanceId, MeetingId, MeetingKind,
    ParticipantAction, ParticipantEvent, Policy, ZoomMeetingId,
};
use crate::store::{
    InstanceUpdate, MeetingRecord, NewWebhook, ReportRow, Store, StoredEvent, WebhookId,
};

use super::{Ctx, Failure};

/// The suite's fixed epoch: 2026-01-05T10:00:00Z.
const EPOCH: i64 = 1_767_607_200;

/// The epoch plus `secs` seconds.
pub(super) fn t(secs: i64) -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp(EPOCH + secs, 0).unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
}

/// The epoch plus `secs` seconds and `micros` microseconds (to check precision).
pub(super) fn t_us(secs: i64, micros: i64) -> DateTime<Utc> {
    t(secs) + TimeDelta::microseconds(micros)
}

/// A meeting with every optional field set.
pub(super) fn meeting(id: &str, account: &str, zoom_id: i64, group: &str) -> MeetingRecord {
    MeetingRecord {
        id: MeetingId::from(id),
        account: AccountKey::from(account),
        zoom_meeting_id: ZoomMeetingId(zoom_id),
        kind: MeetingKind::Meeting,
        group: GroupKey::from(group),
        topic: format!("Topic of {id} – Grüße"),
        start_time: Some(t_us(3_600, 250_000)),
        duration_minutes: Some(60),
        timezone: Some("Europe/Berlin".to_owned()),
        host_id: Some("host-zoom-user".to_owned()),
        restrict_to_registered: true,
        policy: Policy {
            required_ratio: 0.75,
            late_after_seconds: 120,
            left_early_before_end_seconds: 600,
            count_breakout_rooms: false,
        },
        created_at: t_us(0, 123_456),
    }
}

/// Stores `meeting(id, "acct", zoom_id, "group-a")`.
pub(super) async fn linked(
    store: &dyn Store,
    id: &str,
    zoom_id: i64,
) -> Result<MeetingId, Failure> {
    let m = meeting(id, "acct", zoom_id, "group-a");
    store
        .insert_meeting(&m)
        .await
        .ctx("insert_meeting (setup)")?;
    Ok(m.id)
}

/// A webhook delivery.
pub(super) fn webhook(account: &str, key: &str, received: i64) -> NewWebhook {
    NewWebhook {
        account: AccountKey::from(account),
        dedupe_key: key.to_owned(),
        event_type: "meeting.participant_joined".to_owned(),
        received_at: t(received),
        body: format!(r#"{{"event":"meeting.participant_joined","key":"{key}"}}"#).into_bytes(),
        unparseable: false,
    }
}

/// Hints carrying a registrant id and an email.
pub(super) fn hints(registrant_id: Option<&str>, email: Option<&str>, name: &str) -> IdentityHints {
    IdentityHints {
        registrant_id: registrant_id.map(str::to_owned),
        customer_key: None,
        email: email.map(str::to_owned),
        participant_user_id: None,
        participant_uuid: Some(format!("puuid-{name}")),
        zoom_user_id: Some(format!("zuid-{name}")),
        user_name: Some(name.to_owned()),
    }
}

/// A participant event.
pub(super) fn event(
    meeting: &MeetingId,
    instance: &str,
    connection: &str,
    action: ParticipantAction,
    at: DateTime<Utc>,
    hints: IdentityHints,
) -> StoredEvent {
    StoredEvent {
        meeting: meeting.clone(),
        event: ParticipantEvent {
            instance: InstanceId::from(instance),
            connection: ConnectionKey::from(connection),
            action,
            at,
            hints,
        },
        source: None,
    }
}

/// A report row.
pub(super) fn report_row(hints: IdentityHints, join: i64, leave: i64) -> ReportRow {
    ReportRow {
        hints,
        join: t(join),
        leave: t(leave),
    }
}

/// An instance observation.
pub(super) fn instance_update(
    meeting: &MeetingId,
    uuid: &str,
    started: Option<i64>,
    ended: Option<i64>,
    at: i64,
) -> InstanceUpdate {
    InstanceUpdate {
        meeting: meeting.clone(),
        uuid: InstanceId::from(uuid),
        started_at: started.map(t),
        ended_at: ended.map(t),
        at: t(at),
    }
}

/// A webhook id no store hands out in the checks.
pub(super) const UNKNOWN_WEBHOOK: WebhookId = WebhookId(987_654_321);
