//! `POST /webhooks/zoom`: Zoom's event notifications.
//!
//! The body is read as raw bytes (never through a JSON extractor: the signature covers the
//! exact bytes), with a size limit checked first against `Content-Length` and then while
//! reading. The service verifies the signature, answers `endpoint.url_validation`, and
//! commits the raw event before we answer 200. Zoom drops an event for good on any 4xx, so a
//! correctly signed event is never refused with anything but 401 (signature), 413 (size) or
//! 503 (storage down, Zoom retries).

use actix_web::{HttpRequest, HttpResponse, http::header, web};
use attend_core::{service::WebhookAck as CoreAck, zoom::WebhookHeaders};
use futures::StreamExt as _;

use super::State;
use crate::{
    dto::{UrlValidationResponse, WebhookAck, WebhookResponse},
    error::{ApiError, payload_error},
    openapi::responses as r,
    telemetry::WebhookOutcome,
};

/// Receive a Zoom webhook.
///
/// Authenticated by Zoom's signature (`x-zm-signature` = `v0=` + hex HMAC-SHA256 of
/// `v0:{x-zm-request-timestamp}:{raw body}` with the app's secret token), inside a replay
/// window on `x-zm-request-timestamp`. `endpoint.url_validation` is answered with
/// `plainToken`/`encryptedToken`; any other correctly signed event with 200 once it is stored
/// (an unparseable one too: it is stored and flagged).
#[utoipa::path(
    post,
    path = "/webhooks/zoom",
    tag = "webhooks",
    operation_id = "zoom_webhook",
    request_body(
        content = Object,
        content_type = "application/json",
        description = "A Zoom event notification, exactly as Zoom sends it (the signature covers the raw bytes)."
    ),
    params(
        ("x-zm-request-timestamp" = String, Header, description = "Unix seconds; must be inside the replay window"),
    ),
    responses(
        (status = 200, description = "The URL validation answer, or the event is committed.", body = WebhookResponse),
        (status = 401, description = "Missing, malformed, wrong or stale signature (`invalid_signature`).", body = crate::error::ErrorBody),
        (status = 413, response = r::PayloadTooLarge),
        (status = 500, response = r::Internal),
        (status = 503, response = r::Unavailable),
    ),
    security(("zoom_signature" = []))
)]
pub(crate) async fn zoom_webhook(
    state: web::Data<State>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let result = receive(&state, &req, payload).await;
    let outcome = match &result {
        Ok((_, outcome)) => *outcome,
        Err(ApiError::InvalidSignature { .. }) => WebhookOutcome::BadSignature,
        Err(ApiError::PayloadTooLarge { .. }) => WebhookOutcome::TooLarge,
        Err(ApiError::StorageUnavailable { .. }) => WebhookOutcome::Unavailable,
        Err(_) => WebhookOutcome::Failed,
    };
    outcome.record();
    result.map(|(response, _)| response)
}

async fn receive(
    state: &State,
    req: &HttpRequest,
    payload: web::Payload,
) -> Result<(HttpResponse, WebhookOutcome), ApiError> {
    let limit = state.webhook_body_limit;
    let body = read_limited(req, payload, limit).await.inspect_err(|err| {
        if matches!(err, ApiError::PayloadTooLarge { .. }) {
            // The service never sees this delivery: count it where it counts the others.
            metrics::counter!("attend_webhooks_total", "outcome" => "too_large").increment(1);
        }
    })?;
    let headers = WebhookHeaders::from_lookup(|name| {
        req.headers().get(name).map(header::HeaderValue::as_bytes)
    });
    let ack = state.attend.ingest_webhook(headers, &body).await?;
    Ok(match ack {
        CoreAck::UrlValidation(answer) => (
            HttpResponse::Ok().json(WebhookResponse::UrlValidation(UrlValidationResponse {
                plain_token: answer.plain_token,
                encrypted_token: answer.encrypted_token,
            })),
            WebhookOutcome::UrlValidation,
        ),
        CoreAck::Stored {
            duplicate,
            unparseable,
            ..
        } => {
            let (status, outcome) = if duplicate {
                ("duplicate", WebhookOutcome::Duplicate)
            } else if unparseable {
                ("stored_unparseable", WebhookOutcome::Stored)
            } else {
                ("stored", WebhookOutcome::Stored)
            };
            (
                HttpResponse::Ok().json(WebhookResponse::Ack(WebhookAck {
                    status: status.to_owned(),
                })),
                outcome,
            )
        }
    })
}

/// Reads the whole body, refusing it with 413 as early as possible: at once when
/// `Content-Length` says it is too large, else as soon as the bytes read cross `limit`.
pub(crate) async fn read_limited(
    req: &HttpRequest,
    mut payload: web::Payload,
    limit: usize,
) -> Result<web::Bytes, ApiError> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if let Some(length) = declared
        && length > limit as u64
    {
        return Err(ApiError::PayloadTooLarge { limit });
    }
    let capacity = declared.map_or(8 * 1024, |l| l as usize).min(limit);
    let mut body = web::BytesMut::with_capacity(capacity);
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(payload_error)?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::PayloadTooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}
