//! The durable inbox of raw Zoom webhook deliveries: [`RawWebhook`] and [`WebhookInbox`].

use std::fmt;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{NewJob, StoreError, StoreResult};
use crate::model::AccountKey;

/// The id a store gives a stored webhook delivery.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct WebhookId(pub i64);

impl fmt::Display for WebhookId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Where a stored webhook stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WebhookStatus {
    /// Stored, not processed yet (including after a failed attempt that will be retried).
    Received,
    /// Processed successfully.
    Processed,
    /// Processing gave up; see `failure`.
    Failed,
    /// Correctly signed but could not be parsed; kept for inspection, never processed.
    Unparseable,
}

impl WebhookStatus {
    /// The snake_case name used in storage.
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookStatus::Received => "received",
            WebhookStatus::Processed => "processed",
            WebhookStatus::Failed => "failed",
            WebhookStatus::Unparseable => "unparseable",
        }
    }
}

/// A verified webhook delivery to store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewWebhook {
    /// The Zoom account whose secret verified the signature.
    pub account: AccountKey,
    /// The dedupe key (unique per account), e.g. a hash of the raw body. Zoom's retries of
    /// one event must produce the same key.
    pub dedupe_key: String,
    /// The `event` field (`meeting.participant_joined`, ...), or `"unknown"` if unparseable.
    pub event_type: String,
    /// When attend received it.
    pub received_at: DateTime<Utc>,
    /// The exact raw body bytes that were verified.
    pub body: Vec<u8>,
    /// Store as [`WebhookStatus::Unparseable`] right away (signed, but not valid JSON or not a
    /// Zoom event).
    pub unparseable: bool,
}

/// A stored webhook delivery.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawWebhook {
    /// The store's id.
    pub id: WebhookId,
    /// See [`NewWebhook::account`].
    pub account: AccountKey,
    /// See [`NewWebhook::dedupe_key`].
    pub dedupe_key: String,
    /// See [`NewWebhook::event_type`].
    pub event_type: String,
    /// See [`NewWebhook::received_at`].
    pub received_at: DateTime<Utc>,
    /// The raw body; `None` once purged by retention
    /// ([`purge_webhook_bodies`](WebhookInbox::purge_webhook_bodies)).
    pub body: Option<Vec<u8>>,
    /// Where it stands.
    pub status: WebhookStatus,
    /// When it was marked processed, failed or unparseable after insertion.
    pub processed_at: Option<DateTime<Utc>>,
    /// Why processing failed or parsing was impossible.
    pub failure: Option<String>,
}

/// The outcome of [`WebhookInbox::insert_webhook`] and
/// [`WebhookInbox::insert_webhook_with_job`]. A duplicate is not an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WebhookInsert {
    /// The delivery was new and is now stored under this id.
    Inserted(WebhookId),
    /// A delivery with the same `(account, dedupe_key)` was already stored under this id;
    /// nothing was changed.
    Duplicate(WebhookId),
}

impl WebhookInsert {
    /// The id of the stored delivery, new or existing.
    pub fn id(self) -> WebhookId {
        match self {
            WebhookInsert::Inserted(id) | WebhookInsert::Duplicate(id) => id,
        }
    }

    /// Whether this call stored the delivery.
    pub fn is_new(self) -> bool {
        matches!(self, WebhookInsert::Inserted(_))
    }
}

/// The processing job that [`WebhookInbox::insert_webhook_with_job`] queues with a new
/// delivery.
///
/// The job names the delivery, whose id the store only learns inside its transaction, so this
/// is a template: a [`NewJob`] with everything that does not depend on the id (kind, `run_at`,
/// `max_attempts`, ...), and a plain function that completes it for the new id (typically the
/// payload and the dedupe key). The function is a `fn` pointer, not a closure: it captures
/// nothing, so a store may call it on any thread and more than once (a transaction that is
/// retried), always with the same result.
///
/// ```
/// use attend_core::store::{NewJob, WebhookId, WebhookJob};
///
/// fn process(template: NewJob, id: WebhookId) -> NewJob {
///     NewJob {
///         payload: serde_json::json!({ "webhook": id.0 }),
///         ..template
///     }
///     .with_dedupe_key(format!("webhook:{id}"))
/// }
///
/// let job = WebhookJob::new(
///     NewJob::new("process_webhook", serde_json::Value::Null, chrono::Utc::now()),
///     process,
/// );
/// let new = job.for_webhook(WebhookId(7));
/// assert_eq!(new.payload["webhook"], 7);
/// assert_eq!(new.dedupe_key.as_deref(), Some("webhook:7"));
/// ```
///
/// A store that commits several deliveries in one transaction (group commit) may queue one job
/// for all of them instead, if the template has a *group form*
/// ([`with_group`](Self::with_group)): [`for_webhooks`](Self::for_webhooks) says which jobs
/// to queue for the deliveries of one transaction.
///
/// ```
/// use attend_core::store::{NewJob, WebhookId, WebhookJob};
///
/// fn one(template: NewJob, id: WebhookId) -> NewJob {
///     NewJob { payload: serde_json::json!({ "webhook": id.0 }), ..template }
/// }
/// fn many(template: NewJob, ids: &[WebhookId]) -> NewJob {
///     let ids: Vec<i64> = ids.iter().map(|id| id.0).collect();
///     NewJob { payload: serde_json::json!({ "webhooks": ids }), ..template }
/// }
///
/// let run_at = chrono::Utc::now();
/// let plain = WebhookJob::new(NewJob::new("process", serde_json::Value::Null, run_at), one);
/// let grouped = plain.clone().with_group(many);
/// let ids = [WebhookId(7), WebhookId(8)];
/// assert_eq!(plain.for_webhooks(&ids).len(), 2);
/// let jobs = grouped.for_webhooks(&ids);
/// assert_eq!(jobs.len(), 1);
/// assert_eq!(jobs[0].payload["webhooks"], serde_json::json!([7, 8]));
/// // A lone delivery always gets the job of its own.
/// assert_eq!(grouped.for_webhooks(&ids[..1]), vec![grouped.for_webhook(WebhookId(7))]);
/// ```
#[derive(Clone, Debug)]
pub struct WebhookJob {
    template: NewJob,
    bind: fn(NewJob, WebhookId) -> NewJob,
    group: Option<fn(NewJob, &[WebhookId]) -> NewJob>,
}

impl WebhookJob {
    /// A job template: `bind(template, id)` is the job to queue for the delivery stored under
    /// `id`. It has no group form: every delivery gets its own job.
    pub fn new(template: NewJob, bind: fn(NewJob, WebhookId) -> NewJob) -> Self {
        Self {
            template,
            bind,
            group: None,
        }
    }

    /// Adds a group form: `group(template, ids)` is one job that processes every delivery of
    /// `ids` (two or more, in the order they were stored). Like `bind`, a plain function
    /// that captures nothing and gives the same job for the same input.
    #[must_use]
    pub fn with_group(mut self, group: fn(NewJob, &[WebhookId]) -> NewJob) -> Self {
        self.group = Some(group);
        self
    }

    /// The template, before the delivery's id is filled in.
    pub fn template(&self) -> &NewJob {
        &self.template
    }

    /// The job to queue for the delivery stored under `id`.
    pub fn for_webhook(&self, id: WebhookId) -> NewJob {
        (self.bind)(self.template.clone(), id)
    }

    /// The jobs to queue for the new deliveries `ids` stored in one transaction: one job
    /// naming them all if the template has a group form and there are two or more, otherwise
    /// [`for_webhook`](Self::for_webhook) of each, in order. Empty for no ids.
    pub fn for_webhooks(&self, ids: &[WebhookId]) -> Vec<NewJob> {
        match (self.group, ids) {
            (_, []) => Vec::new(),
            (Some(group), [_, _, ..]) => vec![group(self.template.clone(), ids)],
            _ => ids.iter().map(|&id| self.for_webhook(id)).collect(),
        }
    }

    /// Whether deliveries queued with `self` and with `other` may share one group job (made
    /// from either): both have a group form and their templates agree in everything but
    /// `run_at`.
    pub fn groups_with(&self, other: &WebhookJob) -> bool {
        let (a, b) = (&self.template, &other.template);
        self.group.is_some()
            && other.group.is_some()
            && a.kind == b.kind
            && a.payload == b.payload
            && a.dedupe_key == b.dedupe_key
            && a.max_attempts == b.max_attempts
    }
}

/// [`WebhookInbox::webhook_batch_size`] unless a store says otherwise.
pub const DEFAULT_WEBHOOK_BATCH: usize = 16;

/// The durable inbox of verified webhook deliveries.
///
/// The HTTP receiver acknowledges Zoom only after
/// [`insert_webhook_with_job`](Self::insert_webhook_with_job) (or
/// [`insert_webhook`](Self::insert_webhook)) returned `Ok`, so an `Ok` must mean *committed*. An `Unavailable` error becomes a 503, which
/// makes Zoom retry. All methods are safe to call concurrently.
#[async_trait]
pub trait WebhookInbox: Send + Sync {
    /// Stores a delivery durably, unless one with the same `(account, dedupe_key)` exists.
    ///
    /// Returns `Inserted(id)` for a new delivery (status `Received`, or `Unparseable` if
    /// `unparseable` is set) and `Duplicate(existing id)` otherwise; a duplicate changes
    /// nothing, whatever its body or flags. Any number of concurrent inserts of one key leave
    /// exactly one row: one call gets `Inserted`, the others `Duplicate` of the same id.
    async fn insert_webhook(&self, webhook: &NewWebhook) -> StoreResult<WebhookInsert>;

    /// Stores a delivery as [`insert_webhook`](Self::insert_webhook) does and, in the same
    /// transaction, queues its processing job, so that no committed delivery is ever left
    /// without one (the webhook receiver's write).
    ///
    /// * **New and parseable** (`Inserted(id)`, `unparseable` not set): also enqueues
    ///   `job.for_webhook(id)` exactly as [`JobQueue::enqueue_job`](super::JobQueue::enqueue_job)
    ///   with `now` would: a `Ready` job, unless its dedupe key is held by an unfinished
    ///   (`Ready` or `Running`) job, in which case no job is added.
    /// * **New and unparseable**: stored as `Unparseable`, no job.
    /// * **Duplicate** (`Duplicate(existing id)`): nothing changes, no job is queued (the
    ///   first delivery got its own), whatever the body or flags.
    ///
    /// A store that commits concurrent calls in one transaction may instead queue
    /// [`job.for_webhooks(ids)`](WebhookJob::for_webhooks) for the new, parseable deliveries
    /// among them whose templates [group with](WebhookJob::groups_with) each other (one job
    /// naming them all, with the earliest `run_at` of theirs). Either way, every new parseable
    /// delivery is named by exactly one job queued in the transaction that stored it.
    ///
    /// `Ok` means the delivery and its job are both committed; an error means neither was
    /// stored (the caller answers 503 and Zoom retries). Concurrent calls for one key leave
    /// exactly one row and at most one job, as for `insert_webhook`.
    async fn insert_webhook_with_job(
        &self,
        webhook: &NewWebhook,
        job: &WebhookJob,
        now: DateTime<Utc>,
    ) -> StoreResult<WebhookInsert>;

    /// The stored delivery; `None` if there is none.
    async fn get_webhook(&self, id: WebhookId) -> StoreResult<Option<RawWebhook>>;

    /// The stored deliveries among `ids`, in any order; an id with no delivery is left out
    /// (so the result may be shorter than `ids`, and is empty for an empty `ids`). Repeated ids
    /// may appear once or repeatedly.
    ///
    /// The worker reads a claimed batch of deliveries with one call. The default calls
    /// [`get_webhook`](Self::get_webhook) for each id; SQL stores read them in one query.
    async fn get_webhooks(&self, ids: &[WebhookId]) -> StoreResult<Vec<RawWebhook>> {
        let mut found = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(webhook) = self.get_webhook(*id).await? {
                found.push(webhook);
            }
        }
        Ok(found)
    }

    /// Marks a delivery `Processed` at `now` and clears `failure`. Idempotent (marking again
    /// succeeds). `NotFound` if there is no such delivery.
    async fn mark_webhook_processed(&self, id: WebhookId, now: DateTime<Utc>) -> StoreResult<()>;

    /// [`mark_webhook_processed`](Self::mark_webhook_processed) for each of `ids`, and how many
    /// deliveries were marked. An id with no delivery is skipped (not an error, not counted).
    /// On error, some of the deliveries may have been marked and others not (marking again is
    /// harmless).
    ///
    /// The default marks them one by one; SQL stores write one statement.
    async fn mark_webhooks_processed(
        &self,
        ids: &[WebhookId],
        now: DateTime<Utc>,
    ) -> StoreResult<u64> {
        let mut marked = 0;
        for id in ids {
            match self.mark_webhook_processed(*id, now).await {
                Ok(()) => marked += 1,
                Err(StoreError::NotFound { .. }) => {}
                Err(err) => return Err(err),
            }
        }
        Ok(marked)
    }

    /// Marks a delivery `Failed` at `now` with `reason` (processing gave up). Marking again
    /// overwrites the reason. `NotFound` if there is no such delivery.
    async fn mark_webhook_failed(
        &self,
        id: WebhookId,
        reason: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;

    /// Marks a delivery `Unparseable` at `now` with `reason`. `NotFound` if there is no such
    /// delivery.
    async fn mark_webhook_unparseable(
        &self,
        id: WebhookId,
        reason: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;

    /// Up to `limit` deliveries still in status `Received` that were received strictly before
    /// `received_before`, oldest first (ties by id): for recovery of deliveries stored without
    /// a job (by [`insert_webhook`](Self::insert_webhook), or by an older version that stored
    /// and queued in two transactions), and for processing outside the job queue. Empty if
    /// none.
    async fn list_unprocessed_webhooks(
        &self,
        received_before: DateTime<Utc>,
        limit: usize,
    ) -> StoreResult<Vec<RawWebhook>>;

    /// Retention: drops the body of every delivery received strictly before `older_than`,
    /// whatever its status, and returns how many bodies were dropped. Rows, statuses and
    /// dedupe keys stay (so a late Zoom retry is still recognized as a duplicate). Calling it
    /// again drops nothing more and returns 0.
    ///
    /// The worker calls it at every sweep, so its cost should not grow with the deliveries
    /// already purged, and a store that serializes writers should drop bodies in batches of
    /// their own transactions rather than hold every other writer for the whole purge (a
    /// batch committed before a failure stays dropped; the next call takes the rest).
    async fn purge_webhook_bodies(&self, older_than: DateTime<Utc>) -> StoreResult<u64>;

    /// How many deliveries the worker should process together: one read of them, one insert
    /// of their participant events, one "processed" mark per batch. A hint, clamped to
    /// 1..=256 by the worker; the default, 16, suits a store that serializes writers (a
    /// larger batch holds every other writer, acknowledgements included, for longer). A store
    /// where each statement is a round trip and writers run side by side gains from larger
    /// batches (fewer statements per delivery).
    fn webhook_batch_size(&self) -> usize {
        DEFAULT_WEBHOOK_BATCH
    }
}
