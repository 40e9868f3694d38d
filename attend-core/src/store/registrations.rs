//! Registrations of host users at Zoom: [`RegistrationRecord`] and [`RegistrationStore`].

use std::fmt;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreResult;
use crate::model::{MeetingId, RegistrantId, RegistrationStatus, UserId};

/// Why a registration failed (or was last deferred): a stable code and a readable message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FailureReason {
    /// A stable snake_case code (e.g. `zoom_rejected`, `rate_limited`).
    pub code: String,
    /// A human readable explanation (no secrets, no tokens).
    pub message: String,
}

impl FailureReason {
    /// Builds a reason from a code and a message.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            message: message.into(),
        }
    }
}

/// The registration of one host user for one meeting: one row per `(meeting, user)`.
///
/// `Debug` redacts `join_url`: Zoom's personal join link lets its holder in as the user.
#[derive(Clone, PartialEq)]
pub struct RegistrationRecord {
    /// The meeting.
    pub meeting: MeetingId,
    /// The host user.
    pub user: UserId,
    /// Where the registration stands.
    pub status: RegistrationStatus,
    /// Zoom's registrant id, once Zoom created the registrant. Unique within a meeting.
    pub registrant_id: Option<RegistrantId>,
    /// Zoom's personal `join_url` for this registrant (a credential: never log it).
    pub join_url: Option<String>,
    /// The email the registrant was created with at Zoom (the user's own or a synthetic one).
    pub registrant_email: Option<String>,
    /// When Zoom confirmed the registrant.
    pub registered_at: Option<DateTime<Utc>>,
    /// The last failure, if any.
    pub error: Option<FailureReason>,
    /// How many times attend asked Zoom for this registrant.
    pub attempts: u32,
    /// When the next attempt is due (set when deferred by a rate limit or a retryable error).
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// When the row was created; never changes.
    pub created_at: DateTime<Utc>,
    /// When the row was last written.
    pub updated_at: DateTime<Utc>,
}

impl RegistrationRecord {
    /// A fresh `Pending` row with no attempts, as
    /// [`ensure_pending_registration`](RegistrationStore::ensure_pending_registration) creates
    /// it.
    pub fn pending(meeting: MeetingId, user: UserId, now: DateTime<Utc>) -> Self {
        Self {
            meeting,
            user,
            status: RegistrationStatus::Pending,
            registrant_id: None,
            join_url: None,
            registrant_email: None,
            registered_at: None,
            error: None,
            attempts: 0,
            next_attempt_at: None,
            created_at: now,
            updated_at: now,
        }
    }
}

impl fmt::Debug for RegistrationRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegistrationRecord")
            .field("meeting", &self.meeting)
            .field("user", &self.user)
            .field("status", &self.status)
            .field("registrant_id", &self.registrant_id)
            .field("join_url", &self.join_url.as_ref().map(|_| "<redacted>"))
            .field("registrant_email", &self.registrant_email)
            .field("registered_at", &self.registered_at)
            .field("error", &self.error)
            .field("attempts", &self.attempts)
            .field("next_attempt_at", &self.next_attempt_at)
            .field("created_at", &self.created_at)
            .field("updated_at", &self.updated_at)
            .finish()
    }
}

/// How many registrations of a meeting are in each status.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RegistrationCounts {
    /// `Registered` rows.
    pub registered: u64,
    /// `Pending` rows.
    pub pending: u64,
    /// `Failed` rows.
    pub failed: u64,
    /// `Cancelled` rows.
    pub cancelled: u64,
}

impl RegistrationCounts {
    /// The count for one status.
    pub fn get(&self, status: RegistrationStatus) -> u64 {
        match status {
            RegistrationStatus::Registered => self.registered,
            RegistrationStatus::Pending => self.pending,
            RegistrationStatus::Failed => self.failed,
            RegistrationStatus::Cancelled => self.cancelled,
        }
    }

    /// Adds one row of `status` (a helper for backends that count in Rust).
    pub fn add(&mut self, status: RegistrationStatus) {
        match status {
            RegistrationStatus::Registered => self.registered += 1,
            RegistrationStatus::Pending => self.pending += 1,
            RegistrationStatus::Failed => self.failed += 1,
            RegistrationStatus::Cancelled => self.cancelled += 1,
        }
    }

    /// The number of rows in all statuses.
    pub fn total(&self) -> u64 {
        self.registered + self.pending + self.failed + self.cancelled
    }
}

/// Storage of registrations.
///
/// Emails are compared ASCII case-insensitively (`Ana@X.org` = `ana@x.org`); whether non-ASCII
/// letters are case-folded is up to the backend. Backends usually store a lower-cased copy of
/// the email for that. All methods are safe to call concurrently; only `Unavailable` errors are
/// retryable.
#[async_trait]
pub trait RegistrationStore: Send + Sync {
    /// The idempotency anchor of registration: creates the `(meeting, user)` row as
    /// [`RegistrationRecord::pending`]`(meeting, user, now)` if there is none, and returns the
    /// stored row either way (an existing row is returned unchanged, whatever its status).
    ///
    /// Never creates a second row: any number of concurrent calls for the same pair leave
    /// exactly one row and all return it. `NotFound` if the meeting does not exist.
    async fn ensure_pending_registration(
        &self,
        meeting: &MeetingId,
        user: &UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<RegistrationRecord>;

    /// Replaces the `(record.meeting, record.user)` row with `record`, every field except
    /// `created_at`.
    ///
    /// `NotFound` if the row does not exist (create it with
    /// [`ensure_pending_registration`](Self::ensure_pending_registration) first); `Conflict`
    /// (nothing changed) if `registrant_id` is already used by another user's row of the same
    /// meeting. Concurrent updates of one row: the last write wins.
    async fn update_registration(&self, record: &RegistrationRecord) -> StoreResult<()>;

    /// The registration of `user` for `meeting`; `None` if there is none.
    async fn get_registration(
        &self,
        meeting: &MeetingId,
        user: &UserId,
    ) -> StoreResult<Option<RegistrationRecord>>;

    /// All registrations of a meeting, in any order; empty if none (or no such meeting).
    async fn list_registrations(&self, meeting: &MeetingId)
    -> StoreResult<Vec<RegistrationRecord>>;

    /// How many registrations of a meeting are in each status (all zero for an unknown
    /// meeting).
    async fn count_registrations(&self, meeting: &MeetingId) -> StoreResult<RegistrationCounts>;

    /// The registration of `meeting` whose Zoom registrant id is `registrant_id`; `None` if no
    /// row has it.
    async fn find_registration_by_registrant_id(
        &self,
        meeting: &MeetingId,
        registrant_id: &RegistrantId,
    ) -> StoreResult<Option<RegistrationRecord>>;

    /// The registrations of `meeting` whose `registrant_email` equals `email` (ASCII
    /// case-insensitively), in any order; empty if none. Usually one; several means the email
    /// is ambiguous.
    async fn find_registrations_by_email(
        &self,
        meeting: &MeetingId,
        email: &str,
    ) -> StoreResult<Vec<RegistrationRecord>>;

    /// Every registration of `user`, across meetings, in any order; empty if none.
    async fn list_user_registrations(&self, user: &UserId) -> StoreResult<Vec<RegistrationRecord>>;
}
