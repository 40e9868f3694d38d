//! # attend-core
//!
//! Framework-agnostic core of **attend**: know which of *your own* users attended a Zoom
//! meeting or webinar, and for how long.
//!
//! (Crate-level guide: written as the modules land.)

#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod attendance;
pub mod export;
pub mod identity;
pub mod join_token;
pub mod model;
pub mod service;
pub mod store;
pub mod zoom;

#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;
