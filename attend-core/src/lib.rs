//! # attend-core
//!
//! Framework-agnostic core of **attend**: know which of *your own* users attended a Zoom
//! meeting or webinar, when, and for how long.
//!
//! ## The problem
//!
//! Zoom reports participants with its own ids (`user_id`, `participant_uuid`) that mean
//! nothing to your application's users table, display names anyone can type, and emails only
//! when Zoom happens to know them. There is no `?uid=` parameter on a Zoom link. What Zoom
//! *does* offer (and confirms as the way to do it) is **registration**: every registrant gets
//! a personal `join_url` and a `registrant_id`, and that `registrant_id` comes back in the
//! participant webhooks and in the participant report.
//!
//! attend turns that into a library: it registers each of your users as a Zoom registrant,
//! hands every user a personal link on *your* domain, receives Zoom's signed webhooks, maps
//! what Zoom reports back to your users, and computes attendance rosters with explicit,
//! documented rules (union of intervals, late / left early / partial / absent).
//!
//! ## The flow
//!
//! Everything goes through one handle, [`service::Attend`]:
//!
//! 1. **Link a meeting** to one of your groups (a course, a section):
//!    [`link_meeting`](service::Attend::link_meeting) switches Zoom's registration on
//!    (`approval_type` 0; or 1 with `restrict_to_registered`, so only attend's auto-approved
//!    registrants get in and self-registrations are denied).
//! 2. **Register users**: [`register_users`](service::Attend::register_users) creates one
//!    registrant per user, idempotently (never two for one user, also across crashes),
//!    30 per batch call where Zoom allows it, paced under the plan's rate limits; daily
//!    limits defer users to the reset, visibly. Large lists run as background jobs.
//! 3. **Personal join links**: [`join_link`](service::Attend::join_link) gives
//!    `{public_url}{mount prefix}/join/{token}` (a signed, expiring token bound to user and
//!    meeting); [`open_join_link`](service::Attend::open_join_link) registers lazily on first
//!    use, records the click and returns the user's Zoom `join_url` to redirect to.
//! 4. **Webhooks**: [`ingest_webhook`](service::Attend::ingest_webhook) verifies Zoom's
//!    signature over the raw bytes (constant time, replay window, rotating secrets, several
//!    accounts), answers `endpoint.url_validation`, and stores the raw event before you answer
//!    200 — nothing acknowledged is ever lost. Processing happens after the ack, in a job.
//! 5. **Identify**: each connection is tied to a user by a fixed cascade — `registrant_id`
//!    → `customer_key` → registrant email → the user's own email → a manual link — and the
//!    method is recorded ([`identity`]). Display names are never identity; what stays
//!    unmatched is kept, grouped per person, and can be linked by hand.
//! 6. **Reconcile**: after `meeting.ended`, the participant report is pulled (retrying while
//!    Zoom has not built it yet) and merged; the instance becomes `final`. Accounts without
//!    reports get a final roster from webhooks alone after a grace period. An instance
//!    still live hours after attend first saw it (its `meeting.ended` may have been lost in
//!    an outage) is checked against the report too, or without one against Zoom's list of
//!    the meeting's ended instances
//!    ([`live_check_after`](service::ReconcileOptions::live_check_after)).
//! 7. **Attendance**: [`attendance`](service::Attend::attendance) runs the pure engine
//!    ([`attendance`]) over the stored evidence with identities resolved *now*, so a manual
//!    link or a policy change shows at once. Per instance or aggregated per meeting; also as
//!    CSV ([`export`]), as a live view, per user across meetings.
//!
//! ## Quick start
//!
//! The example below runs for real: the in-memory store and directory of the `testing`
//! feature stand in for your database and users table, and the crate's Zoom simulator
//! (`attend-zoom-sim`, a dev-dependency) stands in for Zoom. In production you pass your
//! [`store::Store`] (e.g. `attend-diesel`), your [`store::UserDirectory`], and your
//! Server-to-Server OAuth app's credentials with Zoom's real URLs.
//!
//! ```
//! use std::sync::Arc;
//!
//! use attend_core::join_token::JwtSecret;
//! use attend_core::model::{MeetingKind, RegistrationStatus, UserId, ZoomMeetingId};
//! use attend_core::service::{Attend, LinkMeeting, RegistrationOptions, WebhookAck, ZoomAccount};
//! use attend_core::store::HostUser;
//! use attend_core::testing::memory::{MemoryDirectory, MemoryStore};
//! use attend_core::zoom::{RatePlan, S2SCredentials, WebhookHeaders, ZoomClientConfig};
//! use attend_zoom_sim::{MeetingSpec, SimConfig, Simulator};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // "Zoom", and the app's Server-to-Server OAuth credentials for it.
//! let zoom = Simulator::start(SimConfig::default()).await?;
//! let creds = zoom.credentials();
//!
//! // Your users (here in memory; normally your own users table).
//! let users = MemoryDirectory::new();
//! users.insert(HostUser {
//!     id: UserId::from("42"),
//!     email: Some("ada@school.example".into()),
//!     name: "Ada Lovelace".into(),
//! });
//!
//! let attend = Attend::builder()
//!     .store(MemoryStore::new())
//!     .directory(users)
//!     .zoom_account(
//!         ZoomAccount::new("main")
//!             .webhook_secret("the app's webhook secret token")
//!             .credentials(
//!                 S2SCredentials::new(creds.account_id, creds.client_id, creds.client_secret),
//!                 ZoomClientConfig {
//!                     api_base: zoom.base_url(),   // https://api.zoom.us/v2 by default
//!                     oauth_url: zoom.oauth_url(), // https://zoom.us/oauth/token by default
//!                     pacing: Some(RatePlan::Pro),
//!                     ..ZoomClientConfig::default()
//!                 },
//!             ),
//!     )
//!     .public_url("https://lms.example.edu")
//!     .mount_prefix("/attend")
//!     .jwt_secret(JwtSecret::generate())
//!     .registration(RegistrationOptions {
//!         // Zoom never sees real emails; each registrant email maps back to one user.
//!         synthetic_email_domain: Some("attend.lms.example.edu".into()),
//!         ..RegistrationOptions::default()
//!     })
//!     .build()?;
//!
//! // 1. Link a Zoom meeting to a course (here one that exists at "Zoom" already).
//! let start = chrono::Utc::now() + chrono::Duration::days(1);
//! let zoom_meeting = zoom.create_meeting(&MeetingSpec::scheduled("Algebra", start, 60))?;
//! let meeting = attend
//!     .link_meeting(LinkMeeting {
//!         group: "algebra-101".into(),
//!         kind: MeetingKind::Meeting,
//!         zoom_meeting_id: Some(ZoomMeetingId(zoom_meeting.id as i64)),
//!         create: None,
//!         restrict_to_registered: None,
//!         policy: None,
//!         account: None,
//!     })
//!     .await?;
//!
//! // 2. Register a user: one registrant at Zoom, done inline for a short list.
//! let outcome = attend.register_users(&meeting.id, &[UserId::from("42")]).await?;
//! assert!(outcome.complete);
//! assert_eq!(outcome.registrations[0].status, RegistrationStatus::Registered);
//!
//! // 3. Their personal link, on your domain.
//! let link = attend.join_link(&meeting.id, &UserId::from("42")).await?;
//! assert!(link.url.starts_with("https://lms.example.edu/attend/join/"));
//!
//! // 4. A webhook, as your HTTP route hands it over: headers and the raw body bytes.
//! let body = br#"{"payload":{"plainToken":"qgg8vlvZRS6UYooatFL8Aw"},"event_ts":1654503849680,"event":"endpoint.url_validation"}"#;
//! let ts = chrono::Utc::now().timestamp().to_string();
//! let signature = attend_zoom_sim::sign("the app's webhook secret token", &ts, body);
//! let ack = attend.ingest_webhook(WebhookHeaders::new(Some(&signature), Some(&ts)), body).await?;
//! assert!(matches!(ack, WebhookAck::UrlValidation(_))); // answer 200 with it as JSON
//!
//! // A forged one is refused (answer 401).
//! let forged = attend.ingest_webhook(WebhookHeaders::new(Some(&signature), Some(&ts)), b"{}").await;
//! assert_eq!(forged.unwrap_err().http_status(), 401);
//!
//! // 5. Background work (processing webhooks, large registrations, report pulls): a host
//! //    spawns `attend.clone().run_worker(shutdown)` once per process; here, inline:
//! attend.drain().await?;
//! let roster = attend.attendance(&meeting.id, None).await?;
//! assert_eq!(roster.roster.summary.registered, 1);
//! # Ok(())
//! # }
//! ```
//!
//! ## What the host provides
//!
//! * a [`store::Store`] (six storage traits; `attend-diesel` implements them for SQLite
//!   and PostgreSQL, the `testing` feature in memory) and a [`store::UserDirectory`] over
//!   its own users table (read only);
//! * one [`service::ZoomAccount`] per Zoom account (credentials, webhook secrets — two at
//!   once while rotating);
//! * its public URL and the prefix it mounts attend under, and a JWT secret (≥ 32 bytes);
//! * a task running [`service::Attend::run_worker`];
//! * HTTP routes: the `attend-actix` crate maps every operation to API.md's routes, and every
//!   [`service::ServiceError`] to its status and stable code
//!   ([`code`](service::ServiceError::code), [`http_status`](service::ServiceError::http_status)).
//!
//! ## Decisions worth knowing
//!
//! * **Identities are resolved when read**, never frozen into stored rows: stored participant
//!   events keep Zoom's hints, so registrations made later, manual links and policy changes
//!   apply to past meetings too.
//! * **Ambiguity matches no one**: an email shared by two of your users, or two registrations
//!   with one email, leaves the participant unmatched (and visible) rather than crediting the
//!   wrong person. Unmatched people are keyed `email:…`, else `name:…`, else
//!   `connection:…` ([`identity::PersonKey`]); that key is what a manual link names.
//! * **Synthetic registrant emails** (`{user}@{domain}`, optional) keep real emails away from
//!   Zoom and make the email a second exact key back to the user.
//! * **The meeting's host** (participant id equal to the meeting's `host_id`) is in no
//!   roster and not unmatched.
//! * **Possible link sharing**: a registrant id seen on two overlapping connections of
//!   visibly different people is reported in
//!   [`Attendance::possible_shared_links`](service::Attendance::possible_shared_links).
//! * **Idempotent everywhere**: webhook redeliveries are stored once (content dedupe key),
//!   participant events are deduplicated, reports replace their previous pull, jobs carry
//!   dedupe keys, and registration checks Zoom's registrant list before adding.
//! * **Clock**: every stored or compared time comes from [`service::Clock`], injectable for
//!   tests ([`service::ManualClock`]).
//! * **Least personal data**: no IP addresses or user agents are stored;
//!   [`erase_user`](service::Attend::erase_user) removes a user's data (and their registrants
//!   at Zoom); raw webhook bodies expire ([`service::RetentionOptions`]).
//!
//! ## Modules
//!
//! | module | what |
//! |---|---|
//! | [`service`] | [`Attend`](service::Attend): every flow, the worker, [`ServiceError`](service::ServiceError) |
//! | [`model`] | the shared vocabulary: ids, policy, statuses, normalized participant events |
//! | [`attendance`] | the pure engine: evidence in, roster out |
//! | [`identity`] | the pure identity cascade, person keys, shared-link detection |
//! | [`zoom`] | webhook verification and parsing, the REST client, OAuth, rate limits |
//! | [`join_token`] | signed, expiring personal join tokens |
//! | [`export`] | CSV of a roster |
//! | [`store`] | the storage and user-directory traits |
//! | `testing` | (feature `testing`) in-memory store and directory, storage conformance suite |

#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod attendance;
pub mod export;
pub mod identity;
pub mod join_token;
pub mod model;
pub mod service;
pub mod store;
pub mod zoom;

#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;
