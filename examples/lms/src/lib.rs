//! # attend-example
//!
//! A small host LMS that embeds **attend**: its own `users`, `courses` and `enrollments`
//! tables (in the same database as attend's `attend_*` tables), attend's HTTP API mounted at
//! `/attend`, host routes under `/lms`, and the course attendance page.
//!
//! * Without Zoom credentials it runs in **demo mode**: the built-in Zoom simulator is
//!   mounted at `/zoom`, demo data is created once (a course, an instructor, 30 students, a
//!   linked meeting with registrations), and `POST /lms/dev/play-class` replays a realistic
//!   class against the app's own webhook URL.
//! * With `ATTEND_ZOOM_ACCOUNT_ID`/`CLIENT_ID`/`CLIENT_SECRET` it works against real Zoom.
//!
//! Everything lives in this library so that the end-to-end tests build the very same app
//! in-process ([`start`] with a [`Config`]); `main.rs` only reads the environment, calls
//! [`start`] and prints [`RunningApp::guide`].
//!
//! How the host ties into attend (the parts worth copying into your own app):
//! - [`app::start`]: one [`DieselStore`](attend_diesel::DieselStore) for attend and the
//!   host's tables, attend's user directory pointed at the `users` table (and `enrollments`
//!   for group membership), the actix scope at `/attend`, one background worker;
//! - [`auth`]: the host mints the bearer tokens attend's API accepts (an instructor's
//!   `groups` are the courses they teach);
//! - [`state::Lms::register_for_course_meetings`]: enrolling a student registers them for
//!   the course's meetings.

#![forbid(unsafe_code)]

pub mod app;
pub mod auth;
pub mod config;
pub mod db;
pub mod demo;
pub mod error;
pub mod guide;
pub mod page;
pub mod prometheus;
pub mod routes;
pub mod state;

pub use app::{RunningApp, StartError, start};
pub use config::{Config, ConfigError, Mode, RealZoom};
