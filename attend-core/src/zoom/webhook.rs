//! One-call webhook intake: verify, answer `endpoint.url_validation`, or hand back the event
//! with its dedupe key for storing.

use chrono::{DateTime, Utc};

use super::events::{
    DedupeKey, EventParseError, WebhookEvent, ZoomEvent, parse_event, tree_dedupe_key,
};
use super::signature::{
    UrlValidationResponse, VerifiedWebhook, VerifyError, WebhookHeaders, WebhookVerifier,
};
use super::skim::Skim;

/// What to do with a verified delivery.
#[derive(Debug)]
pub enum WebhookIntake {
    /// `endpoint.url_validation`: answer 200 with this JSON body. Nothing needs storing.
    UrlValidation {
        /// Who signed the request.
        verified: VerifiedWebhook,
        /// The body to answer with.
        response: UrlValidationResponse,
    },
    /// Any other delivery: store `body` under `dedupe_key` (a duplicate key means Zoom
    /// redelivered an event already stored: answer 200 without storing it again), then
    /// answer 200. If `event` is an error the body is stored anyway and flagged.
    Event {
        /// Who signed the request.
        verified: VerifiedWebhook,
        /// The key to store the raw body under.
        dedupe_key: DedupeKey,
        /// The event's name (`"meeting.participant_joined"`, or any name attend does not
        /// type) if the body parses as [`parse_event`] parses it, or why it does not. The
        /// event itself is read when the stored delivery is processed.
        event_name: Result<String, EventParseError>,
    },
}

impl WebhookVerifier {
    /// Verifies a delivery (see [`WebhookVerifier::verify`]) and classifies it.
    ///
    /// An error means the request is not a trustworthy Zoom delivery: answer 401. A correctly
    /// signed body that does not parse is **not** an error here (it comes back as
    /// [`WebhookIntake::Event`] with `event_name: Err(..)`), because Zoom would drop the
    /// event for good on any 4xx.
    pub fn intake(
        &self,
        headers: WebhookHeaders<'_>,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<WebhookIntake, VerifyError> {
        let verified = self.verify(headers, body, now)?;
        // Most deliveries are participant events: read them without a JSON tree. What the
        // fast path leaves (see `skim`) is read below, with the same outcome.
        let skim = Skim::read(body);
        let mut skimmed_key = skim.as_ref().and_then(Skim::dedupe_key);
        if let Some(skim) = &skim
            && skim.event().is_some()
            && let Some(dedupe_key) = skimmed_key.take()
        {
            return Ok(WebhookIntake::Event {
                verified,
                dedupe_key,
                event_name: Ok(skim.name().to_owned()),
            });
        }
        let event = parse_event(body);
        if let Ok(WebhookEvent {
            event: ZoomEvent::UrlValidation { plain_token },
            ..
        }) = &event
        {
            let response = verified.url_validation_response(plain_token);
            return Ok(WebhookIntake::UrlValidation { verified, response });
        }
        // The skim's key where it read one (the tree's key, without a second tree).
        let dedupe_key = match (&event, skimmed_key) {
            (_, Some(key)) => key,
            (Ok(parsed), None) => parsed.dedupe_key(),
            (Err(_), None) => tree_dedupe_key(body),
        };
        Ok(WebhookIntake::Event {
            verified,
            dedupe_key,
            event_name: event.map(|event| event.name),
        })
    }
}
