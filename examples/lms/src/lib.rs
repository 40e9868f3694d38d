//! # attend-example
//!
//! A small host LMS that embeds **attend**: its own `users`, `courses` and `enrollments`
//! tables, attend's HTTP API mounted at `/attend`, host routes under `/lms`, and the course
//! attendance page. Without Zoom credentials it runs in demo mode with the built-in Zoom
//! simulator.
//!
//! Everything lives in this library so that the end-to-end tests can build the same app
//! in-process; `main.rs` only reads the environment and calls [`run`].

#![forbid(unsafe_code)]

pub mod auth;
pub mod config;
pub mod db;
pub mod demo;
pub mod error;
pub mod page;
pub mod routes;
pub mod state;
