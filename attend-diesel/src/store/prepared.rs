//! Statements that stay prepared on their connection although diesel would not keep them.
//!
//! Diesel keeps a connection's prepared statements only for queries it can prove always
//! produce the same SQL. It keeps `SELECT`s and `INSERT`s (`ON CONFLICT DO NOTHING` included),
//! but never an `UPDATE`, an `IN (…)` list on SQLite, or raw [`sql_query`](diesel::sql_query)
//! text; each call of one of those is compiled again. On SQLite, where a statement runs in
//! process, compiling (`sqlite3_prepare`) costs about as much as running it, and the worker's
//! hot statements are all of those kinds: the claim (raw SQL), reading a batch of deliveries
//! (an `IN` list), marking them processed and completing their jobs (`UPDATE`s).
//!
//! [`Kept`] lets diesel keep such a statement on SQLite (on PostgreSQL it changes nothing;
//! see its `QueryFragment<Pg>` implementation). Diesel then keys its cache by the statement's
//! SQL text and bind types (not by its Rust type), so two calls share a prepared statement
//! only when their SQL is identical: whatever the wrapped query builds, the statement run is
//! the one written for it. Each distinct text stays prepared for the connection's life, so
//! wrap only statements with few shapes: fixed column lists, `IN` lists bounded by a small
//! batch size, a `LIMIT` from a small set of values.

use diesel::QueryResult;
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::query_dsl::RunQueryDsl;
use diesel::sqlite::Sqlite;

/// `query`, kept prepared on its connection under its SQL text; see the [module](self).
///
/// Run it by value: `load`, `get_result`, `get_results` (an `UPDATE` with `RETURNING`).
/// `execute` hands diesel a reference, and diesel's forwarding impl for references drops
/// this answer, so a kept statement run by `execute` is compiled at every call as before
/// (still correct, only not kept; the module's tests show both).
pub(super) fn kept<Q>(query: Q) -> Kept<Q> {
    Kept { query, keep: true }
}

/// The most ids of an `IN (…)` list whose statement [`kept_list`] keeps: each length is its
/// own SQL text, so this bounds the texts kept per statement. The worker's batches (16
/// deliveries) stay below it; a longer list (a host's own call) is compiled per call.
pub(super) const KEPT_LIST_MAX: usize = 64;

/// [`kept`] for a statement with an `IN` list of `len` ids: kept only up to
/// [`KEPT_LIST_MAX`] ids, otherwise run as diesel would.
pub(super) fn kept_list<Q>(query: Q, len: usize) -> Kept<Q> {
    Kept {
        query,
        keep: len <= KEPT_LIST_MAX,
    }
}

/// A query diesel may keep prepared, keyed by its SQL text; built by [`kept`] or
/// [`kept_list`].
#[derive(Debug, Clone, Copy)]
pub(super) struct Kept<Q> {
    query: Q,
    /// Whether to keep it; `false` leaves the answer to the query itself.
    keep: bool,
}

impl<Q> QueryId for Kept<Q> {
    // No type-level id: the cache key is then the SQL text and the bind types.
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q: Query> Query for Kept<Q> {
    type SqlType = Q::SqlType;
}

impl<Q: QueryFragment<Sqlite>> QueryFragment<Sqlite> for Kept<Q> {
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        self.query.walk_ast(pass)
    }

    /// Yes when kept: the cache key is the exact SQL text (see `QueryId` above), so a
    /// statement is never reused for a different text, which is the case diesel's own answer
    /// guards.
    fn is_safe_to_cache_prepared(&self, backend: &Sqlite) -> QueryResult<bool> {
        if self.keep {
            Ok(true)
        } else {
            self.query.is_safe_to_cache_prepared(backend)
        }
    }
}

/// On PostgreSQL the statement is what diesel would make of it anyway. A kept statement there
/// is a named one, which PostgreSQL may after a few runs plan once for all values (a generic
/// plan), where an unnamed one is planned for the values at hand; and the parse it saves is
/// small beside the round trip. Keeping them there measured no gain (the worker's rate was
/// lower in each of four A/B runs, within this machine's noise; BENCHMARKS.md).
impl<Q: QueryFragment<Pg>> QueryFragment<Pg> for Kept<Q> {
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        self.query.walk_ast(pass)
    }

    fn is_safe_to_cache_prepared(&self, backend: &Pg) -> QueryResult<bool> {
        self.query.is_safe_to_cache_prepared(backend)
    }
}

impl<Q, Conn> RunQueryDsl<Conn> for Kept<Q> {}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use diesel::connection::{InstrumentationEvent, SimpleConnection};
    use diesel::prelude::*;
    use diesel::sql_types::BigInt;

    use super::{KEPT_LIST_MAX, kept, kept_list};

    diesel::table! {
        things (id) {
            id -> BigInt,
            n -> BigInt,
            note -> Nullable<Text>,
        }
    }

    #[derive(Insertable)]
    #[diesel(table_name = things)]
    struct NewThing {
        id: i64,
        n: i64,
        note: Option<String>,
    }

    /// An in-memory SQLite connection and the SQL texts it has put in its statement cache.
    fn connection() -> (SqliteConnection, Arc<Mutex<Vec<String>>>) {
        let mut conn = SqliteConnection::establish(":memory:").expect("in-memory SQLite");
        conn.batch_execute(
            "CREATE TABLE things (id BIGINT PRIMARY KEY NOT NULL, n BIGINT NOT NULL, note TEXT)",
        )
        .expect("create table");
        let cached = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&cached);
        conn.set_instrumentation(move |event: InstrumentationEvent<'_>| {
            if let InstrumentationEvent::CacheQuery { sql, .. } = event {
                seen.lock().expect("lock").push(sql.to_owned());
            }
        });
        (conn, cached)
    }

    fn cached_count(cached: &Mutex<Vec<String>>) -> usize {
        cached.lock().expect("lock").len()
    }

    #[test]
    fn an_update_is_prepared_once_when_kept_and_at_every_call_when_not() {
        let (mut conn, cached) = connection();
        let rows: Vec<NewThing> = (0..12_i64)
            .map(|id| NewThing {
                id,
                n: 0,
                note: None,
            })
            .collect();
        for row in &rows {
            diesel::insert_into(things::table)
                .values(row)
                .on_conflict_do_nothing()
                .execute(&mut conn)
                .expect("insert");
        }
        assert_eq!(
            cached_count(&cached),
            1,
            "diesel keeps an INSERT … ON CONFLICT DO NOTHING itself"
        );

        let set = |id: i64| diesel::update(things::table.find(id)).set(things::n.eq(id + 100));
        for id in 0..4_i64 {
            let n = set(id).execute(&mut conn).expect("plain update");
            assert_eq!(n, 1);
        }
        assert_eq!(cached_count(&cached), 1, "diesel keeps no UPDATE");

        for id in 4..8_i64 {
            let n = kept(set(id))
                .execute(&mut conn)
                .expect("kept update, executed");
            assert_eq!(n, 1);
        }
        assert_eq!(
            cached_count(&cached),
            1,
            "run by `execute` (by reference), a kept statement is not kept"
        );

        for id in 8..12_i64 {
            let updated: Vec<i64> = kept(set(id).returning(things::id))
                .get_results(&mut conn)
                .expect("kept update, returning");
            assert_eq!(updated, vec![id]);
        }
        // No such row: nothing updated, through the same statement.
        let none: Vec<i64> = kept(set(99).returning(things::id))
            .get_results(&mut conn)
            .expect("kept update of nothing");
        assert!(none.is_empty());
        assert_eq!(cached_count(&cached), 2, "one kept statement for five runs");

        let ns: Vec<i64> = things::table
            .order(things::id)
            .select(things::n)
            .load(&mut conn)
            .expect("read back");
        assert_eq!(ns, (100..112).collect::<Vec<i64>>());
    }

    #[test]
    fn kept_statements_are_keyed_by_their_sql_text() {
        let (mut conn, cached) = connection();
        for id in 0..6_i64 {
            diesel::insert_into(things::table)
                .values(&NewThing {
                    id,
                    n: id * 10,
                    note: None,
                })
                .execute(&mut conn)
                .expect("seed");
        }
        // Same Rust type, three texts (IN lists of 1, 2 and 3): three statements, each
        // answering for its own list, and a repeat of a text reuses its statement.
        let seeded = cached_count(&cached);
        let lists: [&[i64]; 4] = [&[1], &[1, 2], &[3, 4, 5], &[0, 5]];
        let mut answers = Vec::new();
        for ids in lists {
            let mut ns: Vec<i64> = kept(
                things::table
                    .filter(things::id.eq_any(ids))
                    .select(things::n),
            )
            .load(&mut conn)
            .expect("kept select");
            ns.sort_unstable();
            answers.push(ns);
        }
        assert_eq!(
            answers,
            vec![vec![10], vec![10, 20], vec![30, 40, 50], vec![0, 50]]
        );
        assert_eq!(cached_count(&cached), seeded + 3);

        // A list longer than `KEPT_LIST_MAX` is answered, and not kept.
        let long: Vec<i64> = (0..=i64::try_from(KEPT_LIST_MAX).expect("small")).collect();
        let ns: Vec<i64> = kept_list(
            things::table
                .filter(things::id.eq_any(&long))
                .select(things::n),
            long.len(),
        )
        .load(&mut conn)
        .expect("long list");
        assert_eq!(ns.len(), 6, "every seeded row is in the long list");
        let four = [0_i64, 1, 2, 3];
        let mut short: Vec<i64> = kept_list(
            things::table
                .filter(things::id.eq_any(four))
                .select(things::n),
            four.len(),
        )
        .load(&mut conn)
        .expect("short list");
        short.sort_unstable();
        assert_eq!(short, vec![0, 10, 20, 30]);
        assert_eq!(
            cached_count(&cached),
            seeded + 4,
            "the short list is kept, the long one is not"
        );

        // Raw SQL whose text carries a value: one statement per text, never one for both.
        let limited = |limit: i64, from: i64| {
            kept(
                diesel::sql_query(format!(
                    "SELECT n FROM things WHERE n >= ? ORDER BY n LIMIT {limit}"
                ))
                .bind::<BigInt, _>(from),
            )
        };
        #[derive(QueryableByName, PartialEq, Debug)]
        struct N {
            #[diesel(sql_type = BigInt)]
            n: i64,
        }
        let two: Vec<N> = limited(2, 20).load(&mut conn).expect("limit 2");
        let four: Vec<N> = limited(4, 0).load(&mut conn).expect("limit 4");
        let two_again: Vec<N> = limited(2, 40).load(&mut conn).expect("again");
        assert_eq!(two.iter().map(|r| r.n).collect::<Vec<_>>(), vec![20, 30]);
        assert_eq!(
            four.iter().map(|r| r.n).collect::<Vec<_>>(),
            vec![0, 10, 20, 30]
        );
        assert_eq!(
            two_again.iter().map(|r| r.n).collect::<Vec<_>>(),
            vec![40, 50]
        );
        assert_eq!(cached_count(&cached), seeded + 6);
    }
}
