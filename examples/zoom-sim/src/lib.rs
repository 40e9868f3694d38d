//! # attend-zoom-sim — a local stand-in for the parts of Zoom that attend uses
//!
//! This crate plays "Zoom" for attend's demo mode and tests. It knows nothing of attend (it
//! does not depend on `attend-core`): it only behaves like Zoom's REST API and webhook sender
//! as documented in the project's Zoom fact sheet, so tests check attend against an outside
//! system honestly.
//!
//! ## What it simulates
//!
//! **REST** (an actix-web server, or routes mounted into your own app):
//!
//! - `POST /oauth/token` — Server-to-Server OAuth (`grant_type=account_credentials`, Basic
//!   auth). Bad credentials → 401 `{"reason":"Invalid client_id or client_secret","error":"invalid_client"}`.
//!   Tokens live [`SimConfig::token_ttl`]; an expired, revoked or unknown token → 401
//!   `{"code":124,"message":"Invalid access token."}`.
//! - `POST /v2/users/{userId}/meetings|webinars`, `GET|PATCH|DELETE /v2/meetings|webinars/{id}`
//!   (type, topic, start_time, duration, timezone, settings incl. `approval_type`; types 1, 3
//!   and 6 silently keep `approval_type` 2, as Zoom does).
//! - Registrants: add (201; `auto_approve`; join URLs carry `tk=`), batch (≤ 30, scheduled
//!   type 2/5 only), list (`status`, `page_size` ≤ 300, `next_page_token` valid 15 min),
//!   get, status (`approve`/`cancel`/`deny`, ≤ 30), delete. Capacity
//!   [`SimConfig::max_registrants`] (code 3043). Registration off → 404
//!   `{"code":404,"message":"Registration has not been enabled for this meeting: {id}."}`.
//!   Unknown meeting → 404 code 3001 `Meeting does not exist: {id}.`. The host's own email →
//!   400 code 3027 `Host can not register`.
//! - `GET /v2/past_meetings/{id}/instances`, `GET /v2/past_meetings/{id|uuid}` (details:
//!   `start_time`, `end_time`, `participants_count`), `GET /v2/past_meetings/{id|uuid}/participants`,
//!   `GET /v2/report/meetings/{id|uuid}/participants` (`include_fields=registrant_id`,
//!   pagination). A UUID path segment is decoded once, or twice when it was double-encoded;
//!   a UUID that begins with `/` or contains `//` sent single-encoded is not found (Zoom
//!   cannot route it), so clients must follow Zoom's double-encoding rule. Not found while the
//!   instance is in progress, not ready for [`SimConfig::report_delay`] after it ended; no
//!   reports on a plan without them.
//! - Rate limits per plan ([`Plan`]), token-bucket per category and daily caps, plus the
//!   per-registrant (3/day), per-user meeting-write (100/day) and registrant-status (10/day)
//!   caps, answering 429 with Zoom's bodies and `X-RateLimit-Category`, `X-RateLimit-Type`
//!   (`QPS`/`Daily-limit`), `X-RateLimit-Limit`/`-Remaining`/`-Reset` (QPS) and `Retry-After`
//!   (ISO time of the next 00:00 UTC, daily).
//! - Fault injection: random ([`RandomFaults`]) or exact ([`Simulator::schedule_fault`])
//!   429s, 5xx, slow answers and token revocation.
//! - `GET /w/{id}?tk=…`: the page a registrant's join URL opens (records the click).
//!
//! Times are answered in UTC (`2030-01-10T15:00:00Z`); a `start_time` sent without offset is
//! taken as UTC (the simulator has no time-zone database; `timezone` is stored and echoed).
//!
//! **Simulator's choices where Zoom's behaviour is not documented:** adding a registrant
//! whose email is already registered (case-insensitive) answers 201 with the **existing**
//! registrant (same `registrant_id` and `join_url`); if that registrant was denied or
//! cancelled it becomes approved (or pending under manual approval without `auto_approve`)
//! again. Each add request counts toward the 3-per-day limit, duplicates included. Cancelled
//! registrants are listed under `status=denied`. A batch containing an email over its daily
//! limit is refused whole. Unknown registrant → 404 code 3079. Error texts not known from Zoom
//! (batch on a non-scheduled meeting, invalid page token) are the simulator's wording.
//!
//! **Webhooks**: a [`Scenario`] (who joins when, in meeting time) becomes a [`Timeline`] of
//! exact Zoom webhook bodies (see the [`timeline`] module for the precise sequences and
//! fields) and the matching participant report. [`Simulator::play`] signs and sends them
//! (`x-zm-signature` = `v0=` + hex HMAC-SHA256 of `v0:{ts}:{body}`), with duplicates,
//! reordering, delays, live speed and Zoom-like retries on 5xx ([`DeliveryOptions`]).
//!
//! ## Using it in a test
//!
//! ```no_run
//! use attend_zoom_sim::*;
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! // 1. Start "Zoom" on a random port.
//! let zoom = Simulator::start(SimConfig::default()).await?;
//! let creds = zoom.credentials(); // account_id / client_id / client_secret for the client
//! // Point the system under test at zoom.base_url() (…/v2) and zoom.oauth_url().
//!
//! // 2. Let the system under test create the meeting and register its users through the
//! //    REST API, or set them up directly:
//! let start = chrono::Utc::now() - chrono::Duration::hours(2);
//! let meeting = zoom.create_meeting(&MeetingSpec::scheduled("Biology 101", start, 60))?;
//! for i in 0..30 {
//!     zoom.add_registrant(meeting.id, &format!("s{i}@lms.example"), "Student", &i.to_string())?;
//! }
//!
//! // 3. Play a class against the webhook receiver.
//! let emails: Vec<String> = zoom.registrants(meeting.id).into_iter().map(|r| r.email).collect();
//! let class = Scenario::typical_class(meeting.id, &emails, start, 42);
//! println!("{}", class.describe());
//! let target = WebhookTarget::new("http://127.0.0.1:8080/attend/webhooks/zoom", "webhook-secret");
//! let outcome = zoom.play(&class, &target, &DeliveryOptions::chaotic(7)).await?;
//! assert!(outcome.report.all_acked());
//!
//! // 4. Compare the system's roster with the scenario's own expectations.
//! for e in class.expectations() {
//!     println!("{:?} instance {}: {} s, {} joins", e.identity, e.instance, e.attended_seconds, e.joins);
//! }
//! // Reports are now served at zoom.base_url() + "/report/meetings/{uuid}/participants".
//! # Ok(()) }
//! ```
//!
//! ## Using it in the demo app
//!
//! Build a [`Simulator`] with [`Simulator::new`], mount it with [`Simulator::configure`]
//! under a prefix of the app (set [`SimConfig::public_url`] to that prefix's URL so join
//! links point at the app), and call [`Simulator::play`] with
//! `DeliveryOptions { speed: Some(60.0), ..DeliveryOptions::default() }` from a spawned task
//! to play a class live, an hour in a minute.
#![forbid(unsafe_code)]

mod clock;
pub mod config;
mod ratelimit;
mod rest;
mod rng;
pub mod scenario;
mod sim;
mod state;
pub mod timeline;
pub mod webhook;

pub use config::{
    Category, CategoryLimit, Endpoint, Fault, FaultTrigger, NotReady, Plan, RandomFaults,
    RateLimits, SimConfig, SimUser,
};
pub use scenario::{
    BreakoutVisit, Connection, Expected, Identity, InstanceSpec, LEAVE_BREAKOUT_TO_MAIN,
    LEAVE_DISCONNECTED, LEAVE_HOST_ENDED, LEAVE_LEFT, LEAVE_TO_BREAKOUT, LeaveKind, Person,
    Scenario, ScenarioError,
};
pub use sim::{Credentials, PlayError, PlayOutcome, SimError, SimHandle, Simulator};
pub use state::{
    CallRecord, InstanceView, MeetingSpec, MeetingView, RateLimitStats, RegistrantStatus,
    RegistrantView,
};
pub use timeline::{
    MeetingContext, MeetingKind, PlayedInstance, RegistrantInfo, ReportRow, Timeline,
    TimelineError, WebhookEvent, build_timeline,
};
pub use webhook::{
    Delivery, DeliveryError, DeliveryOptions, DeliveryReport, Reorder, WebhookTarget, crc_token,
    deliver, sign,
};
