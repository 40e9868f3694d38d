//! [`ZoomClient`]: the reqwest implementation of [`ZoomApi`] for one Zoom account, with
//! Server-to-Server OAuth, retries, rate-limit handling and optional pacing.

use std::collections::HashSet;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::Method;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::api::{
    AddRegistrantRequest, BatchRegistrant, BatchRegistrantsRequest, CreateMeetingRequest,
    ListRegistrantsQuery, MAX_BATCH, PastInstance, PastMeeting, Registrant, RegistrantCreated,
    RegistrantStatusUpdate, RegistrationSettings, ReportParticipant, ZoomApi, ZoomMeeting,
};
use super::de;
use super::error::{EndpointKind, ZoomApiError, ZoomErrorBody, map_status, rate_limit_error};
use super::oauth::{S2SCredentials, TokenSource, transport_error};
use super::rate_limit::{
    Pacer, RateLimitCategory, RateLimitResponse, RatePlan, RetryPolicy, classify_429,
};
use crate::model::{MeetingKind, ZoomMeetingId};

/// Zoom's REST base URL.
pub const DEFAULT_API_BASE: &str = "https://api.zoom.us/v2";
/// Zoom's OAuth token endpoint.
pub const DEFAULT_OAUTH_URL: &str = "https://zoom.us/oauth/token";
/// Page size used for every paginated endpoint (Zoom's maximum).
pub const PAGE_SIZE: u32 = 300;

/// How a [`ZoomClient`] talks to Zoom.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ZoomClientConfig {
    /// REST base, without a trailing slash (default [`DEFAULT_API_BASE`]; point it at a
    /// simulator or a fake server in tests).
    pub api_base: String,
    /// Token endpoint (default [`DEFAULT_OAUTH_URL`]).
    pub oauth_url: String,
    /// Timeout of one HTTP attempt, from sending to the end of the body (default 30 s).
    pub request_timeout: Duration,
    /// Retries of transient failures (default [`RetryPolicy::default`]).
    pub retry: RetryPolicy,
    /// Client-side pacing at the plan's per-second rates (default `None`: no pacing). Set it
    /// for accounts that run bulk registration.
    pub pacing: Option<RatePlan>,
}

impl Default for ZoomClientConfig {
    fn default() -> Self {
        Self {
            api_base: DEFAULT_API_BASE.to_owned(),
            oauth_url: DEFAULT_OAUTH_URL.to_owned(),
            request_timeout: Duration::from_secs(30),
            retry: RetryPolicy::default(),
            pacing: None,
        }
    }
}

/// The bytes of one path segment that stay unencoded: RFC 3986 unreserved characters.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

fn encode_segment(segment: &str) -> String {
    utf8_percent_encode(segment, SEGMENT).to_string()
}

/// Encodes an instance uuid for a URL path as Zoom requires: **twice** if it begins with `/`
/// or contains `//` (`/abc==` → `%252Fabc%253D%253D`), once otherwise (`ab+c=` →
/// `ab%2Bc%3D`).
pub fn encode_instance_uuid(uuid: &str) -> String {
    let once = encode_segment(uuid);
    if uuid.starts_with('/') || uuid.contains("//") {
        encode_segment(&once)
    } else {
        once
    }
}

fn past_segment(meeting: &PastMeeting) -> String {
    match meeting {
        PastMeeting::Latest(id) => id.to_string(),
        PastMeeting::Instance(uuid) => encode_instance_uuid(uuid.as_str()),
    }
}

fn collection(kind: MeetingKind) -> &'static str {
    match kind {
        MeetingKind::Meeting => "meetings",
        MeetingKind::Webinar => "webinars",
    }
}

/// Why a [`ZoomClient`] call is waiting to retry, as seen by a caller that bounds the call in
/// time (see [`watch_retries`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RetryCause {
    /// A per-second (or concurrency) 429; `retry_at` is Zoom's hint, if it gave one.
    RateLimited { retry_at: Option<DateTime<Utc>> },
    /// A 5xx, a timeout, a connection or token-endpoint failure.
    Unavailable,
}

tokio::task_local! {
    /// Set by [`watch_retries`]: where the client notes why it is about to retry.
    static RETRY_WATCH: Arc<Mutex<Option<RetryCause>>>;
}

/// Runs `fut` with the client's retry causes noted in `watch` (the latest one wins), so a
/// caller that gives up on `fut` after a deadline can still tell a rate limit from an outage.
/// Zoom APIs other than [`ZoomClient`] note nothing.
pub(crate) async fn watch_retries<F: Future>(
    watch: Arc<Mutex<Option<RetryCause>>>,
    fut: F,
) -> F::Output {
    RETRY_WATCH.scope(watch, fut).await
}

fn note_retry(cause: RetryCause) {
    let _ = RETRY_WATCH.try_with(|w| {
        *w.lock().unwrap_or_else(|e| e.into_inner()) = Some(cause);
    });
}

/// One request, described before it is sent (so it can be re-sent).
#[derive(Clone, Debug)]
struct Call {
    method: Method,
    path: String,
    query: Vec<(&'static str, String)>,
    body: Option<Value>,
    category: RateLimitCategory,
    endpoint: EndpointKind,
    /// Whether a timeout or 5xx may be retried (false for creates: Zoom may have done it).
    idempotent: bool,
    what: &'static str,
}

impl Call {
    fn new(method: Method, path: String, category: RateLimitCategory, what: &'static str) -> Self {
        Self {
            method,
            path,
            query: Vec::new(),
            body: None,
            category,
            endpoint: EndpointKind::Meeting,
            idempotent: true,
            what,
        }
    }

    fn query(mut self, key: &'static str, value: impl Into<String>) -> Self {
        self.query.push((key, value.into()));
        self
    }

    fn json(mut self, body: &impl serde::Serialize) -> Result<Self, ZoomApiError> {
        self.body = Some(serde_json::to_value(body).map_err(|e| {
            ZoomApiError::InvalidRequest(format!("cannot encode {}: {e}", self.what))
        })?);
        Ok(self)
    }

    fn endpoint(mut self, endpoint: EndpointKind) -> Self {
        self.endpoint = endpoint;
        self
    }
}

struct Inner {
    http: reqwest::Client,
    config: ZoomClientConfig,
    tokens: TokenSource,
    pacer: Option<Pacer>,
}

/// The Zoom REST client of **one** Zoom account (Server-to-Server OAuth app). Cheap to clone
/// (shared state behind an `Arc`); build one per account, optionally sharing one
/// `reqwest::Client` (connection pool) between them with [`ZoomClient::with_http_client`].
///
/// Behaviour of every call:
/// * the access token is cached and replaced when ≤ 60 s are left; a 401 triggers one
///   refresh and one more attempt;
/// * per-second 429s, 5xx, timeouts and connection errors are retried per
///   [`ZoomClientConfig::retry`] (exponential backoff with jitter; a `Retry-After` is
///   honoured) — except that `create_meeting` is not re-sent after a timeout or 5xx;
/// * a daily 429 returns [`ZoomApiError::DailyLimit`] at once, with the reset time;
/// * with [`ZoomClientConfig::pacing`], requests are spaced per rate-limit category.
#[derive(Clone)]
pub struct ZoomClient {
    inner: Arc<Inner>,
}

impl fmt::Debug for ZoomClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ZoomClient")
            .field("config", &self.inner.config)
            .field("credentials", self.inner.tokens.credentials())
            .finish_non_exhaustive()
    }
}

impl ZoomClient {
    /// A client with its own HTTP connection pool.
    pub fn new(
        config: ZoomClientConfig,
        credentials: S2SCredentials,
    ) -> Result<Self, ZoomApiError> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("attend/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(config.request_timeout)
            .build()
            .map_err(|e| ZoomApiError::Transport(Box::new(e)))?;
        Ok(Self::with_http_client(http, config, credentials))
    }

    /// A client that uses `http` (e.g. one pool shared by all accounts). The per-attempt
    /// timeout of `config` is applied to each request.
    pub fn with_http_client(
        http: reqwest::Client,
        config: ZoomClientConfig,
        credentials: S2SCredentials,
    ) -> Self {
        let mut config = config;
        while config.api_base.ends_with('/') {
            config.api_base.pop();
        }
        config.retry.max_attempts = config.retry.max_attempts.max(1);
        let tokens = TokenSource::new(
            http.clone(),
            config.oauth_url.clone(),
            config.request_timeout,
            credentials,
        );
        let pacer = config.pacing.map(Pacer::new);
        Self {
            inner: Arc::new(Inner {
                http,
                config,
                tokens,
                pacer,
            }),
        }
    }

    /// The configuration in use.
    pub fn config(&self) -> &ZoomClientConfig {
        &self.inner.config
    }

    /// Sends `call`, handling tokens, retries and rate limits; returns the 2xx body.
    async fn execute(&self, call: &Call) -> Result<Vec<u8>, ZoomApiError> {
        let inner = &*self.inner;
        let policy = inner.config.retry;
        let url = format!("{}{}", inner.config.api_base, call.path);
        let mut attempt: u32 = 1;
        let mut refreshed = false;
        let mut token_override = None;
        loop {
            if let Some(pacer) = &inner.pacer {
                pacer.acquire(call.category).await;
            }
            let token = match token_override.take() {
                Some(token) => token,
                None => match inner.tokens.token().await {
                    Ok(token) => token,
                    Err(e) if e.is_retryable() && attempt < policy.max_attempts => {
                        note_retry(RetryCause::Unavailable);
                        tokio::time::sleep(policy.delay(attempt)).await;
                        attempt += 1;
                        continue;
                    }
                    Err(e) => return Err(e),
                },
            };
            let mut request = inner
                .http
                .request(call.method.clone(), &url)
                .bearer_auth(token.expose())
                .timeout(inner.config.request_timeout);
            if !call.query.is_empty() {
                request = request.query(&call.query);
            }
            if let Some(body) = &call.body {
                request = request.json(body);
            }
            let response = match request.send().await {
                Ok(response) => response,
                Err(e) => {
                    // A connection that never opened sent nothing: always safe to retry.
                    let safe = call.idempotent || e.is_connect();
                    if safe && attempt < policy.max_attempts {
                        tracing::debug!(what = call.what, attempt, error = %e, "retrying Zoom call");
                        note_retry(RetryCause::Unavailable);
                        tokio::time::sleep(policy.delay(attempt)).await;
                        attempt += 1;
                        continue;
                    }
                    return Err(transport_error(e));
                }
            };
            let status = response.status();
            let headers = response.headers().clone();
            let body = match response.bytes().await {
                Ok(body) => body.to_vec(),
                Err(e) => {
                    if call.idempotent && attempt < policy.max_attempts {
                        note_retry(RetryCause::Unavailable);
                        tokio::time::sleep(policy.delay(attempt)).await;
                        attempt += 1;
                        continue;
                    }
                    return Err(transport_error(e));
                }
            };
            if status.is_success() {
                return Ok(body);
            }
            let status = status.as_u16();
            if status == 401 && !refreshed {
                refreshed = true;
                tracing::debug!(
                    what = call.what,
                    "Zoom answered 401; refreshing the token once"
                );
                token_override = Some(inner.tokens.refresh(&token).await?);
                continue;
            }
            let error_body = ZoomErrorBody::parse(&body);
            if status == 429 {
                let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
                let message = error_body.message.as_deref().unwrap_or("");
                let now = Utc::now();
                let hit = classify_429(
                    RateLimitResponse {
                        limit_type: header("x-ratelimit-type"),
                        category: header("x-ratelimit-category"),
                        retry_after: header("retry-after"),
                        reset: header("x-ratelimit-reset"),
                        message: Some(message),
                    },
                    now,
                );
                if hit.kind.is_daily() {
                    tracing::warn!(what = call.what, retry_at = ?hit.retry_at, "Zoom daily rate limit");
                    return Err(rate_limit_error(&hit, message));
                }
                if attempt >= policy.max_attempts {
                    return Err(rate_limit_error(&hit, message));
                }
                let hint = hit
                    .retry_at
                    .and_then(|at| (at - now).to_std().ok())
                    .unwrap_or_default();
                if hint > policy.max_delay {
                    return Err(rate_limit_error(&hit, message));
                }
                note_retry(RetryCause::RateLimited {
                    retry_at: hit.retry_at,
                });
                tokio::time::sleep(policy.delay(attempt).max(hint)).await;
                attempt += 1;
                continue;
            }
            if status >= 500 && call.idempotent && attempt < policy.max_attempts {
                tracing::debug!(
                    what = call.what,
                    attempt,
                    status,
                    "retrying Zoom call after 5xx"
                );
                note_retry(RetryCause::Unavailable);
                tokio::time::sleep(policy.delay(attempt)).await;
                attempt += 1;
                continue;
            }
            return Err(map_status(status, &error_body, call.endpoint));
        }
    }

    async fn json<T: DeserializeOwned>(&self, call: &Call) -> Result<T, ZoomApiError> {
        let body = self.execute(call).await?;
        serde_json::from_slice(&body).map_err(|source| ZoomApiError::Decode {
            what: call.what,
            source,
        })
    }

    /// Follows `next_page_token` until it is empty, collecting `items_key` of every page.
    async fn paginate<T: DeserializeOwned>(
        &self,
        call: Call,
        items_key: &'static str,
    ) -> Result<Vec<T>, ZoomApiError> {
        #[derive(Deserialize)]
        struct Page {
            #[serde(default, deserialize_with = "de::opt_string")]
            next_page_token: Option<String>,
            #[serde(flatten)]
            rest: serde_json::Map<String, Value>,
        }
        let mut items = Vec::new();
        let mut seen = HashSet::new();
        let mut token: Option<String> = None;
        loop {
            let mut page_call = call.clone().query("page_size", PAGE_SIZE.to_string());
            if let Some(token) = &token {
                page_call = page_call.query("next_page_token", token.clone());
            }
            let mut page: Page = self.json(&page_call).await?;
            let page_items = match page.rest.remove(items_key) {
                None | Some(Value::Null) => Vec::new(),
                Some(value) => serde_json::from_value::<Vec<T>>(value).map_err(|source| {
                    ZoomApiError::Decode {
                        what: call.what,
                        source,
                    }
                })?,
            };
            items.extend(page_items);
            match page.next_page_token {
                None => return Ok(items),
                Some(next) => {
                    if !seen.insert(next.clone()) {
                        return Err(ZoomApiError::InvalidResponse(format!(
                            "{}: next_page_token {next:?} repeated",
                            call.what
                        )));
                    }
                    token = Some(next);
                }
            }
        }
    }
}

fn check_batch_len(len: usize, what: &str) -> Result<(), ZoomApiError> {
    if len > MAX_BATCH {
        return Err(ZoomApiError::InvalidRequest(format!(
            "{what}: {len} registrants given, Zoom accepts at most {MAX_BATCH} per call"
        )));
    }
    Ok(())
}

#[async_trait]
impl ZoomApi for ZoomClient {
    async fn create_meeting(
        &self,
        kind: MeetingKind,
        host: &str,
        request: &CreateMeetingRequest,
    ) -> Result<ZoomMeeting, ZoomApiError> {
        let mut body = serde_json::to_value(request)
            .map_err(|e| ZoomApiError::InvalidRequest(format!("cannot encode the meeting: {e}")))?;
        if request.meeting_type.is_none() {
            body["type"] = Value::from(match kind {
                MeetingKind::Meeting => 2,
                MeetingKind::Webinar => 5,
            });
        }
        let mut call = Call::new(
            Method::POST,
            format!("/users/{}/{}", encode_segment(host), collection(kind)),
            RateLimitCategory::Medium,
            "create meeting",
        );
        call.body = Some(body);
        call.idempotent = false;
        self.json(&call).await
    }

    async fn get_meeting(
        &self,
        kind: MeetingKind,
        meeting_id: ZoomMeetingId,
    ) -> Result<ZoomMeeting, ZoomApiError> {
        let call = Call::new(
            Method::GET,
            format!("/{}/{meeting_id}", collection(kind)),
            RateLimitCategory::Light,
            "get meeting",
        );
        self.json(&call).await
    }

    async fn update_registration_settings(
        &self,
        kind: MeetingKind,
        meeting_id: ZoomMeetingId,
        settings: &RegistrationSettings,
    ) -> Result<(), ZoomApiError> {
        let call = Call::new(
            Method::PATCH,
            format!("/{}/{meeting_id}", collection(kind)),
            RateLimitCategory::Light,
            "update meeting settings",
        )
        .json(&serde_json::json!({ "settings": settings }))?;
        self.execute(&call).await.map(drop)
    }

    async fn add_registrant(
        &self,
        kind: MeetingKind,
        meeting_id: ZoomMeetingId,
        request: &AddRegistrantRequest,
    ) -> Result<RegistrantCreated, ZoomApiError> {
        let mut call = Call::new(
            Method::POST,
            format!("/{}/{meeting_id}/registrants", collection(kind)),
            RateLimitCategory::Light,
            "add registrant",
        )
        .json(request)?;
        if !request.occurrence_ids.is_empty() {
            call = call.query("occurrence_ids", request.occurrence_ids.join(","));
        }
        self.json(&call).await
    }

    async fn batch_add_registrants(
        &self,
        kind: MeetingKind,
        meeting_id: ZoomMeetingId,
        request: &BatchRegistrantsRequest,
    ) -> Result<Vec<BatchRegistrant>, ZoomApiError> {
        check_batch_len(request.registrants.len(), "batch registration")?;
        if request.registrants.is_empty() {
            return Ok(Vec::new());
        }
        #[derive(Deserialize)]
        struct Answer {
            #[serde(default, deserialize_with = "de::vec_or_empty")]
            registrants: Vec<BatchRegistrant>,
        }
        let call = Call::new(
            Method::POST,
            format!("/{}/{meeting_id}/batch_registrants", collection(kind)),
            RateLimitCategory::Heavy,
            "batch registrants",
        )
        .json(request)?
        .endpoint(EndpointKind::Batch);
        Ok(self.json::<Answer>(&call).await?.registrants)
    }

    async fn list_registrants(
        &self,
        kind: MeetingKind,
        meeting_id: ZoomMeetingId,
        query: &ListRegistrantsQuery,
    ) -> Result<Vec<Registrant>, ZoomApiError> {
        let mut call = Call::new(
            Method::GET,
            format!("/{}/{meeting_id}/registrants", collection(kind)),
            RateLimitCategory::Medium,
            "list registrants",
        );
        if let Some(status) = query.status {
            call = call.query("status", status.as_str());
        }
        if let Some(occurrence) = &query.occurrence_id {
            call = call.query("occurrence_id", occurrence.clone());
        }
        self.paginate(call, "registrants").await
    }

    async fn update_registrant_status(
        &self,
        kind: MeetingKind,
        meeting_id: ZoomMeetingId,
        update: &RegistrantStatusUpdate,
    ) -> Result<(), ZoomApiError> {
        check_batch_len(update.registrants.len(), "registrant status update")?;
        if update.registrants.is_empty() {
            return Ok(());
        }
        let mut call = Call::new(
            Method::PUT,
            format!("/{}/{meeting_id}/registrants/status", collection(kind)),
            RateLimitCategory::Medium,
            "update registrant status",
        )
        .json(update)?;
        if let Some(occurrence) = &update.occurrence_id {
            call = call.query("occurrence_id", occurrence.clone());
        }
        self.execute(&call).await.map(drop)
    }

    async fn delete_registrant(
        &self,
        kind: MeetingKind,
        meeting_id: ZoomMeetingId,
        registrant_id: &str,
        occurrence_id: Option<&str>,
    ) -> Result<(), ZoomApiError> {
        let mut call = Call::new(
            Method::DELETE,
            format!(
                "/{}/{meeting_id}/registrants/{}",
                collection(kind),
                encode_segment(registrant_id)
            ),
            RateLimitCategory::Light,
            "delete registrant",
        );
        if let Some(occurrence) = occurrence_id {
            call = call.query("occurrence_id", occurrence);
        }
        self.execute(&call).await.map(drop)
    }

    async fn past_instances(
        &self,
        kind: MeetingKind,
        meeting_id: ZoomMeetingId,
    ) -> Result<Vec<PastInstance>, ZoomApiError> {
        let (prefix, key) = match kind {
            MeetingKind::Meeting => ("past_meetings", "meetings"),
            MeetingKind::Webinar => ("past_webinars", "webinars"),
        };
        let call = Call::new(
            Method::GET,
            format!("/{prefix}/{meeting_id}/instances"),
            RateLimitCategory::Medium,
            "past instances",
        )
        .endpoint(EndpointKind::Report);
        let mut answer: serde_json::Map<String, Value> = self.json(&call).await?;
        match answer.remove(key) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(list) => serde_json::from_value(list).map_err(|source| ZoomApiError::Decode {
                what: "past instances",
                source,
            }),
        }
    }

    async fn report_participants(
        &self,
        kind: MeetingKind,
        meeting: &PastMeeting,
    ) -> Result<Vec<ReportParticipant>, ZoomApiError> {
        let call = Call::new(
            Method::GET,
            format!(
                "/report/{}/{}/participants",
                collection(kind),
                past_segment(meeting)
            ),
            RateLimitCategory::Heavy,
            "report participants",
        )
        .query("include_fields", "registrant_id")
        .endpoint(EndpointKind::Report);
        self.paginate(call, "participants").await
    }

    async fn past_participants(
        &self,
        kind: MeetingKind,
        meeting: &PastMeeting,
    ) -> Result<Vec<ReportParticipant>, ZoomApiError> {
        let prefix = match kind {
            MeetingKind::Meeting => "past_meetings",
            MeetingKind::Webinar => "past_webinars",
        };
        let call = Call::new(
            Method::GET,
            format!("/{prefix}/{}/participants", past_segment(meeting)),
            RateLimitCategory::Medium,
            "past participants",
        )
        .endpoint(EndpointKind::Report);
        self.paginate(call, "participants").await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_encoding_rule() {
        assert_eq!(encode_instance_uuid("/abc=="), "%252Fabc%253D%253D");
        assert_eq!(encode_instance_uuid("ab//c=="), "ab%252F%252Fc%253D%253D");
        assert_eq!(encode_instance_uuid("ab+c/d="), "ab%2Bc%2Fd%3D");
        assert_eq!(
            encode_instance_uuid("jUh5o3dKQIytvcsfTtKBlg=="),
            "jUh5o3dKQIytvcsfTtKBlg%3D%3D"
        );
    }

    #[test]
    fn batch_limit() {
        assert!(check_batch_len(30, "x").is_ok());
        assert!(matches!(
            check_batch_len(31, "x"),
            Err(ZoomApiError::InvalidRequest(_))
        ));
    }
}
