//! The public handle: [`Simulator`] (state, inspection, player) and [`SimHandle`] (a running
//! server).

use crate::config::{Endpoint, Fault, FaultTrigger, RandomFaults, RateLimits, SimConfig};
use crate::scenario::Scenario;
use crate::state::{CallRecord, MeetingSpec, MeetingView, RateLimitStats, RegistrantView, Shared};
use crate::timeline::{Timeline, TimelineError, build_timeline};
use crate::webhook::{DeliveryOptions, DeliveryReport, WebhookTarget, deliver_with};
use actix_web::{App, HttpServer, dev::ServerHandle, web};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::ops::Deref;
use std::sync::Arc;

/// Errors of the simulator's own API (not Zoom errors, which are HTTP answers).
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// Binding or running the server failed.
    #[error("simulator server I/O")]
    Io(#[from] std::io::Error),
    /// No such meeting or webinar.
    #[error("no meeting {0} in the simulator")]
    UnknownMeeting(u64),
    /// No such host user.
    #[error("no user {0} in the simulated account")]
    UnknownUser(String),
}

/// Errors of [`Simulator::play`] and [`Simulator::timeline`].
#[derive(Debug, thiserror::Error)]
pub enum PlayError {
    /// The scenario's meeting does not exist in the simulator.
    #[error("no meeting {0} in the simulator")]
    UnknownMeeting(u64),
    /// The scenario cannot be played against this meeting.
    #[error("cannot build the timeline")]
    Timeline(#[from] TimelineError),
}

/// The result of playing a scenario.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlayOutcome {
    /// What was generated (events, instances, report rows).
    pub timeline: Timeline,
    /// What happened to each delivery.
    pub report: DeliveryReport,
}

/// The account's OAuth credentials (to configure the client under test). `Debug` redacts the
/// secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// Account id.
    pub account_id: String,
    /// Client id.
    pub client_id: String,
    /// Client secret.
    pub client_secret: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("account_id", &self.account_id)
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .finish()
    }
}

/// The simulated Zoom account: cheap to clone (shared state), usable from any thread.
#[derive(Clone)]
pub struct Simulator {
    shared: Arc<Shared>,
}

impl fmt::Debug for Simulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Simulator")
            .field("public_url", &self.public_url())
            .finish_non_exhaustive()
    }
}

impl Simulator {
    /// A simulator with no server of its own; mount it with [`Simulator::configure`].
    pub fn new(config: SimConfig) -> Self {
        Self {
            shared: Arc::new(Shared::new(config)),
        }
    }

    /// Starts a server on `config.bind` (port 0 = any free port) on the current tokio
    /// runtime. The server serves the REST API under `/v2`, the token endpoint at
    /// `/oauth/token` and join pages at `/w/{id}`.
    pub async fn start(mut config: SimConfig) -> Result<SimHandle, SimError> {
        let listener = std::net::TcpListener::bind(config.bind)?;
        let addr = listener.local_addr()?;
        let origin = format!("http://{addr}");
        if config.public_url.is_none() {
            config.public_url = Some(origin.clone());
        }
        let sim = Simulator::new(config);
        let for_server = sim.clone();
        let server = HttpServer::new(move || {
            let s = for_server.clone();
            App::new().configure(move |c| s.configure(c))
        })
        .workers(2)
        .disable_signals()
        .listen(listener)?
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Ok(SimHandle {
            sim,
            addr,
            origin,
            handle,
        })
    }

    /// Registers the simulator's routes on an actix `ServiceConfig`, relative to wherever it
    /// is mounted: `POST {mount}/oauth/token`, `{mount}/v2/...`, `GET {mount}/w/{id}`.
    ///
    /// ```no_run
    /// # use attend_zoom_sim::{Simulator, SimConfig};
    /// # use actix_web::{App, web};
    /// let sim = Simulator::new(SimConfig {
    ///     public_url: Some("http://127.0.0.1:8080/zoom".into()),
    ///     ..SimConfig::default()
    /// });
    /// let s = sim.clone();
    /// let app = App::new().service(web::scope("/zoom").configure(move |c| s.configure(c)));
    /// // API base: http://127.0.0.1:8080/zoom/v2, token URL: http://127.0.0.1:8080/zoom/oauth/token
    /// ```
    pub fn configure(&self, cfg: &mut web::ServiceConfig) {
        crate::rest::configure(self.shared.clone(), cfg);
    }

    /// The REST base for a simulator mounted at `mount_url` (`{mount_url}/v2`).
    pub fn api_base_at(mount_url: &str) -> String {
        format!("{}/v2", mount_url.trim_end_matches('/'))
    }

    /// The token URL for a simulator mounted at `mount_url` (`{mount_url}/oauth/token`).
    pub fn oauth_url_at(mount_url: &str) -> String {
        format!("{}/oauth/token", mount_url.trim_end_matches('/'))
    }

    /// Base of join URLs (the mount URL when set).
    pub fn public_url(&self) -> String {
        self.shared.lock().public_url.clone()
    }

    /// Changes the base of join URLs generated from now on.
    pub fn set_public_url(&self, url: &str) {
        self.shared.lock().public_url = url.trim_end_matches('/').to_owned();
    }

    /// The account's OAuth credentials.
    pub fn credentials(&self) -> Credentials {
        let s = self.shared.lock();
        Credentials {
            account_id: s.account_id.clone(),
            client_id: s.client_id.clone(),
            client_secret: s.client_secret.clone(),
        }
    }

    // ------------------------------------------------------------------ clock and settings

    /// The simulator's clock (real time plus any [`Simulator::advance_clock`]).
    pub fn now(&self) -> DateTime<Utc> {
        self.shared.clock.now()
    }

    /// Moves the simulator's clock: tokens expire, reports become ready, daily limits reset
    /// (at 00:00 UTC of the simulator clock), page tokens expire.
    pub fn advance_clock(&self, by: std::time::Duration) {
        self.shared
            .clock
            .advance(chrono::Duration::milliseconds(by.as_millis() as i64));
    }

    /// Revokes every access token issued so far (the app was deactivated, or Zoom lost them).
    pub fn revoke_tokens(&self) {
        self.shared.lock().tokens.clear();
    }

    /// Schedules one exact fault; several can be queued and each fires once.
    pub fn schedule_fault(&self, trigger: FaultTrigger, fault: Fault) {
        self.shared.lock().scheduled.push((trigger, fault));
    }

    /// Replaces the random fault configuration.
    pub fn set_random_faults(&self, faults: RandomFaults) {
        let mut s = self.shared.lock();
        s.fault_rng = crate::rng::SplitMix64::new(faults.seed);
        s.random_faults = faults;
    }

    /// Replaces the rate limits (counters are kept).
    pub fn set_rate_limits(&self, limits: RateLimits) {
        self.shared.lock().limits = limits;
    }

    /// Whether the plan has reports (see [`SimConfig::reports_available`]).
    pub fn set_reports_available(&self, available: bool) {
        self.shared.lock().reports_available = available;
    }

    /// Changes the report delay (see [`SimConfig::report_delay`]).
    pub fn set_report_delay(&self, delay: std::time::Duration) {
        self.shared.lock().report_delay = delay;
    }

    // ------------------------------------------------------------------ direct setup

    /// Creates a meeting or webinar without a REST call (no rate limit, no call counted).
    pub fn create_meeting(&self, spec: &MeetingSpec) -> Result<MeetingView, SimError> {
        let now = self.now();
        let mut s = self.shared.lock();
        let id = s
            .create_direct(spec, now)
            .ok_or_else(|| SimError::UnknownUser(spec.host.clone().unwrap_or_default()))?;
        let m = &s.meetings[&id];
        Ok(s.meeting_view(m))
    }

    /// Adds (or returns, same email) an approved registrant without a REST call.
    pub fn add_registrant(
        &self,
        meeting: u64,
        email: &str,
        first_name: &str,
        last_name: &str,
    ) -> Result<RegistrantView, SimError> {
        let now = self.now();
        self.shared
            .lock()
            .register_direct(meeting, email, first_name, last_name, now)
            .ok_or(SimError::UnknownMeeting(meeting))
    }

    // ------------------------------------------------------------------ inspection

    /// A meeting or webinar with its registrants and instances.
    pub fn meeting(&self, id: u64) -> Option<MeetingView> {
        let s = self.shared.lock();
        s.meetings.get(&id).map(|m| s.meeting_view(m))
    }

    /// All meetings and webinars, by id.
    pub fn meetings(&self) -> Vec<MeetingView> {
        let s = self.shared.lock();
        s.meetings.values().map(|m| s.meeting_view(m)).collect()
    }

    /// The registrants of a meeting (all statuses, oldest first; empty if unknown).
    pub fn registrants(&self, meeting: u64) -> Vec<RegistrantView> {
        self.meeting(meeting)
            .map(|m| m.registrants)
            .unwrap_or_default()
    }

    /// Calls received by `endpoint` (every call, whatever its answer).
    pub fn calls(&self, endpoint: Endpoint) -> u64 {
        self.shared
            .lock()
            .calls
            .get(&endpoint)
            .copied()
            .unwrap_or(0)
    }

    /// Calls per endpoint.
    pub fn call_counts(&self) -> BTreeMap<Endpoint, u64> {
        self.shared.lock().calls.clone()
    }

    /// Every call, in arrival order.
    pub fn call_log(&self) -> Vec<CallRecord> {
        self.shared.lock().log.clone()
    }

    /// 429 answers by cause.
    pub fn rate_limited(&self) -> RateLimitStats {
        self.shared.lock().stats
    }

    /// Clears call counts, the call log and 429 statistics (not limiter state).
    pub fn reset_counters(&self) {
        let mut s = self.shared.lock();
        s.calls.clear();
        s.api_calls = 0;
        s.log.clear();
        s.stats = RateLimitStats::default();
    }

    /// `(meeting id, registrant id)` of every opened join URL, in order.
    pub fn join_clicks(&self) -> Vec<(u64, String)> {
        self.shared.lock().clicks.clone()
    }

    // ------------------------------------------------------------------ player

    /// The timeline of `scenario` against the meeting and registrants the simulator holds
    /// now. Changes nothing.
    pub fn timeline(&self, scenario: &Scenario) -> Result<Timeline, PlayError> {
        let ctx = self
            .shared
            .lock()
            .context(scenario.meeting_id)
            .ok_or(PlayError::UnknownMeeting(scenario.meeting_id))?;
        Ok(build_timeline(scenario, &ctx)?)
    }

    /// Records a timeline's instances as played and ended now, without sending anything:
    /// past instances and reports then answer (after the report delay).
    pub fn record(&self, timeline: &Timeline) {
        let now = self.now();
        let mut s = self.shared.lock();
        for inst in &timeline.instances {
            s.instance_ended(timeline.meeting_id, inst, now);
        }
    }

    /// Records a timeline's instances as started and still in progress, without sending
    /// anything: their reports are not found until [`record`](Self::record) ends them.
    pub fn record_started(&self, timeline: &Timeline) {
        let mut s = self.shared.lock();
        for inst in &timeline.instances {
            s.instance_started(timeline.meeting_id, inst);
        }
    }

    /// Plays `scenario`: builds the timeline, delivers every event to `target` with `opts`,
    /// and records instances as they start and end (an instance's report becomes available
    /// [`SimConfig::report_delay`] after its `meeting.ended` was first sent). Returns when the
    /// last delivery (including retries) is done.
    pub async fn play(
        &self,
        scenario: &Scenario,
        target: &WebhookTarget,
        opts: &DeliveryOptions,
    ) -> Result<PlayOutcome, PlayError> {
        let timeline = self.timeline(scenario)?;
        let shared = self.shared.clone();
        let tl = &timeline;
        let report = deliver_with(&timeline.events, target, opts, |i| {
            let ev = &tl.events[i];
            let Some(inst) = tl.instances.get(ev.instance) else {
                return;
            };
            let now = shared.clock.now();
            let mut s = shared.lock();
            if ev.event.ends_with(".started") {
                s.instance_started(tl.meeting_id, inst);
            } else if ev.event.ends_with(".ended") {
                s.instance_ended(tl.meeting_id, inst, now);
            }
        })
        .await;
        // Anything never attempted (impossible unless there were no events) is still recorded.
        let now = self.now();
        {
            let mut s = self.shared.lock();
            for inst in &timeline.instances {
                let known_end = s
                    .meetings
                    .get(&timeline.meeting_id)
                    .and_then(|m| m.instances.iter().find(|i| i.uuid == inst.uuid))
                    .is_some_and(|i| i.end_time.is_some());
                if !known_end {
                    s.instance_ended(timeline.meeting_id, inst, now);
                }
            }
        }
        Ok(PlayOutcome { timeline, report })
    }
}

/// A running simulator server. Dereferences to [`Simulator`]. Dropping it stops the server
/// (without waiting); [`SimHandle::stop`] waits.
pub struct SimHandle {
    sim: Simulator,
    addr: SocketAddr,
    origin: String,
    handle: ServerHandle,
}

impl fmt::Debug for SimHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimHandle")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl SimHandle {
    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// REST base, `http://127.0.0.1:PORT/v2`.
    pub fn base_url(&self) -> String {
        Simulator::api_base_at(&self.origin)
    }

    /// Token endpoint, `http://127.0.0.1:PORT/oauth/token`.
    pub fn oauth_url(&self) -> String {
        Simulator::oauth_url_at(&self.origin)
    }

    /// The simulator behind the server.
    pub fn sim(&self) -> &Simulator {
        &self.sim
    }

    /// Stops the server and waits until it has stopped.
    pub async fn stop(self) {
        self.handle.stop(false).await;
    }
}

impl Deref for SimHandle {
    type Target = Simulator;
    fn deref(&self) -> &Simulator {
        &self.sim
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        let stop = self.handle.stop(false);
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(stop);
        }
    }
}
