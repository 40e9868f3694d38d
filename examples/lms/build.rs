//! `embed_migrations!` reads the migration folders at compile time but does not ask cargo to
//! watch them; this makes a new or edited migration rebuild the crate.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
