//! The attend service: every flow of DESIGN.md "Data flow" behind one handle, [`Attend`].
//!
//! Framework-agnostic: an HTTP adapter (attend-actix) authenticates, parses requests, calls
//! one method here and maps the result (every return type serializes to API.md's JSON) or
//! the [`ServiceError`] (which names its HTTP status and stable code).
//!
//! | flow | methods |
//! |---|---|
//! | meetings | [`link_meeting`](Attend::link_meeting), [`get_meeting`](Attend::get_meeting), [`list_meetings`](Attend::list_meetings), [`update_meeting`](Attend::update_meeting) |
//! | registration | [`register_users`](Attend::register_users), [`registrations`](Attend::registrations), [`registration`](Attend::registration), [`cancel_registration`](Attend::cancel_registration), [`watch_registrations`](Attend::watch_registrations) |
//! | join links | [`join_link`](Attend::join_link), [`open_join_link`](Attend::open_join_link) |
//! | webhooks | [`ingest_webhook`](Attend::ingest_webhook) (the 3-second path), [`process_pending`](Attend::process_pending) |
//! | reconciliation | [`request_reconcile`](Attend::request_reconcile), [`reconcile_now`](Attend::reconcile_now) |
//! | queries | [`instances`](Attend::instances), [`attendance`](Attend::attendance), [`attendance_csv`](Attend::attendance_csv), [`live`](Attend::live), [`unmatched`](Attend::unmatched), [`link_participant`](Attend::link_participant), [`user_history`](Attend::user_history) |
//! | privacy | [`erase_user`](Attend::erase_user), [`purge_expired`](Attend::purge_expired) |
//! | background work | [`run_worker`](Attend::run_worker) (spawn once per process), [`run_pending_jobs`](Attend::run_pending_jobs), [`drain`](Attend::drain) |
//!
//! # Background work
//!
//! Everything slow or retryable runs as a job in the store's [`JobQueue`](crate::store::JobQueue):
//! processing stored webhooks, registering large lists, pulling reports, finalizing
//! instances without reports, deleting registrants of erased users. A host spawns
//! [`Attend::run_worker`] once per process (several processes on one database share the
//! queue safely); tests and demos call [`Attend::drain`] instead.
//!
//! # Known limits
//!
//! * Self-registrations of restricted meetings and webinars are auto-denied only when the
//!   `meeting.registration_created` / `webinar.registration_created` webhook arrives (the
//!   Zoom app must subscribe to it); a missed event leaves the registrant pending.
//! * Recurring meetings register users for all occurrences (Zoom's default); per-occurrence
//!   registration (`registration_type` 2/3) is not modelled.
//! * [`Attend::user_history`] covers the meetings a user is registered for; meetings where
//!   they were only matched by email or by hand are not searched.
//! * A short list is registered inline only while no `register` job is queued anywhere;
//!   otherwise it joins the background job. Two *processes* registering the same user at the
//!   same instant could both call Zoom; Zoom answers the same registrant for the same email,
//!   so this costs quota, not a duplicate.
//!
//! # Observability
//!
//! `tracing` spans per operation (ids only: never tokens, secrets, join URLs or emails) and
//! `metrics` counters/histograms (no labels with personal data). attend only records them:
//! install the exporter of your choice as the `metrics` recorder (the example app serves
//! them as Prometheus text at `GET /metrics`, with `attend_actix`'s HTTP request metrics).
//!
//! | metric | labels | what |
//! |---|---|---|
//! | `attend_webhooks_total` | `outcome` = `stored`, `duplicate`, `unparseable`, `url_validation`, `bad_signature`, `too_large`, `store_failed` | webhook deliveries and how they were answered |
//! | `attend_webhook_processing_lag_seconds` | | histogram: from receipt to processed |
//! | `attend_registrations_total` | `outcome` = `registered`, `adopted`, `failed`, `cancelled`, `self_registration_denied` | registrations |
//! | `attend_zoom_calls_total` | `op`, `outcome` = `ok`/`error` | Zoom REST calls made by the service |
//! | `attend_zoom_429_total` | `op` | calls that ended in a rate limit (after the client's own retries) |
//! | `attend_zoom_rate_limited_total` | `kind` = `qps`/`daily` | rate limits the registration run waited out or deferred for |
//! | `attend_jobs_total` | `kind`, `outcome` = `done`/`deferred`/`failed` | background jobs |
//! | `attend_join_clicks_total` | | personal join links opened |
//! | `attend_live_checks_total` | `outcome` = `ended` (Zoom had a report: now `final`), `ended_without_report` (Zoom lists it as ended, without a report: `final` from webhooks), `still_live`, `final_without_report` (the last check) | checks of instances live long after attend first saw them ([`ReconcileOptions::live_check_after`]) |

mod clock;
mod config;
mod error;
mod types;
mod zoom_glue;

mod jobs;
mod meetings;
mod privacy;
mod queries;
mod reconcile;
mod registration;
mod roster_cache;
mod webhooks;
mod worker;

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, TimeDelta, Utc};
use tokio::sync::watch;

pub use self::clock::{Clock, ManualClock, SystemClock};
pub use self::config::{
    AttendBuilder, BuildError, DEFAULT_WEBHOOK_BODY_LIMIT, ReconcileOptions, RegistrationOptions,
    RetentionOptions, WorkerOptions, ZoomAccount,
};
pub use self::error::{Missing, STORAGE_RETRY_AFTER, ServiceError, ZOOM_RETRY_AFTER};
pub use self::jobs::ReconcileOutcome;
pub use self::roster_cache::DEFAULT_ROSTER_CACHE_ROWS;
pub use self::types::{
    Attendance, Counts, CreateMeeting, Erasure, ErrorInfo, Instance, InstanceList, JobRunReport,
    JoinLink, JoinRedirect, LinkMeeting, LiveParticipant, LiveView, Meeting, MeetingPatch,
    PolicyPatch, ReconcileQueued, RegisterOutcome, Registration, RegistrationList,
    RegistrationProgress, UnmatchedList, UserAttendanceRecord, UserHistory, WebhookAck,
};
pub use self::webhooks::ProcessReport;

use crate::join_token::JoinTokens;
use crate::model::{AccountKey, MeetingId, Policy};
use crate::store::{Store, UserDirectory};
use crate::zoom::WebhookVerifier;

use self::zoom_glue::AccountRuntime;

/// The attend service. Cheap to clone (an `Arc` inside); share one per process.
///
/// Build it with [`Attend::builder`].
#[derive(Clone)]
pub struct Attend {
    inner: Arc<Inner>,
}

impl fmt::Debug for Attend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Attend")
            .field("accounts", &self.inner.accounts.keys().collect::<Vec<_>>())
            .field("link_base", &self.inner.link_base)
            .finish_non_exhaustive()
    }
}

pub(crate) struct Inner {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) directory: Arc<dyn UserDirectory>,
    pub(crate) accounts: std::collections::BTreeMap<AccountKey, AccountRuntime>,
    pub(crate) default_account: AccountKey,
    pub(crate) verifier: WebhookVerifier,
    pub(crate) join_tokens: JoinTokens,
    pub(crate) link_base: String,
    pub(crate) mount_prefix: String,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) default_policy: Policy,
    pub(crate) registration: RegistrationOptions,
    pub(crate) reconcile: ReconcileOptions,
    pub(crate) worker: WorkerOptions,
    pub(crate) retention: RetentionOptions,
    pub(crate) webhook_body_limit: usize,
    pub(crate) join_link_ttl: TimeDelta,
    pub(crate) roster_cache: roster_cache::RosterCache,
    /// Webhook deliveries of this process waiting for their commit now (the receiver's load,
    /// which the worker yields to: `WorkerOptions::yield_to_ingest`).
    pub(crate) ingesting: std::sync::atomic::AtomicUsize,
    pub(crate) progress: Mutex<HashMap<MeetingId, watch::Sender<RegistrationProgress>>>,
    pub(crate) registration_locks: Mutex<HashMap<MeetingId, Arc<tokio::sync::Mutex<()>>>>,
}

impl Attend {
    /// A builder with every default set; see [`AttendBuilder`] for what is required.
    pub fn builder() -> AttendBuilder {
        AttendBuilder::default()
    }

    pub(crate) fn from_inner(inner: Inner) -> Self {
        Self {
            inner: Arc::new(inner),
        }
    }

    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.inner.clock.now()
    }

    /// The largest webhook body accepted (bytes); larger ones get
    /// [`ServiceError::PayloadTooLarge`]. Adapters should refuse them before reading them all.
    pub fn webhook_body_limit(&self) -> usize {
        self.inner.webhook_body_limit
    }

    /// Where the host mounts attend's routes, as given to
    /// [`AttendBuilder::mount_prefix`] without a trailing `/` (`"/attend"`; `""` for the
    /// application root). Personal join links are built from it, so an HTTP adapter must
    /// mount its routes at exactly this prefix.
    pub fn mount_prefix(&self) -> &str {
        &self.inner.mount_prefix
    }

    /// The default attendance policy of new meetings.
    pub fn default_policy(&self) -> &Policy {
        &self.inner.default_policy
    }

    /// The store the service uses (for host-side reports and tests).
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }

    /// The user directory the service uses.
    pub fn directory(&self) -> &Arc<dyn UserDirectory> {
        &self.inner.directory
    }
}
