//! # attend-actix
//!
//! (Crate guide written as the routes land.)

#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod auth;
mod convert;
pub mod dto;
pub mod error;
mod html;
pub mod telemetry;
