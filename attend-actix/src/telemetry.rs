//! Per-request tracing spans and HTTP metrics.
//!
//! Every attend route runs inside a span `attend.request` with the fields `http.method`,
//! `http.route` (the route *pattern*, e.g. `/attend/join/{token}`, never the concrete path, so
//! tokens and ids stay out of the logs), `http.status_code` and `role` (of the authenticated
//! caller, if any). Bodies, headers and query strings are never recorded.
//!
//! Metrics (through the `metrics` facade; the host installs a recorder, e.g.
//! `metrics-exporter-prometheus`; without one they cost next to nothing):
//!
//! | name | kind | labels |
//! |---|---|---|
//! | `attend_http_requests_total` | counter | `method`, `route`, `status` |
//! | `attend_http_request_duration_seconds` | histogram | `method`, `route`, `status` |
//! | `attend_webhooks_total` | counter | `outcome="too_large"`, for bodies this adapter refuses before the service sees them (the service counts every other outcome under the same name) |
//!
//! The outcome of each webhook delivery (see [`WebhookOutcome`]) is also recorded on the
//! request span as `webhook.outcome`.

use std::time::Instant;

use actix_web::{
    Error,
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    middleware::Next,
};
use tracing::{Instrument, field::Empty};

/// What became of one webhook delivery (the `webhook.outcome` field of the request span).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum WebhookOutcome {
    /// `endpoint.url_validation` answered.
    UrlValidation,
    /// A new event stored (200).
    Stored,
    /// An event stored before (200).
    Duplicate,
    /// A correctly signed but unparseable event, stored and flagged (200).
    Flagged,
    /// Refused: missing, bad or stale signature (401).
    BadSignature,
    /// Refused: body over the limit (413).
    TooLarge,
    /// Not stored: storage unavailable (503).
    Unavailable,
    /// Not stored: an unexpected failure (500).
    Failed,
}

impl WebhookOutcome {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookOutcome::UrlValidation => "url_validation",
            WebhookOutcome::Stored => "stored",
            WebhookOutcome::Duplicate => "duplicate",
            WebhookOutcome::Flagged => "flagged",
            WebhookOutcome::BadSignature => "bad_signature",
            WebhookOutcome::TooLarge => "too_large",
            WebhookOutcome::Unavailable => "unavailable",
            WebhookOutcome::Failed => "failed",
        }
    }

    /// Records one webhook answer on the request span.
    pub(crate) fn record(self) {
        tracing::Span::current().record("webhook.outcome", self.as_str());
    }
}

/// The middleware every attend resource is wrapped in (via `actix_web::middleware::from_fn`).
pub(crate) async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody + 'static>, Error> {
    let route = req
        .match_pattern()
        .unwrap_or_else(|| "<unmatched>".to_owned());
    let method = req.method().as_str().to_owned();
    let span = tracing::info_span!(
        "attend.request",
        http.method = %method,
        http.route = %route,
        http.status_code = Empty,
        role = Empty,
        webhook.outcome = Empty,
    );
    let started = Instant::now();
    let result = next.call(req).instrument(span.clone()).await;
    let status = match &result {
        Ok(res) => res.status(),
        Err(err) => err.as_response_error().status_code(),
    };
    let elapsed = started.elapsed().as_secs_f64();
    span.record("http.status_code", status.as_u16());
    span.in_scope(|| {
        if status.is_server_error() {
            tracing::warn!(elapsed_seconds = elapsed, "request failed");
        } else {
            tracing::debug!(elapsed_seconds = elapsed, "request done");
        }
    });
    let status = status.as_str().to_owned();
    metrics::counter!(
        "attend_http_requests_total",
        "method" => method.clone(),
        "route" => route.clone(),
        "status" => status.clone()
    )
    .increment(1);
    metrics::histogram!(
        "attend_http_request_duration_seconds",
        "method" => method,
        "route" => route,
        "status" => status
    )
    .record(elapsed);
    result
}
