//! `cargo run -p attend-example`: the example host LMS (demo mode without Zoom credentials).

fn main() {
    eprintln!(
        "attend-example: the example host app is being assembled in this checkout; \
         run the tests with `cargo test --workspace`."
    );
    std::process::exit(2);
}
