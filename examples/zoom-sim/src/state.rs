//! The simulated account's state and the REST operations on it, as plain functions over
//! [`Inner`] returning a [`Reply`]. The actix glue lives in `rest.rs`.

use crate::clock::{SimClock, next_utc_midnight, zoom_time};
use crate::config::{
    Category, Endpoint, Fault, FaultTrigger, NotReady, RandomFaults, RateLimits, SimConfig, SimUser,
};
use crate::ratelimit::{Limiter, Refusal};
use crate::rng::SplitMix64;
use crate::timeline::{
    MeetingContext, MeetingKind, PlayedInstance, RegistrantInfo, ReportRow, gen_id, gen_uuid,
};
use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

/// An HTTP answer in Zoom's style, before it becomes an actix response.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) body: Option<Value>,
    pub(crate) headers: Vec<(&'static str, String)>,
    /// Which kind of 429 this is, for statistics.
    pub(crate) limited: Option<LimitKind>,
}

/// Kinds of 429 for statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LimitKind {
    Qps,
    Daily,
    UserLevel,
    Injected,
}

impl Reply {
    pub(crate) fn json(status: u16, body: Value) -> Self {
        Self {
            status,
            body: Some(body),
            headers: Vec::new(),
            limited: None,
        }
    }
    pub(crate) fn empty(status: u16) -> Self {
        Self {
            status,
            body: None,
            headers: Vec::new(),
            limited: None,
        }
    }
    pub(crate) fn error(status: u16, code: i64, message: impl Into<String>) -> Self {
        Self::json(status, json!({"code": code, "message": message.into()}))
    }
    fn validation(field: &str) -> Self {
        Self::json(
            400,
            json!({"code": 300, "message": "Validation Failed.",
                   "errors": [{"field": field, "message": "Invalid field."}]}),
        )
    }
    fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }
}

/// Status of a registrant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RegistrantStatus {
    /// Approved: has a working `join_url`.
    Approved,
    /// Waiting for manual approval (no `join_url` in the add answer).
    Pending,
    /// Denied by the host.
    Denied,
    /// Cancelled through `PUT …/registrants/status` `cancel`. Zoom's list shows these under
    /// `status=denied` with `"status":"denied"`.
    Cancelled,
}

impl RegistrantStatus {
    fn wire(self) -> &'static str {
        match self {
            RegistrantStatus::Approved => "approved",
            RegistrantStatus::Pending => "pending",
            RegistrantStatus::Denied | RegistrantStatus::Cancelled => "denied",
        }
    }
}

/// A registrant as the simulator holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrantView {
    /// `registrant_id` (also `id` in lists).
    pub id: String,
    /// Email as registered.
    pub email: String,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Status.
    pub status: RegistrantStatus,
    /// Personal join URL (carries `tk=`).
    pub join_url: String,
    /// The `tk` token inside `join_url`.
    pub tk: String,
    /// When it was created (simulator clock).
    pub create_time: DateTime<Utc>,
}

/// One instance as the simulator holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceView {
    /// Instance UUID.
    pub uuid: String,
    /// `start_time`.
    pub start_time: DateTime<Utc>,
    /// `end_time`, once ended.
    pub end_time: Option<DateTime<Utc>>,
    /// Simulator-clock time at which it ended (report delay counts from here).
    pub ended_at: Option<DateTime<Utc>>,
    /// Participant report rows (served once ended and the delay passed).
    pub report: Vec<ReportRow>,
}

/// A meeting or webinar as the simulator holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct MeetingView {
    /// Meeting / webinar id.
    pub id: u64,
    /// Meeting or webinar.
    pub kind: MeetingKind,
    /// Zoom `type`.
    pub meeting_type: u8,
    /// Host user id.
    pub host_id: String,
    /// Topic.
    pub topic: String,
    /// Scheduled start, if any.
    pub start_time: Option<DateTime<Utc>>,
    /// Scheduled minutes.
    pub duration: u32,
    /// IANA time zone.
    pub timezone: String,
    /// `settings` object as Zoom would return it.
    pub settings: Map<String, Value>,
    /// Registrants, oldest first (all statuses).
    pub registrants: Vec<RegistrantView>,
    /// Played instances, oldest first.
    pub instances: Vec<InstanceView>,
}

impl MeetingView {
    /// `settings.approval_type` (0 automatic, 1 manual, 2 no registration).
    pub fn approval_type(&self) -> u8 {
        self.settings
            .get("approval_type")
            .and_then(Value::as_u64)
            .unwrap_or(2) as u8
    }

    /// Whether registration is on (approval type 0 or 1).
    pub fn registration_enabled(&self) -> bool {
        self.approval_type() < 2
    }
}

/// What to create with [`crate::Simulator::create_meeting`] (no REST call, no rate limit).
#[derive(Debug, Clone, PartialEq)]
pub struct MeetingSpec {
    /// Meeting or webinar.
    pub kind: MeetingKind,
    /// Host user id or email (`None`: the account owner).
    pub host: Option<String>,
    /// Topic.
    pub topic: String,
    /// Zoom `type` (2 scheduled meeting / 5 webinar are typical).
    pub meeting_type: u8,
    /// Scheduled start.
    pub start_time: Option<DateTime<Utc>>,
    /// Minutes.
    pub duration: u32,
    /// IANA time zone.
    pub timezone: String,
    /// `approval_type` (0 automatic, 1 manual, 2 none).
    pub approval_type: u8,
}

impl MeetingSpec {
    /// A scheduled meeting (type 2) with automatic registration approval.
    pub fn scheduled(topic: &str, start_time: DateTime<Utc>, duration: u32) -> Self {
        Self {
            kind: MeetingKind::Meeting,
            host: None,
            topic: topic.to_owned(),
            meeting_type: 2,
            start_time: Some(start_time),
            duration,
            timezone: "UTC".to_owned(),
            approval_type: 0,
        }
    }
}

/// One API call as logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallRecord {
    /// Simulator-clock time of arrival.
    pub at: DateTime<Utc>,
    /// HTTP method.
    pub method: String,
    /// Path and query as received.
    pub path: String,
    /// Endpoint (`None` when no route matched).
    pub endpoint: Option<Endpoint>,
    /// Status answered.
    pub status: u16,
}

/// Counts of 429 answers by cause.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RateLimitStats {
    /// Per-second bucket of a category was empty.
    pub qps: u64,
    /// Daily cap of a category (or Heavy + RI) reached.
    pub daily: u64,
    /// Per-registrant / per-user daily caps.
    pub user_level: u64,
    /// Injected by fault configuration.
    pub injected: u64,
}

impl RateLimitStats {
    /// All 429s.
    pub fn total(&self) -> u64 {
        self.qps + self.daily + self.user_level + self.injected
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Registrant {
    pub(crate) id: String,
    pub(crate) email: String,
    pub(crate) first_name: String,
    pub(crate) last_name: String,
    pub(crate) status: RegistrantStatus,
    pub(crate) create_time: DateTime<Utc>,
    pub(crate) tk: String,
    pub(crate) extra: Map<String, Value>,
}

#[derive(Debug, Clone)]
pub(crate) struct Meeting {
    pub(crate) id: u64,
    pub(crate) kind: MeetingKind,
    pub(crate) uuid: String,
    pub(crate) host_id: String,
    pub(crate) topic: String,
    pub(crate) meeting_type: u8,
    pub(crate) start_time: Option<DateTime<Utc>>,
    pub(crate) duration: u32,
    pub(crate) timezone: String,
    pub(crate) agenda: String,
    pub(crate) password: String,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) settings: Map<String, Value>,
    pub(crate) registrants: Vec<Registrant>,
    pub(crate) instances: Vec<InstanceView>,
}

impl Meeting {
    fn approval_type(&self) -> u8 {
        self.settings
            .get("approval_type")
            .and_then(Value::as_u64)
            .unwrap_or(2) as u8
    }
    fn noun(&self) -> &'static str {
        match self.kind {
            MeetingKind::Meeting => "Meeting",
            MeetingKind::Webinar => "Webinar",
        }
    }
    fn live(&self) -> bool {
        self.instances.iter().any(|i| i.end_time.is_none())
    }
}

/// The fields of a registrant to add.
struct NewRegistrant<'a> {
    email: &'a str,
    first: &'a str,
    last: &'a str,
    auto_approve: bool,
    extra: Map<String, Value>,
}

#[derive(Debug, Clone)]
struct PageCursor {
    key: String,
    offset: usize,
    created: DateTime<Utc>,
}

/// Everything mutable, behind one mutex (never held across an await).
#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) account_id: String,
    pub(crate) client_id: String,
    pub(crate) client_secret: String,
    pub(crate) token_ttl: std::time::Duration,
    pub(crate) users: Vec<SimUser>,
    pub(crate) limits: RateLimits,
    pub(crate) max_registrants: usize,
    pub(crate) reports_available: bool,
    pub(crate) report_delay: std::time::Duration,
    pub(crate) report_not_ready: NotReady,
    pub(crate) random_faults: RandomFaults,
    pub(crate) user_level_headers: bool,
    pub(crate) public_url: String,
    rng: SplitMix64,
    pub(crate) fault_rng: SplitMix64,
    pub(crate) tokens: HashMap<String, DateTime<Utc>>,
    pub(crate) meetings: BTreeMap<u64, Meeting>,
    pages: HashMap<String, PageCursor>,
    pub(crate) limiter: Limiter,
    pub(crate) calls: BTreeMap<Endpoint, u64>,
    pub(crate) api_calls: u64,
    pub(crate) log: Vec<CallRecord>,
    pub(crate) stats: RateLimitStats,
    pub(crate) scheduled: Vec<(FaultTrigger, Fault)>,
    pub(crate) clicks: Vec<(u64, String)>,
}

/// Shared state: the clock and the mutex.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) clock: SimClock,
    pub(crate) inner: Mutex<Inner>,
}

impl Shared {
    pub(crate) fn new(config: SimConfig) -> Self {
        let mut users = config.users;
        if users.is_empty() {
            users = SimConfig::default().users;
        }
        Self {
            clock: SimClock::default(),
            inner: Mutex::new(Inner {
                account_id: config.account_id,
                client_id: config.client_id,
                client_secret: config.client_secret,
                token_ttl: config.token_ttl,
                users,
                limits: config.rate_limits,
                max_registrants: config.max_registrants,
                reports_available: config.reports_available,
                report_delay: config.report_delay,
                report_not_ready: config.report_not_ready,
                fault_rng: SplitMix64::new(config.faults.seed),
                random_faults: config.faults,
                user_level_headers: config.user_level_limit_headers,
                public_url: config
                    .public_url
                    .unwrap_or_else(|| "https://zoom.us".to_owned()),
                rng: SplitMix64::new(config.seed),
                tokens: HashMap::new(),
                meetings: BTreeMap::new(),
                pages: HashMap::new(),
                limiter: Limiter::default(),
                calls: BTreeMap::new(),
                api_calls: 0,
                log: Vec::new(),
                stats: RateLimitStats::default(),
                scheduled: Vec::new(),
                clicks: Vec::new(),
            }),
        }
    }

    /// Locks the state, recovering from a poisoned lock (a panicking handler must not take the
    /// whole simulator down).
    pub(crate) fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|d| d.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S")
                .ok()
                .map(|n| n.and_utc())
        })
}

fn default_settings() -> Map<String, Value> {
    let v = json!({
        "host_video": false,
        "participant_video": false,
        "join_before_host": false,
        "mute_upon_entry": false,
        "approval_type": 2,
        "registration_type": 1,
        "audio": "voip",
        "auto_recording": "none",
        "waiting_room": false,
        "registrants_confirmation_email": true,
        "registrants_email_notification": true,
        "meeting_authentication": false,
        "allow_multiple_devices": false,
        "close_registration": false
    });
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

fn valid_email(e: &str) -> bool {
    let e = e.trim();
    e.len() <= 128
        && e.split_once('@')
            .is_some_and(|(a, b)| !a.is_empty() && b.contains('.') && !b.starts_with('.'))
        && !e.contains(char::is_whitespace)
}

/// Parsed query string.
pub(crate) type Query = HashMap<String, String>;

fn page_size(q: &Query) -> Result<usize, Reply> {
    match q.get("page_size") {
        None => Ok(30),
        Some(s) => match s.parse::<i64>() {
            Ok(n) if n >= 1 => Ok((n as usize).min(300)),
            _ => Err(Reply::validation("page_size")),
        },
    }
}

impl Inner {
    fn gen_meeting_id(&mut self) -> u64 {
        loop {
            let id = 81_000_000_000 + self.rng.below(8_999_999_999);
            if !self.meetings.contains_key(&id) {
                return id;
            }
        }
    }

    fn user(&self, key: &str) -> Option<&SimUser> {
        if key == "me" {
            return self.users.first();
        }
        self.users
            .iter()
            .find(|u| u.id == key || u.email.eq_ignore_ascii_case(key))
    }

    fn join_url(&self, meeting: u64, tk: &str) -> String {
        format!("{}/w/{meeting}?tk={tk}", self.public_url)
    }

    pub(crate) fn registrant_view(&self, meeting: u64, r: &Registrant) -> RegistrantView {
        RegistrantView {
            id: r.id.clone(),
            email: r.email.clone(),
            first_name: r.first_name.clone(),
            last_name: r.last_name.clone(),
            status: r.status,
            join_url: self.join_url(meeting, &r.tk),
            tk: r.tk.clone(),
            create_time: r.create_time,
        }
    }

    pub(crate) fn meeting_view(&self, m: &Meeting) -> MeetingView {
        MeetingView {
            id: m.id,
            kind: m.kind,
            meeting_type: m.meeting_type,
            host_id: m.host_id.clone(),
            topic: m.topic.clone(),
            start_time: m.start_time,
            duration: m.duration,
            timezone: m.timezone.clone(),
            settings: m.settings.clone(),
            registrants: m
                .registrants
                .iter()
                .map(|r| self.registrant_view(m.id, r))
                .collect(),
            instances: m.instances.clone(),
        }
    }

    pub(crate) fn context(&self, meeting_id: u64) -> Option<MeetingContext> {
        let m = self.meetings.get(&meeting_id)?;
        let host = self.users.iter().find(|u| u.id == m.host_id);
        Some(MeetingContext {
            account_id: self.account_id.clone(),
            meeting_id,
            kind: m.kind,
            meeting_type: m.meeting_type,
            topic: m.topic.clone(),
            host_id: m.host_id.clone(),
            host_email: host.map(|h| h.email.clone()).unwrap_or_default(),
            host_name: host.map(SimUser::display_name).unwrap_or_default(),
            timezone: m.timezone.clone(),
            duration: m.duration,
            registrants: m
                .registrants
                .iter()
                .map(|r| RegistrantInfo {
                    id: r.id.clone(),
                    email: r.email.clone(),
                    first_name: r.first_name.clone(),
                    last_name: r.last_name.clone(),
                })
                .collect(),
        })
    }

    // ---------------------------------------------------------------- auth, limits, faults

    /// Decides the fault (if any) for this call; counts the call.
    pub(crate) fn count_and_pick_fault(&mut self, ep: Endpoint) -> Option<Fault> {
        let n = {
            let c = self.calls.entry(ep).or_insert(0);
            *c += 1;
            *c
        };
        if ep != Endpoint::OAuthToken {
            self.api_calls += 1;
        }
        let total = self.api_calls;
        let api = ep != Endpoint::OAuthToken;
        let hit = self.scheduled.iter().position(|(t, _)| match *t {
            FaultTrigger::Next(None) => api,
            FaultTrigger::Next(Some(e)) => e == ep,
            FaultTrigger::Nth(None, k) => api && k == total,
            FaultTrigger::Nth(Some(e), k) => e == ep && k == n,
        });
        if let Some(i) = hit {
            return Some(self.scheduled.remove(i).1);
        }
        if !api {
            return None;
        }
        let rf = &self.random_faults;
        if rf.only.as_ref().is_some_and(|only| !only.contains(&ep)) {
            return None;
        }
        let (p429, p5xx, pslow, prevoke) = (
            rf.too_many_requests,
            rf.server_error,
            rf.slow,
            rf.revoke_tokens,
        );
        let status = if rf.server_error_status == 0 {
            500
        } else {
            rf.server_error_status
        };
        let delay = rf.slow_delay;
        if p429 + p5xx + pslow + prevoke <= 0.0 {
            return None;
        }
        let roll = self.fault_rng.unit();
        if roll < p429 {
            Some(Fault::TooManyRequests)
        } else if roll < p429 + p5xx {
            Some(Fault::ServerError(status))
        } else if roll < p429 + p5xx + pslow {
            Some(Fault::Slow(delay))
        } else if roll < p429 + p5xx + pslow + prevoke {
            Some(Fault::RevokeTokens)
        } else {
            None
        }
    }

    /// Checks the bearer token.
    pub(crate) fn authorize(
        &mut self,
        header: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), Reply> {
        let invalid = || Reply::error(401, 124, "Invalid access token.");
        let token = header
            .and_then(|h| {
                h.strip_prefix("Bearer ")
                    .or_else(|| h.strip_prefix("bearer "))
            })
            .map(str::trim)
            .ok_or_else(invalid)?;
        match self.tokens.get(token) {
            Some(exp) if *exp > now => Ok(()),
            Some(_) => {
                self.tokens.remove(token);
                Err(invalid())
            }
            None => Err(invalid()),
        }
    }

    pub(crate) fn qps_reply(category: Category, limit: u32, reset: DateTime<Utc>) -> Reply {
        Reply::error(
            429,
            429,
            "You have reached the maximum per-second rate limit for this API. Try again later.",
        )
        .header("X-RateLimit-Category", category.header_value())
        .header("X-RateLimit-Type", "QPS")
        .header("X-RateLimit-Limit", limit.to_string())
        .header("X-RateLimit-Remaining", "0")
        .header("X-RateLimit-Reset", reset.timestamp().to_string())
    }

    /// Applies the category limits of `ep`.
    pub(crate) fn rate_limit(&mut self, ep: Endpoint, now: DateTime<Utc>) -> Result<(), Reply> {
        let Some(cat) = ep.category() else {
            return Ok(());
        };
        match self.limiter.check(&self.limits, cat, now) {
            Ok(()) => Ok(()),
            Err(Refusal::Qps {
                category,
                limit,
                reset,
            }) => {
                let mut r = Self::qps_reply(category, limit, reset);
                r.limited = Some(LimitKind::Qps);
                Err(r)
            }
            Err(Refusal::Daily { category, limit }) => {
                let mut r = Reply::error(
                    429,
                    429,
                    "You have reached the maximum daily rate limit for this API. Refer to the response header for details on when you can make another request.",
                )
                .header("X-RateLimit-Category", category.header_value())
                .header("X-RateLimit-Type", "Daily-limit")
                .header("X-RateLimit-Limit", limit.to_string())
                .header("X-RateLimit-Remaining", "0")
                .header("Retry-After", zoom_time(next_utc_midnight(now)));
                r.limited = Some(LimitKind::Daily);
                Err(r)
            }
        }
    }

    fn user_level_429(&self, message: String, category: Category, now: DateTime<Utc>) -> Reply {
        let mut r = Reply::error(429, 429, message);
        if self.user_level_headers {
            r = r
                .header("X-RateLimit-Category", category.header_value())
                .header("X-RateLimit-Type", "Daily-limit")
                .header("Retry-After", zoom_time(next_utc_midnight(now)));
        }
        r.limited = Some(LimitKind::UserLevel);
        r
    }

    fn meeting_write_allowance(&mut self, host_id: &str, now: DateTime<Utc>) -> Result<(), Reply> {
        if let Some(cap) = self.limits.meeting_writes_per_user_daily {
            let key = format!("mw:{host_id}");
            if !self.limiter.take_keyed(&key, cap, now) {
                return Err(self.user_level_429(
                    format!(
                        "You have exceeded the daily rate limit of ({cap}) for Create/Update meeting API requests for the user ({host_id}). You can resume these API requests at GMT 00:00:00."
                    ),
                    Category::Medium,
                    now,
                ));
            }
        }
        Ok(())
    }

    // ---------------------------------------------------------------- OAuth

    pub(crate) fn oauth_token(
        &mut self,
        basic: Option<(String, String)>,
        grant_type: Option<&str>,
        account_id: Option<&str>,
        now: DateTime<Utc>,
        api_url: &str,
    ) -> Reply {
        let creds_ok = basic
            .as_ref()
            .is_some_and(|(id, secret)| *id == self.client_id && *secret == self.client_secret);
        if !creds_ok {
            return Reply::json(
                401,
                json!({"reason": "Invalid client_id or client_secret", "error": "invalid_client"}),
            );
        }
        if grant_type != Some("account_credentials") {
            return Reply::json(
                400,
                json!({"reason": "Unsupported grant type", "error": "unsupported_grant_type"}),
            );
        }
        if account_id != Some(self.account_id.as_str()) {
            return Reply::json(
                400,
                json!({"reason": "Invalid request : Account does not exist", "error": "invalid_request"}),
            );
        }
        let token = format!("sim.{}", hex::encode(rand::random::<[u8; 32]>()));
        let ttl = Duration::milliseconds(self.token_ttl.as_millis() as i64);
        self.tokens.insert(token.clone(), now + ttl);
        Reply::json(
            200,
            json!({
                "access_token": token,
                "token_type": "bearer",
                "expires_in": self.token_ttl.as_secs(),
                "scope": "meeting:read:admin meeting:write:admin report:read:admin user:read:admin",
                "api_url": api_url,
            }),
        )
    }

    // ---------------------------------------------------------------- meetings

    fn find(&self, kind: MeetingKind, id_raw: &str) -> Result<u64, Reply> {
        let noun = match kind {
            MeetingKind::Meeting => "Meeting",
            MeetingKind::Webinar => "Webinar",
        };
        let not_found = || Reply::error(404, 3001, format!("{noun} does not exist: {id_raw}."));
        let id: u64 = id_raw.parse().map_err(|_| not_found())?;
        match self.meetings.get(&id) {
            Some(m) if m.kind == kind => Ok(id),
            _ => Err(not_found()),
        }
    }

    pub(crate) fn meeting_json(&self, m: &Meeting) -> Value {
        let host_email = self
            .users
            .iter()
            .find(|u| u.id == m.host_id)
            .map(|u| u.email.clone())
            .unwrap_or_default();
        let mut v = json!({
            "uuid": m.uuid,
            "id": m.id,
            "host_id": m.host_id,
            "host_email": host_email,
            "topic": m.topic,
            "type": m.meeting_type,
            "status": if m.live() { "started" } else { "waiting" },
            "duration": m.duration,
            "timezone": m.timezone,
            "agenda": m.agenda,
            "created_at": zoom_time(m.created_at),
            "start_url": format!("{}/s/{}?zak=sim", self.public_url, m.id),
            "join_url": format!("{}/j/{}?pwd={}", self.public_url, m.id, m.password),
            "password": m.password,
            "settings": Value::Object(m.settings.clone()),
            "pre_schedule": false,
        });
        if let Some(t) = m.start_time {
            v["start_time"] = json!(zoom_time(t));
        }
        if m.approval_type() < 2 {
            v["registration_url"] = json!(format!(
                "{}/{}/register/{}",
                self.public_url,
                m.kind.as_str(),
                m.uuid.replace(['/', '+', '='], "")
            ));
        }
        v
    }

    /// Applies `topic`, `start_time`, `duration`, `timezone`, `agenda`, `type` and `settings`
    /// from a create/patch body.
    fn apply_fields(m: &mut Meeting, body: &Map<String, Value>) -> Result<(), Reply> {
        if let Some(v) = body.get("topic") {
            let t = v.as_str().ok_or_else(|| Reply::validation("topic"))?;
            if t.chars().count() > 200 {
                return Err(Reply::validation("topic"));
            }
            m.topic = t.to_owned();
        }
        if let Some(v) = body.get("type") {
            let t = v.as_u64().ok_or_else(|| Reply::validation("type"))? as u8;
            let ok = match m.kind {
                MeetingKind::Meeting => [1, 2, 3, 8].contains(&t),
                MeetingKind::Webinar => [5, 6, 9].contains(&t),
            };
            if !ok {
                return Err(Reply::validation("type"));
            }
            m.meeting_type = t;
        }
        if let Some(v) = body.get("start_time") {
            let s = v.as_str().ok_or_else(|| Reply::validation("start_time"))?;
            m.start_time = Some(parse_time(s).ok_or_else(|| Reply::validation("start_time"))?);
        }
        if let Some(v) = body.get("duration") {
            m.duration = v.as_u64().ok_or_else(|| Reply::validation("duration"))? as u32;
        }
        if let Some(v) = body.get("timezone") {
            m.timezone = v
                .as_str()
                .ok_or_else(|| Reply::validation("timezone"))?
                .to_owned();
        }
        if let Some(v) = body.get("agenda") {
            m.agenda = v.as_str().unwrap_or_default().to_owned();
        }
        if let Some(v) = body.get("settings") {
            let s = v.as_object().ok_or_else(|| Reply::validation("settings"))?;
            if let Some(a) = s.get("approval_type") {
                match a.as_u64() {
                    Some(0..=2) => {}
                    _ => return Err(Reply::validation("settings.approval_type")),
                }
            }
            for (k, v) in s {
                m.settings.insert(k.clone(), v.clone());
            }
        }
        // Instant meetings and recurring meetings with no fixed time cannot have registration:
        // Zoom silently keeps approval_type 2.
        if matches!(m.meeting_type, 1 | 3 | 6) {
            m.settings.insert("approval_type".into(), json!(2));
        }
        Ok(())
    }

    pub(crate) fn create_meeting(
        &mut self,
        kind: MeetingKind,
        user: &str,
        body: &Value,
        now: DateTime<Utc>,
    ) -> Reply {
        let Some(host) = self.user(user).cloned() else {
            return Reply::error(404, 1001, format!("User does not exist: {user}."));
        };
        let Some(obj) = body.as_object() else {
            return Reply::error(400, 300, "Request Body should be a valid JSON object.");
        };
        if let Err(r) = self.meeting_write_allowance(&host.id, now) {
            return r;
        }
        let id = self.gen_meeting_id();
        let mut m = Meeting {
            id,
            kind,
            uuid: gen_uuid(&mut self.rng),
            host_id: host.id.clone(),
            topic: match kind {
                MeetingKind::Meeting => "Zoom meeting".to_owned(),
                MeetingKind::Webinar => "Zoom webinar".to_owned(),
            },
            meeting_type: match kind {
                MeetingKind::Meeting => 2,
                MeetingKind::Webinar => 5,
            },
            start_time: None,
            duration: 60,
            timezone: "UTC".to_owned(),
            agenda: String::new(),
            password: format!("{:06}", self.rng.below(1_000_000)),
            created_at: now,
            settings: default_settings(),
            registrants: Vec::new(),
            instances: Vec::new(),
        };
        if let Err(r) = Self::apply_fields(&mut m, obj) {
            return r;
        }
        if m.start_time.is_none() && matches!(m.meeting_type, 2 | 5 | 8 | 9) {
            m.start_time = Some(now);
        }
        let v = self.meeting_json(&m);
        self.meetings.insert(id, m);
        Reply::json(201, v)
    }

    pub(crate) fn get_meeting(&self, kind: MeetingKind, id_raw: &str) -> Reply {
        match self.find(kind, id_raw) {
            Ok(id) => Reply::json(200, self.meeting_json(&self.meetings[&id])),
            Err(r) => r,
        }
    }

    pub(crate) fn update_meeting(
        &mut self,
        kind: MeetingKind,
        id_raw: &str,
        body: &Value,
        now: DateTime<Utc>,
    ) -> Reply {
        let id = match self.find(kind, id_raw) {
            Ok(id) => id,
            Err(r) => return r,
        };
        let Some(obj) = body.as_object() else {
            return Reply::error(400, 300, "Request Body should be a valid JSON object.");
        };
        let host = self.meetings[&id].host_id.clone();
        if let Err(r) = self.meeting_write_allowance(&host, now) {
            return r;
        }
        let mut m = self.meetings[&id].clone();
        if let Err(r) = Self::apply_fields(&mut m, obj) {
            return r;
        }
        self.meetings.insert(id, m);
        Reply::empty(204)
    }

    pub(crate) fn delete_meeting(&mut self, kind: MeetingKind, id_raw: &str) -> Reply {
        match self.find(kind, id_raw) {
            Ok(id) => {
                self.meetings.remove(&id);
                Reply::empty(204)
            }
            Err(r) => r,
        }
    }

    // ---------------------------------------------------------------- registrants

    fn registration_open(&self, id: u64) -> Result<(), Reply> {
        let m = &self.meetings[&id];
        if m.approval_type() >= 2 {
            return Err(Reply::error(
                404,
                404,
                format!(
                    "Registration has not been enabled for this {}: {id}.",
                    m.kind.as_str()
                ),
            ));
        }
        Ok(())
    }

    fn host_email(&self, id: u64) -> Option<String> {
        let m = &self.meetings[&id];
        self.users
            .iter()
            .find(|u| u.id == m.host_id)
            .map(|u| u.email.clone())
    }

    /// Adds or returns (same email) a registrant; no limit checks.
    fn upsert_registrant(
        &mut self,
        id: u64,
        new: NewRegistrant<'_>,
        now: DateTime<Utc>,
    ) -> Result<usize, Reply> {
        let NewRegistrant {
            email,
            first,
            last,
            auto_approve,
            extra,
        } = new;
        let approval = self.meetings[&id].approval_type();
        let fresh_status = if approval == 0 || auto_approve {
            RegistrantStatus::Approved
        } else {
            RegistrantStatus::Pending
        };
        let max = self.max_registrants;
        if let Some(pos) = self.meetings[&id]
            .registrants
            .iter()
            .position(|r| r.email.eq_ignore_ascii_case(email))
        {
            let r = &mut self.meetings.get_mut(&id).expect("checked").registrants[pos];
            if matches!(
                r.status,
                RegistrantStatus::Denied | RegistrantStatus::Cancelled
            ) {
                r.status = fresh_status;
            }
            return Ok(pos);
        }
        let m = &self.meetings[&id];
        if m.registrants.len() >= max {
            return Err(Reply::error(
                400,
                3043,
                format!("{} has reached maximum attendee capacity.", m.noun()),
            ));
        }
        let rid = gen_id(&mut self.rng);
        let tk = format!(
            "{}.{}",
            gen_id(&mut self.rng).replace(['-', '_'], "x"),
            gen_id(&mut self.rng).replace(['-', '_'], "y")
        );
        let m = self.meetings.get_mut(&id).expect("checked");
        m.registrants.push(Registrant {
            id: rid,
            email: email.to_owned(),
            first_name: first.to_owned(),
            last_name: last.to_owned(),
            status: fresh_status,
            create_time: now,
            tk,
            extra,
        });
        Ok(m.registrants.len() - 1)
    }

    fn registration_limit_key(id: u64, email: &str) -> String {
        format!("reg:{id}:{}", email.to_ascii_lowercase())
    }

    fn registration_429(&self, email: &str, cap: u32, now: DateTime<Utc>) -> Reply {
        self.user_level_429(
            format!(
                "You have exceeded the daily rate limit of ({cap}) for Add meeting registrant API requests for the registrant ({email}). You can resume these API requests at GMT 00:00:00."
            ),
            Category::Light,
            now,
        )
    }

    pub(crate) fn add_registrant(
        &mut self,
        kind: MeetingKind,
        id_raw: &str,
        body: &Value,
        now: DateTime<Utc>,
    ) -> Reply {
        let id = match self.find(kind, id_raw) {
            Ok(id) => id,
            Err(r) => return r,
        };
        if let Err(r) = self.registration_open(id) {
            return r;
        }
        let Some(obj) = body.as_object() else {
            return Reply::error(400, 300, "Request Body should be a valid JSON object.");
        };
        let email = obj
            .get("email")
            .and_then(Value::as_str)
            .unwrap_or("")
            .trim();
        if !valid_email(email) {
            return Reply::validation("email");
        }
        let first = obj
            .get("first_name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .trim();
        if first.is_empty() || first.chars().count() > 64 {
            return Reply::validation("first_name");
        }
        let last = obj.get("last_name").and_then(Value::as_str).unwrap_or("");
        if last.chars().count() > 64 {
            return Reply::validation("last_name");
        }
        if self
            .host_email(id)
            .is_some_and(|h| h.eq_ignore_ascii_case(email))
        {
            return Reply::error(400, 3027, "Host can not register");
        }
        if let Some(cap) = self.limits.registrations_per_registrant_daily {
            let key = Self::registration_limit_key(id, email);
            if !self.limiter.take_keyed(&key, cap, now) {
                return self.registration_429(email, cap, now);
            }
        }
        let auto = obj
            .get("auto_approve")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let mut extra = obj.clone();
        for k in ["email", "first_name", "last_name", "auto_approve"] {
            extra.remove(k);
        }
        let pos = match self.upsert_registrant(
            id,
            NewRegistrant {
                email,
                first,
                last,
                auto_approve: auto,
                extra,
            },
            now,
        ) {
            Ok(p) => p,
            Err(r) => return r,
        };
        let m = &self.meetings[&id];
        let r = &m.registrants[pos];
        let mut v = json!({
            "id": m.id,
            "registrant_id": r.id,
            "topic": m.topic,
        });
        if let Some(t) = m.start_time {
            v["start_time"] = json!(zoom_time(t));
        }
        if r.status == RegistrantStatus::Approved {
            v["join_url"] = json!(self.join_url(id, &r.tk));
        }
        Reply::json(201, v)
    }

    pub(crate) fn batch_registrants(
        &mut self,
        kind: MeetingKind,
        id_raw: &str,
        body: &Value,
        now: DateTime<Utc>,
    ) -> Reply {
        let id = match self.find(kind, id_raw) {
            Ok(id) => id,
            Err(r) => return r,
        };
        let scheduled = match kind {
            MeetingKind::Meeting => 2,
            MeetingKind::Webinar => 5,
        };
        if self.meetings[&id].meeting_type != scheduled {
            return Reply::error(
                400,
                303,
                format!(
                    "Batch registration is only available for scheduled {}s.",
                    kind.as_str()
                ),
            );
        }
        if let Err(r) = self.registration_open(id) {
            return r;
        }
        let Some(obj) = body.as_object() else {
            return Reply::error(400, 300, "Request Body should be a valid JSON object.");
        };
        let Some(list) = obj.get("registrants").and_then(Value::as_array) else {
            return Reply::validation("registrants");
        };
        if list.is_empty() || list.len() > 30 {
            return Reply::validation("registrants");
        }
        let mut items = Vec::with_capacity(list.len());
        for item in list {
            let email = item
                .get("email")
                .and_then(Value::as_str)
                .unwrap_or("")
                .trim();
            let first = item
                .get("first_name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .trim();
            if !valid_email(email) {
                return Reply::validation("registrants.email");
            }
            if first.is_empty() || first.chars().count() > 64 {
                return Reply::validation("registrants.first_name");
            }
            let last = item.get("last_name").and_then(Value::as_str).unwrap_or("");
            items.push((email.to_owned(), first.to_owned(), last.to_owned()));
        }
        if let Some(h) = self.host_email(id)
            && items.iter().any(|(e, _, _)| e.eq_ignore_ascii_case(&h))
        {
            return Reply::error(400, 3027, "Host can not register");
        }
        if let Some(cap) = self.limits.registrations_per_registrant_daily {
            for (email, _, _) in &items {
                let key = Self::registration_limit_key(id, email);
                if self.limiter.keyed_left(&key, cap, now) == 0 {
                    return self.registration_429(email, cap, now);
                }
            }
        }
        // Capacity is checked for the whole batch before anything is added.
        let new = items
            .iter()
            .filter(|(e, _, _)| {
                !self.meetings[&id]
                    .registrants
                    .iter()
                    .any(|r| r.email.eq_ignore_ascii_case(e))
            })
            .count();
        let m = &self.meetings[&id];
        if m.registrants.len() + new > self.max_registrants {
            return Reply::error(
                400,
                3043,
                format!("{} has reached maximum attendee capacity.", m.noun()),
            );
        }
        if let Some(cap) = self.limits.registrations_per_registrant_daily {
            for (email, _, _) in &items {
                let key = Self::registration_limit_key(id, email);
                self.limiter.take_keyed(&key, cap, now);
            }
        }
        let auto = obj
            .get("auto_approve")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let mut out = Vec::new();
        for (email, first, last) in &items {
            let pos = match self.upsert_registrant(
                id,
                NewRegistrant {
                    email,
                    first,
                    last,
                    auto_approve: auto,
                    extra: Map::new(),
                },
                now,
            ) {
                Ok(p) => p,
                Err(r) => return r,
            };
            let r = &self.meetings[&id].registrants[pos];
            let mut v = json!({"email": r.email, "registrant_id": r.id});
            if r.status == RegistrantStatus::Approved {
                v["join_url"] = json!(self.join_url(id, &r.tk));
            }
            out.push(v);
        }
        Reply::json(200, json!({ "registrants": out }))
    }

    fn registrant_json(&self, id: u64, r: &Registrant) -> Value {
        let mut v = json!({
            "id": r.id,
            "email": r.email,
            "first_name": r.first_name,
            "last_name": r.last_name,
            "status": r.status.wire(),
            "create_time": zoom_time(r.create_time),
            "join_url": self.join_url(id, &r.tk),
            "custom_questions": [],
        });
        for (k, x) in &r.extra {
            if v.get(k).is_none() {
                v[k.as_str()] = x.clone();
            }
        }
        v
    }

    /// Slices `total` items into a page, using and issuing `next_page_token`s that expire
    /// after 15 minutes.
    fn page(
        &mut self,
        key: &str,
        total: usize,
        q: &Query,
        now: DateTime<Utc>,
    ) -> Result<(usize, usize, String), Reply> {
        let size = page_size(q)?;
        self.pages
            .retain(|_, c| now - c.created < Duration::minutes(15));
        let offset = match q.get("next_page_token").filter(|t| !t.is_empty()) {
            None => 0,
            Some(t) => match self.pages.get(t) {
                Some(c) if c.key == key => c.offset,
                _ => {
                    return Err(Reply::error(
                        400,
                        300,
                        "The next page token is either invalid or has expired.",
                    ));
                }
            },
        };
        let end = (offset + size).min(total);
        let next = if end < total {
            let token = gen_id(&mut self.rng);
            self.pages.insert(
                token.clone(),
                PageCursor {
                    key: key.to_owned(),
                    offset: end,
                    created: now,
                },
            );
            token
        } else {
            String::new()
        };
        Ok((offset.min(total), size, next))
    }

    pub(crate) fn list_registrants(
        &mut self,
        kind: MeetingKind,
        id_raw: &str,
        q: &Query,
        now: DateTime<Utc>,
    ) -> Reply {
        let id = match self.find(kind, id_raw) {
            Ok(id) => id,
            Err(r) => return r,
        };
        let status = q.get("status").map(String::as_str).unwrap_or("approved");
        let want: &[RegistrantStatus] = match status {
            "approved" => &[RegistrantStatus::Approved],
            "pending" => &[RegistrantStatus::Pending],
            "denied" => &[RegistrantStatus::Denied, RegistrantStatus::Cancelled],
            _ => return Reply::validation("status"),
        };
        let matching: Vec<Registrant> = self.meetings[&id]
            .registrants
            .iter()
            .filter(|r| want.contains(&r.status))
            .cloned()
            .collect();
        let key = format!("reg:{id}:{status}");
        let (offset, size, next) = match self.page(&key, matching.len(), q, now) {
            Ok(p) => p,
            Err(r) => return r,
        };
        let rows: Vec<Value> = matching
            .iter()
            .skip(offset)
            .take(size)
            .map(|r| self.registrant_json(id, r))
            .collect();
        Reply::json(
            200,
            json!({
                "page_count": matching.len().div_ceil(size),
                "page_number": offset / size + 1,
                "page_size": size,
                "total_records": matching.len(),
                "next_page_token": next,
                "registrants": rows,
            }),
        )
    }

    pub(crate) fn get_registrant(&self, kind: MeetingKind, id_raw: &str, rid: &str) -> Reply {
        let id = match self.find(kind, id_raw) {
            Ok(id) => id,
            Err(r) => return r,
        };
        match self.meetings[&id].registrants.iter().find(|r| r.id == rid) {
            Some(r) => Reply::json(200, self.registrant_json(id, r)),
            None => Reply::error(404, 3079, "Registrant not found."),
        }
    }

    pub(crate) fn delete_registrant(
        &mut self,
        kind: MeetingKind,
        id_raw: &str,
        rid: &str,
    ) -> Reply {
        let id = match self.find(kind, id_raw) {
            Ok(id) => id,
            Err(r) => return r,
        };
        let m = self.meetings.get_mut(&id).expect("found");
        let before = m.registrants.len();
        m.registrants.retain(|r| r.id != rid);
        if m.registrants.len() == before {
            Reply::error(404, 3079, "Registrant not found.")
        } else {
            Reply::empty(204)
        }
    }

    pub(crate) fn update_registrant_status(
        &mut self,
        kind: MeetingKind,
        id_raw: &str,
        body: &Value,
        now: DateTime<Utc>,
    ) -> Reply {
        let id = match self.find(kind, id_raw) {
            Ok(id) => id,
            Err(r) => return r,
        };
        let new_status = match body.get("action").and_then(Value::as_str) {
            Some("approve") => RegistrantStatus::Approved,
            Some("deny") => RegistrantStatus::Denied,
            Some("cancel") => RegistrantStatus::Cancelled,
            _ => return Reply::validation("action"),
        };
        let list = body
            .get("registrants")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        if list.is_empty() || list.len() > 30 {
            return Reply::validation("registrants");
        }
        let mut targets = Vec::new();
        for item in &list {
            let rid = item.get("id").and_then(Value::as_str);
            let email = item.get("email").and_then(Value::as_str);
            if let Some(pos) = self.meetings[&id].registrants.iter().position(|r| {
                rid.is_some_and(|x| x == r.id)
                    || email.is_some_and(|e| e.eq_ignore_ascii_case(&r.email))
            }) {
                targets.push(pos);
            }
        }
        if let Some(cap) = self.limits.status_changes_per_registrant_daily {
            for &pos in &targets {
                let r = &self.meetings[&id].registrants[pos];
                let key = format!("status:{id}:{}", r.id);
                if self.limiter.keyed_left(&key, cap, now) == 0 {
                    let email = r.email.clone();
                    return self.user_level_429(
                        format!(
                            "You have exceeded the daily rate limit of ({cap}) for Update registrant's status API requests for the registrant ({email}). You can resume these API requests at GMT 00:00:00."
                        ),
                        Category::Medium,
                        now,
                    );
                }
            }
            for &pos in &targets {
                let key = format!("status:{id}:{}", self.meetings[&id].registrants[pos].id);
                self.limiter.take_keyed(&key, cap, now);
            }
        }
        let m = self.meetings.get_mut(&id).expect("found");
        for pos in targets {
            m.registrants[pos].status = new_status;
        }
        Reply::empty(204)
    }

    // ---------------------------------------------------------------- past meetings, reports

    pub(crate) fn past_instances(&self, kind: MeetingKind, id_raw: &str) -> Reply {
        let id = match self.find(kind, id_raw) {
            Ok(id) => id,
            Err(r) => return r,
        };
        let list: Vec<Value> = self.meetings[&id]
            .instances
            .iter()
            .filter(|i| i.end_time.is_some())
            .map(|i| json!({"uuid": i.uuid, "start_time": zoom_time(i.start_time)}))
            .collect();
        Reply::json(200, json!({ "meetings": list }))
    }

    /// Finds the ended instance a report path names: a numeric id (latest instance) or a
    /// decoded UUID.
    fn report_instance(&self, kind: MeetingKind, key: &str) -> Option<(u64, usize)> {
        if let Ok(id) = key.parse::<u64>() {
            let m = self.meetings.get(&id).filter(|m| m.kind == kind)?;
            let idx = m
                .instances
                .iter()
                .enumerate()
                .filter(|(_, i)| i.end_time.is_some())
                .max_by_key(|(_, i)| i.start_time)?
                .0;
            return Some((id, idx));
        }
        self.meetings
            .values()
            .filter(|m| m.kind == kind)
            .find_map(|m| {
                m.instances
                    .iter()
                    .position(|i| i.uuid == key && i.end_time.is_some())
                    .map(|idx| (m.id, idx))
            })
    }

    /// `GET /past_meetings/{id|uuid}`: details of an ended instance (numeric id: the latest).
    pub(crate) fn past_meeting(&self, kind: MeetingKind, key: Option<&str>, shown: &str) -> Reply {
        let Some((id, idx)) = key.and_then(|k| self.report_instance(kind, k)) else {
            return Reply::error(404, 3001, format!("Meeting does not exist: {shown}."));
        };
        let m = &self.meetings[&id];
        let inst = &m.instances[idx];
        let host = self.users.iter().find(|u| u.id == m.host_id);
        let end = inst.end_time.unwrap_or(inst.start_time);
        let in_meeting: Vec<&ReportRow> = inst
            .report
            .iter()
            .filter(|r| r.status == "in_meeting")
            .collect();
        Reply::json(
            200,
            json!({
                "uuid": inst.uuid,
                "id": m.id,
                "host_id": m.host_id,
                "type": m.meeting_type,
                "topic": m.topic,
                "user_name": host.map(SimUser::display_name).unwrap_or_default(),
                "user_email": host.map(|h| h.email.clone()).unwrap_or_default(),
                "start_time": zoom_time(inst.start_time),
                "end_time": zoom_time(end),
                "duration": ((end - inst.start_time).num_seconds().max(0) as u64).div_ceil(60),
                "total_minutes": in_meeting.iter().map(|r| r.duration).sum::<i64>() / 60,
                "participants_count": in_meeting.len(),
                "source": "Zoom",
            }),
        )
    }

    pub(crate) fn participants(
        &mut self,
        kind: MeetingKind,
        key: Option<&str>,
        shown: &str,
        report: bool,
        q: &Query,
        now: DateTime<Utc>,
    ) -> Reply {
        if !self.reports_available {
            return Reply::error(400, 200, "Only available for Paid user.");
        }
        let noun = match kind {
            MeetingKind::Meeting => "Meeting",
            MeetingKind::Webinar => "Webinar",
        };
        let not_found = || Reply::error(404, 3001, format!("{noun} does not exist: {shown}."));
        let Some((id, idx)) = key.and_then(|k| self.report_instance(kind, k)) else {
            return not_found();
        };
        let inst = self.meetings[&id].instances[idx].clone();
        let ready_at = inst.ended_at.unwrap_or(now)
            + Duration::milliseconds(self.report_delay.as_millis() as i64);
        let rows: &[ReportRow] = if now < ready_at {
            match self.report_not_ready {
                NotReady::NotFound => return not_found(),
                NotReady::Empty => &[],
            }
        } else {
            &inst.report
        };
        let with_registrant = !report
            || q.get("include_fields")
                .is_some_and(|f| f.split(',').any(|x| x.trim() == "registrant_id"));
        let key = format!(
            "{}:{}:{}",
            if report { "rep" } else { "past" },
            inst.uuid,
            with_registrant
        );
        let (offset, size, next) = match self.page(&key, rows.len(), q, now) {
            Ok(p) => p,
            Err(r) => return r,
        };
        let list: Vec<Value> = rows
            .iter()
            .skip(offset)
            .take(size)
            .map(|r| {
                let mut v = json!({
                    "id": r.id,
                    "user_id": r.user_id,
                    "name": r.name,
                    "user_email": r.user_email,
                    "join_time": zoom_time(r.join_time),
                    "leave_time": zoom_time(r.leave_time),
                    "duration": r.duration,
                    "failover": false,
                    "status": r.status,
                });
                if with_registrant {
                    v["registrant_id"] = json!(r.registrant_id);
                }
                if report {
                    v["participant_user_id"] = json!(r.id);
                } else {
                    v["internal_user"] = json!(!r.id.is_empty());
                }
                if let Some(k) = &r.customer_key {
                    v["customer_key"] = json!(k);
                }
                v
            })
            .collect();
        Reply::json(
            200,
            json!({
                "page_count": rows.len().div_ceil(size),
                "page_size": size,
                "total_records": rows.len(),
                "next_page_token": next,
                "participants": list,
            }),
        )
    }

    // ---------------------------------------------------------------- played instances

    /// Records that an instance started (live).
    pub(crate) fn instance_started(&mut self, meeting: u64, inst: &PlayedInstance) {
        if let Some(m) = self.meetings.get_mut(&meeting) {
            if let Some(i) = m.instances.iter_mut().find(|i| i.uuid == inst.uuid) {
                i.start_time = inst.start_time;
            } else {
                m.instances.push(InstanceView {
                    uuid: inst.uuid.clone(),
                    start_time: inst.start_time,
                    end_time: None,
                    ended_at: None,
                    report: Vec::new(),
                });
            }
        }
    }

    /// Records that an instance ended: its report becomes available after the delay.
    pub(crate) fn instance_ended(
        &mut self,
        meeting: u64,
        inst: &PlayedInstance,
        now: DateTime<Utc>,
    ) {
        self.instance_started(meeting, inst);
        if let Some(m) = self.meetings.get_mut(&meeting)
            && let Some(i) = m.instances.iter_mut().find(|i| i.uuid == inst.uuid)
        {
            if i.end_time.is_none() {
                i.ended_at = Some(now);
            }
            i.end_time = Some(inst.end_time);
            i.report = inst.report.clone();
        }
    }

    /// A registrant by its join-url token.
    pub(crate) fn by_tk(&self, meeting: u64, tk: &str) -> Option<(String, String, Registrant)> {
        let m = self.meetings.get(&meeting)?;
        let r = m.registrants.iter().find(|r| r.tk == tk)?;
        Some((m.topic.clone(), m.kind.as_str().to_owned(), r.clone()))
    }

    /// Creates a meeting directly (no REST, no limits).
    pub(crate) fn create_direct(&mut self, spec: &MeetingSpec, now: DateTime<Utc>) -> Option<u64> {
        let host = match &spec.host {
            Some(h) => self.user(h)?.clone(),
            None => self.users.first()?.clone(),
        };
        let id = self.gen_meeting_id();
        let mut settings = default_settings();
        let approval = if matches!(spec.meeting_type, 1 | 3 | 6) {
            2
        } else {
            spec.approval_type.min(2)
        };
        settings.insert("approval_type".into(), json!(approval));
        let m = Meeting {
            id,
            kind: spec.kind,
            uuid: gen_uuid(&mut self.rng),
            host_id: host.id,
            topic: spec.topic.clone(),
            meeting_type: spec.meeting_type,
            start_time: spec.start_time,
            duration: spec.duration,
            timezone: spec.timezone.clone(),
            agenda: String::new(),
            password: format!("{:06}", self.rng.below(1_000_000)),
            created_at: now,
            settings,
            registrants: Vec::new(),
            instances: Vec::new(),
        };
        self.meetings.insert(id, m);
        Some(id)
    }

    /// Adds a registrant directly (no REST, no limits); same email returns the existing one.
    pub(crate) fn register_direct(
        &mut self,
        meeting: u64,
        email: &str,
        first: &str,
        last: &str,
        now: DateTime<Utc>,
    ) -> Option<RegistrantView> {
        self.meetings.get(&meeting)?;
        let pos = self
            .upsert_registrant(
                meeting,
                NewRegistrant {
                    email,
                    first,
                    last,
                    auto_approve: true,
                    extra: Map::new(),
                },
                now,
            )
            .ok()?;
        let r = self.meetings[&meeting].registrants[pos].clone();
        Some(self.registrant_view(meeting, &r))
    }
}
