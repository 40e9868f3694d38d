//! The test host: attend with the in-memory store and directory, "Zoom" played by the
//! simulator over real HTTP, the scope mounted at `/attend`, and helpers for tokens,
//! requests and signed webhooks.

use std::{sync::Arc, time::Duration};

use actix_web::{
    App,
    body::MessageBody,
    dev::{Service, ServiceResponse},
    http::{StatusCode, header::HeaderMap},
    test,
    web::Bytes,
};
use attend_actix::{
    AttendConfig,
    auth::{Authenticator, Claims, JwtAuthenticator, Role},
};
use attend_core::{
    join_token::JwtSecret,
    model::UserId,
    service::{Attend, RegistrationOptions, ZoomAccount},
    store::HostUser,
    testing::memory::{MemoryDirectory, MemoryStore},
    zoom::{
        RetryPolicy, S2SCredentials, ZoomClient, ZoomClientConfig, signature::compute_signature,
    },
};
use attend_zoom_sim::{MeetingSpec, SimConfig, SimHandle, Simulator};

pub(crate) const JWT_SECRET: &[u8] = b"attend-actix-tests-jwt-secret-0123456789";
pub(crate) const WEBHOOK_SECRET: &str = "attend-actix-tests-webhook-secret";
pub(crate) const GROUP: &str = "course-101";
pub(crate) const OTHER_GROUP: &str = "course-202";
/// Students u1..u5 exist in the host's directory, with emails `{id}@lms.test`.
pub(crate) const STUDENTS: [&str; 5] = ["u1", "u2", "u3", "u4", "u5"];

/// Everything a route test needs.
pub(crate) struct Harness {
    pub(crate) zoom: SimHandle,
    pub(crate) store: Arc<MemoryStore>,
    pub(crate) attend: Attend,
    pub(crate) auth: JwtAuthenticator,
    pub(crate) config: AttendConfig,
}

/// Options that differ between tests.
#[derive(Clone, Debug)]
pub(crate) struct Options {
    pub(crate) inline_limit: usize,
    pub(crate) webhook_body_limit: Option<usize>,
    pub(crate) authenticator: Option<Arc<dyn Authenticator>>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            inline_limit: 30,
            webhook_body_limit: None,
            authenticator: None,
        }
    }
}

impl Harness {
    pub(crate) async fn new() -> Self {
        Self::with(Options::default()).await
    }

    pub(crate) async fn with(options: Options) -> Self {
        let zoom = Simulator::start(SimConfig::default())
            .await
            .expect("the Zoom simulator starts");
        let creds = zoom.credentials();
        let client = ZoomClient::new(
            ZoomClientConfig {
                api_base: zoom.base_url(),
                oauth_url: zoom.oauth_url(),
                request_timeout: Duration::from_secs(10),
                // One attempt: a fault injected by a test reaches the service at once.
                retry: RetryPolicy {
                    max_attempts: 1,
                    base_delay: Duration::from_millis(10),
                    max_delay: Duration::from_millis(10),
                },
                pacing: None,
            },
            S2SCredentials::new(creds.account_id, creds.client_id, creds.client_secret),
        )
        .expect("the Zoom client builds");
        let store = Arc::new(MemoryStore::new());
        let directory = Arc::new(MemoryDirectory::with_users(
            STUDENTS
                .iter()
                .chain(["t1", "t2", "a1"].iter())
                .map(|id| HostUser {
                    id: UserId::from(*id),
                    email: Some(format!("{id}@lms.test")),
                    name: format!("User {id}"),
                }),
        ));
        let mut builder = Attend::builder()
            .store_arc(store.clone())
            .directory_arc(directory.clone())
            .zoom_account(
                ZoomAccount::new("main")
                    .webhook_secret(WEBHOOK_SECRET)
                    .api(Arc::new(client)),
            )
            .public_url("http://lms.test")
            .mount_prefix("/attend")
            .jwt_secret(JwtSecret::new(JWT_SECRET.to_vec()).expect("long enough"))
            .registration(RegistrationOptions {
                inline_limit: options.inline_limit,
                ..RegistrationOptions::default()
            });
        if let Some(limit) = options.webhook_body_limit {
            builder = builder.webhook_body_limit(limit);
        }
        let attend = builder.build().expect("attend builds");
        let auth = JwtAuthenticator::new(JWT_SECRET);
        let authenticator = options
            .authenticator
            .unwrap_or_else(|| Arc::new(auth.clone()));
        let config = AttendConfig::builder(attend.clone(), authenticator).build();
        Self {
            zoom,
            store,
            attend,
            auth,
            config,
        }
    }

    /// A bearer token valid for an hour.
    pub(crate) fn token(&self, sub: &str, role: Role, groups: &[&str]) -> String {
        self.auth
            .issue(&Claims {
                sub: sub.to_owned(),
                role,
                groups: groups.iter().map(|g| (*g).to_owned()).collect(),
                exp: chrono::Utc::now().timestamp() + 3600,
            })
            .expect("signs")
    }

    pub(crate) fn admin(&self) -> String {
        self.token("a1", Role::Admin, &[])
    }

    /// Instructor of [`GROUP`].
    pub(crate) fn instructor(&self) -> String {
        self.token("t1", Role::Instructor, &[GROUP])
    }

    /// Instructor of [`OTHER_GROUP`] only.
    pub(crate) fn other_instructor(&self) -> String {
        self.token("t2", Role::Instructor, &[OTHER_GROUP])
    }

    pub(crate) fn student(&self, id: &str) -> String {
        self.token(id, Role::Student, &[])
    }

    /// A Zoom meeting that exists in the simulator, scheduled an hour from now.
    pub(crate) fn zoom_meeting(&self, topic: &str) -> u64 {
        let start = chrono::Utc::now() + chrono::Duration::hours(1);
        self.zoom
            .create_meeting(&MeetingSpec::scheduled(topic, start, 60))
            .expect("the simulator creates the meeting")
            .id
    }
}

/// The app under test: the attend scope at `/attend`.
pub(crate) async fn app(
    config: &AttendConfig,
) -> impl Service<
    actix_http::Request,
    Response = ServiceResponse<impl MessageBody>,
    Error = actix_web::Error,
> {
    test::init_service(App::new().service(attend_actix::scope("/attend", config.clone()))).await
}

/// A finished response: status, headers, body.
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

impl Answer {
    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// The `error.code` of an error answer.
    pub(crate) fn code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("no error code in {}", String::from_utf8_lossy(&self.body)))
            .to_owned()
    }

    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

pub(crate) async fn send<S, B>(app: &S, req: test::TestRequest) -> Answer
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let res = test::call_service(app, req.to_request()).await;
    let status = res.status();
    let headers = res.headers().clone();
    let body = test::read_body(res).await;
    Answer {
        status,
        headers,
        body,
    }
}

pub(crate) fn get(uri: &str, token: &str) -> test::TestRequest {
    test::TestRequest::get()
        .uri(uri)
        .insert_header(("authorization", format!("Bearer {token}")))
}

pub(crate) fn delete(uri: &str, token: &str) -> test::TestRequest {
    test::TestRequest::delete()
        .uri(uri)
        .insert_header(("authorization", format!("Bearer {token}")))
}

pub(crate) fn post_json(uri: &str, token: &str, body: serde_json::Value) -> test::TestRequest {
    test::TestRequest::post()
        .uri(uri)
        .insert_header(("authorization", format!("Bearer {token}")))
        .set_json(body)
}

pub(crate) fn patch_json(uri: &str, token: &str, body: serde_json::Value) -> test::TestRequest {
    test::TestRequest::patch()
        .uri(uri)
        .insert_header(("authorization", format!("Bearer {token}")))
        .set_json(body)
}

/// A webhook delivery signed as Zoom signs it, stamped now.
pub(crate) fn signed_webhook(body: &str) -> test::TestRequest {
    let ts = chrono::Utc::now().timestamp().to_string();
    let signature = compute_signature(&WEBHOOK_SECRET.into(), &ts, body.as_bytes());
    test::TestRequest::post()
        .uri("/attend/webhooks/zoom")
        .insert_header(("content-type", "application/json"))
        .insert_header(("x-zm-request-timestamp", ts))
        .insert_header(("x-zm-signature", signature))
        .set_payload(body.to_owned())
}

/// Links a fresh simulator meeting to [`GROUP`] as admin; returns attend's meeting id and
/// the Zoom meeting id.
pub(crate) async fn linked_meeting<S, B>(h: &Harness, app: &S) -> (String, u64)
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let zoom_id = h.zoom_meeting("Biology 101");
    let answer = send(
        app,
        post_json(
            "/attend/meetings",
            &h.admin(),
            serde_json::json!({"group": GROUP, "kind": "meeting", "zoom_meeting_id": zoom_id}),
        ),
    )
    .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text());
    let id = answer.json()["id"].as_str().expect("id").to_owned();
    (id, zoom_id)
}

/// Registers `users` for the meeting as admin, expecting 200.
pub(crate) async fn register<S, B>(h: &Harness, app: &S, meeting: &str, users: &[&str])
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let answer = send(
        app,
        post_json(
            &format!("/attend/meetings/{meeting}/registrations"),
            &h.admin(),
            serde_json::json!({ "user_ids": users }),
        ),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
}
