//! Prints the OpenAPI document that `attend_actix::scope("/attend", …)` serves at
//! `GET /attend/openapi.json`, by asking the mounted scope itself (in-process, no socket).
//!
//! `cargo run -p attend-actix --example dump-openapi > openapi.json`

use std::sync::Arc;

use actix_web::{App, test};
use attend_actix::{AttendConfig, auth::JwtAuthenticator};
use attend_core::{
    join_token::JwtSecret,
    service::{Attend, ZoomAccount},
    testing::memory::{MemoryDirectory, MemoryStore},
    zoom::{S2SCredentials, ZoomClient, ZoomClientConfig},
};

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // A service that is never called: only the document is asked for.
    let zoom = ZoomClient::new(
        ZoomClientConfig {
            api_base: "http://127.0.0.1:9/v2".into(),
            oauth_url: "http://127.0.0.1:9/oauth/token".into(),
            ..ZoomClientConfig::default()
        },
        S2SCredentials::new("account", "client", "client-secret"),
    )?;
    let secret = JwtSecret::generate();
    let attend = Attend::builder()
        .store(MemoryStore::new())
        .directory(MemoryDirectory::new())
        .zoom_account(
            ZoomAccount::new("main")
                .webhook_secret("webhook-secret")
                .api(Arc::new(zoom)),
        )
        .public_url("http://127.0.0.1:8080")
        .mount_prefix("/attend")
        .jwt_secret(secret.clone())
        .build()?;
    let config =
        AttendConfig::builder(attend, Arc::new(JwtAuthenticator::new(secret.expose()))).build();
    let app = test::init_service(App::new().service(attend_actix::scope("/attend", config))).await;
    let response = test::call_service(
        &app,
        test::TestRequest::get()
            .uri("/attend/openapi.json")
            .to_request(),
    )
    .await;
    if !response.status().is_success() {
        return Err(format!("GET /attend/openapi.json answered {}", response.status()).into());
    }
    let body = test::read_body(response).await;
    let doc: serde_json::Value = serde_json::from_slice(&body)?;
    println!("{}", serde_json::to_string_pretty(&doc)?);
    Ok(())
}
