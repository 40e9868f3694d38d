//! Route tests of the attend scope: every route, every role rule, every error path, and the
//! OpenAPI document. One test binary (faster to link); each module is one concern.

mod common;

mod attendance;
mod errors;
mod join;
mod meetings;
mod openapi;
mod registrations;
mod users;
mod webhooks;
