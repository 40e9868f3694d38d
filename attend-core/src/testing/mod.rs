//! Test support for attend and for storage backends (feature `testing`).
//!
//! * [`memory`]: [`MemoryStore`](memory::MemoryStore) and
//!   [`MemoryDirectory`](memory::MemoryDirectory), in-memory reference implementations of the
//!   [`store`](crate::store) traits, for unit tests, doctests and examples.
//! * [`conformance`]: the storage conformance suite. Every backend runs it in its own tests;
//!   it checks every documented contract of the storage traits.
//!
//! Enable it only for tests: in a backend crate,
//!
//! ```toml
//! [dev-dependencies]
//! attend-core = { version = "0.1", features = ["testing"] }
//! ```

pub mod conformance;
pub mod memory;
