//! attend-diesel's integration tests, in one binary (one link step instead of one per file).
//!
//! SQLite tests always run. PostgreSQL tests read `ATTEND_TEST_POSTGRES_URL` (e.g.
//! `postgres://postgres@127.0.0.1:5432/test`); each store gets its own fresh schema, dropped at
//! the end, so parallel runs never collide. Without the variable they are skipped with a
//! message, except when `CI` is set: then they fail.

mod backend;
mod common;
mod concurrency;
mod conformance;
mod directory;
mod schema_drift;
