//! # attend-diesel
//!
//! (crate guide: being written)

#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod codec;
mod connection;
mod directory;
mod error;
mod ident;
mod migrations;
mod options;
mod pool;
mod schema;
mod store;

pub use crate::connection::{AnyConnection, BackendKind, DatabaseUrl};
pub use crate::directory::{HostIdType, HostUserDirectory, HostUsersTable};
pub use crate::error::DieselStoreError;
pub use crate::ident::{Ident, IdentifierError, TableName};
pub use crate::migrations::{
    POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS, has_pending_migrations, run_migrations,
};
pub use crate::options::{Options, SqliteSynchronous};
pub use crate::pool::{ConnectionManager, Pool, PooledConnection};
pub use crate::store::DieselStore;
