//! # attend-e2e
//!
//! The workspace's end-to-end tests. The code is in this package's `tests/` folder:
//!
//! * `class_e2e.rs` — the example LMS over HTTP with the Zoom simulator: link a meeting,
//!   register a class, follow personal links, play a class with late joiners, rejoins, two
//!   devices, breakout rooms, the waiting room, early leavers, guests, a host restart, and
//!   duplicate and out-of-order deliveries; then the rosters, the CSV and the unmatched list
//!   are compared with numbers computed by hand. On SQLite always, on PostgreSQL when
//!   `ATTEND_TEST_POSTGRES_URL` is set (required when `CI` is set).
//! * `demo_e2e.rs` — what `cargo run -p attend-example` gives a newcomer, including a restart
//!   on the same SQLite file.
//! * `lms_routes_e2e.rs` — the example LMS's own routes: role rules, the error envelope, input
//!   checks, and that real mode has no demo routes.
//!
//! The browser test of the course attendance page lives in `browser/` (Node + headless
//! Chromium, run by `.ci/contract-checks` through `browser/run.sh`).

#![forbid(unsafe_code)]
