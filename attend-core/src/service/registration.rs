//! Registration at scale, personal join links, cancelling and denying registrants.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use futures::StreamExt;
use sha2::{Digest, Sha256};
use tokio::sync::watch;
use tracing::{Instrument, debug, info, info_span, warn};

use crate::model::{
    AccountKey, MeetingId, MeetingKind, RegistrantId, RegistrationStatus, UserId, ZoomMeetingId,
};
use crate::store::{FailureReason, HostUser, MeetingRecord, RegistrationRecord};
use crate::zoom::api::RegistrantAction;
use crate::zoom::client::{RetryCause, watch_retries};

use super::jobs::Job;
use super::worker::JobOutcome;
use super::zoom_glue::{AccountRuntime, RegistrantInput, ZoomFailure, ZoomRegistrant};
use super::{
    Attend, Counts, JoinLink, JoinRedirect, Missing, RegisterOutcome, Registration,
    RegistrationList, RegistrationProgress, ServiceError,
};

/// Zoom's most registrants per meeting, and so the most users per request.
pub(crate) const MAX_REGISTRANTS: usize = 4_999;
/// Registrants per batch call.
const BATCH: usize = 30;
/// Batch calls in flight at once (Heavy: Pro allows 10/s; latency hides behind this).
const BATCH_CONCURRENCY: usize = 4;
/// Single adds in flight at once (Light: Pro allows 30/s).
const SINGLE_CONCURRENCY: usize = 8;

/// The local part used for a user in synthetic emails: the id itself when it is a plain
/// lowercase local part, else `u-` and 32 hex digits of its SHA-256 (so ids differing only
/// in case, or with characters emails cannot carry, never collide).
pub(crate) fn synthetic_local_part(user: &UserId) -> String {
    let id = user.as_str();
    let plain = !id.is_empty()
        && id.len() <= 40
        && id.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_' || b == b'.'
        })
        && !id.starts_with('.')
        && !id.ends_with('.')
        && !id.contains("..")
        && !id.starts_with("u-");
    if plain {
        id.to_owned()
    } else {
        let digest = Sha256::digest(id.as_bytes());
        format!("u-{}", &hex::encode(digest)[..32])
    }
}

/// The synthetic email of a user: `{local}@{domain}` or `{local}+{zoom id}@{domain}`.
pub(crate) fn synthetic_email(
    user: &UserId,
    domain: &str,
    per_meeting: Option<ZoomMeetingId>,
) -> String {
    let local = synthetic_local_part(user);
    match per_meeting {
        Some(id) => format!("{local}+{id}@{}", domain.to_ascii_lowercase()),
        None => format!("{local}@{}", domain.to_ascii_lowercase()),
    }
}

/// First and last name for Zoom (each at most 64 characters): the last word is the last
/// name; a one-word name is a first name only; an empty name becomes the user id.
pub(crate) fn split_name(name: &str, user: &UserId) -> (String, Option<String>) {
    let clip = |s: &str| s.chars().take(64).collect::<String>();
    let words: Vec<&str> = name.split_whitespace().collect();
    match words.as_slice() {
        [] => (clip(user.as_str()), None),
        [one] => (clip(one), None),
        [rest @ .., last] => (clip(&rest.join(" ")), Some(clip(last))),
    }
}

/// A row's outcome in one run.
enum RowResult {
    Registered(ZoomRegistrant),
    Failed(FailureReason),
    Deferred(DateTime<Utc>, FailureReason),
    /// Zoom was unreachable: stays pending for the next run.
    Unavailable(FailureReason),
}

/// How far one registration run may go.
#[derive(Clone, Copy, Debug)]
struct RunLimits {
    /// No Zoom call starts after this (service clock).
    deadline: DateTime<Utc>,
    /// Per-second 429s waited out per call before it fails as busy.
    busy_retries: u32,
    /// Take rows deferred by `next_attempt_at` as due (the user is waiting at the door).
    ignore_deferral: bool,
}

impl RunLimits {
    /// A run that waits out every per-second limit until `deadline`.
    fn until(deadline: DateTime<Utc>) -> Self {
        Self {
            deadline,
            busy_retries: u32::MAX,
            ignore_deferral: false,
        }
    }
}

/// How long a person is asked to wait after a join-link click ran out of time or hit a
/// per-second limit (the registration goes on in the background meanwhile).
const JOIN_RETRY_AFTER: Duration = Duration::from_secs(5);

/// How a registration run ended.
pub(crate) enum RunEnd {
    /// Nothing due is left.
    Finished,
    /// Rate-limited rows wait until this time.
    Deferred(DateTime<Utc>),
    /// The run stopped before its deadline; continue at once.
    OutOfTime,
    /// Zoom was unavailable for some rows; retry with backoff.
    Unavailable(ServiceError),
}

fn reason(code: &str, message: impl Into<String>) -> FailureReason {
    FailureReason::new(code, message)
}

impl Attend {
    fn registration_lock(&self, meeting: &MeetingId) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self
            .inner
            .registration_locks
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        locks.entry(meeting.clone()).or_default().clone()
    }

    /// The progress channel of a meeting's registrations in this process (created on first
    /// use, with the stored counts published on the next step).
    ///
    /// Other processes' runs are not seen here: poll
    /// [`registrations`](Self::registrations) for the stored counts.
    pub fn watch_registrations(
        &self,
        meeting: &MeetingId,
    ) -> watch::Receiver<RegistrationProgress> {
        self.progress_sender(meeting).subscribe()
    }

    fn progress_sender(&self, meeting: &MeetingId) -> watch::Sender<RegistrationProgress> {
        let mut map = self
            .inner
            .progress
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        map.entry(meeting.clone())
            .or_insert_with(|| watch::channel(RegistrationProgress::default()).0)
            .clone()
    }

    async fn publish_progress(
        &self,
        meeting: &MeetingId,
        done_in_run: u64,
        running: bool,
        deferred_until: Option<DateTime<Utc>>,
    ) {
        let counts = match self.inner.store.count_registrations(meeting).await {
            Ok(c) => Counts::from(c),
            Err(_) => return,
        };
        self.progress_sender(meeting)
            .send_replace(RegistrationProgress {
                counts,
                done_in_run,
                running,
                deferred_until,
            });
    }

    fn registration_view(&self, r: RegistrationRecord, now: DateTime<Utc>) -> Registration {
        let join_link = matches!(
            r.status,
            RegistrationStatus::Registered | RegistrationStatus::Pending
        )
        .then(|| self.issue_link(&r.meeting, &r.user, now).ok())
        .flatten()
        .map(|l| l.url);
        Registration {
            user_id: r.user,
            status: r.status,
            registrant_id: r.registrant_id,
            join_link,
            registered_at: r.registered_at,
            error: r.error.map(Into::into),
            next_attempt_at: if r.status == RegistrationStatus::Pending {
                r.next_attempt_at
            } else {
                None
            },
        }
    }

    /// Registers host users for a meeting: one Zoom registrant per user, idempotently.
    ///
    /// * Users already registered are left as they are; failed or cancelled ones are tried
    ///   again; unknown users come back `failed` with `user_not_found` (nothing stored).
    /// * Never two registrants for one user and meeting: before adding, attend lists the
    ///   meeting's registrants at Zoom and adopts one with the user's registrant email (a
    ///   registrant created just before a crash), and it writes that email before calling
    ///   Zoom.
    /// * Up to [`inline_limit`](super::RegistrationOptions::inline_limit) users still to do
    ///   are registered before this returns; more become a background `register` job (run
    ///   by the worker) and come back `pending`. Rate-limited users stay `pending` with
    ///   `next_attempt_at` (a daily limit defers them to its reset).
    ///
    /// The outcome lists the requested users in request order (duplicates once);
    /// `complete` is `false` when some are still pending (HTTP 202).
    ///
    /// # Errors
    /// `Invalid` (empty list, more than 4,999 users, an empty id); `NotFound(Meeting)`;
    /// `StorageUnavailable`. Zoom failures are per user, not errors.
    pub async fn register_users(
        &self,
        meeting: &MeetingId,
        user_ids: &[UserId],
    ) -> Result<RegisterOutcome, ServiceError> {
        let span = info_span!("attend.register", meeting = %meeting, users = user_ids.len());
        async move {
            if user_ids.is_empty() {
                return Err(ServiceError::invalid("user_ids", "must not be empty"));
            }
            if user_ids.iter().any(|u| u.as_str().trim().is_empty()) {
                return Err(ServiceError::invalid("user_ids", "ids must not be empty"));
            }
            let mut seen = HashSet::new();
            let requested: Vec<UserId> = user_ids
                .iter()
                .filter(|u| seen.insert((*u).clone()))
                .cloned()
                .collect();
            if requested.len() > MAX_REGISTRANTS {
                return Err(ServiceError::invalid(
                    "user_ids",
                    format!("at most {MAX_REGISTRANTS} users (Zoom's limit per meeting)"),
                ));
            }
            let record = self.meeting_record(meeting).await?;
            let known: HashSet<UserId> = self
                .inner
                .directory
                .get_users(&requested)
                .await?
                .into_iter()
                .map(|u| u.id)
                .collect();
            let now = self.now();
            let store = &self.inner.store;
            let mut todo = HashSet::new();
            for user in requested.iter().filter(|u| known.contains(*u)) {
                let mut row = store
                    .ensure_pending_registration(meeting, user, now)
                    .await?;
                if matches!(
                    row.status,
                    RegistrationStatus::Failed | RegistrationStatus::Cancelled
                ) {
                    row.status = RegistrationStatus::Pending;
                    row.error = None;
                    row.next_attempt_at = None;
                    row.updated_at = now;
                    store.update_registration(&row).await?;
                }
                if row.status == RegistrationStatus::Pending {
                    todo.insert(user.clone());
                }
            }
            if !todo.is_empty() {
                let busy = store.unfinished_job_count(Some("register")).await?;
                if todo.len() <= self.inner.registration.inline_limit && busy == 0 {
                    let deadline = now + TimeDelta::seconds(60);
                    match self
                        .register_pending(&record, Some(&todo), deadline)
                        .await?
                    {
                        RunEnd::Finished => {}
                        RunEnd::Deferred(at) => {
                            self.enqueue_at(
                                Job::Register {
                                    meeting: meeting.clone(),
                                },
                                at,
                                now,
                            )
                            .await?;
                        }
                        RunEnd::OutOfTime | RunEnd::Unavailable(_) => {
                            self.enqueue(
                                Job::Register {
                                    meeting: meeting.clone(),
                                },
                                now,
                            )
                            .await?;
                        }
                    }
                } else {
                    self.enqueue(
                        Job::Register {
                            meeting: meeting.clone(),
                        },
                        now,
                    )
                    .await?;
                    self.publish_progress(meeting, 0, true, None).await;
                }
            }
            let now = self.now();
            let mut registrations = Vec::with_capacity(requested.len());
            let mut complete = true;
            for user in &requested {
                if !known.contains(user) {
                    registrations.push(Registration {
                        user_id: user.clone(),
                        status: RegistrationStatus::Failed,
                        registrant_id: None,
                        join_link: None,
                        registered_at: None,
                        error: Some(super::ErrorInfo {
                            code: "user_not_found".into(),
                            message: "the host has no such user".into(),
                        }),
                        next_attempt_at: None,
                    });
                    continue;
                }
                if let Some(row) = store.get_registration(meeting, user).await? {
                    if row.status == RegistrationStatus::Pending {
                        complete = false;
                    }
                    registrations.push(self.registration_view(row, now));
                }
            }
            Ok(RegisterOutcome {
                registrations,
                complete,
            })
        }
        .instrument(span)
        .await
    }

    /// Every registration of a meeting (by user id) with counts per status.
    ///
    /// # Errors
    /// `NotFound(Meeting)`; `StorageUnavailable`.
    pub async fn registrations(
        &self,
        meeting: &MeetingId,
    ) -> Result<RegistrationList, ServiceError> {
        self.meeting_record(meeting).await?;
        let store = &self.inner.store;
        let mut rows = store.list_registrations(meeting).await?;
        rows.sort_by(|a, b| a.user.cmp(&b.user));
        // Counted from the same rows, not read again: a second read could see registrations
        // the background job finished meanwhile, and the counts would disagree with the list
        // (seen in the Zoom-fault test: counts said 0 pending, the list still had 30).
        let mut counts = crate::store::RegistrationCounts::default();
        for row in &rows {
            counts.add(row.status);
        }
        let counts = counts.into();
        let now = self.now();
        Ok(RegistrationList {
            registrations: rows
                .into_iter()
                .map(|r| self.registration_view(r, now))
                .collect(),
            counts,
        })
    }

    /// One user's registration for a meeting; `None` if the user was never registered (or
    /// was erased). Adapters use it to let a registered student read their meeting.
    ///
    /// # Errors
    /// `StorageUnavailable`.
    pub async fn registration(
        &self,
        meeting: &MeetingId,
        user: &UserId,
    ) -> Result<Option<Registration>, ServiceError> {
        let now = self.now();
        Ok(self
            .inner
            .store
            .get_registration(meeting, user)
            .await?
            .map(|r| self.registration_view(r, now)))
    }

    /// Cancels a user's registration: at Zoom (registrant status `cancel`, which keeps Zoom
    /// from letting the link in again) when a registrant exists, then locally. Idempotent.
    ///
    /// # Errors
    /// `NotFound(Registration)`; Zoom errors (nothing changed locally then);
    /// `StorageUnavailable`.
    pub async fn cancel_registration(
        &self,
        meeting: &MeetingId,
        user: &UserId,
    ) -> Result<(), ServiceError> {
        let record = self.meeting_record(meeting).await?;
        let lock = self.registration_lock(meeting);
        let _guard = lock.lock().await;
        let mut row = self
            .inner
            .store
            .get_registration(meeting, user)
            .await?
            .ok_or(ServiceError::NotFound(Missing::Registration))?;
        if row.status == RegistrationStatus::Cancelled {
            return Ok(());
        }
        let now = self.now();
        if let Some(registrant) = &row.registrant_id {
            let api = self.account(&record.account)?;
            match api
                .set_registrant_status(
                    record.kind,
                    record.zoom_meeting_id,
                    RegistrantAction::Cancel,
                    &[(registrant.as_str().to_owned(), row.registrant_email.clone())],
                )
                .await
            {
                Ok(()) | Err(ZoomFailure::NotFound { .. }) => {}
                Err(other) => return Err(other.into_service(now)),
            }
        }
        row.status = RegistrationStatus::Cancelled;
        row.next_attempt_at = None;
        row.updated_at = now;
        self.inner.store.update_registration(&row).await?;
        metrics::counter!("attend_registrations_total", "outcome" => "cancelled").increment(1);
        Ok(())
    }

    fn issue_link(
        &self,
        meeting: &MeetingId,
        user: &UserId,
        now: DateTime<Utc>,
    ) -> Result<JoinLink, ServiceError> {
        let (token, expires_at) = self
            .inner
            .join_tokens
            .issue_at(user, meeting, now, self.inner.join_link_ttl)
            .map_err(ServiceError::internal)?;
        Ok(JoinLink {
            url: format!("{}{token}", self.inner.link_base),
            expires_at,
        })
    }

    /// The personal join link of `user` for `meeting`:
    /// `{public_url}{mount prefix}/join/{token}`, valid for the configured TTL. The user
    /// need not be registered yet: opening the link registers them (lazy registration saves
    /// Zoom quota). Deciding who may ask for whose link is the adapter's job.
    ///
    /// # Errors
    /// `NotFound(Meeting)`; `NotFound(User)` (the host has no such user); `Forbidden` when
    /// the user's registration was cancelled; `StorageUnavailable`.
    pub async fn join_link(
        &self,
        meeting: &MeetingId,
        user: &UserId,
    ) -> Result<JoinLink, ServiceError> {
        self.meeting_record(meeting).await?;
        if let Some(row) = self.inner.store.get_registration(meeting, user).await?
            && row.status == RegistrationStatus::Cancelled
        {
            return Err(ServiceError::forbidden("this registration was cancelled"));
        }
        if self.inner.directory.get_user(user).await?.is_none() {
            return Err(ServiceError::NotFound(Missing::User));
        }
        self.issue_link(meeting, user, self.now())
    }

    /// Opens a personal join link: verifies the token, registers the user at Zoom if they
    /// are not yet (inline, within
    /// [`join_link_budget`](super::RegistrationOptions::join_link_budget), default 2 s),
    /// records the click (no IP address, no user agent), and returns the user's own Zoom
    /// `join_url` to redirect to (302).
    ///
    /// A lazy registration that Zoom rate-limits, fails or answers too slowly for the budget
    /// is not waited for: the click gets `RateLimited`/`ZoomUnavailable` and a background
    /// `register` job finishes the registration, so a later click redirects at once.
    ///
    /// # Errors
    /// * `TokenInvalid` (401) — tampered, foreign, or not a join token;
    /// * `TokenExpired` (410);
    /// * `NotFound(Meeting)` / `NotFound(User)` — gone since the link was issued;
    /// * `Forbidden` — the registration was cancelled, or Zoom refused it for good;
    /// * `RateLimited` (with when to retry) / `ZoomUnavailable` — the lazy registration
    ///   could not be done within the budget (it continues in the background);
    /// * `StorageUnavailable`.
    pub async fn open_join_link(&self, token: &str) -> Result<JoinRedirect, ServiceError> {
        let now = self.now();
        let claims = self.inner.join_tokens.verify_at(token, None, now)?;
        let span = info_span!("attend.join", meeting = %claims.meeting, user = %claims.user);
        async move {
            let store = &self.inner.store;
            // The registration first: a registered row (the usual click) needs nothing else.
            // Meetings are never deleted, so its meeting exists; the meeting is read only on
            // the way to a lazy registration (and answers `NotFound` there).
            let mut row = store
                .get_registration(&claims.meeting, &claims.user)
                .await?;
            let registered = |r: &Option<RegistrationRecord>| {
                r.as_ref().is_some_and(|r| {
                    r.status == RegistrationStatus::Registered && r.join_url.is_some()
                })
            };
            if !registered(&row) {
                let record = self.meeting_record(&claims.meeting).await?;
                if let Some(r) = &row
                    && r.status == RegistrationStatus::Cancelled
                {
                    return Err(ServiceError::forbidden("this registration was cancelled"));
                }
                if self.inner.directory.get_user(&claims.user).await?.is_none() {
                    return Err(ServiceError::NotFound(Missing::User));
                }
                let mut pending = store
                    .ensure_pending_registration(&claims.meeting, &claims.user, now)
                    .await?;
                if pending.status == RegistrationStatus::Failed {
                    pending.status = RegistrationStatus::Pending;
                    pending.next_attempt_at = None;
                    store.update_registration(&pending).await?;
                }
                if let Some(err) = self
                    .register_at_the_door(&record, &claims.user, now)
                    .await?
                {
                    return Err(err);
                }
                row = store
                    .get_registration(&claims.meeting, &claims.user)
                    .await?;
                if !registered(&row) {
                    return Err(ServiceError::ZoomUnavailable {
                        retry_after: JOIN_RETRY_AFTER,
                        source: "the registration could not be completed now".into(),
                    });
                }
            }
            let Some(RegistrationRecord {
                join_url: Some(url),
                ..
            }) = row
            else {
                return Err(ServiceError::internal("registered row without join url"));
            };
            store
                .record_join_click(&crate::store::JoinClick {
                    meeting: claims.meeting.clone(),
                    user: claims.user.clone(),
                    at: now,
                })
                .await?;
            metrics::counter!("attend_join_clicks_total").increment(1);
            Ok(JoinRedirect {
                meeting_id: claims.meeting,
                user_id: claims.user,
                zoom_join_url: url,
            })
        }
        .instrument(span)
        .await
    }

    /// The lazy registration of one user opening a join link, bounded in time by
    /// [`join_link_budget`](super::RegistrationOptions::join_link_budget) (wall clock,
    /// whatever Zoom or the client's retries do) and waiting out at most one per-second 429.
    ///
    /// `Ok(None)`: the user is registered now. `Ok(Some(err))`: not now — `err` is what the
    /// person gets (`RateLimited`, `ZoomUnavailable`, or `Forbidden` when Zoom refused the
    /// registration for good); unless refused, a `register` job finishes it in the
    /// background (at the daily reset when a daily limit deferred it).
    async fn register_at_the_door(
        &self,
        meeting: &MeetingRecord,
        user: &UserId,
        now: DateTime<Utc>,
    ) -> Result<Option<ServiceError>, ServiceError> {
        let budget = self.inner.registration.join_link_budget;
        let limits = RunLimits {
            deadline: now + TimeDelta::from_std(budget).unwrap_or(TimeDelta::MAX),
            busy_retries: 1,
            ignore_deferral: true,
        };
        let only: HashSet<UserId> = [user.clone()].into();
        let watch = Arc::new(std::sync::Mutex::new(None));
        // Cancelling the run at the deadline is safe: the registrant email is stored before
        // Zoom is called, so a registrant Zoom created meanwhile is adopted by the next run.
        let run = tokio::time::timeout(
            budget,
            watch_retries(
                watch.clone(),
                self.register_pending_inner(meeting, Some(&only), limits),
            ),
        )
        .await;
        let end = match run {
            Ok(end) => Some(end?),
            Err(_elapsed) => {
                warn!(
                    budget_ms = budget.as_millis() as u64,
                    "join-link registration ran out of time"
                );
                None
            }
        };
        let row = self.inner.store.get_registration(&meeting.id, user).await?;
        if row
            .as_ref()
            .is_some_and(|r| r.status == RegistrationStatus::Registered && r.join_url.is_some())
        {
            return Ok(None);
        }
        if let Some(r) = row
            && r.status == RegistrationStatus::Failed
        {
            return Ok(Some(ServiceError::forbidden(
                r.error
                    .map(|e| e.message)
                    .unwrap_or_else(|| "Zoom refused the registration".into()),
            )));
        }
        let now = self.now();
        let job = Job::Register {
            meeting: meeting.id.clone(),
        };
        let err = match end {
            Some(RunEnd::Deferred(until)) => {
                self.enqueue_at(job, until, now).await?;
                ServiceError::RateLimited {
                    retry_after: (until - now).to_std().unwrap_or(Duration::from_secs(1)),
                    until: Some(until),
                }
            }
            Some(RunEnd::Unavailable(err)) => {
                self.enqueue(job, now).await?;
                match err {
                    ServiceError::RateLimited {
                        retry_after,
                        until: None,
                    } => ServiceError::RateLimited {
                        retry_after: retry_after.max(JOIN_RETRY_AFTER),
                        until: None,
                    },
                    other => other,
                }
            }
            Some(RunEnd::Finished | RunEnd::OutOfTime) | None => {
                self.enqueue(job, now).await?;
                let cause = *watch.lock().unwrap_or_else(|e| e.into_inner());
                match cause {
                    Some(RetryCause::RateLimited { retry_at }) => ServiceError::RateLimited {
                        retry_after: retry_at
                            .and_then(|at| (at - Utc::now()).to_std().ok())
                            .unwrap_or_default()
                            .max(JOIN_RETRY_AFTER),
                        until: None,
                    },
                    Some(RetryCause::Unavailable) => ServiceError::ZoomUnavailable {
                        retry_after: super::ZOOM_RETRY_AFTER,
                        source: "Zoom did not answer in time; the registration continues in \
                                 the background"
                            .into(),
                    },
                    None => ServiceError::ZoomUnavailable {
                        retry_after: JOIN_RETRY_AFTER,
                        source: format!(
                            "the registration did not finish within {budget:?}; it continues \
                             in the background"
                        )
                        .into(),
                    },
                }
            }
        };
        Ok(Some(err))
    }

    /// The `register` job: one run over the meeting's due pending registrations.
    pub(crate) async fn registration_job(
        &self,
        meeting: &MeetingId,
        lease_end: DateTime<Utc>,
    ) -> Result<JobOutcome, ServiceError> {
        let Some(record) = self.inner.store.get_meeting(meeting).await? else {
            return Ok(JobOutcome::Done);
        };
        // Stop well before the lease ends, so no other worker takes over mid-run.
        let deadline = lease_end - TimeDelta::seconds(30);
        Ok(
            match self.register_pending(&record, None, deadline).await? {
                RunEnd::Finished => JobOutcome::Done,
                RunEnd::Deferred(at) => JobOutcome::Defer(at),
                RunEnd::OutOfTime => JobOutcome::Defer(self.now()),
                RunEnd::Unavailable(err) => JobOutcome::Retry(err),
            },
        )
    }

    pub(crate) async fn register_pending(
        &self,
        meeting: &MeetingRecord,
        only: Option<&HashSet<UserId>>,
        deadline: DateTime<Utc>,
    ) -> Result<RunEnd, ServiceError> {
        self.register_pending_inner(meeting, only, RunLimits::until(deadline))
            .await
    }

    /// The registration run. See [`register_users`](Self::register_users) for the rules.
    async fn register_pending_inner(
        &self,
        meeting: &MeetingRecord,
        only: Option<&HashSet<UserId>>,
        limits: RunLimits,
    ) -> Result<RunEnd, ServiceError> {
        let RunLimits {
            deadline,
            ignore_deferral,
            ..
        } = limits;
        let lock = self.registration_lock(&meeting.id);
        let _guard = lock.lock().await;
        let store = &self.inner.store;
        let now = self.now();
        let all = store.list_registrations(&meeting.id).await?;
        let mut later: Option<DateTime<Utc>> = None;
        let mut due: Vec<RegistrationRecord> = Vec::new();
        for row in all {
            if row.status != RegistrationStatus::Pending
                || only.is_some_and(|o| !o.contains(&row.user))
            {
                continue;
            }
            match row.next_attempt_at {
                Some(at) if at > now && !ignore_deferral => {
                    later = Some(later.map_or(at, |l: DateTime<Utc>| l.min(at)));
                }
                _ => due.push(row),
            }
        }
        if due.is_empty() {
            return Ok(later.map_or(RunEnd::Finished, RunEnd::Deferred));
        }
        self.publish_progress(&meeting.id, 0, true, later).await;
        let api = self.account(&meeting.account)?.clone();

        // Who they are, and the email each is registered under (written before Zoom is
        // called, so a crash right after Zoom answered is recognized on the next run).
        let ids: Vec<UserId> = due.iter().map(|r| r.user.clone()).collect();
        let users: HashMap<UserId, HostUser> = self
            .inner
            .directory
            .get_users(&ids)
            .await?
            .into_iter()
            .map(|u| (u.id.clone(), u))
            .collect();
        let mut work: Vec<(RegistrationRecord, RegistrantInput)> = Vec::new();
        for mut row in due {
            let Some(user) = users.get(&row.user) else {
                self.finish_row(
                    &mut row,
                    RowResult::Failed(reason("user_not_found", "the host has no such user")),
                )
                .await?;
                continue;
            };
            let email = match &self.inner.registration.synthetic_email_domain {
                Some(domain) => Some(synthetic_email(
                    &row.user,
                    domain,
                    self.inner
                        .registration
                        .synthetic_email_per_meeting
                        .then_some(meeting.zoom_meeting_id),
                )),
                None => user
                    .email
                    .as_deref()
                    .map(str::trim)
                    .filter(|e| e.contains('@'))
                    .map(str::to_owned),
            };
            let Some(email) = email else {
                self.finish_row(
                    &mut row,
                    RowResult::Failed(reason(
                        "no_email",
                        "the user has no email to register with (configure synthetic emails)",
                    )),
                )
                .await?;
                continue;
            };
            if row.registrant_email.as_deref() != Some(email.as_str()) {
                row.registrant_email = Some(email.clone());
                row.updated_at = now;
                store.update_registration(&row).await?;
            }
            let (first_name, last_name) = split_name(&user.name, &row.user);
            work.push((
                row,
                RegistrantInput {
                    email,
                    first_name,
                    last_name,
                },
            ));
        }
        if work.is_empty() {
            return Ok(later.map_or(RunEnd::Finished, RunEnd::Deferred));
        }

        // Adopt registrants that already exist at Zoom under our email.
        let existing = match self
            .zoom_retrying(limits, || {
                api.list_registrants(meeting.kind, meeting.zoom_meeting_id)
            })
            .await
        {
            Ok(list) => list,
            Err(ZoomFailure::Daily { until, .. }) => {
                for (mut row, _) in work {
                    self.finish_row(
                        &mut row,
                        RowResult::Deferred(
                            until,
                            reason(
                                "rate_limited",
                                "Zoom's daily limit is reached; retried after it resets",
                            ),
                        ),
                    )
                    .await?;
                }
                return Ok(RunEnd::Deferred(until));
            }
            Err(ZoomFailure::NotFound { message, .. }) => {
                for (mut row, _) in work {
                    self.finish_row(
                        &mut row,
                        RowResult::Failed(reason("zoom_meeting_not_found", message.clone())),
                    )
                    .await?;
                }
                return Ok(RunEnd::Finished);
            }
            Err(other) => return Ok(RunEnd::Unavailable(other.into_service(now))),
        };
        let by_email: HashMap<String, ZoomRegistrant> = existing
            .into_iter()
            .map(|r| (r.email.to_ascii_lowercase(), r))
            .collect();
        let mut done_in_run = 0u64;
        let mut to_add = Vec::new();
        for (mut row, input) in work {
            match by_email.get(&input.email.to_ascii_lowercase()) {
                Some(found) if found.join_url.is_some() => {
                    metrics::counter!("attend_registrations_total", "outcome" => "adopted")
                        .increment(1);
                    self.finish_row(&mut row, RowResult::Registered(found.clone()))
                        .await?;
                    done_in_run += 1;
                }
                _ => to_add.push((row, input)),
            }
        }

        let restrict = meeting.restrict_to_registered;
        let stop = AtomicBool::new(false);
        let mut unavailable: Option<ServiceError> = None;
        let mut deferred_until: Option<DateTime<Utc>> = later;
        let mut singles: Vec<(RegistrationRecord, RegistrantInput)> = Vec::new();
        let mut out_of_time = false;
        let mut skipped: Vec<RegistrationRecord> = Vec::new();

        // Batches of 30 where Zoom allows it; a meeting type that refuses batches falls back
        // to single adds.
        if self.inner.registration.use_batch && to_add.len() > 1 {
            let mut chunks: Vec<Vec<(RegistrationRecord, RegistrantInput)>> = Vec::new();
            let mut rest = to_add.into_iter();
            loop {
                let chunk: Vec<_> = rest.by_ref().take(BATCH).collect();
                if chunk.is_empty() {
                    break;
                }
                chunks.push(chunk);
            }
            let batch_refused = AtomicBool::new(false);
            let results = futures::stream::iter(chunks)
                .map(|chunk| {
                    let api = &api;
                    let stop = &stop;
                    let batch_refused = &batch_refused;
                    async move {
                        if stop.load(Ordering::SeqCst)
                            || batch_refused.load(Ordering::SeqCst)
                            || self.now() >= deadline
                        {
                            return (chunk, None);
                        }
                        let inputs: Vec<RegistrantInput> =
                            chunk.iter().map(|(_, i)| i.clone()).collect();
                        let result = self
                            .zoom_retrying(limits, || {
                                api.batch_add_registrants(
                                    meeting.kind,
                                    meeting.zoom_meeting_id,
                                    &inputs,
                                    restrict,
                                    self.inner.registration.zoom_confirmation_email,
                                )
                            })
                            .await;
                        match &result {
                            Err(ZoomFailure::Daily {
                                per_registrant: false,
                                ..
                            }) => {
                                stop.store(true, Ordering::SeqCst);
                            }
                            Err(ZoomFailure::BatchNotSupported) => {
                                batch_refused.store(true, Ordering::SeqCst);
                            }
                            _ => {}
                        }
                        (chunk, Some(result))
                    }
                })
                .buffer_unordered(BATCH_CONCURRENCY);
            futures::pin_mut!(results);
            while let Some((chunk, result)) = results.next().await {
                match result {
                    None => {
                        if batch_refused.load(Ordering::SeqCst) {
                            singles.extend(chunk);
                        } else {
                            if !stop.load(Ordering::SeqCst) {
                                out_of_time = true;
                            }
                            skipped.extend(chunk.into_iter().map(|(row, _)| row));
                        }
                    }
                    Some(Ok(created)) => {
                        let by_email: HashMap<String, ZoomRegistrant> = created
                            .into_iter()
                            .map(|r| (r.email.to_ascii_lowercase(), r))
                            .collect();
                        for (mut row, input) in chunk {
                            match by_email.get(&input.email.to_ascii_lowercase()) {
                                Some(r) if r.join_url.is_some() => {
                                    metrics::counter!("attend_registrations_total", "outcome" => "registered")
                                        .increment(1);
                                    self.finish_row(&mut row, RowResult::Registered(r.clone()))
                                        .await?;
                                    done_in_run += 1;
                                }
                                // Zoom left this one out: add it alone.
                                _ => singles.push((row, input)),
                            }
                        }
                        self.publish_progress(&meeting.id, done_in_run, true, deferred_until)
                            .await;
                    }
                    Some(Err(ZoomFailure::BatchNotSupported)) => singles.extend(chunk),
                    Some(Err(failure)) => {
                        let end = self
                            .fail_rows(chunk, failure, &mut deferred_until, now)
                            .await?;
                        if let Some(err) = end {
                            unavailable = Some(err);
                        }
                    }
                }
            }
        } else {
            singles = to_add;
        }

        // Single adds.
        let results = futures::stream::iter(singles)
            .map(|(row, input)| {
                let api = &api;
                let stop = &stop;
                async move {
                    if stop.load(Ordering::SeqCst) || self.now() >= deadline {
                        return (row, input, None);
                    }
                    let result = self
                        .zoom_retrying(limits, || {
                            api.add_registrant(
                                meeting.kind,
                                meeting.zoom_meeting_id,
                                &input,
                                restrict,
                            )
                        })
                        .await;
                    if let Err(ZoomFailure::Daily {
                        per_registrant: false,
                        ..
                    }) = &result
                    {
                        stop.store(true, Ordering::SeqCst);
                    }
                    (row, input, Some(result))
                }
            })
            .buffer_unordered(SINGLE_CONCURRENCY);
        futures::pin_mut!(results);
        let mut since_publish = 0;
        while let Some((mut row, input, result)) = results.next().await {
            match result {
                None => {
                    if !stop.load(Ordering::SeqCst) {
                        out_of_time = true;
                    }
                    skipped.push(row);
                }
                Some(Ok(created)) => {
                    metrics::counter!("attend_registrations_total", "outcome" => "registered")
                        .increment(1);
                    let created = ZoomRegistrant {
                        email: input.email,
                        ..created
                    };
                    self.finish_row(&mut row, RowResult::Registered(created))
                        .await?;
                    done_in_run += 1;
                }
                Some(Err(ZoomFailure::Rejected { label, message, .. })) => {
                    metrics::counter!("attend_registrations_total", "outcome" => "failed")
                        .increment(1);
                    self.finish_row(&mut row, RowResult::Failed(reason(label, message)))
                        .await?;
                }
                Some(Err(failure)) => {
                    if let Some(err) = self
                        .fail_rows(vec![(row, input)], failure, &mut deferred_until, now)
                        .await?
                    {
                        unavailable = Some(err);
                    }
                }
            }
            since_publish += 1;
            if since_publish >= BATCH {
                since_publish = 0;
                self.publish_progress(&meeting.id, done_in_run, true, deferred_until)
                    .await;
            }
        }

        // Rows not attempted because a daily limit stopped the run wait for its reset too.
        if stop.load(Ordering::SeqCst)
            && let Some(until) = deferred_until
        {
            for mut row in skipped {
                self.finish_row(
                    &mut row,
                    RowResult::Deferred(
                        until,
                        reason(
                            "rate_limited",
                            "Zoom's daily limit is reached; retried after it resets",
                        ),
                    ),
                )
                .await?;
            }
        }
        self.publish_progress(&meeting.id, done_in_run, false, deferred_until)
            .await;
        info!(registered = done_in_run, "registration run finished");
        if let Some(err) = unavailable {
            return Ok(RunEnd::Unavailable(err));
        }
        if out_of_time {
            return Ok(RunEnd::OutOfTime);
        }
        // Rows added meanwhile (another request) are due now: go again.
        let again = store
            .list_registrations(&meeting.id)
            .await?
            .into_iter()
            .any(|r| {
                r.status == RegistrationStatus::Pending
                    && r.next_attempt_at.is_none_or(|t| t <= self.now())
                    && only.is_none_or(|o| o.contains(&r.user))
            });
        if again && only.is_none() {
            return Ok(RunEnd::OutOfTime);
        }
        Ok(deferred_until.map_or(RunEnd::Finished, RunEnd::Deferred))
    }

    /// Rows of a call that failed with a non-rejection: deferred (daily limit) or left
    /// pending (Zoom unavailable). Returns the error for an unavailable Zoom.
    async fn fail_rows(
        &self,
        rows: Vec<(RegistrationRecord, RegistrantInput)>,
        failure: ZoomFailure,
        deferred_until: &mut Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<Option<ServiceError>, ServiceError> {
        match failure {
            ZoomFailure::Daily { until, .. } => {
                metrics::counter!("attend_zoom_rate_limited_total", "kind" => "daily").increment(1);
                *deferred_until = Some(deferred_until.map_or(until, |d| d.min(until)));
                for (mut row, _) in rows {
                    self.finish_row(
                        &mut row,
                        RowResult::Deferred(
                            until,
                            reason(
                                "rate_limited",
                                "Zoom's daily limit is reached; retried after it resets",
                            ),
                        ),
                    )
                    .await?;
                }
                Ok(None)
            }
            ZoomFailure::NotFound { message, .. } => {
                for (mut row, _) in rows {
                    self.finish_row(
                        &mut row,
                        RowResult::Failed(reason("zoom_meeting_not_found", message.clone())),
                    )
                    .await?;
                }
                Ok(None)
            }
            ZoomFailure::Rejected { label, message, .. } => {
                metrics::counter!("attend_registrations_total", "outcome" => "failed")
                    .increment(rows.len() as u64);
                for (mut row, _) in rows {
                    self.finish_row(&mut row, RowResult::Failed(reason(label, message.clone())))
                        .await?;
                }
                Ok(None)
            }
            ZoomFailure::NoAccess { message } => {
                for (mut row, _) in rows {
                    self.finish_row(
                        &mut row,
                        RowResult::Failed(reason("zoom_no_access", message.clone())),
                    )
                    .await?;
                }
                Ok(None)
            }
            other => {
                let err = other.into_service(now);
                for (mut row, _) in rows {
                    self.finish_row(
                        &mut row,
                        RowResult::Unavailable(reason(err.code(), err.to_string())),
                    )
                    .await?;
                }
                Ok(Some(err))
            }
        }
    }

    /// Calls Zoom, waiting out per-second limits (until the deadline, at most
    /// `busy_retries` times).
    async fn zoom_retrying<T, F, Fut>(
        &self,
        limits: RunLimits,
        mut call: F,
    ) -> Result<T, ZoomFailure>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, ZoomFailure>>,
    {
        let mut retries = 0u32;
        loop {
            match call().await {
                Err(ZoomFailure::Busy { retry_after }) => {
                    metrics::counter!("attend_zoom_rate_limited_total", "kind" => "qps")
                        .increment(1);
                    let wait = retry_after.max(Duration::from_millis(50));
                    let resume = self.now() + TimeDelta::from_std(wait).unwrap_or_default();
                    if resume >= limits.deadline || retries >= limits.busy_retries {
                        return Err(ZoomFailure::Busy { retry_after });
                    }
                    debug!(wait_ms = wait.as_millis() as u64, "Zoom asked to slow down");
                    retries += 1;
                    tokio::time::sleep(wait).await;
                }
                other => return other,
            }
        }
    }

    /// Writes one row's outcome.
    async fn finish_row(
        &self,
        row: &mut RegistrationRecord,
        result: RowResult,
    ) -> Result<(), ServiceError> {
        let now = self.now();
        match result {
            RowResult::Registered(r) => {
                row.status = RegistrationStatus::Registered;
                row.registrant_id = Some(RegistrantId::new(r.id));
                row.join_url = r.join_url;
                row.registered_at = Some(now);
                row.error = None;
                row.next_attempt_at = None;
                row.attempts += 1;
            }
            RowResult::Failed(reason) => {
                row.status = RegistrationStatus::Failed;
                row.error = Some(reason);
                row.next_attempt_at = None;
                row.attempts += 1;
            }
            RowResult::Deferred(at, reason) => {
                row.status = RegistrationStatus::Pending;
                row.error = Some(reason);
                row.next_attempt_at = Some(at);
                row.attempts += 1;
            }
            RowResult::Unavailable(reason) => {
                row.error = Some(reason);
                row.attempts += 1;
            }
        }
        row.updated_at = now;
        match self.inner.store.update_registration(row).await {
            Ok(()) => Ok(()),
            Err(err) if err.is_conflict() => {
                // The registrant id is already another user's row: Zoom merged two of our
                // users (same email). Record it on this row instead of failing the run.
                warn!(user = %row.user, "registrant id already used by another user");
                row.status = RegistrationStatus::Failed;
                row.registrant_id = None;
                row.join_url = None;
                row.error = Some(reason(
                    "duplicate_email",
                    "another user is registered with the same email",
                ));
                self.inner.store.update_registration(row).await?;
                Ok(())
            }
            Err(err) => Err(err.into()),
        }
    }

    /// The `deny_registrant` job: denies a self-registration of a restricted meeting,
    /// unless it turned out to be one of attend's own by now.
    pub(crate) async fn deny_registrant_job(
        &self,
        meeting: &MeetingId,
        registrant_id: &str,
        email: Option<&str>,
    ) -> Result<(), ServiceError> {
        let Some(record) = self.inner.store.get_meeting(meeting).await? else {
            return Ok(());
        };
        if !record.restrict_to_registered {
            return Ok(());
        }
        let store = &self.inner.store;
        if store
            .find_registration_by_registrant_id(meeting, &RegistrantId::new(registrant_id))
            .await?
            .is_some()
        {
            return Ok(());
        }
        if let Some(email) = email
            && !store
                .find_registrations_by_email(meeting, email)
                .await?
                .is_empty()
        {
            return Ok(());
        }
        let now = self.now();
        match self
            .account(&record.account)?
            .set_registrant_status(
                record.kind,
                record.zoom_meeting_id,
                RegistrantAction::Deny,
                &[(registrant_id.to_owned(), email.map(str::to_owned))],
            )
            .await
        {
            Ok(()) | Err(ZoomFailure::NotFound { .. }) => {
                metrics::counter!("attend_registrations_total", "outcome" => "self_registration_denied")
                    .increment(1);
                Ok(())
            }
            Err(other) => Err(other.into_service(now)),
        }
    }

    /// The `delete_registrants` job (after an erasure).
    pub(crate) async fn delete_registrants_job(
        &self,
        account: &AccountKey,
        kind: MeetingKind,
        zoom_meeting_id: ZoomMeetingId,
        registrant_ids: &[String],
    ) -> Result<(), ServiceError> {
        let api: &AccountRuntime = match self.account(account) {
            Ok(api) => api,
            Err(_) => return Ok(()),
        };
        let now = self.now();
        let unique: BTreeSet<&String> = registrant_ids.iter().collect();
        for id in unique {
            match api.delete_registrant(kind, zoom_meeting_id, id).await {
                Ok(()) | Err(ZoomFailure::NotFound { .. }) => {}
                Err(other) => return Err(other.into_service(now)),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_emails_are_unique_and_valid() {
        assert_eq!(
            synthetic_email(&"u42".into(), "Attend.Example.EDU", None),
            "u42@attend.example.edu"
        );
        assert_eq!(
            synthetic_email(&"u42".into(), "x.org", Some(ZoomMeetingId(85393847045))),
            "u42+85393847045@x.org"
        );
        let upper = synthetic_local_part(&"Ana".into());
        let lower = synthetic_local_part(&"ana".into());
        assert_ne!(upper, lower);
        assert!(upper.starts_with("u-") && upper.len() == 34);
        // Ids that look like hashes, or that emails cannot carry, are hashed too.
        assert!(
            synthetic_local_part(&"u-1".into()).starts_with("u-")
                && synthetic_local_part(&"u-1".into()).len() == 34
        );
        assert!(synthetic_local_part(&"a b@c".into()).starts_with("u-"));
        assert!(synthetic_local_part(&"a..b".into()).starts_with("u-"));
    }

    #[test]
    fn names_split_on_the_last_word() {
        let u = UserId::from("u1");
        assert_eq!(
            split_name("Ada King Lovelace", &u),
            ("Ada King".into(), Some("Lovelace".into()))
        );
        assert_eq!(split_name("  Plato ", &u), ("Plato".into(), None));
        assert_eq!(split_name("", &u), ("u1".into(), None));
        let long = "x".repeat(100);
        assert_eq!(split_name(&long, &u).0.chars().count(), 64);
    }
}
