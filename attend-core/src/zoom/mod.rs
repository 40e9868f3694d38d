//! Everything Zoom-specific: webhook verification and parsing, the REST client with
//! Server-to-Server OAuth and rate limits.
//!
//! * [`signature`] — `x-zm-signature` verification, replay window, rotation, several accounts,
//!   the `endpoint.url_validation` answer.
//! * [`events`] — typed webhook events, their normalization into
//!   [`ParticipantEvent`](crate::model::ParticipantEvent)s, instance lifecycle, dedupe keys.
//! * [`api`] — the [`ZoomApi`] trait (the REST operations attend needs, per account) and its
//!   plain request/response types.
//! * [`client`] — [`ZoomClient`], the reqwest implementation of [`ZoomApi`] for one account,
//!   and [`oauth`] — its Server-to-Server OAuth token handling.
//! * [`error`] — [`ZoomApiError`], with which errors are retryable, deferred or permanent.
//! * [`rate_limit`] — 429 classification (per-second vs daily), `Retry-After`, backoff, and
//!   client-side pacing per rate-limit category.
//!
//! # Webhooks
//!
//! A webhook receiver does three things with every `POST`:
//!
//! 1. [`WebhookVerifier::verify`] (or [`WebhookVerifier::intake`], which also parses) checks
//!    `x-zm-signature` over the **raw body bytes**, in constant time, with the header
//!    timestamp inside a replay window, for one or several Zoom accounts, each with one or
//!    two (rotating) secrets. Any error → answer 401.
//! 2. `endpoint.url_validation` is answered with [`UrlValidationResponse`].
//! 3. Anything else is stored raw under its [`DedupeKey`] and acknowledged with 200; it is
//!    processed later: [`parse_event`] gives a typed [`WebhookEvent`], whose
//!    [`participant_event`](WebhookEvent::participant_event) and
//!    [`lifecycle`](WebhookEvent::lifecycle) feed the attendance engine.
//!
//! ```
//! use attend_core::zoom::{
//!     Secret, WebhookHeaders, WebhookIntake, WebhookSecrets, WebhookVerifier, compute_signature,
//!     parse_event,
//! };
//! use chrono::{TimeZone, Utc};
//!
//! // One account, in the middle of a secret rotation: both secrets are accepted.
//! let verifier = WebhookVerifier::single(
//!     "main-account",
//!     WebhookSecrets::new("new-secret").with_previous("old-secret"),
//! );
//!
//! // What Zoom sends (here signed with the old secret).
//! let body = br#"{"event":"meeting.participant_joined","event_ts":1720707175904,
//!   "payload":{"account_id":"acc","object":{"id":"85393847045","uuid":"jUh5o3dKQIytvcsfTtKBlg==",
//!   "host_id":"h1","participant":{"user_id":"16778240","user_name":"Ada",
//!   "participant_uuid":"p-1","registrant_id":"r-42","join_time":"2024-07-11T14:13:00Z"}}}}"#;
//! let timestamp = "1720707176";
//! let signature = compute_signature(&Secret::new("old-secret"), timestamp, body);
//! let now = Utc.timestamp_opt(1720707180, 0).unwrap();
//!
//! let headers = WebhookHeaders::new(Some(&signature), Some(timestamp));
//! match verifier.intake(headers, body, now).expect("a valid delivery") {
//!     WebhookIntake::UrlValidation { response, .. } => {
//!         // answer 200 with `serde_json::to_string(&response)`
//!         # let _ = response; unreachable!()
//!     }
//!     WebhookIntake::Event { verified, dedupe_key, event_name } => {
//!         assert_eq!(verified.account.as_str(), "main-account");
//!         assert_eq!(event_name.as_deref().ok(), Some("meeting.participant_joined"));
//!         assert_eq!(dedupe_key.as_str().len(), 80); // stamped: see `DedupeKey`
//!         // store (verified.account, dedupe_key, body) durably, then answer 200 …
//!         // … and later, when processing the stored body:
//!         let event = parse_event(body).expect("parses");
//!         let normalized = event.participant_event().unwrap().unwrap();
//!         assert_eq!(normalized.hints.registrant_id.as_deref(), Some("r-42"));
//!         assert_eq!(normalized.connection.as_str(), "p-1");
//!     }
//! }
//!
//! // A tampered body is refused.
//! let mut tampered = body.to_vec();
//! tampered[10] ^= 1;
//! assert!(verifier.verify(headers, &tampered, now).is_err());
//! ```
//!
//! # REST
//!
//! The service talks to Zoom through [`ZoomApi`] (one implementation per Zoom account);
//! [`ZoomClient`] is the real one. Errors say whether to retry, defer or give up:
//!
//! ```no_run
//! use attend_core::model::{MeetingKind, ZoomMeetingId};
//! use attend_core::zoom::api::AddRegistrantRequest;
//! use attend_core::zoom::{
//!     Disposition, RatePlan, S2SCredentials, ZoomApi, ZoomApiError, ZoomClient, ZoomClientConfig,
//! };
//!
//! # async fn demo() -> Result<(), ZoomApiError> {
//! let zoom = ZoomClient::new(
//!     ZoomClientConfig {
//!         pacing: Some(RatePlan::Pro), // stay under the Pro plan's per-second limits
//!         ..ZoomClientConfig::default()
//!     },
//!     S2SCredentials::new("zoom-account-id", "client-id", "client-secret"),
//! )?;
//! let mut request = AddRegistrantRequest::new("u42@lms.example", "Ada");
//! request.auto_approve = Some(true);
//! match zoom
//!     .add_registrant(MeetingKind::Meeting, ZoomMeetingId(85746065), &request)
//!     .await
//! {
//!     Ok(created) => println!("{} → {:?}", created.registrant_id, created.join_url),
//!     Err(error) => match error.disposition() {
//!         Disposition::Defer { until } => println!("daily limit: park until {until}"),
//!         Disposition::Retry { .. } => println!("transient: back off and retry"),
//!         Disposition::Permanent => println!("give up: {}", error.code()),
//!     },
//! }
//! # Ok(())
//! # }
//! ```

pub mod api;
pub mod client;
mod de;
pub mod error;
pub mod events;
pub mod oauth;
pub mod rate_limit;
mod secret;
pub mod signature;
mod skim;
mod webhook;

pub use api::{PastMeeting, ZoomApi};
pub use client::{ZoomClient, ZoomClientConfig};
pub use error::{Disposition, ZoomApiError};
pub use oauth::S2SCredentials;
pub use rate_limit::{RatePlan, RetryPolicy};

pub use events::{
    DedupeKey, EventParseError, EventType, InstanceLifecycle, LeaveReason, LifecyclePhase,
    NormalizeError, RegistrationChange, WebhookEvent, ZoomEvent, dedupe_key, parse_event,
};
pub use secret::Secret;
pub use signature::{
    UrlValidationResponse, VerifiedWebhook, VerifierConfigError, VerifyError, WebhookHeaders,
    WebhookSecrets, WebhookVerifier, compute_signature, encrypt_plain_token,
};
pub use webhook::WebhookIntake;

pub(crate) use skim::read_event;
