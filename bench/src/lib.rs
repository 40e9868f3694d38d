//! # attend-bench
//!
//! Benchmarks of attend as a host runs it: the example app (release build, demo mode) under
//! HTTP load on loopback, compared in the same run with a bare actix-web handler that only
//! verifies Zoom's signature (the ceiling of this machine's HTTP stack).
//!
//! Run `scripts/bench.sh` (see BENCHMARKS.md); the binary's `--help` lists the knobs.
//! Nothing here is a test: figures are reported, never asserted.

#![forbid(unsafe_code)]

pub mod api;
pub mod bare;
pub mod db;
pub mod events;
pub mod load;
pub mod procs;
pub mod sources;
pub mod suite;
