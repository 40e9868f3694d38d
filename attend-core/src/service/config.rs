//! [`AttendBuilder`] and the option structs it takes.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::join_token::{JoinTokens, JwtSecret};
use crate::model::{AccountKey, Policy};
use crate::store::{Backoff, Store, UserDirectory};
use crate::zoom::{
    S2SCredentials, Secret, VerifierConfigError, WebhookSecrets, WebhookVerifier, ZoomApi,
    ZoomClientConfig,
};

use super::clock::{Clock, SystemClock};
use super::{Attend, Inner};

/// One Zoom account attend works with: its key, its webhook secrets (two during a
/// rotation) and how to call its REST API.
#[derive(Clone)]
pub struct ZoomAccount {
    pub(crate) key: AccountKey,
    pub(crate) zoom_account_id: Option<String>,
    pub(crate) secrets: Option<WebhookSecrets>,
    pub(crate) api: Option<super::zoom_glue::AccountApi>,
}

impl fmt::Debug for ZoomAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ZoomAccount")
            .field("key", &self.key)
            .field("zoom_account_id", &self.zoom_account_id)
            .field(
                "webhook_secrets",
                &self.secrets.as_ref().map(|_| "<redacted>"),
            )
            .field("api", &self.api.is_some())
            .finish()
    }
}

impl ZoomAccount {
    /// An account known to attend as `key` (any name; it is stored with each meeting).
    pub fn new(key: impl Into<AccountKey>) -> Self {
        Self {
            key: key.into(),
            zoom_account_id: None,
            secrets: None,
            api: None,
        }
    }

    /// The webhook secret token of the account's app.
    #[must_use]
    pub fn webhook_secret(mut self, secret: impl Into<Secret>) -> Self {
        self.secrets = Some(WebhookSecrets::new(secret));
        self
    }

    /// The current and the previous webhook secret, while rotating: deliveries signed with
    /// either are accepted.
    #[must_use]
    pub fn webhook_secrets(mut self, secrets: WebhookSecrets) -> Self {
        self.secrets = Some(secrets);
        self
    }

    /// Zoom's own account id (`payload.account_id` of webhooks), for logs and checks.
    #[must_use]
    pub fn zoom_account_id(mut self, id: impl Into<String>) -> Self {
        self.zoom_account_id = Some(id.into());
        self
    }

    /// Calls Zoom through `api`: the REST client ([`ZoomClient`](crate::zoom::ZoomClient)),
    /// or any other [`ZoomApi`] implementation.
    #[must_use]
    pub fn api(mut self, api: Arc<dyn ZoomApi>) -> Self {
        self.api = Some(super::zoom_glue::AccountApi::Api(api));
        self
    }

    /// Calls Zoom with the REST client ([`ZoomClient`](crate::zoom::ZoomClient)) built from
    /// Server-to-Server OAuth `credentials` and `config` (API base, token URL, timeouts,
    /// retries, pacing). Set `config.pacing` to the account's plan for bulk registration.
    #[must_use]
    pub fn credentials(mut self, credentials: S2SCredentials, config: ZoomClientConfig) -> Self {
        self.api = Some(super::zoom_glue::AccountApi::Credentials(Box::new((
            credentials,
            config,
        ))));
        self
    }

    /// The account key.
    pub fn key(&self) -> &AccountKey {
        &self.key
    }
}

/// How users are registered at Zoom.
#[derive(Clone, Debug, PartialEq)]
pub struct RegistrationOptions {
    /// `Some(domain)`: register every user under the synthetic email `{user}@{domain}`
    /// (a user id that is not a plain lowercase local part is hashed: `u-{hex}`), so Zoom
    /// never sees real emails and every registrant email maps back to exactly one user.
    /// `None` (default): use each host user's own email (users without one fail with
    /// `no_email`).
    pub synthetic_email_domain: Option<String>,
    /// Put the Zoom meeting number into synthetic emails (`{user}+{zoom id}@{domain}`),
    /// avoiding Zoom's undocumented "3 registrations per day for the same email" limit
    /// across many meetings. Default `false`.
    pub synthetic_email_per_meeting: bool,
    /// The default of `restrict_to_registered` for newly linked meetings. Default `false`.
    pub restrict_to_registered_default: bool,
    /// Deny self-registrations (registrants attend did not create) of restricted meetings
    /// when `meeting.registration_created` arrives. Default `true`.
    pub auto_deny_self_registrations: bool,
    /// Requests with at most this many users still to register are done inline (the call
    /// returns when Zoom answered); larger ones become a background job. Default 30.
    pub inline_limit: usize,
    /// Use Zoom's batch endpoint (30 per call) for scheduled meetings and webinars.
    /// Default `true`.
    pub use_batch: bool,
    /// Ask Zoom to send its own confirmation email to registrants. Default `false`
    /// (attend hands out its own links).
    pub zoom_confirmation_email: bool,
    /// The longest a person opening a personal join link waits for the lazy registration
    /// (Zoom calls and their retries included; at most one per-second 429 is waited out).
    /// When Zoom rate-limits, fails or is slow beyond it, the click gets `RateLimited` or
    /// `ZoomUnavailable` (a 429/503 page with `Retry-After`) and the registration continues
    /// as a background `register` job, so a later click finds it done. Default 2 s.
    pub join_link_budget: Duration,
}

impl Default for RegistrationOptions {
    fn default() -> Self {
        Self {
            synthetic_email_domain: None,
            synthetic_email_per_meeting: false,
            restrict_to_registered_default: false,
            auto_deny_self_registrations: true,
            inline_limit: 30,
            use_batch: true,
            zoom_confirmation_email: false,
            join_link_budget: Duration::from_secs(2),
        }
    }
}

/// When and how often the participant report is pulled after a meeting ends.
#[derive(Clone, Debug, PartialEq)]
pub struct ReconcileOptions {
    /// Wait this long after `meeting.ended` before the first pull. Default 5 minutes.
    pub delay: Duration,
    /// Keep retrying a report that is not ready (404/3001 or empty) for this long after the
    /// end; then the instance becomes `final` with webhooks alone. Default 6 hours.
    pub retry_for: Duration,
    /// Backoff between pulls. Default 1 minute doubling to 30 minutes, 20 % jitter.
    pub backoff: Backoff,
    /// Accounts without report access (no Pro+ plan or scope): the instance becomes `final`
    /// this long after its end, from webhooks alone. A report that is still *empty* this
    /// long after the end is taken as final too (Zoom builds no rows for a meeting with
    /// fewer than two participants). Default 30 minutes.
    pub grace_without_report: Duration,
    /// Instances still live this long after attend first saw them (no `meeting.ended` seen)
    /// are checked against Zoom's participant report, then again at doubling intervals (2×,
    /// 4×, … this time after the first sight) and a last time when
    /// [`live_check_for`](Self::live_check_for) has passed. A
    /// `meeting.ended` lost for good (an outage longer than Zoom's retries) would otherwise
    /// leave its instance live forever. Zoom has participant reports for past meetings only,
    /// so a report means the meeting ended: it is merged and the instance becomes `final`,
    /// as a reconcile that names the instance does. Without a report, the check asks Zoom's
    /// list of the meeting's ended instances (`GET /past_meetings/{id}/instances`): an
    /// instance listed there ended (a meeting with fewer than two participants has no
    /// report; some accounts cannot read reports) and becomes `final` from webhooks alone,
    /// ending at the last event seen. Neither (the meeting is really on, or Zoom cannot be
    /// asked): nothing changes until the last check. An instance that ended normally costs
    /// no Zoom call: its check finds it ended and does nothing. `None`: never checked
    /// (checks queued before are dropped when they come due). Checks are at least a minute
    /// apart. Default 3 hours.
    pub live_check_after: Option<Duration>,
    /// The last check of an instance is this long after attend first saw it. If Zoom still
    /// has no report then (a meeting with fewer than two participants has none; some
    /// accounts cannot read reports), the instance becomes `final` from webhooks alone,
    /// ending at the last event seen, instead of being measured up to "now" for ever. A
    /// later `meeting.ended` still sets its end. Default 7 days.
    pub live_check_for: Duration,
}

impl Default for ReconcileOptions {
    fn default() -> Self {
        Self {
            delay: Duration::from_secs(5 * 60),
            retry_for: Duration::from_secs(6 * 3600),
            backoff: Backoff::new(
                chrono::TimeDelta::minutes(1),
                chrono::TimeDelta::minutes(30),
                0.2,
            ),
            grace_without_report: Duration::from_secs(30 * 60),
            live_check_after: Some(Duration::from_secs(3 * 3600)),
            live_check_for: Duration::from_secs(7 * 24 * 3600),
        }
    }
}

/// How the background worker runs.
#[derive(Clone, Debug, PartialEq)]
pub struct WorkerOptions {
    /// This worker's name in job leases (`locked_by`, logs). Each
    /// [`run_worker`](super::Attend::run_worker) call leases as `{worker_id}.{8 random hex
    /// digits}`, so that a worker giving back leases a lost claim answer left behind only ever
    /// touches its own; two processes may share a `worker_id`. Default `attend-{random}`.
    pub worker_id: String,
    /// Sleep between polls when no job is due. Default 1 s.
    pub poll_interval: Duration,
    /// How long a claimed job is leased. Default 5 minutes (long registration runs renew
    /// nothing: they stop and re-enqueue themselves before the lease ends).
    pub lease: Duration,
    /// The worker's capacity: the most deliveries being processed plus other jobs running at
    /// once. Default 64. Claimed `process_webhook` jobs run in batches of up to 16
    /// deliveries, each batch one task that reads its deliveries, stores their events and
    /// finishes their jobs with a few shared statements; a `process_webhooks` job (one per
    /// group commit of the receiver, on stores that group) counts as the deliveries it names;
    /// other jobs run one per task. Webhook processing is mostly waiting for storage round
    /// trips, and concurrent tasks' writes share group commits.
    pub batch: usize,
    /// Acknowledgements first: while at least this many webhook deliveries of this process
    /// are waiting for their commit (a burst), the worker takes on at most one batch (16
    /// deliveries) at a time instead of [`batch`](Self::batch), leaving CPU and the
    /// database's writer to the receiver, which must answer Zoom within 3 seconds. It never
    /// stops: processing goes on, more slowly, until the burst passes, and then at full
    /// capacity. Default 16; `0` never yields. Measured in BENCHMARKS.md ("Acknowledgements
    /// first during a burst").
    pub yield_to_ingest: usize,
    /// After a claim that found fewer jobs than it asked for (the queue is drained), the
    /// worker waits this long before claiming again, so that what arrives meanwhile is
    /// processed together: a few larger batches instead of one small claim, read and write
    /// per delivery. Delays processing (never an acknowledgement) by at most this much; a
    /// claim that comes back full is followed at once. Default 20 ms; zero claims again at
    /// once. Measured in BENCHMARKS.md ("Gathered claims").
    pub gather: Duration,
    /// Backoff of failed jobs. Default 10 s doubling to 1 h, 20 % jitter.
    pub backoff: Backoff,
    /// Attempts before a job is dead. Default 8.
    pub max_attempts: u32,
    /// How often the worker sweeps for stored webhooks without a job (stored by an older
    /// version, which queued in a second transaction, or outside the receiver) and runs the
    /// retention purge. Default 60 s.
    pub sweep_interval: Duration,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        Self {
            worker_id: format!("attend-{:08x}", rand::random::<u32>()),
            poll_interval: Duration::from_secs(1),
            lease: Duration::from_secs(5 * 60),
            batch: 64,
            yield_to_ingest: 16,
            gather: Duration::from_millis(20),
            backoff: Backoff::default(),
            max_attempts: 8,
            sweep_interval: Duration::from_secs(60),
        }
    }
}

/// How long data is kept.
#[derive(Clone, Debug, PartialEq)]
pub struct RetentionOptions {
    /// Raw webhook bodies older than this are dropped (rows and dedupe keys stay). Default
    /// 30 days.
    pub raw_webhooks: Duration,
    /// Finished jobs older than this are deleted. Default 7 days.
    pub finished_jobs: Duration,
}

impl Default for RetentionOptions {
    fn default() -> Self {
        Self {
            raw_webhooks: Duration::from_secs(30 * 86_400),
            finished_jobs: Duration::from_secs(7 * 86_400),
        }
    }
}

/// Why [`AttendBuilder::build`] refused the configuration.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// No store was given.
    #[error("no store configured (AttendBuilder::store)")]
    MissingStore,
    /// No user directory was given.
    #[error("no user directory configured (AttendBuilder::directory)")]
    MissingDirectory,
    /// No Zoom account was given.
    #[error("no Zoom account configured (AttendBuilder::zoom_account)")]
    NoZoomAccount,
    /// Two accounts share a key.
    #[error("Zoom account {0} is configured twice")]
    DuplicateAccount(AccountKey),
    /// An account has no webhook secret.
    #[error("Zoom account {0} has no webhook secret")]
    MissingWebhookSecret(AccountKey),
    /// An account has no way to call Zoom's API.
    #[error("Zoom account {0} has neither credentials nor a ZoomApi")]
    MissingZoomApi(AccountKey),
    /// The webhook verifier refused the secrets or replay window.
    #[error("invalid webhook configuration")]
    Webhook(#[source] VerifierConfigError),
    /// The Zoom REST client could not be built.
    #[error("cannot build the Zoom client of account {account}")]
    ZoomClient {
        /// The account.
        account: AccountKey,
        /// The client error.
        #[source]
        source: crate::store::BoxError,
    },
    /// No public URL was given.
    #[error("no public URL configured (AttendBuilder::public_url)")]
    MissingPublicUrl,
    /// The public URL or mount prefix is not usable.
    #[error("invalid public URL or mount prefix: {0}")]
    InvalidUrl(String),
    /// No JWT secret was given.
    #[error("no join-token secret configured (AttendBuilder::jwt_secret)")]
    MissingJwtSecret,
    /// The default policy is out of range.
    #[error("invalid default policy: {0}")]
    InvalidPolicy(String),
    /// An option is out of range.
    #[error("invalid option {option}: {reason}")]
    InvalidOption {
        /// The option.
        option: &'static str,
        /// Why.
        reason: String,
    },
}

/// Builds an [`Attend`]. Start with [`Attend::builder`].
///
/// Required: [`store`](Self::store), [`directory`](Self::directory), at least one
/// [`zoom_account`](Self::zoom_account), [`public_url`](Self::public_url),
/// [`jwt_secret`](Self::jwt_secret). Everything else has a documented default.
#[must_use]
pub struct AttendBuilder {
    store: Option<Arc<dyn Store>>,
    directory: Option<Arc<dyn UserDirectory>>,
    accounts: Vec<ZoomAccount>,
    public_url: Option<String>,
    mount_prefix: String,
    jwt_secret: Option<JwtSecret>,
    default_policy: Policy,
    replay_window: Option<Duration>,
    registration: RegistrationOptions,
    reconcile: ReconcileOptions,
    worker: WorkerOptions,
    retention: RetentionOptions,
    webhook_body_limit: usize,
    join_link_ttl: Duration,
    roster_cache_rows: usize,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for AttendBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AttendBuilder")
            .field("accounts", &self.accounts)
            .field("public_url", &self.public_url)
            .field("mount_prefix", &self.mount_prefix)
            .field("jwt_secret", &self.jwt_secret)
            .finish_non_exhaustive()
    }
}

/// The default webhook body limit: 1 MiB.
pub const DEFAULT_WEBHOOK_BODY_LIMIT: usize = 1024 * 1024;

impl Default for AttendBuilder {
    fn default() -> Self {
        Self {
            store: None,
            directory: None,
            accounts: Vec::new(),
            public_url: None,
            mount_prefix: String::new(),
            jwt_secret: None,
            default_policy: Policy::default(),
            replay_window: None,
            registration: RegistrationOptions::default(),
            reconcile: ReconcileOptions::default(),
            worker: WorkerOptions::default(),
            retention: RetentionOptions::default(),
            webhook_body_limit: DEFAULT_WEBHOOK_BODY_LIMIT,
            join_link_ttl: Duration::from_secs(30 * 86_400),
            roster_cache_rows: super::DEFAULT_ROSTER_CACHE_ROWS,
            clock: Arc::new(SystemClock),
        }
    }
}

impl AttendBuilder {
    /// The storage backend (e.g. `attend_diesel::DieselStore`, or the in-memory store of the
    /// `testing` feature).
    pub fn store(mut self, store: impl Store) -> Self {
        self.store = Some(Arc::new(store));
        self
    }

    /// The storage backend, already shared.
    pub fn store_arc(mut self, store: Arc<dyn Store>) -> Self {
        self.store = Some(store);
        self
    }

    /// The host's users (read only).
    pub fn directory(mut self, directory: impl UserDirectory + 'static) -> Self {
        self.directory = Some(Arc::new(directory));
        self
    }

    /// The host's users, already shared.
    pub fn directory_arc(mut self, directory: Arc<dyn UserDirectory>) -> Self {
        self.directory = Some(directory);
        self
    }

    /// Adds a Zoom account. The first one added is the default for new meetings.
    pub fn zoom_account(mut self, account: ZoomAccount) -> Self {
        self.accounts.push(account);
        self
    }

    /// The public base URL of the host app (`https://lms.example.edu`), without the mount
    /// prefix.
    pub fn public_url(mut self, url: impl Into<String>) -> Self {
        self.public_url = Some(url.into());
        self
    }

    /// Where the host mounts attend's routes (`/attend`); default none. Join links are
    /// `{public_url}{mount_prefix}/join/{token}`.
    pub fn mount_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.mount_prefix = prefix.into();
        self
    }

    /// The HS256 secret of join tokens (the host may use the same secret for bearer tokens:
    /// join tokens carry their own audience).
    pub fn jwt_secret(mut self, secret: JwtSecret) -> Self {
        self.jwt_secret = Some(secret);
        self
    }

    /// The policy of new meetings when the request gives none. Default [`Policy::default`].
    pub fn default_policy(mut self, policy: Policy) -> Self {
        self.default_policy = policy;
        self
    }

    /// How far `x-zm-request-timestamp` may be from now. Default 5 minutes, at most 90.
    pub fn replay_window(mut self, window: Duration) -> Self {
        self.replay_window = Some(window);
        self
    }

    /// Registration options.
    pub fn registration(mut self, options: RegistrationOptions) -> Self {
        self.registration = options;
        self
    }

    /// Reconciliation options.
    pub fn reconcile(mut self, options: ReconcileOptions) -> Self {
        self.reconcile = options;
        self
    }

    /// Worker options.
    pub fn worker(mut self, options: WorkerOptions) -> Self {
        self.worker = options;
        self
    }

    /// Retention options.
    pub fn retention(mut self, options: RetentionOptions) -> Self {
        self.retention = options;
        self
    }

    /// The largest webhook body accepted, in bytes. Default 1 MiB.
    pub fn webhook_body_limit(mut self, bytes: usize) -> Self {
        self.webhook_body_limit = bytes;
        self
    }

    /// How long a personal join link works after it was issued. Default 30 days.
    pub fn join_link_ttl(mut self, ttl: Duration) -> Self {
        self.join_link_ttl = ttl;
        self
    }

    /// How many stored rows (participant events and report rows) of recently read
    /// instances this process keeps in memory to answer roster reads without loading and
    /// computing everything again. Default [`DEFAULT_ROSTER_CACHE_ROWS`](super::DEFAULT_ROSTER_CACHE_ROWS)
    /// (100,000 rows, in the order of 50 MB at most); `0` turns the cache off.
    ///
    /// Safe with several processes on one database: every read first asks the store for the
    /// instance's [`EvidenceRevision`](crate::store::EvidenceRevision) and reuses only what
    /// was loaded at that revision, and a computed roster only when the registrations,
    /// manual links, host users and policy it was computed from are unchanged; when only
    /// events were added since, it reads just those. A store that cannot tell revisions
    /// (`None`) is read every time.
    pub fn roster_cache_rows(mut self, rows: usize) -> Self {
        self.roster_cache_rows = rows;
        self
    }

    /// The clock (default: the system clock).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Checks everything and builds the service.
    ///
    /// # Errors
    /// [`BuildError`] naming the first missing or invalid setting.
    pub fn build(self) -> Result<Attend, BuildError> {
        let store = self.store.ok_or(BuildError::MissingStore)?;
        let directory = self.directory.ok_or(BuildError::MissingDirectory)?;
        let jwt = self.jwt_secret.ok_or(BuildError::MissingJwtSecret)?;
        let public_url = self.public_url.ok_or(BuildError::MissingPublicUrl)?;
        let link_base = join_link_base(&public_url, &self.mount_prefix)?;
        self.default_policy
            .validate()
            .map_err(BuildError::InvalidPolicy)?;
        if self.accounts.is_empty() {
            return Err(BuildError::NoZoomAccount);
        }
        if self.worker.batch == 0 {
            return Err(BuildError::InvalidOption {
                option: "worker.batch",
                reason: "must be at least 1".into(),
            });
        }
        if self.registration.inline_limit > 4_999 {
            return Err(BuildError::InvalidOption {
                option: "registration.inline_limit",
                reason: "must be at most 4999".into(),
            });
        }
        if let Some(domain) = &self.registration.synthetic_email_domain
            && (domain.is_empty()
                || domain.contains('@')
                || domain.contains(char::is_whitespace)
                || !domain.contains('.'))
        {
            return Err(BuildError::InvalidOption {
                option: "registration.synthetic_email_domain",
                reason: "must be a domain name such as attend.example.edu".into(),
            });
        }

        let mut verifier = WebhookVerifier::new();
        if let Some(window) = self.replay_window {
            verifier = verifier
                .with_replay_window(window)
                .map_err(BuildError::Webhook)?;
        }
        let mut accounts = BTreeMap::new();
        let default_account = self.accounts[0].key.clone();
        for account in self.accounts {
            if accounts.contains_key(&account.key) {
                return Err(BuildError::DuplicateAccount(account.key));
            }
            let secrets = account
                .secrets
                .clone()
                .ok_or_else(|| BuildError::MissingWebhookSecret(account.key.clone()))?;
            verifier = verifier.with_account(account.key.clone(), secrets);
            let api = account
                .api
                .clone()
                .ok_or_else(|| BuildError::MissingZoomApi(account.key.clone()))?
                .into_api(&account.key)?;
            accounts.insert(account.key.clone(), api);
        }
        verifier.validate().map_err(BuildError::Webhook)?;

        Ok(Attend::from_inner(Inner {
            store,
            directory,
            accounts,
            default_account,
            verifier,
            join_tokens: JoinTokens::new(&jwt),
            link_base,
            mount_prefix: self.mount_prefix.trim().trim_end_matches('/').to_owned(),
            clock: self.clock,
            default_policy: self.default_policy,
            registration: self.registration,
            reconcile: self.reconcile,
            worker: self.worker,
            retention: self.retention,
            webhook_body_limit: self.webhook_body_limit,
            join_link_ttl: chrono::TimeDelta::from_std(self.join_link_ttl)
                .unwrap_or(chrono::TimeDelta::days(30)),
            roster_cache: super::roster_cache::RosterCache::new(self.roster_cache_rows),
            ingesting: std::sync::atomic::AtomicUsize::new(0),
            progress: Default::default(),
            registration_locks: Default::default(),
        }))
    }
}

/// `{public_url}{mount_prefix}/join/`, checked and normalized.
fn join_link_base(public_url: &str, prefix: &str) -> Result<String, BuildError> {
    let url = public_url.trim().trim_end_matches('/');
    if !(url.starts_with("http://") || url.starts_with("https://"))
        || url.contains(char::is_whitespace)
        || url.contains(['?', '#'])
    {
        return Err(BuildError::InvalidUrl(
            "public_url must be an http(s) URL without query or fragment".into(),
        ));
    }
    let prefix = prefix.trim().trim_end_matches('/');
    if !prefix.is_empty() && (!prefix.starts_with('/') || prefix.contains(char::is_whitespace)) {
        return Err(BuildError::InvalidUrl(
            "mount_prefix must start with '/' (e.g. /attend)".into(),
        ));
    }
    Ok(format!("{url}{prefix}/join/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_base_is_normalized() {
        assert_eq!(
            join_link_base("https://lms.example/", "/attend/").unwrap(),
            "https://lms.example/attend/join/"
        );
        assert_eq!(
            join_link_base("http://127.0.0.1:8080", "").unwrap(),
            "http://127.0.0.1:8080/join/"
        );
        assert!(join_link_base("lms.example", "/attend").is_err());
        assert!(join_link_base("https://lms.example", "attend").is_err());
    }
}
