//! Test support: what SQLite's query planner does with a statement on the migrated schema
//! (the tests that check a query reads the partial index meant for it).

use diesel::prelude::*;
use diesel::sql_types::Text;

use crate::{DieselStore, Options};

/// A migrated SQLite file store in a temporary directory, to ask its planner.
pub(super) struct Planner {
    // Dropped before the directory that holds its file.
    store: DieselStore,
    _dir: tempfile::TempDir,
}

#[derive(QueryableByName)]
struct PlanRow {
    #[diesel(sql_type = Text)]
    detail: String,
}

impl Planner {
    pub(super) async fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("plan.sqlite").display());
        let store = DieselStore::connect(&url, Options::new())
            .await
            .expect("migrated SQLite store");
        Self { store, _dir: dir }
    }

    /// The lines of `EXPLAIN QUERY PLAN` for `sql`.
    pub(super) async fn plan(&self, sql: String) -> Vec<String> {
        let rows: Vec<PlanRow> = self
            .store
            .with_conn(move |c| diesel::sql_query(format!("EXPLAIN QUERY PLAN {sql}")).load(c))
            .await
            .expect("EXPLAIN QUERY PLAN");
        rows.into_iter().map(|r| r.detail).collect()
    }
}
