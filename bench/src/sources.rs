//! The request sources the suite loads targets with.

use std::sync::Mutex;

use crate::events::{EventFactory, signature};
use crate::load::RequestSource;

/// Correctly signed webhook deliveries, signed when sent (fresh `x-zm-request-timestamp`),
/// with the headers Zoom sends. Either an endless stream of distinct events from a factory,
/// or a fixed list of bodies.
#[derive(Debug)]
pub struct WebhookSource {
    url: String,
    secret: String,
    bodies: Bodies,
    acked: Option<Mutex<Vec<u64>>>,
}

#[derive(Debug)]
enum Bodies {
    Stream(Box<EventFactory>),
    List(Vec<String>),
}

impl WebhookSource {
    /// Event `n` is `factory.nth(n)`.
    pub fn stream(
        url: impl Into<String>,
        secret: impl Into<String>,
        factory: EventFactory,
    ) -> Self {
        Self {
            url: url.into(),
            secret: secret.into(),
            bodies: Bodies::Stream(Box::new(factory)),
            acked: None,
        }
    }

    /// Event `n` is `bodies[n]` (run it with `max_requests = bodies.len()`).
    pub fn list(url: impl Into<String>, secret: impl Into<String>, bodies: Vec<String>) -> Self {
        Self {
            url: url.into(),
            secret: secret.into(),
            bodies: Bodies::List(bodies),
            acked: None,
        }
    }

    /// Remembers which requests were answered 200 (see [`acked`](Self::acked)).
    #[must_use]
    pub fn recording(mut self) -> Self {
        self.acked = Some(Mutex::new(Vec::new()));
        self
    }

    /// The numbers of the requests answered 200, sorted (empty unless [`recording`](Self::recording)).
    pub fn acked(&self) -> Vec<u64> {
        let mut v = self
            .acked
            .as_ref()
            .map(|m| m.lock().map(|g| g.clone()).unwrap_or_default())
            .unwrap_or_default();
        v.sort_unstable();
        v
    }

    /// The body of request `n`.
    pub fn body(&self, n: u64) -> String {
        match &self.bodies {
            Bodies::Stream(f) => f.nth(n),
            Bodies::List(list) => list
                .get(usize::try_from(n).unwrap_or(usize::MAX))
                .cloned()
                .unwrap_or_default(),
        }
    }
}

impl RequestSource for WebhookSource {
    fn request(&self, n: u64, client: &reqwest::Client) -> reqwest::RequestBuilder {
        let body = self.body(n);
        let ts = chrono::Utc::now().timestamp().to_string();
        let sig = signature(&self.secret, &ts, body.as_bytes());
        client
            .post(&self.url)
            .header("content-type", "application/json; charset=utf-8")
            .header("user-agent", "Zoom Marketplace/1.0a")
            .header("x-zm-request-timestamp", ts)
            .header("x-zm-signature", sig)
            .body(body)
    }

    fn finished(&self, n: u64, status: Option<u16>) {
        if status == Some(200)
            && let Some(acked) = &self.acked
            && let Ok(mut v) = acked.lock()
        {
            v.push(n);
        }
    }
}

/// `GET` of a fixed list of URLs, round robin; success is the given status (302 for join
/// links).
#[derive(Debug)]
pub struct GetSource {
    urls: Vec<String>,
    expect: u16,
}

impl GetSource {
    /// Round robin over `urls`, expecting `expect`.
    pub fn new(urls: Vec<String>, expect: u16) -> Self {
        Self { urls, expect }
    }
}

impl RequestSource for GetSource {
    fn request(&self, n: u64, client: &reqwest::Client) -> reqwest::RequestBuilder {
        let i = (n % self.urls.len().max(1) as u64) as usize;
        client.get(
            self.urls
                .get(i)
                .map_or("http://127.0.0.1:9/", String::as_str),
        )
    }

    fn ok(&self, status: u16) -> bool {
        status == self.expect
    }
}
