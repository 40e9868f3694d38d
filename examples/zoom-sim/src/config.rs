//! Configuration of the simulated Zoom account: credentials, host users, plan and rate limits,
//! report behaviour and fault injection.

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

/// How the simulated account behaves. Build with [`SimConfig::default`] and adjust fields.
#[derive(Clone)]
pub struct SimConfig {
    /// Where [`crate::Simulator::start`] listens; port 0 (the default) picks a free port.
    pub bind: SocketAddr,
    /// The Zoom account id that `grant_type=account_credentials` must name.
    pub account_id: String,
    /// Server-to-Server OAuth client id (Basic auth user).
    pub client_id: String,
    /// Server-to-Server OAuth client secret (Basic auth password). Never printed by `Debug`.
    pub client_secret: String,
    /// Lifetime of issued access tokens (Zoom: one hour). Use a short one for expiry tests.
    pub token_ttl: Duration,
    /// Users of the account who can host meetings. The first is the account owner, also
    /// reachable as `me`. Must not be empty (an empty list gets a default owner).
    pub users: Vec<SimUser>,
    /// Rate limits to enforce (default: the Pro plan).
    pub rate_limits: RateLimits,
    /// Registrant capacity of one meeting or webinar (Zoom: 4,999); adding beyond it answers
    /// 400 with code 3043.
    pub max_registrants: usize,
    /// Whether the account's plan has reports (Pro or higher). `false` makes the report and
    /// past-participant endpoints answer 400 `{"code":200,"message":"Only available for Paid user."}`.
    pub reports_available: bool,
    /// How long after an instance ended (simulator clock) its participant report is still not
    /// ready.
    pub report_delay: Duration,
    /// What a not-yet-ready report answers.
    pub report_not_ready: NotReady,
    /// Random fault injection on REST calls (none by default).
    pub faults: RandomFaults,
    /// Whether the per-registrant and per-user daily 429s carry `X-RateLimit-*`/`Retry-After`
    /// headers. Real Zoom has been seen sending them without; set `false` to check that a client
    /// falls back to the body text. Default `true`.
    pub user_level_limit_headers: bool,
    /// Base of registrants' `join_url`s and of the simulated join page, e.g.
    /// `http://127.0.0.1:9000/zoom`. `None`: the started server's own origin (or
    /// `https://zoom.us` when mounted and never set).
    pub public_url: Option<String>,
    /// Seed for generated ids (meeting ids, registrant ids, tokens in join urls).
    pub seed: u64,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            account_id: "SimAccount-0001".to_owned(),
            client_id: "sim-client-id".to_owned(),
            client_secret: "sim-client-secret".to_owned(),
            token_ttl: Duration::from_secs(3600),
            users: vec![SimUser::new(
                "sim-host-0001",
                "host@sim.example",
                "Sam",
                "Host",
            )],
            rate_limits: RateLimits::plan(Plan::Pro),
            max_registrants: 4999,
            reports_available: true,
            report_delay: Duration::ZERO,
            report_not_ready: NotReady::NotFound,
            faults: RandomFaults::default(),
            user_level_limit_headers: true,
            public_url: None,
            seed: 0x5eed,
        }
    }
}

impl fmt::Debug for SimConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimConfig")
            .field("bind", &self.bind)
            .field("account_id", &self.account_id)
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("token_ttl", &self.token_ttl)
            .field("users", &self.users)
            .field("rate_limits", &self.rate_limits)
            .field("max_registrants", &self.max_registrants)
            .field("reports_available", &self.reports_available)
            .field("report_delay", &self.report_delay)
            .field("report_not_ready", &self.report_not_ready)
            .field("faults", &self.faults)
            .field("user_level_limit_headers", &self.user_level_limit_headers)
            .field("public_url", &self.public_url)
            .field("seed", &self.seed)
            .finish()
    }
}

/// A user of the simulated account (a potential meeting host).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimUser {
    /// Zoom user id (what `host_id` shows).
    pub id: String,
    /// The user's email; `POST /users/{email}/meetings` works too.
    pub email: String,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
}

impl SimUser {
    /// A user with these fields.
    pub fn new(id: &str, email: &str, first_name: &str, last_name: &str) -> Self {
        Self {
            id: id.to_owned(),
            email: email.to_owned(),
            first_name: first_name.to_owned(),
            last_name: last_name.to_owned(),
        }
    }

    /// "First Last".
    pub fn display_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
            .trim()
            .to_owned()
    }
}

/// What a participant report answers while it is not ready yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotReady {
    /// 404 `{"code":3001,"message":"Meeting does not exist: {id}."}`.
    NotFound,
    /// 200 with zero participants.
    Empty,
}

/// Zoom's rate-limit categories (labels on each endpoint).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Category {
    /// e.g. get meeting, add registrant.
    Light,
    /// e.g. create meeting, list registrants, registrant status, past participants.
    Medium,
    /// e.g. batch registrants, participant report.
    Heavy,
    /// Not used by attend's endpoints; present for completeness.
    ResourceIntensive,
}

impl Category {
    /// The `X-RateLimit-Category` header value.
    pub fn header_value(self) -> &'static str {
        match self {
            Category::Light => "Light",
            Category::Medium => "Medium",
            Category::Heavy => "Heavy",
            Category::ResourceIntensive => "Resource-intensive",
        }
    }
}

/// Zoom plans with their documented rate limits (zoom-api.md §3.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    /// Light 4/s + 6,000/day, Medium 2/s + 2,000/day, Heavy 1/s + 1,000/day,
    /// Resource-intensive 10/min + 30,000/day.
    Free,
    /// Light 30/s, Medium 20/s, Heavy 10/s, Resource-intensive 10/min; Heavy + RI 30,000/day.
    Pro,
    /// Light 80/s, Medium 60/s, Heavy 40/s, Resource-intensive 20/min; Heavy + RI 60,000/day.
    Business,
}

/// The limit of one category: a token bucket of `rate` requests per `per`, plus a daily cap.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CategoryLimit {
    /// Requests allowed per `per` (also the bucket's burst size).
    pub rate: u32,
    /// The window `rate` refers to (one second, or one minute for Resource-intensive).
    pub per: Duration,
    /// Requests allowed per UTC day, if capped.
    pub daily: Option<u64>,
}

impl CategoryLimit {
    fn per_second(rate: u32, daily: Option<u64>) -> Self {
        Self {
            rate,
            per: Duration::from_secs(1),
            daily,
        }
    }
    fn per_minute(rate: u32, daily: Option<u64>) -> Self {
        Self {
            rate,
            per: Duration::from_secs(60),
            daily,
        }
    }
}

/// All rate limits the simulator enforces. `None`/absent means "not limited".
#[derive(Debug, Clone, PartialEq)]
pub struct RateLimits {
    /// Light category, `None` = unlimited.
    pub light: Option<CategoryLimit>,
    /// Medium category.
    pub medium: Option<CategoryLimit>,
    /// Heavy category.
    pub heavy: Option<CategoryLimit>,
    /// Resource-intensive category.
    pub resource_intensive: Option<CategoryLimit>,
    /// Combined daily cap on Heavy + Resource-intensive requests (Pro/Business).
    pub heavy_and_ri_daily: Option<u64>,
    /// Add-registrant requests per UTC day for the same email in the same meeting (Zoom: 3);
    /// batch entries count too.
    pub registrations_per_registrant_daily: Option<u32>,
    /// Registrant status changes per UTC day for the same registrant in the same meeting
    /// (Zoom: 10).
    pub status_changes_per_registrant_daily: Option<u32>,
    /// Meeting create/update requests per UTC day per host user (Zoom: 100).
    pub meeting_writes_per_user_daily: Option<u32>,
}

impl RateLimits {
    /// The documented limits of `plan`.
    pub fn plan(plan: Plan) -> Self {
        let (light, medium, heavy, ri, combined) = match plan {
            Plan::Free => (
                CategoryLimit::per_second(4, Some(6_000)),
                CategoryLimit::per_second(2, Some(2_000)),
                CategoryLimit::per_second(1, Some(1_000)),
                CategoryLimit::per_minute(10, Some(30_000)),
                None,
            ),
            Plan::Pro => (
                CategoryLimit::per_second(30, None),
                CategoryLimit::per_second(20, None),
                CategoryLimit::per_second(10, None),
                CategoryLimit::per_minute(10, None),
                Some(30_000),
            ),
            Plan::Business => (
                CategoryLimit::per_second(80, None),
                CategoryLimit::per_second(60, None),
                CategoryLimit::per_second(40, None),
                CategoryLimit::per_minute(20, None),
                Some(60_000),
            ),
        };
        Self {
            light: Some(light),
            medium: Some(medium),
            heavy: Some(heavy),
            resource_intensive: Some(ri),
            heavy_and_ri_daily: combined,
            registrations_per_registrant_daily: Some(3),
            status_changes_per_registrant_daily: Some(10),
            meeting_writes_per_user_daily: Some(100),
        }
    }

    /// No limits at all (for tests that are about something else).
    pub fn unlimited() -> Self {
        Self {
            light: None,
            medium: None,
            heavy: None,
            resource_intensive: None,
            heavy_and_ri_daily: None,
            registrations_per_registrant_daily: None,
            status_changes_per_registrant_daily: None,
            meeting_writes_per_user_daily: None,
        }
    }

    /// The limit of one category.
    pub fn category(&self, c: Category) -> Option<CategoryLimit> {
        match c {
            Category::Light => self.light,
            Category::Medium => self.medium,
            Category::Heavy => self.heavy,
            Category::ResourceIntensive => self.resource_intensive,
        }
    }
}

/// A REST endpoint of the simulator, for call counting, rate-limit labels and fault targeting.
/// Meeting and webinar variants of a path count as the same endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Endpoint {
    /// `POST /oauth/token`
    OAuthToken,
    /// `POST /users/{userId}/meetings` (and `/webinars`)
    CreateMeeting,
    /// `GET /meetings/{meetingId}`
    GetMeeting,
    /// `PATCH /meetings/{meetingId}`
    UpdateMeeting,
    /// `DELETE /meetings/{meetingId}`
    DeleteMeeting,
    /// `POST /meetings/{meetingId}/registrants`
    AddRegistrant,
    /// `POST /meetings/{meetingId}/batch_registrants`
    BatchRegistrants,
    /// `GET /meetings/{meetingId}/registrants`
    ListRegistrants,
    /// `GET /meetings/{meetingId}/registrants/{registrantId}`
    GetRegistrant,
    /// `PUT /meetings/{meetingId}/registrants/status`
    UpdateRegistrantStatus,
    /// `DELETE /meetings/{meetingId}/registrants/{registrantId}`
    DeleteRegistrant,
    /// `GET /past_meetings/{meetingId}/instances`
    PastInstances,
    /// `GET /past_meetings/{meetingId}` (details of an ended instance)
    PastMeeting,
    /// `GET /past_meetings/{meetingId}/participants`
    PastParticipants,
    /// `GET /report/meetings/{meetingId}/participants`
    ReportParticipants,
}

impl Endpoint {
    /// Zoom's rate-limit label of the endpoint (`None` for the token endpoint).
    pub fn category(self) -> Option<Category> {
        use Endpoint::*;
        Some(match self {
            OAuthToken => return None,
            CreateMeeting => Category::Medium,
            GetMeeting | UpdateMeeting | DeleteMeeting | PastMeeting => Category::Light,
            AddRegistrant | GetRegistrant | DeleteRegistrant => Category::Light,
            BatchRegistrants => Category::Heavy,
            ListRegistrants | UpdateRegistrantStatus => Category::Medium,
            PastInstances | PastParticipants => Category::Medium,
            ReportParticipants => Category::Heavy,
        })
    }
}

/// One injected fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// 429 as if the per-second limit of the endpoint's category was hit; the request has no
    /// effect.
    TooManyRequests,
    /// This HTTP status (e.g. 500, 502, 503) with a Zoom-style body; the request has no effect.
    ServerError(u16),
    /// The request takes effect, but the answer comes only after this delay (use it beyond
    /// the client's timeout to simulate "done at Zoom, but the client never heard").
    Slow(Duration),
    /// Every access token issued so far is revoked before the request is checked, so this
    /// and later calls answer 401 code 124 until a new token is fetched.
    RevokeTokens,
}

/// Random faults: each API call (not the token endpoint) independently draws at most one.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RandomFaults {
    /// Probability of [`Fault::TooManyRequests`].
    pub too_many_requests: f64,
    /// Probability of [`Fault::ServerError`] with `server_error_status`.
    pub server_error: f64,
    /// Status used for random server errors (0 means 500).
    pub server_error_status: u16,
    /// Probability of [`Fault::Slow`] with `slow_delay`.
    pub slow: f64,
    /// Delay of random slow answers.
    pub slow_delay: Duration,
    /// Probability of [`Fault::RevokeTokens`] before a call.
    pub revoke_tokens: f64,
    /// Only these endpoints get random faults (`None`: all API endpoints).
    pub only: Option<Vec<Endpoint>>,
    /// Seed of the fault dice.
    pub seed: u64,
}

/// Which call a scheduled fault hits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultTrigger {
    /// The next call to this endpoint (`None`: the next API call of any endpoint).
    Next(Option<Endpoint>),
    /// The `n`-th call (1-based, counting every call since start or the last counter reset)
    /// to this endpoint (`None`: to any API endpoint).
    Nth(Option<Endpoint>, u64),
}
