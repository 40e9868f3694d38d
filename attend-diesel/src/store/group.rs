//! Group commit: many small, independent writes share one transaction.
//!
//! The webhook receiver must commit every delivery before it answers Zoom, and under load many
//! requests do so at the same moment. One transaction each would make the database's commit
//! (SQLite's single writer lock, PostgreSQL's WAL flush) the limit. Instead, a write submitted
//! through [`DieselStore::write_grouped`] joins a queue; a *leader* (a blocking task that runs
//! while the queue has entries) takes everything waiting, up to [`MAX_GROUP`], and applies it in
//! one write transaction. Only after the commit does each caller get its own result, so "`Ok`
//! means committed" holds for every member. SQLite has one queue and one leader. PostgreSQL has
//! two queues ([`Lane`]), each with its own leader on its own connection: writes that an HTTP
//! request waits on (deliveries, enqueues) never queue behind the worker's larger writes, and
//! each lane's groups grow with its own load (see [`GroupCommit::two_lanes`]).
//!
//! Grouped: the receiver's delivery-and-job insert, job enqueues, join clicks on SQLite (on
//! PostgreSQL a click commits alone without waiting for the WAL flush), and the worker's
//! writes (participant events, deliveries marked processed, jobs marked done), which would
//! otherwise be three transactions per batch. The deliveries of a group are inserted together
//! with **one processing job for all of them** (`process_webhooks`, when the job template has
//! a group form: see `WebhookJob::for_webhooks`) instead of one each. On PostgreSQL, where
//! every statement is a round trip, a group's deliveries and their jobs are one statement of
//! fixed text (`pg_deliveries`), and a group of only deliveries (the receiver's usual group)
//! runs it without `BEGIN` and `COMMIT`: one round trip for the whole group.
//!
//! * If any operation fails, or the group's transaction itself does (commit error, lost
//!   connection), the whole group is rolled back and every caller runs its operation again on
//!   its own, in an ordinary write transaction, so each sees its own outcome and a failing
//!   operation never leaves half its writes behind. Failures are rare here (the grouped
//!   inserts resolve conflicts with `ON CONFLICT DO NOTHING`), so this costs less than a
//!   savepoint per member, which on PostgreSQL is two more round trips and a subtransaction
//!   each. A member that refuses before writing anything (the worker's "job done" for a job
//!   no longer its own, a "processed" mark or event insert for a missing row) does not fail:
//!   it returns its error as its result (`Ok(Err(_))`), so the receiver's deliveries in the
//!   same group still commit at once instead of all running alone. Only such refusals: a
//!   database error on the way (a lost connection) fails the member, so that it runs again.
//! * If no connection can be had, every caller gets a retryable connection error at once
//!   (one pool timeout for the whole group, not one each), and so does every caller that
//!   queued during that timeout: with the worker's writes in the queue too, a delivery could
//!   otherwise wait behind a worker group's timeout and then its own (4 s, past Zoom's
//!   3-second deadline, seen in the outage test).
//! * Members are applied in the order of their *lock key* (the unique key they write), so two
//!   processes whose groups overlap (the same Zoom delivery sent to two instances) take the
//!   same locks in the same order and wait for each other instead of deadlocking.
//!
//! * A group of one member that is a single statement
//!   ([`DieselStore::write_grouped_statement`]) runs on PostgreSQL without `BEGIN` and
//!   `COMMIT`: the statement is atomic and committed by itself, and a lone member is the usual
//!   case at moderate rates (a single "processed" mark), where the transaction's two extra
//!   round trips would be most of the server's work for it.
//!
//! A caller that stops waiting (a dropped request) leaves its entry in the queue: it is applied
//! anyway, which for the webhook inbox is harmless (a redelivery is a duplicate).

use std::sync::{Arc, Mutex, PoisonError};

use attend_core::store::{Entity, WebhookInsert};
use tokio::sync::oneshot;

use super::DieselStore;
use super::pg_deliveries::IdReserve;
use super::webhooks::{PendingDelivery, insert_deliveries};
use crate::connection::AnyConnection;
use crate::error::DieselStoreError;

/// The most operations one group transaction applies.
pub(crate) const MAX_GROUP: usize = 256;

/// Which queue a grouped write joins.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Lane {
    /// A write an HTTP request waits on before it answers: a delivery (Zoom's 3-second
    /// deadline), a job enqueue, a join click on SQLite.
    Request,
    /// The worker's writes: participant events, deliveries marked processed, jobs finished.
    /// Larger, and nobody is waiting on an answer.
    Background,
}

/// The queues of operations waiting for a group transaction; each has at most one leader,
/// so at most one group of it is in flight.
pub(crate) struct GroupCommit {
    /// The request lane's queue, and the only one when the lanes are shared.
    request: Mutex<State>,
    /// The background lane's queue; `None`: background writes join the request queue.
    background: Option<Mutex<State>>,
    /// Delivery ids taken ahead for PostgreSQL's one-statement group insert.
    delivery_ids: IdReserve,
}

impl GroupCommit {
    /// One queue with one leader for both lanes: SQLite, which has one writer (two leaders
    /// would only take turns at its lock, each with a smaller group).
    pub(crate) fn shared() -> Self {
        Self {
            request: Mutex::default(),
            background: None,
            delivery_ids: IdReserve::default(),
        }
    }

    /// Two queues, one per lane, with one leader each: PostgreSQL, which runs transactions
    /// side by side.
    ///
    /// Measured on the benchmark machine (BENCHMARKS.md, "Two lanes"): against three leaders
    /// sharing one queue (the previous default), deliveries no longer wait behind the
    /// worker's event inserts and marks (p99 at 5,000 deliveries a second down by about
    /// 40 %), and one leader's groups are larger (fewer transactions: the most deliveries
    /// acknowledged per second up by about a quarter, with less CPU per delivery in the app
    /// and in PostgreSQL). Groups of the two lanes cannot deadlock each other any more than two
    /// processes can (see the module docs): each applies its members in lock-key order.
    pub(crate) fn two_lanes() -> Self {
        Self {
            request: Mutex::default(),
            background: Some(Mutex::default()),
            delivery_ids: IdReserve::default(),
        }
    }

    fn queue(&self, lane: Lane) -> &Mutex<State> {
        match (lane, &self.background) {
            (Lane::Background, Some(queue)) => queue,
            _ => &self.request,
        }
    }
}

#[derive(Default)]
struct State {
    queue: Vec<Box<dyn Member>>,
    /// Whether a leader is running for this queue.
    leading: bool,
}

/// One queued operation, with its result type erased.
trait Member: Send {
    /// The unique key the operation writes (the order in which groups apply members).
    fn lock_key(&self) -> &str;
    /// Runs the operation inside the group's transaction; `false` if it failed (the group
    /// must then roll back).
    fn apply(&mut self, conn: &mut AnyConnection) -> bool;
    /// The group committed: hand the caller its result.
    fn committed(self: Box<Self>);
    /// The group could not run or commit: the caller gets this instead.
    fn unfinished(self: Box<Self>, outcome: Unfinished);
    /// A delivery-and-job insert, with the slot for its result: the deliveries of a group are
    /// applied together, before the other members ([`apply_group`]).
    fn delivery(&mut self) -> Option<DeliverySlot<'_>> {
        None
    }
    /// Whether the operation is one SQL statement, so that alone it needs no transaction.
    fn single_statement(&self) -> bool {
        false
    }
    /// The error the operation failed with, once applied.
    fn failure(&self) -> Option<&DieselStoreError> {
        None
    }
}

/// A delivery of the group and where its outcome goes.
type DeliverySlot<'a> = (
    &'a PendingDelivery,
    &'a mut Option<Result<WebhookInsert, DieselStoreError>>,
);

/// Applies every member of a group inside its transaction; `false` as soon as one fails.
///
/// The receiver's deliveries go first and together ([`insert_deliveries`]): on PostgreSQL, where
/// every statement is a round trip, in one statement for the whole group instead of two per
/// delivery; on both, with one processing job for the group's new deliveries instead of one
/// each. They are in lock-key order among themselves; every process applies deliveries before
/// the other members, and the others write other rows (events, existing deliveries' marks,
/// jobs by id), so the lock order stays the same everywhere.
fn apply_group(
    group: &mut [Box<dyn Member>],
    conn: &mut AnyConnection,
    reserve: &IdReserve,
) -> bool {
    if let Err(err) = insert_group_deliveries(group, conn, reserve) {
        tracing::debug!(error = %err, "deliveries inserted together failed");
        return false;
    }
    group.iter_mut().all(|member| member.apply(conn))
}

/// Inserts the group's deliveries together ([`insert_deliveries`]) and leaves each one's
/// outcome in its member, which [`Member::apply`] then hands on; nothing to do for fewer than
/// two (a lone delivery is applied by its member).
fn insert_group_deliveries(
    group: &mut [Box<dyn Member>],
    conn: &mut AnyConnection,
    reserve: &IdReserve,
) -> Result<(), DieselStoreError> {
    let mut slots: Vec<DeliverySlot<'_>> = group.iter_mut().filter_map(|m| m.delivery()).collect();
    if slots.len() > 1 {
        let many: Vec<&PendingDelivery> = slots.iter().map(|(d, _)| *d).collect();
        let outcomes = insert_deliveries(conn, &many, reserve)?;
        for ((_, slot), outcome) in slots.iter_mut().zip(outcomes) {
            **slot = Some(Ok(outcome));
        }
    }
    Ok(())
}

/// A grouped operation's result, split the way its group needs it (see the module docs): a
/// refusal made before writing anything (`NotFound`, `Conflict`) is the caller's own answer
/// and lets the group commit (`Ok(Err(_))`); any other error (a database error, a lost
/// connection) fails the member, so that its group rolls back and it runs again alone.
pub(super) fn refusal_as_answer<T>(
    result: Result<T, DieselStoreError>,
) -> Result<Result<T, DieselStoreError>, DieselStoreError> {
    match result {
        Err(refused @ (DieselStoreError::NotFound { .. } | DieselStoreError::Conflict { .. })) => {
            Ok(Err(refused))
        }
        other => other.map(Ok),
    }
}

/// Why a member was not committed with its group.
#[derive(Clone)]
enum Unfinished {
    /// Run the operation alone.
    RunAlone,
    /// No connection: fail with a retryable connection error carrying this message.
    NoConnection(String),
}

enum Reply<T> {
    Done(Result<T, DieselStoreError>),
    Unfinished(Unfinished),
}

/// A member's result once applied, and the channel its caller waits on.
struct Answer<T> {
    result: Option<Result<T, DieselStoreError>>,
    reply: oneshot::Sender<Reply<T>>,
}

impl<T> Answer<T> {
    fn new(reply: oneshot::Sender<Reply<T>>) -> Self {
        Self {
            result: None,
            reply,
        }
    }

    /// Keeps the result of applying the member; whether it succeeded.
    fn keep(&mut self, result: Result<T, DieselStoreError>) -> bool {
        let ok = result.is_ok();
        self.result = Some(result);
        ok
    }

    fn committed(self) {
        let reply = match self.result {
            Some(result) => Reply::Done(result),
            None => Reply::Unfinished(Unfinished::RunAlone),
        };
        // The caller may have stopped waiting; its write stands all the same.
        let _ = self.reply.send(reply);
    }

    fn unfinished(self, outcome: Unfinished) {
        let _ = self.reply.send(Reply::Unfinished(outcome));
    }
}

/// Any grouped write: an operation run as is.
struct Entry<T, F> {
    lock_key: String,
    op: Arc<F>,
    answer: Answer<T>,
    /// The operation is one SQL statement ([`DieselStore::write_grouped_statement`]).
    single: bool,
}

impl<T, F> Member for Entry<T, F>
where
    T: Send + 'static,
    F: Fn(&mut AnyConnection) -> Result<T, DieselStoreError> + Send + Sync + 'static,
{
    fn lock_key(&self) -> &str {
        &self.lock_key
    }

    fn apply(&mut self, conn: &mut AnyConnection) -> bool {
        self.answer.keep((self.op)(conn))
    }

    fn committed(self: Box<Self>) {
        self.answer.committed();
    }

    fn unfinished(self: Box<Self>, outcome: Unfinished) {
        self.answer.unfinished(outcome);
    }

    fn single_statement(&self) -> bool {
        self.single
    }

    fn failure(&self) -> Option<&DieselStoreError> {
        self.answer.result.as_ref().and_then(|r| r.as_ref().err())
    }
}

/// The receiver's delivery-and-job insert as a group member.
struct DeliveryEntry {
    lock_key: String,
    delivery: Arc<PendingDelivery>,
    answer: Answer<WebhookInsert>,
}

impl Member for DeliveryEntry {
    fn lock_key(&self) -> &str {
        &self.lock_key
    }

    fn apply(&mut self, conn: &mut AnyConnection) -> bool {
        // Already applied with the group's other deliveries (PostgreSQL).
        let result = match self.answer.result.take() {
            Some(done) => done,
            None => self.delivery.insert_one(conn),
        };
        self.answer.keep(result)
    }

    fn committed(self: Box<Self>) {
        self.answer.committed();
    }

    fn unfinished(self: Box<Self>, outcome: Unfinished) {
        self.answer.unfinished(outcome);
    }

    fn delivery(&mut self) -> Option<DeliverySlot<'_>> {
        Some((&self.delivery, &mut self.answer.result))
    }
}

impl DieselStore {
    /// Runs `f` in a write transaction shared with other concurrent callers of its `lane`
    /// (see the module docs). `f` may run twice (once in a group that then fails to commit,
    /// once alone), so it must be a function of its captures only: `Fn`, not `FnOnce`.
    /// `lock_key` names the unique key `f` writes (members are applied in key order; `""` for
    /// none).
    pub(crate) async fn write_grouped<T, F>(
        &self,
        lane: Lane,
        lock_key: String,
        f: F,
    ) -> Result<T, DieselStoreError>
    where
        F: Fn(&mut AnyConnection) -> Result<T, DieselStoreError> + Send + Sync + 'static,
        T: Send + 'static,
    {
        self.grouped(lane, lock_key, f, false).await
    }

    /// [`write_grouped`](Self::write_grouped) for an operation that runs exactly one SQL
    /// statement (which fails as a whole, writing nothing): when it is the only member of
    /// its group, PostgreSQL runs it without a transaction around it (see the module docs).
    /// An operation that may run two statements must use `write_grouped`.
    pub(crate) async fn write_grouped_statement<T, F>(
        &self,
        lane: Lane,
        lock_key: String,
        f: F,
    ) -> Result<T, DieselStoreError>
    where
        F: Fn(&mut AnyConnection) -> Result<T, DieselStoreError> + Send + Sync + 'static,
        T: Send + 'static,
    {
        self.grouped(lane, lock_key, f, true).await
    }

    async fn grouped<T, F>(
        &self,
        lane: Lane,
        lock_key: String,
        f: F,
        single: bool,
    ) -> Result<T, DieselStoreError>
    where
        F: Fn(&mut AnyConnection) -> Result<T, DieselStoreError> + Send + Sync + 'static,
        T: Send + 'static,
    {
        let op = Arc::new(f);
        let (reply, answer) = oneshot::channel();
        self.submit(
            lane,
            Box::new(Entry {
                lock_key,
                op: Arc::clone(&op),
                answer: Answer::new(reply),
                single,
            }),
        );
        self.settle(answer, move |conn| op(conn)).await
    }

    /// [`write_grouped`](Self::write_grouped) for the receiver's delivery-and-job insert
    /// ([`Lane::Request`]), which PostgreSQL applies together with the group's other
    /// deliveries.
    pub(super) async fn write_delivery(
        &self,
        delivery: PendingDelivery,
    ) -> Result<WebhookInsert, DieselStoreError> {
        let delivery = Arc::new(delivery);
        let (reply, answer) = oneshot::channel();
        self.submit(
            Lane::Request,
            Box::new(DeliveryEntry {
                lock_key: delivery.lock_key(),
                delivery: Arc::clone(&delivery),
                answer: Answer::new(reply),
            }),
        );
        self.settle(answer, move |conn| delivery.insert_one(conn))
            .await
    }

    /// Queues a member in its lane's queue, and starts a leader for that queue if none is
    /// running.
    fn submit(&self, lane: Lane, member: Box<dyn Member>) {
        let lead = {
            let mut state = self.group_state(lane);
            state.queue.push(member);
            !std::mem::replace(&mut state.leading, true)
        };
        if lead {
            let store = self.clone();
            // The handle is not awaited: the leader reports through each member's channel.
            drop(tokio::task::spawn_blocking(move || store.lead_groups(lane)));
        }
    }

    /// A member's answer: its committed result, a connection error, or (its group failed as a
    /// whole, or its leader went away in a panic) the result of `alone`, run by itself.
    async fn settle<T, F>(
        &self,
        answer: oneshot::Receiver<Reply<T>>,
        alone: F,
    ) -> Result<T, DieselStoreError>
    where
        F: FnOnce(&mut AnyConnection) -> Result<T, DieselStoreError> + Send + 'static,
        T: Send + 'static,
    {
        match answer.await {
            Ok(Reply::Done(result)) => result,
            Ok(Reply::Unfinished(Unfinished::NoConnection(message))) => Err(
                DieselStoreError::Connect(diesel::ConnectionError::BadConnection(message)),
            ),
            Ok(Reply::Unfinished(Unfinished::RunAlone)) | Err(_) => self.write(alone).await,
        }
    }

    fn group_state(&self, lane: Lane) -> std::sync::MutexGuard<'_, State> {
        // Members are only pushed and drained under the lock; a panic cannot leave it
        // half-updated, so a poisoned lock is still consistent.
        self.inner
            .group
            .queue(lane)
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The leader of `lane`'s queue: applies its operations in groups until it is empty.
    fn lead_groups(&self, lane: Lane) {
        // Should an operation panic, the members of the group in hand are dropped (their
        // callers run alone); the guard then hands the queued ones back the same way and
        // gives up its place, so the next caller becomes a leader.
        struct Abdicate<'a>(&'a DieselStore, Lane);
        impl Drop for Abdicate<'_> {
            fn drop(&mut self) {
                if std::thread::panicking() {
                    let queued = {
                        let mut state = self.0.group_state(self.1);
                        state.leading = false;
                        std::mem::take(&mut state.queue)
                    };
                    for member in queued {
                        member.unfinished(Unfinished::RunAlone);
                    }
                }
            }
        }
        let _guard = Abdicate(self, lane);
        let reserve = &self.inner.group.delivery_ids;
        loop {
            let mut group: Vec<Box<dyn Member>> = {
                let mut state = self.group_state(lane);
                if state.queue.is_empty() {
                    state.leading = false;
                    return;
                }
                let take = state.queue.len().min(MAX_GROUP);
                state.queue.drain(..take).collect()
            };
            group.sort_by(|a, b| a.lock_key().cmp(b.lock_key()));
            let mut conn = match self.inner.pool.get() {
                Ok(conn) => conn,
                Err(err) => {
                    // The database is unreachable now. Whatever queued while this leader
                    // waited gets the same answer at once, rather than a whole pool timeout
                    // more (a webhook's 503 must come within Zoom's 3 seconds).
                    let outcome = Unfinished::NoConnection(err.to_string());
                    let waiting = std::mem::take(&mut self.group_state(lane).queue);
                    for member in group.into_iter().chain(waiting) {
                        member.unfinished(outcome.clone());
                    }
                    continue;
                }
            };
            if let [only] = group.as_mut_slice()
                && only.single_statement()
                && matches!(*conn, AnyConnection::Postgresql(_))
            {
                // One statement alone: atomic and committed by itself, no BEGIN/COMMIT. If it
                // failed it wrote nothing; a retryable failure (a lost connection) runs alone
                // again on another connection, as a failed group would.
                let retry = !only.apply(&mut conn)
                    && only.failure().is_some_and(|err| {
                        crate::pool::flag_if_lost(&mut conn, err);
                        err.is_retryable()
                    });
                for member in group {
                    if retry {
                        member.unfinished(Unfinished::RunAlone);
                    } else {
                        member.committed();
                    }
                }
                continue;
            }
            if matches!(*conn, AnyConnection::Postgresql(_))
                && group.len() > 1
                && group.iter_mut().all(|m| m.delivery().is_some())
            {
                // Only deliveries: one statement stores them all with their jobs
                // (`insert_deliveries`), atomic and committed by itself, so no BEGIN/COMMIT.
                // If it failed it wrote nothing, and the members run alone; if only a lookup
                // of an already-stored delivery after it failed, running alone finds each
                // member stored (a duplicate, which the receiver acknowledges all the same).
                match insert_group_deliveries(&mut group, &mut conn, reserve) {
                    Ok(()) => {
                        for mut member in group {
                            // Takes its outcome, left by the insert.
                            member.apply(&mut conn);
                            member.committed();
                        }
                    }
                    Err(err) => {
                        crate::pool::flag_if_lost(&mut conn, &err);
                        tracing::debug!(
                            error = %err,
                            members = group.len(),
                            "deliveries inserted together failed; members run alone"
                        );
                        for member in group {
                            member.unfinished(Unfinished::RunAlone);
                        }
                    }
                }
                continue;
            }
            // A failing member only needs to roll the group back (it gets its own answer when
            // it runs alone): the marker error returned below does that and is not shown.
            let mut member_failed = false;
            let result = self.write_now(&mut conn, |c| {
                member_failed = !apply_group(&mut group, c, reserve);
                if member_failed {
                    Err(DieselStoreError::conflict(
                        Entity::Job,
                        "rolled back: a member failed",
                    ))
                } else {
                    Ok(())
                }
            });
            match result {
                Ok(()) => group.into_iter().for_each(|m| m.committed()),
                Err(err) => {
                    crate::pool::flag_if_lost(&mut conn, &err);
                    if member_failed {
                        tracing::debug!(
                            members = group.len(),
                            "a member failed; its group runs alone"
                        );
                    } else {
                        tracing::debug!(error = %err, members = group.len(), "group transaction failed; members run alone");
                    }
                    for member in group {
                        member.unfinished(Unfinished::RunAlone);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use diesel::RunQueryDsl;
    use diesel::sql_types::{BigInt, Text};

    use super::*;
    use crate::Options;

    #[derive(diesel::QueryableByName)]
    struct Key {
        #[diesel(sql_type = Text)]
        k: String,
    }

    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }

    fn insert(conn: &mut AnyConnection, key: &str) -> Result<(), DieselStoreError> {
        diesel::sql_query("INSERT INTO scratch (k) VALUES (?1)")
            .bind::<Text, _>(key)
            .execute(conn)?;
        Ok(())
    }

    /// Concurrent members share transactions; a failing member's writes are undone and it
    /// alone sees the error (its group rolls back and runs alone); every other member is
    /// committed before its call returns.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn members_commit_together_and_fail_alone() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("group.sqlite").display());
        let store = DieselStore::connect(&url, Options::new()).await.unwrap();
        store
            .with_conn(|c| {
                diesel::sql_query("CREATE TABLE scratch (k TEXT PRIMARY KEY)").execute(c)
            })
            .await
            .unwrap();
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..400u32 {
            let store = store.clone();
            tasks.spawn(async move {
                let key = format!("k{i:03}");
                let result = store
                    .write_grouped(Lane::Request, key.clone(), move |conn| {
                        insert(conn, &key)?;
                        if i % 7 == 0 {
                            // Wrote, then failed: the savepoint must undo the insert.
                            return Err(DieselStoreError::conflict(
                                attend_core::store::Entity::Job,
                                "test failure",
                            ));
                        }
                        Ok(i)
                    })
                    .await;
                // Committed means visible to a fresh connection now.
                let seen = store
                    .with_conn(move |c| {
                        diesel::sql_query("SELECT COUNT(*) AS n FROM scratch WHERE k = ?1")
                            .bind::<Text, _>(format!("k{i:03}"))
                            .get_result::<Count>(c)
                    })
                    .await
                    .unwrap()
                    .n;
                (i, result, seen)
            });
        }
        while let Some(done) = tasks.join_next().await {
            let (i, result, seen) = done.unwrap();
            if i % 7 == 0 {
                assert!(result.is_err(), "member {i} should fail");
                assert_eq!(seen, 0, "member {i} failed but its row is there");
            } else {
                assert_eq!(result.unwrap(), i);
                assert_eq!(
                    seen, 1,
                    "member {i} returned Ok before its row was committed"
                );
            }
        }
        let keys: Vec<Key> = store
            .with_conn(|c| diesel::sql_query("SELECT k FROM scratch ORDER BY k").load(c))
            .await
            .unwrap();
        assert_eq!(keys.len(), 400 - 400usize.div_ceil(7));
        assert!(
            keys.iter()
                .all(|k| k.k[1..].parse::<u32>().unwrap() % 7 != 0)
        );
    }

    #[test]
    fn only_refusals_are_a_members_own_answer() {
        let missing = || DieselStoreError::not_found(Entity::Webhook);
        assert!(matches!(
            refusal_as_answer::<()>(Err(missing())),
            Ok(Err(_))
        ));
        let refused = DieselStoreError::conflict(Entity::Job, "not this worker's job");
        assert!(matches!(refusal_as_answer::<()>(Err(refused)), Ok(Err(_))));
        let lost = DieselStoreError::Query(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::ClosedConnection,
            Box::new("connection lost".to_owned()),
        ));
        assert!(refusal_as_answer::<()>(Err(lost)).is_err());
        assert!(matches!(refusal_as_answer(Ok(7)), Ok(Ok(7))));
    }

    /// With no connection to be had, every member fails with a retryable error, promptly
    /// (one pool timeout for the group).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn without_a_connection_members_get_a_retryable_error() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("busy.sqlite").display());
        let store = DieselStore::connect(
            &url,
            Options::new()
                .pool_size(1)
                .connection_timeout(std::time::Duration::from_millis(300)),
        )
        .await
        .unwrap();
        // Hold the only connection.
        let pool = store.pool().clone();
        let held = tokio::task::spawn_blocking(move || pool.get().unwrap())
            .await
            .unwrap();
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..8 {
            let store = store.clone();
            tasks.spawn(async move {
                store
                    .write_grouped(Lane::Request, format!("k{i}"), |_conn| Ok(()))
                    .await
            });
        }
        while let Some(done) = tasks.join_next().await {
            let err = done.unwrap().expect_err("no connection: must fail");
            assert!(err.is_retryable(), "{err:?}");
        }
        // Callers that queue while the leader waits for a connection get their error when
        // that wait ends, not after a wait of their own.
        let timeout = std::time::Duration::from_millis(1000);
        let slow = DieselStore::connect(
            &format!("sqlite://{}", dir.path().join("slow.sqlite").display()),
            Options::new().pool_size(1).connection_timeout(timeout),
        )
        .await
        .unwrap();
        let slow_pool = slow.pool().clone();
        let slow_held = tokio::task::spawn_blocking(move || slow_pool.get().unwrap())
            .await
            .unwrap();
        let started = std::time::Instant::now();
        let first = {
            let slow = slow.clone();
            tokio::spawn(async move {
                slow.write_grouped(Lane::Request, "first".into(), |_conn| Ok(()))
                    .await
            })
        };
        tokio::time::sleep(timeout * 3 / 10).await;
        let mut late = tokio::task::JoinSet::new();
        for i in 0..4 {
            let slow = slow.clone();
            late.spawn(async move {
                slow.write_grouped(Lane::Background, format!("late{i}"), |_conn| Ok(()))
                    .await
            });
        }
        assert!(first.await.unwrap().is_err());
        while let Some(done) = late.join_next().await {
            let err = done.unwrap().expect_err("no connection: must fail");
            assert!(err.is_retryable(), "{err:?}");
        }
        let waited = started.elapsed();
        assert!(
            waited < timeout * 16 / 10,
            "late callers waited {waited:?}: a pool timeout ({timeout:?}) of their own"
        );
        drop(slow_held);

        drop(held);
        // The leader stepped down: the next write goes through.
        store
            .write_grouped(Lane::Background, String::new(), |_conn| Ok(()))
            .await
            .unwrap();
    }
}
