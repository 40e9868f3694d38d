//! `cargo run -p attend-example`: the example host LMS.
//!
//! Without Zoom credentials it runs in demo mode (SQLite file in the working directory, the
//! built-in Zoom simulator, demo data) and prints a guide. See the crate docs and README.md.

use std::process::ExitCode;

use attend_example::{Config, start};

#[tokio::main]
async fn main() -> ExitCode {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new("warn,attend=info,attend_example=info")
    });
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .init();

    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("attend-example: configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    let app = match start(config).await {
        Ok(app) => app,
        Err(e) => {
            eprintln!("attend-example: {}", error_chain(&e));
            return ExitCode::FAILURE;
        }
    };
    println!("{}", app.guide());

    if let Err(e) = tokio::signal::ctrl_c().await {
        eprintln!("attend-example: cannot wait for Ctrl-C: {e}");
    }
    eprintln!("attend-example: stopping…");
    app.stop().await;
    ExitCode::SUCCESS
}

/// The error and its sources, one clause each.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        let text = inner.to_string();
        if !s.contains(&text) {
            s.push_str(": ");
            s.push_str(&text);
        }
        source = inner.source();
    }
    s
}
