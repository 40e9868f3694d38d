//! Short, readable HTML pages for people who open a personal join link in a browser and hit
//! an error (expired, tampered, Zoom asking us to wait). Everything else answers JSON.

use actix_web::{
    HttpRequest, HttpResponse, ResponseError,
    http::header::{self, ContentType},
};

use crate::error::ApiError;

/// Whether the client prefers HTML: its `Accept` header names `text/html` (browsers do) and
/// does not put JSON first.
pub(crate) fn wants_html(req: &HttpRequest) -> bool {
    let Some(accept) = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let mut html = None;
    let mut json = None;
    for (index, item) in accept.split(',').enumerate() {
        let media = item.split(';').next().unwrap_or("").trim();
        if media.eq_ignore_ascii_case("text/html")
            || media.eq_ignore_ascii_case("application/xhtml+xml")
        {
            html.get_or_insert(index);
        } else if media.eq_ignore_ascii_case("application/json") {
            json.get_or_insert(index);
        }
    }
    match (html, json) {
        (Some(h), Some(j)) => h < j,
        (Some(_), None) => true,
        _ => false,
    }
}

/// The error as JSON, or as a small HTML page when the client wants HTML. Status and
/// `Retry-After` are the same either way.
pub(crate) fn error_for(req: &HttpRequest, err: ApiError) -> HttpResponse {
    if !wants_html(req) {
        return err.error_response();
    }
    err.log();
    let (title, text) = page_text(&err);
    let body = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{title}</title>\
<style>body{{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;\
line-height:1.5;color:#222}}h1{{font-size:1.4rem}}code{{color:#666}}</style></head>\
<body><h1>{title}</h1><p>{text}</p><p><code>{code}</code></p></body></html>\n",
        title = escape(title),
        text = escape(text),
        code = escape(err.code()),
    );
    let mut builder = err.response_builder();
    builder
        .content_type(ContentType::html())
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body)
}

fn page_text(err: &ApiError) -> (&'static str, &'static str) {
    match err {
        ApiError::JoinLinkExpired => (
            "This join link has expired",
            "Personal join links work for a limited time. Go back to your course page and \
             open the meeting link again to get a fresh one.",
        ),
        ApiError::InvalidJoinToken => (
            "This join link is not valid",
            "The link is incomplete or has been changed. Copy the whole link again from your \
             course page, or open the meeting from there.",
        ),
        ApiError::RateLimited { .. }
        | ApiError::ZoomUnavailable { .. }
        | ApiError::StorageUnavailable { .. } => (
            "Please try again in a moment",
            "We could not prepare your Zoom link right now. Wait a few seconds and reload this \
             page.",
        ),
        ApiError::NotFound(_) => (
            "This meeting is no longer available",
            "The meeting this link was made for cannot be found. Ask your instructor for the \
             current link.",
        ),
        ApiError::Forbidden(_) => (
            "You cannot join this meeting",
            "Your registration for this meeting was cancelled or refused. Ask your \
             instructor.",
        ),
        _ => (
            "Something went wrong",
            "We could not open the meeting. Please try again later.",
        ),
    }
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn req(accept: &str) -> HttpRequest {
        TestRequest::default()
            .insert_header((header::ACCEPT, accept))
            .to_http_request()
    }

    #[test]
    fn browsers_get_html_api_clients_json() {
        assert!(wants_html(&req(
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
        )));
        assert!(!wants_html(&req("application/json")));
        assert!(!wants_html(&req("application/json, text/html")));
        assert!(!wants_html(&req("*/*")));
        assert!(!wants_html(&TestRequest::default().to_http_request()));
    }

    #[test]
    fn pages_keep_status_and_retry_after() {
        let resp = error_for(&req("text/html"), ApiError::JoinLinkExpired);
        assert_eq!(resp.status().as_u16(), 410);
        assert_eq!(
            resp.headers().get(header::CONTENT_TYPE).unwrap(),
            "text/html; charset=utf-8"
        );
        let resp = error_for(&req("text/html"), ApiError::storage_unavailable());
        assert_eq!(resp.status().as_u16(), 503);
        assert!(resp.headers().contains_key(header::RETRY_AFTER));
    }

    #[test]
    fn escaping() {
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
