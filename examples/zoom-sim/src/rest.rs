//! The actix-web glue: routes, path decoding, auth/limit/fault pipeline, responses.

use crate::config::{Endpoint, Fault};
use crate::state::{Inner, LimitKind, Query, Reply, Shared};
use crate::timeline::MeetingKind;
use actix_web::http::StatusCode;
use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse};
use base64::Engine as _;
use chrono::{DateTime, Utc};
use percent_encoding::percent_decode_str;
use serde_json::Value;
use std::sync::Arc;

/// Decodes a meeting id or UUID path segment the way Zoom does: once normally; twice when the
/// once-decoded value still contains `%` (double-encoded). A UUID that begins with `/` or
/// contains `//` but arrived single-encoded cannot be routed by Zoom: `None`.
pub(crate) fn decode_path_id(raw: &str) -> Option<String> {
    let once = percent_decode_str(raw).decode_utf8().ok()?.into_owned();
    if once.contains('%') {
        return Some(percent_decode_str(&once).decode_utf8().ok()?.into_owned());
    }
    if once.starts_with('/') || once.contains("//") {
        return None;
    }
    Some(once)
}

/// The raw (still encoded) path segment `k` places from the end (0 = last).
fn seg(req: &HttpRequest, k: usize) -> String {
    req.uri()
        .path()
        .trim_end_matches('/')
        .rsplit('/')
        .nth(k)
        .unwrap_or_default()
        .to_owned()
}

fn kind_of(req: &HttpRequest) -> MeetingKind {
    if req
        .uri()
        .path()
        .split('/')
        .any(|s| s == "webinars" || s == "past_webinars")
    {
        MeetingKind::Webinar
    } else {
        MeetingKind::Meeting
    }
}

fn query(req: &HttpRequest) -> Query {
    web::Query::<Query>::from_query(req.query_string())
        .map(web::Query::into_inner)
        .unwrap_or_default()
}

/// What an operation gets to work with.
pub(crate) struct Input {
    pub(crate) kind: MeetingKind,
    pub(crate) query: Query,
    pub(crate) body: Value,
    pub(crate) now: DateTime<Utc>,
    req: HttpRequest,
}

impl Input {
    /// Decoded segment `k` from the end (single decoding; ids and registrant ids).
    fn id(&self, k: usize) -> String {
        let raw = seg(&self.req, k);
        percent_decode_str(&raw)
            .decode_utf8()
            .map(|c| c.into_owned())
            .unwrap_or(raw)
    }
}

fn to_response(reply: Reply) -> HttpResponse {
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut b = HttpResponse::build(status);
    for (k, v) in &reply.headers {
        b.insert_header((*k, v.as_str()));
    }
    match reply.body {
        Some(v) => b
            .content_type("application/json;charset=UTF-8")
            .body(v.to_string()),
        None => b.finish(),
    }
}

async fn handle<F>(
    data: web::Data<Shared>,
    req: HttpRequest,
    body: Bytes,
    ep: Endpoint,
    op: F,
) -> HttpResponse
where
    F: FnOnce(&mut Inner, &Input) -> Reply,
{
    let now = data.clock.now();
    let input = Input {
        kind: kind_of(&req),
        query: query(&req),
        body: if body.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&body).unwrap_or(Value::Null)
        },
        now,
        req: req.clone(),
    };
    let auth = req
        .headers()
        .get("authorization")
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned);
    let mut delay = None;
    let reply = {
        let mut inner = data.lock();
        let fault = inner.count_and_pick_fault(ep);
        let reply = 'pipeline: {
            if fault == Some(Fault::RevokeTokens) {
                inner.tokens.clear();
            }
            if let Err(r) = inner.authorize(auth.as_deref(), now) {
                break 'pipeline r;
            }
            match fault {
                Some(Fault::TooManyRequests) => {
                    let cat = ep.category().unwrap_or(crate::config::Category::Light);
                    let limit = inner.limits.category(cat).map_or(0, |l| l.rate);
                    let mut r = Inner::qps_reply(cat, limit, now + chrono::Duration::seconds(1));
                    r.limited = Some(LimitKind::Injected);
                    break 'pipeline r;
                }
                Some(Fault::ServerError(s)) => {
                    break 'pipeline Reply::error(
                        s,
                        i64::from(s),
                        "Internal server error. Please try again later.",
                    );
                }
                Some(Fault::Slow(d)) => delay = Some(d),
                _ => {}
            }
            if let Err(r) = inner.rate_limit(ep, now) {
                break 'pipeline r;
            }
            op(&mut inner, &input)
        };
        record(&mut inner, &req, Some(ep), &reply, now);
        reply
    };
    if let Some(d) = delay {
        tokio::time::sleep(d).await;
    }
    to_response(reply)
}

fn record(
    inner: &mut Inner,
    req: &HttpRequest,
    ep: Option<Endpoint>,
    reply: &Reply,
    now: DateTime<Utc>,
) {
    match reply.limited {
        Some(LimitKind::Qps) => inner.stats.qps += 1,
        Some(LimitKind::Daily) => inner.stats.daily += 1,
        Some(LimitKind::UserLevel) => inner.stats.user_level += 1,
        Some(LimitKind::Injected) => inner.stats.injected += 1,
        None => {}
    }
    inner.log.push(crate::state::CallRecord {
        at: now,
        method: req.method().to_string(),
        path: req
            .uri()
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_default(),
        endpoint: ep,
        status: reply.status,
    });
}

// ------------------------------------------------------------------------- handlers

async fn oauth_token(data: web::Data<Shared>, req: HttpRequest, body: Bytes) -> HttpResponse {
    let now = data.clock.now();
    let mut params = query(&req);
    if let Ok(s) = std::str::from_utf8(&body)
        && let Ok(form) = web::Query::<Query>::from_query(s)
    {
        for (k, v) in form.into_inner() {
            params.entry(k).or_insert(v);
        }
    }
    let basic = req
        .headers()
        .get("authorization")
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Basic "))
        .and_then(|b| {
            base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .ok()
        })
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.split_once(':').map(|(a, b)| (a.to_owned(), b.to_owned())));
    let ci = req.connection_info().clone();
    let api_url = format!("{}://{}", ci.scheme(), ci.host());
    let mut delay = None;
    let reply = {
        let mut inner = data.lock();
        let fault = inner.count_and_pick_fault(Endpoint::OAuthToken);
        let reply = match fault {
            Some(Fault::ServerError(s)) => Reply::error(
                s,
                i64::from(s),
                "Internal server error. Please try again later.",
            ),
            Some(Fault::TooManyRequests) => {
                let mut r = Reply::error(429, 429, "Too many requests. Please try again later.");
                r.limited = Some(LimitKind::Injected);
                r
            }
            other => {
                if let Some(Fault::Slow(d)) = other {
                    delay = Some(d);
                }
                if other == Some(Fault::RevokeTokens) {
                    inner.tokens.clear();
                }
                inner.oauth_token(
                    basic,
                    params.get("grant_type").map(String::as_str),
                    params.get("account_id").map(String::as_str),
                    now,
                    &api_url,
                )
            }
        };
        record(&mut inner, &req, Some(Endpoint::OAuthToken), &reply, now);
        reply
    };
    if let Some(d) = delay {
        tokio::time::sleep(d).await;
    }
    to_response(reply)
}

macro_rules! handler {
    ($name:ident, $ep:expr, |$inner:ident, $input:ident| $body:expr) => {
        async fn $name(data: web::Data<Shared>, req: HttpRequest, body: Bytes) -> HttpResponse {
            handle(
                data,
                req,
                body,
                $ep,
                |$inner: &mut Inner, $input: &Input| $body,
            )
            .await
        }
    };
}

handler!(create_meeting, Endpoint::CreateMeeting, |s, i| s
    .create_meeting(i.kind, &i.id(1), &i.body, i.now));
handler!(get_meeting, Endpoint::GetMeeting, |s, i| s
    .get_meeting(i.kind, &i.id(0)));
handler!(update_meeting, Endpoint::UpdateMeeting, |s, i| s
    .update_meeting(i.kind, &i.id(0), &i.body, i.now));
handler!(delete_meeting, Endpoint::DeleteMeeting, |s, i| s
    .delete_meeting(i.kind, &i.id(0)));
handler!(add_registrant, Endpoint::AddRegistrant, |s, i| s
    .add_registrant(i.kind, &i.id(1), &i.body, i.now));
handler!(batch_registrants, Endpoint::BatchRegistrants, |s, i| s
    .batch_registrants(i.kind, &i.id(1), &i.body, i.now));
handler!(list_registrants, Endpoint::ListRegistrants, |s, i| s
    .list_registrants(i.kind, &i.id(1), &i.query, i.now));
handler!(get_registrant, Endpoint::GetRegistrant, |s, i| s
    .get_registrant(i.kind, &i.id(2), &i.id(0)));
handler!(delete_registrant, Endpoint::DeleteRegistrant, |s, i| s
    .delete_registrant(i.kind, &i.id(2), &i.id(0)));
handler!(
    registrant_status,
    Endpoint::UpdateRegistrantStatus,
    |s, i| s.update_registrant_status(i.kind, &i.id(2), &i.body, i.now)
);
handler!(past_instances, Endpoint::PastInstances, |s, i| s
    .past_instances(i.kind, &i.id(1)));
handler!(past_participants, Endpoint::PastParticipants, |s, i| {
    let raw = seg(&i.req, 1);
    let key = decode_path_id(&raw);
    let shown = key.clone().unwrap_or(raw);
    s.participants(i.kind, key.as_deref(), &shown, false, &i.query, i.now)
});
handler!(past_meeting, Endpoint::PastMeeting, |s, i| {
    let raw = seg(&i.req, 0);
    let key = decode_path_id(&raw);
    let shown = key.clone().unwrap_or(raw);
    s.past_meeting(i.kind, key.as_deref(), &shown)
});
handler!(report_participants, Endpoint::ReportParticipants, |s, i| {
    let raw = seg(&i.req, 1);
    let key = decode_path_id(&raw);
    let shown = key.clone().unwrap_or(raw);
    s.participants(i.kind, key.as_deref(), &shown, true, &i.query, i.now)
});

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The page a registrant's `join_url` opens: tells who would join, and records the click.
async fn join_page(data: web::Data<Shared>, req: HttpRequest) -> HttpResponse {
    let id: u64 = seg(&req, 0).parse().unwrap_or(0);
    let q = query(&req);
    let tk = q.get("tk").cloned().unwrap_or_default();
    let mut inner = data.lock();
    match inner.by_tk(id, &tk) {
        Some((topic, kind, r)) => {
            inner.clicks.push((id, r.id.clone()));
            HttpResponse::Ok()
                .content_type("text/html; charset=utf-8")
                .body(format!(
                    "<!doctype html><meta charset=utf-8><title>Zoom simulator</title>\
                     <h1>Zoom simulator</h1><p>This is where Zoom would open {kind} \
                     <b>{id}</b> (&ldquo;{}&rdquo;) for registrant <b>{} {}</b> \
                     &lt;{}&gt;, registrant id <code>{}</code>.</p>",
                    html_escape(&topic),
                    html_escape(&r.first_name),
                    html_escape(&r.last_name),
                    html_escape(&r.email),
                    html_escape(&r.id)
                ))
        }
        None => HttpResponse::NotFound()
            .content_type("text/html; charset=utf-8")
            .body(
                "<!doctype html><meta charset=utf-8><title>Zoom simulator</title>\
                 <h1>Zoom simulator</h1><p>This registration link is not valid.</p>",
            ),
    }
}

/// Registers every route on `cfg` (relative to wherever it is mounted).
pub(crate) fn configure(shared: Arc<Shared>, cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::Data::from(shared))
        .route("/oauth/token", web::post().to(oauth_token))
        .route("/w/{id}", web::get().to(join_page))
        .service(
            web::scope("/v2")
                .route("/users/{user}/meetings", web::post().to(create_meeting))
                .route("/users/{user}/webinars", web::post().to(create_meeting))
                .route("/meetings/{id}", web::get().to(get_meeting))
                .route("/meetings/{id}", web::patch().to(update_meeting))
                .route("/meetings/{id}", web::delete().to(delete_meeting))
                .route("/webinars/{id}", web::get().to(get_meeting))
                .route("/webinars/{id}", web::patch().to(update_meeting))
                .route("/webinars/{id}", web::delete().to(delete_meeting))
                .route("/meetings/{id}/registrants", web::post().to(add_registrant))
                .route(
                    "/meetings/{id}/registrants",
                    web::get().to(list_registrants),
                )
                .route("/webinars/{id}/registrants", web::post().to(add_registrant))
                .route(
                    "/webinars/{id}/registrants",
                    web::get().to(list_registrants),
                )
                .route(
                    "/meetings/{id}/registrants/status",
                    web::put().to(registrant_status),
                )
                .route(
                    "/webinars/{id}/registrants/status",
                    web::put().to(registrant_status),
                )
                .route(
                    "/meetings/{id}/registrants/{rid}",
                    web::get().to(get_registrant),
                )
                .route(
                    "/meetings/{id}/registrants/{rid}",
                    web::delete().to(delete_registrant),
                )
                .route(
                    "/webinars/{id}/registrants/{rid}",
                    web::get().to(get_registrant),
                )
                .route(
                    "/webinars/{id}/registrants/{rid}",
                    web::delete().to(delete_registrant),
                )
                .route(
                    "/meetings/{id}/batch_registrants",
                    web::post().to(batch_registrants),
                )
                .route(
                    "/webinars/{id}/batch_registrants",
                    web::post().to(batch_registrants),
                )
                .route("/past_meetings/{id}", web::get().to(past_meeting))
                .route(
                    "/past_meetings/{id}/instances",
                    web::get().to(past_instances),
                )
                .route(
                    "/past_webinars/{id}/instances",
                    web::get().to(past_instances),
                )
                .route(
                    "/past_meetings/{id}/participants",
                    web::get().to(past_participants),
                )
                .route(
                    "/past_webinars/{id}/participants",
                    web::get().to(past_participants),
                )
                .route(
                    "/report/meetings/{id}/participants",
                    web::get().to(report_participants),
                )
                .route(
                    "/report/webinars/{id}/participants",
                    web::get().to(report_participants),
                ),
        );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_decoding_follows_zoom_rule() {
        assert_eq!(
            decode_path_id("%252Fab%252F%252Fc%253D%253D").as_deref(),
            Some("/ab//c==")
        );
        assert_eq!(decode_path_id("%2Fab%2F%2Fc%3D%3D"), None);
        assert_eq!(decode_path_id("ab%2Bc%3D%3D").as_deref(), Some("ab+c=="));
        assert_eq!(decode_path_id("ab+c==").as_deref(), Some("ab+c=="));
        assert_eq!(decode_path_id("ab%2Fc%3D%3D").as_deref(), Some("ab/c=="));
        assert_eq!(
            decode_path_id("85393847045").as_deref(),
            Some("85393847045")
        );
    }
}
