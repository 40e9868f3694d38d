//! Shared set-up of the service tests: the in-memory store and directory, the Zoom simulator
//! as "Zoom" (over HTTP, through the real REST client), and helpers to feed its webhooks to
//! the service exactly as Zoom would sign them.

#![allow(dead_code, unreachable_pub)]

pub mod faulty;

use std::sync::Arc;
use std::time::Duration;

use attend_core::join_token::JwtSecret;
use attend_core::model::{MeetingId, MeetingKind, UserId, ZoomMeetingId};
use attend_core::service::{
    Attend, AttendBuilder, Clock, LinkMeeting, ManualClock, Meeting, ReconcileOptions,
    RegistrationOptions, WebhookAck, ZoomAccount,
};
use attend_core::store::{HostUser, Store};
use attend_core::testing::memory::{MemoryDirectory, MemoryStore};
use attend_core::zoom::{
    RatePlan, RetryPolicy, S2SCredentials, WebhookHeaders, ZoomClient, ZoomClientConfig,
};
use attend_zoom_sim::{MeetingSpec, Scenario, SimConfig, SimHandle, Timeline};
use chrono::{DateTime, TimeDelta, Utc};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

pub const WEBHOOK_SECRET: &str = "test-webhook-secret-token";
pub const SYNTHETIC_DOMAIN: &str = "attend.lms.example";

/// Everything a service test needs.
pub struct World {
    pub zoom: SimHandle,
    pub store: MemoryStore,
    pub directory: MemoryDirectory,
    pub clock: Arc<ManualClock>,
    pub attend: Attend,
}

pub struct Options {
    pub sim: SimConfig,
    pub registration: RegistrationOptions,
    pub reconcile: ReconcileOptions,
    pub pacing: Option<RatePlan>,
    pub store: Option<Arc<dyn Store>>,
    pub customize: Option<Box<dyn FnOnce(AttendBuilder) -> AttendBuilder>>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            sim: SimConfig::default(),
            registration: RegistrationOptions {
                synthetic_email_domain: Some(SYNTHETIC_DOMAIN.into()),
                ..RegistrationOptions::default()
            },
            reconcile: ReconcileOptions {
                delay: Duration::ZERO,
                ..ReconcileOptions::default()
            },
            pacing: Some(RatePlan::Pro),
            store: None,
            customize: None,
        }
    }
}

/// The builder every test service starts from: its store, directory, Zoom (the simulator,
/// through the real client) and clock.
fn builder_over(
    store: Arc<dyn Store>,
    directory: &MemoryDirectory,
    zoom: &SimHandle,
    clock: &Arc<ManualClock>,
    pacing: Option<RatePlan>,
) -> AttendBuilder {
    Attend::builder()
        .store_arc(store)
        .directory(directory.clone())
        .zoom_account(
            ZoomAccount::new("main")
                .webhook_secret(WEBHOOK_SECRET)
                .api(Arc::new(client_for(zoom, pacing))),
        )
        .public_url("https://lms.example")
        .mount_prefix("/attend")
        .jwt_secret(JwtSecret::new(b"0123456789abcdef0123456789abcdef-test".to_vec()).unwrap())
        .clock(clock.clone())
}

pub fn client_for(zoom: &SimHandle, pacing: Option<RatePlan>) -> ZoomClient {
    let creds = zoom.credentials();
    ZoomClient::new(
        ZoomClientConfig {
            api_base: zoom.base_url(),
            oauth_url: zoom.oauth_url(),
            request_timeout: Duration::from_secs(10),
            retry: RetryPolicy::default(),
            pacing,
        },
        S2SCredentials::new(creds.account_id, creds.client_id, creds.client_secret),
    )
    .expect("client builds")
}

impl World {
    pub async fn start() -> World {
        World::with(Options::default()).await
    }

    pub async fn with(options: Options) -> World {
        let zoom = attend_zoom_sim::Simulator::start(options.sim)
            .await
            .expect("simulator starts");
        let store = MemoryStore::new();
        let directory = MemoryDirectory::new();
        let clock = Arc::new(ManualClock::new(whole_seconds(Utc::now())));
        let shared: Arc<dyn Store> = options
            .store
            .unwrap_or_else(|| Arc::new(store.clone()) as Arc<dyn Store>);
        let mut builder = builder_over(shared, &directory, &zoom, &clock, options.pacing)
            .registration(options.registration)
            .reconcile(options.reconcile);
        if let Some(customize) = options.customize {
            builder = customize(builder);
        }
        let attend = builder.build().expect("service builds");
        World {
            zoom,
            store,
            directory,
            clock,
            attend,
        }
    }

    /// Another service over this world's in-memory store, directory, Zoom and clock, with
    /// default options changed by `customize`: the host restarted with other settings, or a
    /// second process sharing the database.
    pub fn twin(&self, customize: impl FnOnce(AttendBuilder) -> AttendBuilder) -> Attend {
        let store: Arc<dyn Store> = Arc::new(self.store.clone());
        customize(builder_over(
            store,
            &self.directory,
            &self.zoom,
            &self.clock,
            None,
        ))
        .build()
        .expect("service builds")
    }

    /// Adds host users `u1..=n` (name "Student {i}", email `student{i}@school.example`).
    pub fn add_students(&self, n: usize) -> Vec<UserId> {
        (1..=n)
            .map(|i| {
                let id = UserId::new(format!("u{i}"));
                self.directory.insert(HostUser {
                    id: id.clone(),
                    email: Some(format!("student{i}@school.example")),
                    name: format!("Student {i}"),
                });
                id
            })
            .collect()
    }

    /// A scheduled Zoom meeting created directly at the simulator (as a host admin would),
    /// then linked by the service.
    pub async fn linked_meeting(&self, restrict: bool) -> (Meeting, u64) {
        let start = Utc::now() + TimeDelta::days(1);
        let view = self
            .zoom
            .create_meeting(&MeetingSpec::scheduled("Biology 101", start, 60))
            .expect("sim meeting");
        let meeting = self
            .attend
            .link_meeting(LinkMeeting {
                group: "bio-101".into(),
                kind: MeetingKind::Meeting,
                zoom_meeting_id: Some(ZoomMeetingId(view.id as i64)),
                create: None,
                restrict_to_registered: Some(restrict),
                policy: None,
                account: None,
            })
            .await
            .expect("meeting links");
        (meeting, view.id)
    }

    /// A linked meeting with `students` host users (`u1..`) registered at the simulator, and
    /// the typical class (seed 42) of them starting at `start`, recorded by the simulator
    /// (not yet delivered): the meeting, the scenario and its timeline.
    pub async fn typical_class(
        &self,
        students: usize,
        start: DateTime<Utc>,
    ) -> (Meeting, Scenario, Timeline) {
        let users = self.add_students(students);
        let (m, zoom_id) = self.linked_meeting(false).await;
        self.attend.register_users(&m.id, &users).await.unwrap();
        self.attend.drain().await.unwrap();
        let emails: Vec<String> = self
            .zoom
            .registrants(zoom_id)
            .into_iter()
            .map(|r| r.email)
            .collect();
        assert_eq!(emails.len(), students);
        let scenario = Scenario::typical_class(zoom_id, &emails, start, 42);
        let timeline = self.zoom.timeline(&scenario).unwrap();
        self.zoom.record(&timeline);
        (m, scenario, timeline)
    }

    /// Signs `body` as Zoom would, now (service clock), and hands it to the service.
    pub async fn deliver(
        &self,
        body: &str,
    ) -> Result<WebhookAck, attend_core::service::ServiceError> {
        let ts = self.clock.now().timestamp().to_string();
        let sig = attend_zoom_sim::sign(WEBHOOK_SECRET, &ts, body.as_bytes());
        self.attend
            .ingest_webhook(WebhookHeaders::new(Some(&sig), Some(&ts)), body.as_bytes())
            .await
    }

    /// Delivers every event of `timeline`: in order once, or (with a seed) each 1–3 times
    /// in a random order. Every delivery must be acknowledged.
    pub async fn deliver_timeline(&self, timeline: &Timeline, chaos: Option<u64>) -> usize {
        let mut bodies: Vec<&str> = Vec::new();
        match chaos {
            None => bodies.extend(timeline.events.iter().map(|e| e.body.as_str())),
            Some(seed) => {
                let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
                for e in &timeline.events {
                    for _ in 0..rng.random_range(1..=3) {
                        bodies.push(e.body.as_str());
                    }
                }
                bodies.shuffle(&mut rng);
            }
        }
        for body in &bodies {
            self.deliver(body).await.expect("delivery acknowledged");
        }
        bodies.len()
    }

    pub fn synthetic_email(user: &str) -> String {
        format!("{user}@{SYNTHETIC_DOMAIN}")
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    pub fn advance(&self, by: TimeDelta) {
        self.clock.advance(by);
        self.zoom.advance_clock(by.to_std().expect("forward only"));
    }
}

pub fn meeting_id(m: &Meeting) -> MeetingId {
    m.id.clone()
}

pub fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

/// `t` without its fraction of a second (Zoom's times are whole seconds).
pub fn whole_seconds(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(t.timestamp(), 0).expect("in range")
}
