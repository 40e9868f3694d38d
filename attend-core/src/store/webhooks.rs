//! The durable inbox of raw Zoom webhook deliveries: [`RawWebhook`] and [`WebhookInbox`].

use std::fmt;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::StoreResult;
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

/// The outcome of [`WebhookInbox::insert_webhook`]. A duplicate is not an error.
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

/// The durable inbox of verified webhook deliveries.
///
/// The HTTP receiver acknowledges Zoom only after [`insert_webhook`](Self::insert_webhook)
/// returned `Ok`, so an `Ok` must mean *committed*. An `Unavailable` error becomes a 503, which
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

    /// The stored delivery; `None` if there is none.
    async fn get_webhook(&self, id: WebhookId) -> StoreResult<Option<RawWebhook>>;

    /// Marks a delivery `Processed` at `now` and clears `failure`. Idempotent (marking again
    /// succeeds). `NotFound` if there is no such delivery.
    async fn mark_webhook_processed(&self, id: WebhookId, now: DateTime<Utc>) -> StoreResult<()>;

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
    /// `received_before`, oldest first (ties by id): for recovery after a crash between storing
    /// and queueing. Empty if none.
    async fn list_unprocessed_webhooks(
        &self,
        received_before: DateTime<Utc>,
        limit: usize,
    ) -> StoreResult<Vec<RawWebhook>>;

    /// Retention: drops the body of every delivery received strictly before `older_than`,
    /// whatever its status, and returns how many bodies were dropped. Rows, statuses and
    /// dedupe keys stay (so a late Zoom retry is still recognized as a duplicate). Calling it
    /// again drops nothing more and returns 0.
    async fn purge_webhook_bodies(&self, older_than: DateTime<Utc>) -> StoreResult<u64>;
}
