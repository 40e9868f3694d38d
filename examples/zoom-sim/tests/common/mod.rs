//! Shared test helpers: an independent HMAC-SHA256, a capturing webhook receiver, and a small
//! Zoom REST client.
#![allow(dead_code, unreachable_pub, missing_docs)]

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use attend_zoom_sim::{SimHandle, Simulator};
use base64::Engine as _;
use sha2::{Digest, Sha256};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// HMAC-SHA256 written from RFC 2104 on top of the plain SHA-256 digest, so the simulator's
/// signing (which uses the `hmac` crate) is checked against a separate implementation.
pub fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let ipad: Vec<u8> = k.iter().map(|b| b ^ 0x36).collect();
    let opad: Vec<u8> = k.iter().map(|b| b ^ 0x5c).collect();
    let inner = Sha256::new()
        .chain_update(&ipad)
        .chain_update(msg)
        .finalize();
    let outer = Sha256::new()
        .chain_update(&opad)
        .chain_update(inner)
        .finalize();
    outer.into()
}

/// `v0=` + hex HMAC of `v0:{ts}:{body}`, independently computed.
pub fn expected_signature(secret: &str, ts: &str, body: &[u8]) -> String {
    let mut msg = format!("v0:{ts}:").into_bytes();
    msg.extend_from_slice(body);
    format!("v0={}", hex::encode(hmac_sha256(secret.as_bytes(), &msg)))
}

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Captured {
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub status: u16,
}

impl Captured {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("webhook body is JSON")
    }
}

/// A webhook receiver that records everything and answers 503 to the first `fail_first`
/// requests, then 200.
pub struct Receiver {
    pub url: String,
    pub got: Arc<Mutex<Vec<Captured>>>,
    handle: actix_web::dev::ServerHandle,
}

#[derive(Clone)]
struct RecvState {
    got: Arc<Mutex<Vec<Captured>>>,
    fail_first: usize,
    fail_status: u16,
    seen: Arc<AtomicUsize>,
}

async fn receive(req: HttpRequest, body: web::Bytes, st: web::Data<RecvState>) -> HttpResponse {
    let n = st.seen.fetch_add(1, Ordering::SeqCst);
    let status = if n < st.fail_first {
        st.fail_status
    } else {
        200
    };
    st.got.lock().unwrap().push(Captured {
        headers: req
            .headers()
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_owned()))
            .collect(),
        body: body.to_vec(),
        status,
    });
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap()).finish()
}

/// Answers `endpoint.url_validation` with an independently computed `encryptedToken`.
async fn crc(body: web::Bytes) -> HttpResponse {
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let plain = v["payload"]["plainToken"].as_str().unwrap().to_owned();
    let enc = hex::encode(hmac_sha256(CRC_SECRET.as_bytes(), plain.as_bytes()));
    HttpResponse::Ok().json(serde_json::json!({"plainToken": plain, "encryptedToken": enc}))
}

/// Secret the `/crc` route uses.
pub const CRC_SECRET: &str = "crc-secret";

impl Receiver {
    pub async fn start(fail_first: usize) -> Receiver {
        Self::start_with(fail_first, 503).await
    }

    pub async fn start_with(fail_first: usize, fail_status: u16) -> Receiver {
        let st = RecvState {
            got: Arc::new(Mutex::new(Vec::new())),
            fail_first,
            fail_status,
            seen: Arc::new(AtomicUsize::new(0)),
        };
        let got = st.got.clone();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(web::Data::new(st.clone()))
                .route("/hook", web::post().to(receive))
                .route("/crc", web::post().to(crc))
        })
        .workers(1)
        .disable_signals()
        .listen(listener)
        .unwrap()
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Receiver {
            url: format!("http://{addr}/hook"),
            got,
            handle,
        }
    }

    pub fn captured(&self) -> Vec<Captured> {
        self.got.lock().unwrap().clone()
    }

    pub async fn stop(self) {
        self.handle.stop(false).await;
    }
}

/// A tiny Zoom REST client for the tests.
pub struct Api {
    pub http: reqwest::Client,
    pub base: String,
    pub token: String,
}

pub async fn token(zoom: &Simulator, oauth_url: &str) -> String {
    let c = zoom.credentials();
    let basic = base64::engine::general_purpose::STANDARD
        .encode(format!("{}:{}", c.client_id, c.client_secret));
    let resp = reqwest::Client::new()
        .post(format!(
            "{oauth_url}?grant_type=account_credentials&account_id={}",
            c.account_id
        ))
        .header("authorization", format!("Basic {basic}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let v: serde_json::Value = resp.json().await.unwrap();
    v["access_token"].as_str().unwrap().to_owned()
}

impl Api {
    pub async fn connect(zoom: &SimHandle) -> Api {
        Api {
            http: reqwest::Client::new(),
            base: zoom.base_url(),
            token: token(zoom, &zoom.oauth_url()).await,
        }
    }

    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> (u16, reqwest::header::HeaderMap, serde_json::Value) {
        let mut rb = self
            .http
            .request(method, format!("{}{}", self.base, path))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let resp = rb.send().await.unwrap();
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap();
        let json = if text.is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::from_str(&text).unwrap()
        };
        (status, headers, json)
    }

    pub async fn get(&self, path: &str) -> (u16, reqwest::header::HeaderMap, serde_json::Value) {
        self.call(reqwest::Method::GET, path, None).await
    }

    pub async fn post(
        &self,
        path: &str,
        body: serde_json::Value,
    ) -> (u16, reqwest::header::HeaderMap, serde_json::Value) {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }
}

/// Zoom's UUID path rule: double-encode when it begins with `/` or contains `//`.
pub fn encode_uuid(uuid: &str) -> String {
    let once: String =
        percent_encoding::utf8_percent_encode(uuid, percent_encoding::NON_ALPHANUMERIC).to_string();
    if uuid.starts_with('/') || uuid.contains("//") {
        percent_encoding::utf8_percent_encode(&once, percent_encoding::NON_ALPHANUMERIC).to_string()
    } else {
        once
    }
}
