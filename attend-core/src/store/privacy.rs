//! Erasing a host user's data: [`Privacy`].

use async_trait::async_trait;

use super::StoreResult;
use crate::model::UserId;

/// What [`Privacy::erase_user`] removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ErasureSummary {
    /// Registrations of the user (all meetings).
    pub registrations: u64,
    /// Join-link clicks of the user.
    pub join_clicks: u64,
    /// Manual links that pointed a participant at the user.
    pub manual_links: u64,
    /// Participant events tied to the user.
    pub participant_events: u64,
    /// Report rows tied to the user.
    pub report_rows: u64,
}

impl ErasureSummary {
    /// The number of rows removed in all.
    pub fn total(&self) -> u64 {
        self.registrations
            + self.join_clicks
            + self.manual_links
            + self.participant_events
            + self.report_rows
    }
}

/// Erasure of personal data (the retention purge of raw webhooks is
/// [`WebhookInbox::purge_webhook_bodies`](super::WebhookInbox::purge_webhook_bodies)).
#[async_trait]
pub trait Privacy: Send + Sync {
    /// Removes everything stored about host user `user`, atomically, and returns what was
    /// removed:
    ///
    /// * the user's registrations, join-link clicks, and the manual links pointing at them;
    /// * participant events and report rows tied to them: in the meetings they were registered
    ///   for, those whose hints carry one of their registrant ids, or their registrant email
    ///   (ASCII case-insensitively); in any meeting, those whose `customer_key` is the user id,
    ///   or whose email equals one of `emails` (ASCII case-insensitively; the service passes the
    ///   host user's own email here).
    ///
    /// Data of other users is untouched. Erasing an unknown user, or erasing twice, succeeds
    /// and returns all zeros the second time. Jobs and raw webhook bodies are not searched:
    /// raw bodies expire by retention.
    async fn erase_user(&self, user: &UserId, emails: &[String]) -> StoreResult<ErasureSummary>;
}
