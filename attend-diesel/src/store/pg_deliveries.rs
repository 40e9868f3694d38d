//! A group's deliveries and their jobs in one PostgreSQL statement.
//!
//! On PostgreSQL every statement is a round trip, and a statement whose SQL changes with the
//! number of rows (a multi-row `INSERT … VALUES`) is parsed, analysed and planned again at
//! every call. The receiver's group used to be four round trips (`BEGIN`, the deliveries,
//! their jobs, `COMMIT`), two of them statements compiled afresh. [`InsertGroup`] is one
//! statement of fixed text, whatever the group's size: the rows go in as arrays (`unnest`),
//! so diesel keeps it prepared on the connection and PostgreSQL plans it once; and as one
//! statement it is atomic by itself, so a group of only deliveries needs no transaction around
//! it (`group.rs`).
//!
//! The jobs name their deliveries' ids, so the ids must be known before the insert: they are
//! taken from the table's own sequence ahead of time ([`IdReserve`]). A delivery that turns
//! out to be a duplicate leaves its reserved id unused, and a job naming it besides new
//! deliveries names an id no row has, which the worker treats as finished (as it does a
//! delivery that is gone). A job whose deliveries are *all* duplicates is not inserted.

use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};

use diesel::pg::{Pg, PgConnection};
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{Array, BigInt, Nullable, Text};

/// How many delivery ids one refill of [`IdReserve`] takes from the sequence at least: a
/// group's worth, so that ids stay close to the order deliveries arrive in.
const RESERVE_BLOCK: usize = 256;

/// Ids of `attend_webhooks` taken from its sequence ahead of the inserts that use them.
///
/// Ids taken and never used (the process stops, a delivery is a duplicate) leave gaps, as
/// rolled-back inserts do; ids are never handed out twice, also not across processes, since
/// they come from the sequence.
#[derive(Default)]
pub(crate) struct IdReserve {
    ids: Mutex<VecDeque<i64>>,
}

impl IdReserve {
    /// `n` unused ids, in increasing order when no refill falls in between.
    pub(crate) fn take(&self, conn: &mut PgConnection, n: usize) -> QueryResult<Vec<i64>> {
        // Only the request lane's leader (one at a time) takes ids; the lock guards no
        // invariant a panic could break.
        let mut ids = self.ids.lock().unwrap_or_else(PoisonError::into_inner);
        if ids.len() < n {
            let count = i64::try_from(n.max(RESERVE_BLOCK)).unwrap_or(i64::MAX);
            let fresh: Vec<i64> = diesel::sql_query(
                "SELECT nextval(pg_get_serial_sequence('attend_webhooks', 'id')) AS id \
                 FROM generate_series(1, $1)",
            )
            .bind::<BigInt, _>(count)
            .load::<ReservedId>(conn)?
            .into_iter()
            .map(|r| r.id)
            .collect();
            ids.extend(fresh);
        }
        Ok(ids.drain(..n).collect())
    }
}

#[derive(QueryableByName)]
struct ReservedId {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

/// The columns of the deliveries to insert, one array each, in insert order.
#[derive(Default)]
pub(super) struct DeliveryColumns {
    pub(super) id: Vec<i64>,
    pub(super) account: Vec<String>,
    pub(super) dedupe_key: Vec<String>,
    pub(super) event_type: Vec<String>,
    pub(super) received_at: Vec<i64>,
    pub(super) body: Vec<Option<String>>,
    pub(super) body_encoding: Vec<Option<String>>,
    pub(super) status: Vec<String>,
}

/// The columns of the jobs to insert, one array each; `named` holds the ids each job names,
/// comma-separated (a job is inserted only if one of them was inserted).
#[derive(Default)]
pub(super) struct JobColumns {
    pub(super) kind: Vec<String>,
    pub(super) payload: Vec<String>,
    pub(super) dedupe_key: Vec<Option<String>>,
    pub(super) state: Vec<String>,
    pub(super) attempts: Vec<i64>,
    pub(super) max_attempts: Vec<i64>,
    pub(super) run_at: Vec<i64>,
    pub(super) created_at: Vec<i64>,
    pub(super) updated_at: Vec<i64>,
    pub(super) named: Vec<String>,
}

/// The statement: inserts the deliveries (`ON CONFLICT DO NOTHING`), then each job that names
/// at least one inserted delivery (`ON CONFLICT DO NOTHING`: the partial unique index on
/// unfinished jobs' dedupe keys decides, as for one enqueue); yields the ids inserted.
pub(super) struct InsertGroup<'a> {
    pub(super) deliveries: &'a DeliveryColumns,
    pub(super) jobs: &'a JobColumns,
}

/// The type-level id of [`InsertGroup`]: its SQL text never changes, so diesel may keep it
/// prepared.
pub(super) struct InsertGroupId;

impl QueryId for InsertGroup<'_> {
    type QueryId = InsertGroupId;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl Query for InsertGroup<'_> {
    type SqlType = BigInt;
}

impl RunQueryDsl<PgConnection> for InsertGroup<'_> {}

/// Binds each `type => value` in turn, separated by `", "`: the arguments of an `unnest(…)`.
macro_rules! bind_list {
    ($out:ident; $first_ty:ty => $first:expr $(, $ty:ty => $value:expr)* $(,)?) => {
        $out.push_bind_param::<$first_ty, _>($first)?;
        $(
            $out.push_sql(", ");
            $out.push_bind_param::<$ty, _>($value)?;
        )*
    };
}

impl QueryFragment<Pg> for InsertGroup<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        let d = self.deliveries;
        let j = self.jobs;
        out.push_sql(
            "WITH d AS (INSERT INTO attend_webhooks \
             (id, account, dedupe_key, event_type, received_at, body, body_encoding, status) \
             SELECT * FROM unnest(",
        );
        bind_list!(out;
            Array<BigInt> => &d.id,
            Array<Text> => &d.account,
            Array<Text> => &d.dedupe_key,
            Array<Text> => &d.event_type,
            Array<BigInt> => &d.received_at,
            Array<Nullable<Text>> => &d.body,
            Array<Nullable<Text>> => &d.body_encoding,
            Array<Text> => &d.status,
        );
        out.push_sql(
            ") ON CONFLICT DO NOTHING RETURNING id), \
             j AS (INSERT INTO attend_jobs \
             (kind, payload, dedupe_key, state, attempts, max_attempts, run_at, created_at, \
             updated_at) \
             SELECT n.kind, n.payload, n.dedupe_key, n.state, n.attempts, n.max_attempts, \
             n.run_at, n.created_at, n.updated_at FROM unnest(",
        );
        bind_list!(out;
            Array<Text> => &j.kind,
            Array<Text> => &j.payload,
            Array<Nullable<Text>> => &j.dedupe_key,
            Array<Text> => &j.state,
            Array<BigInt> => &j.attempts,
            Array<BigInt> => &j.max_attempts,
            Array<BigInt> => &j.run_at,
            Array<BigInt> => &j.created_at,
            Array<BigInt> => &j.updated_at,
            Array<Text> => &j.named,
        );
        out.push_sql(
            ") AS n (kind, payload, dedupe_key, state, attempts, max_attempts, run_at, \
             created_at, updated_at, named) \
             WHERE EXISTS (SELECT 1 FROM d \
             WHERE d.id = ANY (string_to_array(n.named, ',')::bigint[])) \
             ON CONFLICT DO NOTHING) \
             SELECT id FROM d",
        );
        Ok(())
    }
}
