//! Runs the storage conformance suite against the in-memory reference store, and the
//! directory suite against the in-memory directory.
//!
//! The `testing` feature is switched on for this test by attend-core's dev-dependency on
//! itself (see `attend-core/Cargo.toml`), so a plain `cargo test -p attend-core` runs it.
//! Run a subset with `ATTEND_CONFORMANCE_FILTER=jobs:: cargo test -p attend-core --test store_memory`.

use attend_core::testing::conformance::{self, Capabilities, DirectoryCapabilities};
use attend_core::testing::memory::{MemoryDirectory, MemoryStore};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn memory_store_passes_the_conformance_suite() {
    conformance::run(|| async { MemoryStore::new() }, Capabilities::default()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_directory_passes_the_directory_suite() {
    let factory = |seed: conformance::DirectorySeed| async move {
        let dir = MemoryDirectory::with_users(seed.users);
        for (group, user) in &seed.memberships {
            dir.add_to_group(group, user);
        }
        dir
    };
    conformance::run_directory(factory, DirectoryCapabilities::default()).await;
    conformance::run_directory(
        move |seed| async move { factory(seed).await.without_group_listing() },
        DirectoryCapabilities::default().with_group_listing(false),
    )
    .await;
}
