//! `embed_migrations!` reads the migration folders at compile time but does not ask cargo to
//! watch them: without this, adding a migration would not rebuild the crate.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
