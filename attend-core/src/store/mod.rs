//! Storage interfaces: what attend needs to remember, and the host's user directory.
//!
//! attend-core never talks to a database itself. It talks to these traits, and a backend
//! crate implements them (`attend-diesel` for SQLite and PostgreSQL;
//! `attend_core::testing::memory::MemoryStore`, behind the `testing` feature, in memory).
//!
//! | trait | remembers |
//! |---|---|
//! | [`MeetingStore`] | linked Zoom meetings ([`MeetingRecord`]) |
//! | [`RegistrationStore`] | one Zoom registrant per host user and meeting ([`RegistrationRecord`]) |
//! | [`WebhookInbox`] | verified raw webhook deliveries, deduplicated ([`RawWebhook`]) |
//! | [`AttendanceStore`] | instances, participant events, report rows, manual links, join clicks |
//! | [`JobQueue`] | background jobs with leases, retries and a dead state ([`Job`]) |
//! | [`Privacy`] | erasing one user's data |
//! | [`Store`] | all of the above (implemented automatically) |
//! | [`UserDirectory`] | read access to the host's own users ([`HostUser`]) |
//!
//! # Contracts
//!
//! Every method documents what `None` means, what a duplicate does and which errors it
//! returns. The rules shared by all of them:
//!
//! * **Lookups** return `Ok(None)` (or an empty `Vec`) when nothing matches; only writes that
//!   need an existing row fail with [`StoreError::NotFound`].
//! * **Idempotency** is part of the contract: duplicate webhooks, duplicate participant events,
//!   re-fetched reports, repeated registration attempts and re-enqueued jobs with a dedupe key
//!   leave the state of one clean pass. Uniqueness must hold under concurrency (use unique
//!   indexes and `ON CONFLICT`, not read-then-insert without a lock).
//! * **Errors**: [`StoreError::is_retryable`] is `true` only for
//!   [`StoreError::Unavailable`] (connection, pool, `database is locked`); `NotFound`,
//!   `Conflict`, `Corrupt` and `Backend` are not retryable.
//! * **Time** is always passed in (`now`, `at`, `received_at` ...): stores never read a clock,
//!   so behaviour is reproducible and testable. Times round-trip with at least microsecond
//!   precision.
//! * **Order** of list results is documented per method; "in any order" means callers sort.
//! * **No IP addresses** or user agents are stored anywhere.
//!
//! # Why `async-trait`
//!
//! The traits are async, and attend's service and the actix adapter hold the store as
//! `Arc<dyn Store>` (so handler and service types carry no storage type parameter). Native
//! `async fn` in traits is not dyn-compatible, and return-position `impl Future` cannot
//! require `Send` of implementors' futures in a way `dyn` can use. `#[async_trait]` turns each
//! method into one returning `Pin<Box<dyn Future + Send>>`: dyn-compatible, `Send`, at the
//! cost of one allocation per call, which is negligible next to a database round trip.
//! Implementors write `#[async_trait]` on their `impl` blocks too (the crate re-exports the
//! attribute as [`async_trait`](macro@async_trait)). A backend over a synchronous driver (such
//! as diesel) runs its queries in `tokio::task::spawn_blocking` inside those methods.
//!
//! # Implementing your own backend
//!
//! Implement the six storage traits on one type; [`Store`] then comes for free. Convert your
//! driver's errors into [`StoreError`], keeping them as the source, and classify connection
//! or lock errors as `Unavailable`. A compiled sketch of one trait over a `HashMap`:
//!
//! ```
//! use std::collections::HashMap;
//! use std::sync::Mutex;
//!
//! use attend_core::model::{AccountKey, GroupKey, MeetingId, ZoomMeetingId};
//! use attend_core::store::{
//!     async_trait, Entity, MeetingRecord, MeetingStore, StoreError, StoreResult,
//! };
//!
//! #[derive(Default)]
//! struct MapStore {
//!     meetings: Mutex<HashMap<MeetingId, MeetingRecord>>,
//! }
//!
//! impl MapStore {
//!     // A poisoned lock means a panic elsewhere: report it, do not panic again.
//!     fn meetings(
//!         &self,
//!     ) -> StoreResult<std::sync::MutexGuard<'_, HashMap<MeetingId, MeetingRecord>>> {
//!         self.meetings
//!             .lock()
//!             .map_err(|_| StoreError::backend("meeting map poisoned"))
//!     }
//! }
//!
//! #[async_trait]
//! impl MeetingStore for MapStore {
//!     async fn insert_meeting(&self, meeting: &MeetingRecord) -> StoreResult<()> {
//!         let mut map = self.meetings()?;
//!         let taken = map.values().any(|m| {
//!             m.account == meeting.account && m.zoom_meeting_id == meeting.zoom_meeting_id
//!         });
//!         if taken || map.contains_key(&meeting.id) {
//!             return Err(StoreError::conflict(Entity::Meeting, "meeting already linked"));
//!         }
//!         map.insert(meeting.id.clone(), meeting.clone());
//!         Ok(())
//!     }
//!
//!     async fn get_meeting(&self, id: &MeetingId) -> StoreResult<Option<MeetingRecord>> {
//!         Ok(self.meetings()?.get(id).cloned())
//!     }
//!
//!     async fn find_meeting(
//!         &self,
//!         account: &AccountKey,
//!         zoom_id: ZoomMeetingId,
//!     ) -> StoreResult<Option<MeetingRecord>> {
//!         let map = self.meetings()?;
//!         Ok(map
//!             .values()
//!             .find(|m| &m.account == account && m.zoom_meeting_id == zoom_id)
//!             .cloned())
//!     }
//!
//!     async fn find_meetings_by_zoom_id(
//!         &self,
//!         zoom_id: ZoomMeetingId,
//!     ) -> StoreResult<Vec<MeetingRecord>> {
//!         let mut found: Vec<_> = self
//!             .meetings()?
//!             .values()
//!             .filter(|m| m.zoom_meeting_id == zoom_id)
//!             .cloned()
//!             .collect();
//!         found.sort_by_key(|m| m.created_at);
//!         Ok(found)
//!     }
//!
//!     async fn list_meetings(&self, group: Option<&GroupKey>) -> StoreResult<Vec<MeetingRecord>> {
//!         let mut found: Vec<_> = self
//!             .meetings()?
//!             .values()
//!             .filter(|m| group.is_none_or(|g| &m.group == g))
//!             .cloned()
//!             .collect();
//!         found.sort_by_key(|m| m.created_at);
//!         Ok(found)
//!     }
//!
//!     async fn update_meeting(&self, meeting: &MeetingRecord) -> StoreResult<()> {
//!         let mut map = self.meetings()?;
//!         let taken = map.values().any(|m| {
//!             m.id != meeting.id
//!                 && m.account == meeting.account
//!                 && m.zoom_meeting_id == meeting.zoom_meeting_id
//!         });
//!         if taken {
//!             return Err(StoreError::conflict(Entity::Meeting, "meeting already linked"));
//!         }
//!         let stored = map
//!             .get_mut(&meeting.id)
//!             .ok_or(StoreError::not_found(Entity::Meeting))?;
//!         let created_at = stored.created_at;
//!         *stored = MeetingRecord { created_at, ..meeting.clone() };
//!         Ok(())
//!     }
//! }
//!
//! // ... and likewise `RegistrationStore`, `WebhookInbox`, `AttendanceStore`, `JobQueue`
//! // and `Privacy`. Then check every contract with the exported conformance suite
//! // (feature `testing`), from a test of your crate:
//! //
//! //     #[tokio::test(flavor = "multi_thread")]
//! //     async fn conformance() {
//! //         attend_core::testing::conformance::run(
//! //             || async { MyStore::connect_fresh().await },
//! //             attend_core::testing::conformance::Capabilities::default(),
//! //         )
//! //         .await;
//! //     }
//! # fn main() {
//! #     let store = MapStore::default();
//! #     let _: &dyn MeetingStore = &store;
//! # }
//! ```
//!
//! The in-memory `MemoryStore` of the `testing` feature is the reference implementation of
//! every contract: when in doubt, read it.

mod attendance;
mod directory;
mod error;
mod forward;
mod jobs;
mod meetings;
mod privacy;
mod registrations;
mod webhooks;

pub use async_trait::async_trait;

pub use self::attendance::{
    AttendanceStore, EvidenceRevision, InstanceRecord, InstanceUpdate, JoinClick, ManualLink,
    ReportRow, StoredEvent, merge_instance,
};
pub use self::directory::{DirectoryError, HostUser, UserDirectory};
pub use self::error::{BoxError, Entity, StoreError, StoreResult};
pub use self::jobs::{Backoff, Enqueued, Job, JobCounts, JobId, JobQueue, JobState, NewJob};
pub use self::meetings::{MeetingRecord, MeetingStore};
pub use self::privacy::{ErasureSummary, Privacy};
pub use self::registrations::{
    FailureReason, RegistrationCounts, RegistrationRecord, RegistrationStore,
};
pub use self::webhooks::{
    DEFAULT_WEBHOOK_BATCH, NewWebhook, RawWebhook, WebhookId, WebhookInbox, WebhookInsert,
    WebhookJob, WebhookStatus,
};

/// Everything attend stores: the six storage traits in one.
///
/// Implemented automatically for every type that implements all six, so backends never
/// implement it by hand. Every storage trait (and [`UserDirectory`]) is also implemented for
/// `Arc<T>`, forwarding to `T`, so `Arc<dyn Store>` is itself a `Store`. The service holds an `Arc<dyn Store>`; a `&dyn Store` can be passed
/// where a single capability (`&dyn JobQueue`, ...) is wanted.
pub trait Store:
    MeetingStore + RegistrationStore + WebhookInbox + AttendanceStore + JobQueue + Privacy + 'static
{
}

impl<T> Store for T where
    T: MeetingStore
        + RegistrationStore
        + WebhookInbox
        + AttendanceStore
        + JobQueue
        + Privacy
        + 'static
{
}
