//! The attend example host LMS (being built: see README).

fn main() {
    eprintln!(
        "attend-example: the example host app is not built yet in this checkout; \
         run the tests with `cargo test --workspace`."
    );
    std::process::exit(2);
}
