//! A stand-alone Zoom simulator server, for poking at it by hand.
//!
//! `ZOOM_SIM_BIND` (default `127.0.0.1:9090`) sets the address; the credentials to use are
//! printed at start. Stop it with Ctrl-C.

use attend_zoom_sim::{SimConfig, Simulator};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let bind = std::env::var("ZOOM_SIM_BIND").unwrap_or_else(|_| "127.0.0.1:9090".to_owned());
    let config = SimConfig {
        bind: bind.parse()?,
        ..SimConfig::default()
    };
    let zoom = Simulator::start(config).await?;
    let creds = zoom.credentials();
    println!("Zoom simulator listening on {}", zoom.origin());
    println!("  API base:      {}", zoom.base_url());
    println!("  token URL:     {}", zoom.oauth_url());
    println!("  account id:    {}", creds.account_id);
    println!("  client id:     {}", creds.client_id);
    println!("  client secret: {}", creds.client_secret);
    std::future::pending::<()>().await;
    Ok(())
}
