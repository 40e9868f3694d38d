//! The storage conformance suite: one set of checks for every documented contract of the
//! [`store`](crate::store) traits, run against every backend.
//!
//! A backend crate calls [`run`] from one of its tests with a factory that yields a **fresh,
//! empty** store for each check (a new in-memory database, a new PostgreSQL schema, ...):
//!
//! ```
//! use attend_core::testing::conformance::{self, Capabilities};
//! use attend_core::testing::memory::MemoryStore;
//!
//! // In a backend's tests this is `#[tokio::test(flavor = "multi_thread")] async fn ...`.
//! # #[tokio::main(flavor = "multi_thread", worker_threads = 2)]
//! # async fn main() {
//! conformance::run(|| async { MemoryStore::new() }, Capabilities::default()).await;
//! # }
//! ```
//!
//! [`run`] executes every check (each on its own fresh store, one after the other, each under a
//! timeout), then panics with one line per failed check, naming the check, the file and line
//! of the failed expectation, and what was expected and found. [`run_report`] returns the
//! [`Report`] instead of panicking. Set the environment variable `ATTEND_CONFORMANCE_FILTER`
//! to a substring of check names (`jobs::`, `webhooks::concurrent`) to run only those;
//! [`check_names`] lists them all. A filter that matches nothing is a failure, so a typo
//! cannot turn the suite green.
//!
//! The concurrency checks spawn tasks with `tokio::spawn` on one shared store, so run the
//! suite inside a multi-threaded tokio runtime (`#[tokio::test(flavor = "multi_thread")]`);
//! on a current-thread runtime they still run, but interleave less. For a database backend
//! each task should get its own connection from the store's pool, which makes those checks
//! equivalent to several processes sharing one database.
//!
//! The host-user directory has its own, smaller suite: [`run_directory`].

use std::fmt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use futures::future::BoxFuture;

use crate::model::{GroupKey, UserId};
use crate::store::{HostUser, Store, UserDirectory};

mod attendance;
mod directory;
mod fixtures;
mod jobs;
mod meetings;
mod privacy;
mod registrations;
mod webhooks;

/// What the suite may expect of a backend, and how hard to push it.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Capabilities {
    /// How many tasks race in each concurrency check (default 16). Backends with small pools
    /// still pass: tasks then wait for a connection.
    pub concurrency: usize,
    /// How long one check may take before it counts as failed (default 60 s), so that a
    /// deadlock or an exhausted pool fails the check instead of hanging the test run.
    pub check_timeout: Duration,
}

impl Default for Capabilities {
    fn default() -> Self {
        Self {
            concurrency: 16,
            check_timeout: Duration::from_secs(60),
        }
    }
}

impl Capabilities {
    /// Sets [`concurrency`](Self::concurrency) (at least 2).
    #[must_use]
    pub fn with_concurrency(mut self, tasks: usize) -> Self {
        self.concurrency = tasks.max(2);
        self
    }

    /// Sets [`check_timeout`](Self::check_timeout).
    #[must_use]
    pub fn with_check_timeout(mut self, timeout: Duration) -> Self {
        self.check_timeout = timeout;
        self
    }
}

/// One failed check.
#[derive(Clone, Debug)]
pub struct CheckFailure {
    /// The check's name, e.g. `webhooks::duplicate_changes_nothing`.
    pub check: &'static str,
    /// What went wrong, with the file and line of the failed expectation.
    pub message: String,
}

/// The outcome of a suite run.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Names of the checks that passed.
    pub passed: Vec<&'static str>,
    /// The checks that failed.
    pub failed: Vec<CheckFailure>,
    /// Names of the checks the filter left out.
    pub skipped: Vec<&'static str>,
    /// The name filter in effect (from `ATTEND_CONFORMANCE_FILTER`), if any.
    pub filter: Option<String>,
}

impl Report {
    /// Whether no check failed and at least one ran, or the filter left this suite out
    /// while it selects checks of the other suite (store or directory). A filter that matches
    /// no check at all is never a success.
    pub fn is_success(&self) -> bool {
        if !self.failed.is_empty() {
            return false;
        }
        if !self.passed.is_empty() {
            return true;
        }
        self.filter.as_deref().is_some_and(|f| {
            check_names()
                .into_iter()
                .chain(directory::checks().into_iter().map(|(name, _)| name))
                .any(|name| name.contains(f))
        })
    }

    /// Panics with the list of failures unless [`is_success`](Self::is_success).
    #[track_caller]
    pub fn assert_success(&self) {
        if !self.is_success() {
            panic!("{self}");
        }
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let total = self.passed.len() + self.failed.len();
        if total == 0 && self.is_success() {
            return write!(
                f,
                "storage conformance: all {} checks left out by the filter",
                self.skipped.len()
            );
        }
        if total == 0 {
            return match &self.filter {
                Some(filter) => write!(
                    f,
                    "storage conformance: no check matches ATTEND_CONFORMANCE_FILTER={filter:?}"
                ),
                None => f.write_str("storage conformance: no check ran"),
            };
        }
        write!(
            f,
            "storage conformance: {} of {total} checks passed",
            self.passed.len()
        )?;
        if let Some(filter) = &self.filter {
            write!(f, " (filter {filter:?})")?;
        }
        for failure in &self.failed {
            write!(f, "\n  FAILED {}: {}", failure.check, failure.message)?;
        }
        Ok(())
    }
}

/// What one check gets: the fresh store and the capabilities.
#[derive(Clone)]
struct Cx {
    store: Arc<dyn Store>,
    caps: Capabilities,
}

/// A failed expectation inside a check.
struct Failure(String);

type CheckResult = Result<(), Failure>;

struct Check {
    name: &'static str,
    run: fn(Cx) -> BoxFuture<'static, CheckResult>,
}

/// Builds the check table: `checks![module::function, ...]`, named `"module::function"`.
macro_rules! checks {
    ($($module:ident :: $check:ident),* $(,)?) => {
        vec![$(Check {
            name: concat!(stringify!($module), "::", stringify!($check)),
            run: |cx| Box::pin($module::$check(cx)),
        }),*]
    };
}

/// Fails the check unless `cond` holds.
macro_rules! ensure {
    ($cond:expr, $($arg:tt)+) => {
        if !$cond {
            return Err($crate::testing::conformance::Failure::at(
                file!(), line!(), format!($($arg)+),
            ));
        }
    };
}

/// Fails the check unless `left == right`; `$what` says what was compared.
macro_rules! ensure_eq {
    ($left:expr, $right:expr, $($what:tt)+) => {
        match (&$left, &$right) {
            (found, expected) => {
                if found != expected {
                    return Err($crate::testing::conformance::Failure::at(
                        file!(), line!(),
                        format!("{}: expected {:?}, found {:?}", format!($($what)+), expected, found),
                    ));
                }
            }
        }
    };
}

pub(crate) use {ensure, ensure_eq};

impl Failure {
    fn at(file: &str, line: u32, message: String) -> Self {
        Failure(format!("{message} (at {file}:{line})"))
    }
}

/// Adds context to a storage call's result inside a check.
trait Ctx<T> {
    /// Turns an error into a failure that says which call failed, with the error's chain.
    fn ctx(self, what: &str) -> Result<T, Failure>;
}

fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

impl<T, E: std::error::Error> Ctx<T> for Result<T, E> {
    #[track_caller]
    fn ctx(self, what: &str) -> Result<T, Failure> {
        let at = std::panic::Location::caller();
        self.map_err(|e| {
            Failure::at(
                at.file(),
                at.line(),
                format!("{what}: unexpected error: {}", error_chain(&e)),
            )
        })
    }
}

/// Turns an expected error into a failure when the call unexpectedly succeeded.
trait ExpectErr<T, E> {
    /// The error, or a failure saying the call should have failed.
    fn expect_failure(self, what: &str) -> Result<E, Failure>;
}

impl<T: fmt::Debug, E> ExpectErr<T, E> for Result<T, E> {
    #[track_caller]
    fn expect_failure(self, what: &str) -> Result<E, Failure> {
        let at = std::panic::Location::caller();
        match self {
            Ok(value) => Err(Failure::at(
                at.file(),
                at.line(),
                format!("{what}: expected an error, but the call succeeded with {value:?}"),
            )),
            Err(e) => Ok(e),
        }
    }
}

fn all_checks() -> Vec<Check> {
    checks![
        meetings::insert_then_get_round_trips,
        meetings::duplicate_zoom_meeting_is_conflict,
        meetings::find_by_zoom_id,
        meetings::list_filters_by_group_in_created_order,
        meetings::update_replaces_fields_but_not_created_at,
        registrations::ensure_pending_creates_once,
        registrations::ensure_pending_needs_the_meeting,
        registrations::update_round_trips_and_needs_the_row,
        registrations::registrant_id_is_unique_per_meeting,
        registrations::find_by_email_ignores_ascii_case,
        registrations::list_count_and_user_listing,
        registrations::concurrent_ensure_pending_creates_one_row,
        webhooks::insert_then_get_round_trips,
        webhooks::duplicate_changes_nothing,
        webhooks::status_marks,
        webhooks::get_and_mark_many,
        webhooks::list_unprocessed_oldest_first,
        webhooks::purge_drops_bodies_keeps_dedupe,
        webhooks::purge_takes_every_old_body_however_many,
        webhooks::concurrent_duplicates_store_one,
        webhooks::with_job_stores_delivery_and_job,
        webhooks::with_job_duplicate_adds_no_job,
        webhooks::with_job_unparseable_gets_no_job,
        webhooks::with_job_obeys_the_job_dedupe_key,
        webhooks::concurrent_with_job_stores_one_with_one_job,
        webhooks::concurrent_with_job_gives_each_delivery_its_job,
        webhooks::concurrent_grouped_jobs_name_each_delivery_once,
        attendance::instance_upsert_is_order_independent,
        attendance::instances_listed_by_start,
        attendance::finalize_is_sticky,
        attendance::instance_rules,
        attendance::concurrent_instance_upserts_keep_both_times,
        attendance::events_are_deduplicated,
        attendance::event_insert_is_atomic,
        attendance::concurrent_event_inserts_store_each_once,
        attendance::report_rows_are_replaced_whole,
        attendance::evidence_revision_follows_every_change,
        attendance::events_since_are_exactly_the_added_ones,
        attendance::manual_links_upsert,
        attendance::join_clicks_are_all_kept,
        jobs::enqueue_then_claim_in_order,
        jobs::dedupe_key_blocks_only_unfinished_jobs,
        jobs::lease_owner_completes,
        jobs::failures_retry_then_die,
        jobs::expired_lease_is_reclaimed,
        jobs::exhausted_expired_job_dies,
        jobs::defer_gives_the_attempt_back,
        jobs::release_gives_back_unkept_leases,
        jobs::complete_many_completes_only_own_running,
        jobs::counts_and_purge,
        jobs::concurrent_claims_never_overlap,
        jobs::concurrent_dedupe_enqueue_creates_one,
        privacy::erase_removes_exactly_the_users_data,
        privacy::erase_is_idempotent,
    ]
}

/// The names of all checks, in the order [`run`] executes them.
pub fn check_names() -> Vec<&'static str> {
    all_checks().into_iter().map(|c| c.name).collect()
}

fn env_filter() -> Option<String> {
    std::env::var("ATTEND_CONFORMANCE_FILTER")
        .ok()
        .filter(|f| !f.is_empty())
}

fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".to_owned()
    }
}

/// Runs `fut` under the timeout, turning panics and timeouts into failures.
async fn guarded<T>(
    timeout: Duration,
    fut: impl Future<Output = Result<T, Failure>>,
) -> Result<T, String> {
    match tokio::time::timeout(timeout, AssertUnwindSafe(fut).catch_unwind()).await {
        Err(_) => Err(format!("timed out after {timeout:?}")),
        Ok(Err(payload)) => Err(format!("panicked: {}", panic_text(payload.as_ref()))),
        Ok(Ok(Err(Failure(message)))) => Err(message),
        Ok(Ok(Ok(value))) => Ok(value),
    }
}

/// Adds one check's outcome to the report, with a progress line on stderr (shown by the test
/// harness when the test fails, or with `--nocapture`).
fn record(report: &mut Report, check: &'static str, outcome: Result<(), String>) {
    match outcome {
        Ok(()) => {
            eprintln!("storage conformance: {check} ... ok");
            report.passed.push(check);
        }
        Err(message) => {
            eprintln!("storage conformance: {check} ... FAILED: {message}");
            report.failed.push(CheckFailure { check, message });
        }
    }
}

/// Runs every check (or those matching `ATTEND_CONFORMANCE_FILTER`) against fresh stores from
/// `factory`, and panics listing each failed check unless all passed.
///
/// `factory` must yield a new, empty store on each call.
pub async fn run<F, Fut, S>(factory: F, caps: Capabilities)
where
    F: Fn() -> Fut,
    Fut: Future<Output = S>,
    S: Store,
{
    run_report(factory, caps).await.assert_success();
}

/// Like [`run`], but returns the [`Report`] instead of panicking.
pub async fn run_report<F, Fut, S>(factory: F, caps: Capabilities) -> Report
where
    F: Fn() -> Fut,
    Fut: Future<Output = S>,
    S: Store,
{
    let filter = env_filter();
    let mut report = Report {
        filter: filter.clone(),
        ..Report::default()
    };
    for check in all_checks() {
        if filter.as_deref().is_some_and(|f| !check.name.contains(f)) {
            report.skipped.push(check.name);
            continue;
        }
        let outcome = guarded(caps.check_timeout, async {
            let store: Arc<dyn Store> = Arc::new(factory().await);
            (check.run)(Cx {
                store,
                caps: caps.clone(),
            })
            .await
        })
        .await;
        record(&mut report, check.name, outcome);
    }
    report
}

/// What the directory suite may expect of a [`UserDirectory`].
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct DirectoryCapabilities {
    /// Whether `list_group_users` is implemented (default `true`); when `false`, the suite
    /// checks that it answers `Unsupported`.
    pub group_listing: bool,
    /// See [`Capabilities::check_timeout`].
    pub check_timeout: Duration,
}

impl Default for DirectoryCapabilities {
    fn default() -> Self {
        Self {
            group_listing: true,
            check_timeout: Duration::from_secs(60),
        }
    }
}

impl DirectoryCapabilities {
    /// Sets [`group_listing`](Self::group_listing).
    #[must_use]
    pub fn with_group_listing(mut self, supported: bool) -> Self {
        self.group_listing = supported;
        self
    }
}

/// The seed data the directory factory must load: users, and group memberships.
#[derive(Clone, Debug, Default)]
pub struct DirectorySeed {
    /// The host users.
    pub users: Vec<HostUser>,
    /// `(group, user)` memberships (only needed when group listing is supported).
    pub memberships: Vec<(GroupKey, UserId)>,
}

/// Runs the [`UserDirectory`] checks. `factory` gets the seed data and must yield a directory
/// over exactly those users (e.g. insert them into a fresh host users table); panics listing
/// each failed check unless all passed.
pub async fn run_directory<F, Fut, D>(factory: F, caps: DirectoryCapabilities)
where
    F: Fn(DirectorySeed) -> Fut,
    Fut: Future<Output = D>,
    D: UserDirectory + 'static,
{
    let seed = directory::seed();
    let filter = env_filter();
    let mut report = Report {
        filter: filter.clone(),
        ..Report::default()
    };
    for (name, check) in directory::checks() {
        if filter.as_deref().is_some_and(|f| !name.contains(f)) {
            report.skipped.push(name);
            continue;
        }
        let outcome = guarded(caps.check_timeout, async {
            let dir: Arc<dyn UserDirectory> = Arc::new(factory(seed.clone()).await);
            check(dir, caps.clone()).await
        })
        .await;
        record(&mut report, name, outcome);
    }
    report.assert_success();
}

/// Spawns `tasks` copies of `f(i)` that start together (behind a barrier), and collects their
/// outputs in task order. A panicking task fails the check.
async fn race<T, F, Fut>(tasks: usize, f: F) -> Result<Vec<T>, Failure>
where
    T: Send + 'static,
    F: Fn(usize) -> Fut,
    Fut: Future<Output = T> + Send + 'static,
{
    let barrier = Arc::new(tokio::sync::Barrier::new(tasks));
    let mut handles = Vec::with_capacity(tasks);
    for i in 0..tasks {
        let barrier = Arc::clone(&barrier);
        let fut = f(i);
        handles.push(tokio::spawn(async move {
            barrier.wait().await;
            fut.await
        }));
    }
    let mut out = Vec::with_capacity(tasks);
    for (i, handle) in handles.into_iter().enumerate() {
        match handle.await {
            Ok(value) => out.push(value),
            Err(e) => {
                return Err(Failure::at(
                    file!(),
                    line!(),
                    format!("racing task {i} did not finish: {e}"),
                ));
            }
        }
    }
    Ok(out)
}
