//! The ceiling: a bare actix-web handler that reads the body, verifies Zoom's signature with
//! attend's own verifier (same HMAC, same replay window) and answers 200 with the same JSON
//! attend answers. It stores nothing, so its throughput is what the HTTP stack and the
//! signature check alone allow on this machine.

use std::net::SocketAddr;
use std::sync::Arc;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use attend_core::zoom::{WebhookHeaders, WebhookSecrets, WebhookVerifier};

/// Serves `POST /webhooks/zoom` on `bind` with `workers` actix workers until the process ends.
///
/// # Errors
/// If the address cannot be bound or the server fails.
pub async fn serve(bind: SocketAddr, secret: String, workers: usize) -> std::io::Result<()> {
    let verifier = Arc::new(WebhookVerifier::single(
        "default",
        WebhookSecrets::new(secret),
    ));
    HttpServer::new(move || {
        App::new()
            .app_data(web::Data::from(verifier.clone()))
            .app_data(web::PayloadConfig::new(1024 * 1024))
            .route("/webhooks/zoom", web::post().to(handler))
            .route("/health", web::get().to(HttpResponse::Ok))
    })
    .workers(workers)
    .bind(bind)?
    .run()
    .await
}

async fn handler(
    verifier: web::Data<WebhookVerifier>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let headers = WebhookHeaders::from_lookup(|name| req.headers().get(name).map(|v| v.as_bytes()));
    match verifier.verify(headers, &body, chrono::Utc::now()) {
        Ok(_) => HttpResponse::Ok()
            .content_type("application/json")
            .body(r#"{"status":"stored"}"#),
        Err(_) => HttpResponse::Unauthorized()
            .content_type("application/json")
            .body(r#"{"error":{"code":"invalid_signature","message":"bad signature"}}"#),
    }
}
