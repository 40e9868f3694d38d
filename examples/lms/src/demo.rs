//! Demo mode: the built-in Zoom simulator, the demo data, the dev-only token helper and the
//! "play a simulated class" action.
//!
//! # Demo data
//!
//! One course, [`COURSE_ID`] ("CS 101 · Introduction to Programming"), taught by
//! [`INSTRUCTOR_ID`] (Ada Lovelace), with 30 enrolled students `s01`…`s30`, an admin
//! [`ADMIN_ID`], and one Zoom meeting (at the simulator) linked to the course, with every
//! student registered. Set up once; a restart with the same database adds nothing.
//!
//! # The simulator across restarts
//!
//! The simulator keeps its state in memory. Its ids come from a seed kept in the database,
//! and the demo creates its meeting and registrants directly, in a fixed order, before
//! anything else touches it — so after a restart the simulator holds the same meeting id,
//! registrant ids and join URLs that attend stored the first time.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use actix_web::{HttpResponse, web};
use attend_core::model::{GroupKey, MeetingKind, UserId, ZoomMeetingId};
use attend_core::service::{Attend, LinkMeeting};
use attend_diesel::DieselStore;
use attend_zoom_sim::{
    DeliveryOptions, Identity, MeetingSpec, RegistrantStatus, Scenario, Simulator, WebhookTarget,
};
use chrono::{DateTime, Duration, Timelike, Utc};
use serde::{Deserialize, Serialize};

use crate::auth::TOKEN_TTL;
use crate::db::{self, Course, Role, User};
use crate::error::LmsError;
use crate::state::Lms;

/// The demo course (also attend's group key).
pub const COURSE_ID: &str = "cs101";
/// Its title.
pub const COURSE_TITLE: &str = "CS 101 · Introduction to Programming";
/// The demo instructor.
pub const INSTRUCTOR_ID: &str = "t-ada";
/// The demo admin.
pub const ADMIN_ID: &str = "admin";
/// The student whose token and join link the guide prints.
pub const SAMPLE_STUDENT_ID: &str = "s01";
/// The topic of the demo meeting at the simulator.
pub const MEETING_TOPIC: &str = "CS 101 — Weekly lecture";

/// The 30 demo students: id, name, email.
pub const STUDENTS: [(&str, &str, &str); 30] = [
    (
        "s01",
        "Amara Okafor",
        "amara.okafor@students.demo-school.example",
    ),
    (
        "s02",
        "Ben Carter",
        "ben.carter@students.demo-school.example",
    ),
    ("s03", "Chen Wei", "chen.wei@students.demo-school.example"),
    (
        "s04",
        "Diego Ramírez",
        "diego.ramirez@students.demo-school.example",
    ),
    (
        "s05",
        "Elif Yılmaz",
        "elif.yilmaz@students.demo-school.example",
    ),
    (
        "s06",
        "Farah Haddad",
        "farah.haddad@students.demo-school.example",
    ),
    (
        "s07",
        "Gabriel Silva",
        "gabriel.silva@students.demo-school.example",
    ),
    ("s08", "Hana Sato", "hana.sato@students.demo-school.example"),
    (
        "s09",
        "Ivan Petrov",
        "ivan.petrov@students.demo-school.example",
    ),
    (
        "s10",
        "Jade Thompson",
        "jade.thompson@students.demo-school.example",
    ),
    (
        "s11",
        "Kofi Mensah",
        "kofi.mensah@students.demo-school.example",
    ),
    (
        "s12",
        "Lena Müller",
        "lena.mueller@students.demo-school.example",
    ),
    (
        "s13",
        "Mateo Rossi",
        "mateo.rossi@students.demo-school.example",
    ),
    (
        "s14",
        "Nadia Karim",
        "nadia.karim@students.demo-school.example",
    ),
    (
        "s15",
        "Oliver Smith",
        "oliver.smith@students.demo-school.example",
    ),
    (
        "s16",
        "Priya Sharma",
        "priya.sharma@students.demo-school.example",
    ),
    (
        "s17",
        "Quinn O'Brien",
        "quinn.obrien@students.demo-school.example",
    ),
    (
        "s18",
        "Rosa Delgado",
        "rosa.delgado@students.demo-school.example",
    ),
    (
        "s19",
        "Samir Aziz",
        "samir.aziz@students.demo-school.example",
    ),
    (
        "s20",
        "Tara Nguyen",
        "tara.nguyen@students.demo-school.example",
    ),
    (
        "s21",
        "Umar Farouk",
        "umar.farouk@students.demo-school.example",
    ),
    (
        "s22",
        "Valentina Costa",
        "valentina.costa@students.demo-school.example",
    ),
    (
        "s23",
        "William Park",
        "william.park@students.demo-school.example",
    ),
    ("s24", "Xin Li", "xin.li@students.demo-school.example"),
    (
        "s25",
        "Yusuf Demir",
        "yusuf.demir@students.demo-school.example",
    ),
    (
        "s26",
        "Zoe Martin",
        "zoe.martin@students.demo-school.example",
    ),
    (
        "s27",
        "Aino Virtanen",
        "aino.virtanen@students.demo-school.example",
    ),
    (
        "s28",
        "Bruno Lima",
        "bruno.lima@students.demo-school.example",
    ),
    (
        "s29",
        "Chloé Dubois",
        "chloe.dubois@students.demo-school.example",
    ),
    ("s30", "Dev Patel", "dev.patel@students.demo-school.example"),
];

/// `lms_settings` keys used by the demo.
const SEEDED_KEY: &str = "demo_seeded_v1";
const SIM_SEED_KEY: &str = "demo_sim_seed";
const SIM_SETUP_KEY: &str = "demo_sim_setup";

/// Demo-mode facilities shared by the routes.
#[derive(Debug)]
pub struct Demo {
    /// The simulated Zoom account (mounted in the app under `/zoom`).
    pub sim: Simulator,
    /// The attend service (to look up meetings and registrations).
    pub attend: Attend,
    /// The app's own webhook URL and secret, for the simulator's player.
    pub webhook_target: WebhookTarget,
    playing: AtomicBool,
}

impl Demo {
    /// Demo facilities around a simulator.
    pub fn new(sim: Simulator, attend: Attend, webhook_target: WebhookTarget) -> Self {
        Self {
            sim,
            attend,
            webhook_target,
            playing: AtomicBool::new(false),
        }
    }

    /// Whether a simulated class is being played right now.
    pub fn is_playing(&self) -> bool {
        self.playing.load(Ordering::SeqCst)
    }
}

/// What the demo set up, for the printed guide and for tests.
///
/// Its `Debug` shows the tokens and the join link as `[redacted]`: they are credentials, even
/// in a demo, and must not end up in logs.
#[derive(Clone, Serialize)]
pub struct DemoInfo {
    /// The demo course.
    pub course_id: String,
    /// attend's id of the course's meeting.
    pub meeting_id: String,
    /// The Zoom meeting number at the simulator.
    pub zoom_meeting_id: i64,
    /// The instructor's name.
    pub instructor_name: String,
    /// A bearer token for the instructor.
    pub instructor_token: String,
    /// The sample student's name.
    pub student_name: String,
    /// A bearer token for the sample student.
    pub student_token: String,
    /// The sample student's personal join link.
    pub student_join_link: String,
    /// How many students are registered at (simulated) Zoom.
    pub registered: u64,
}

impl std::fmt::Debug for DemoInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        const REDACTED: &str = "[redacted]";
        f.debug_struct("DemoInfo")
            .field("course_id", &self.course_id)
            .field("meeting_id", &self.meeting_id)
            .field("zoom_meeting_id", &self.zoom_meeting_id)
            .field("instructor_name", &self.instructor_name)
            .field("instructor_token", &REDACTED)
            .field("student_name", &self.student_name)
            .field("student_token", &REDACTED)
            .field("student_join_link", &REDACTED)
            .field("registered", &self.registered)
            .finish()
    }
}

/// The simulator's seed, generated once per database.
pub(crate) async fn sim_seed(store: &DieselStore) -> Result<u64, crate::app::StartError> {
    let value = store
        .with_transaction(|conn| {
            db::get_or_init_setting(conn, SIM_SEED_KEY, || rand::random::<u64>().to_string())
        })
        .await
        .map_err(|source| crate::app::StartError::Database { source })?;
    value.parse().map_err(|_| {
        crate::app::StartError::Secret(format!("lms_settings.{SIM_SEED_KEY} is not a number"))
    })
}

/// What the demo created at the simulator, kept so a restart can create the same again.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct SimSetup {
    zoom_meeting_id: u64,
    start_time: DateTime<Utc>,
    /// (email, first name, last name), in creation order.
    registrants: Vec<(String, String, String)>,
}

fn split_name(name: &str) -> (String, String) {
    match name.split_once(' ') {
        Some((first, last)) => (first.to_owned(), last.to_owned()),
        None => (name.to_owned(), String::new()),
    }
}

/// Sets demo mode up (idempotent): demo data (when `seed` is set and not done before), the
/// simulator's meeting and registrants, the link in attend, the registrations, and the
/// tokens for the guide. `None` when there is no demo course.
pub(crate) async fn set_up(lms: &Lms, demo: &Demo, seed: bool) -> Result<Option<DemoInfo>, String> {
    let store = &lms.store;
    if seed {
        store
            .with_transaction(|conn| {
                if db::get_setting(conn, SEEDED_KEY)?.is_some() {
                    return Ok(());
                }
                let user = |id: &str, name: &str, email: &str, role| User {
                    id: id.to_owned(),
                    name: name.to_owned(),
                    email: Some(email.to_owned()),
                    role,
                };
                db::upsert_user(
                    conn,
                    &user(
                        ADMIN_ID,
                        "Demo Admin",
                        "admin@demo-school.example",
                        Role::Admin,
                    ),
                )?;
                db::upsert_user(
                    conn,
                    &user(
                        INSTRUCTOR_ID,
                        "Ada Lovelace",
                        "ada.lovelace@demo-school.example",
                        Role::Instructor,
                    ),
                )?;
                for (id, name, email) in STUDENTS {
                    db::upsert_user(conn, &user(id, name, email, Role::Student))?;
                }
                db::upsert_course(
                    conn,
                    &Course {
                        id: COURSE_ID.to_owned(),
                        title: COURSE_TITLE.to_owned(),
                        instructor_id: INSTRUCTOR_ID.to_owned(),
                    },
                )?;
                let ids: Vec<String> = STUDENTS.iter().map(|(id, _, _)| (*id).to_owned()).collect();
                db::enroll(conn, COURSE_ID, &ids)?;
                db::set_setting(conn, SEEDED_KEY, &Utc::now().to_rfc3339())
            })
            .await
            .map_err(|e| format!("writing the demo data: {e}"))?;
    }
    let course = store
        .with_conn(|conn| db::get_course(conn, COURSE_ID))
        .await
        .map_err(|e| e.to_string())?;
    let Some(course) = course else {
        return Ok(None);
    };

    // The simulator: same seed, same direct calls in the same order → same ids as last time.
    let saved: Option<SimSetup> = store
        .with_conn(|conn| db::get_setting(conn, SIM_SETUP_KEY))
        .await
        .map_err(|e| e.to_string())?
        .and_then(|s| serde_json::from_str(&s).ok());
    let members = {
        let id = course.id.clone();
        store
            .with_conn(move |conn| db::course_members(conn, &id))
            .await
            .map_err(|e| e.to_string())?
    };
    let setup = match saved {
        Some(s) => s,
        None => {
            let mut registrants: Vec<(String, String, String)> = members
                .iter()
                .filter_map(|u| {
                    let (first, last) = split_name(&u.name);
                    u.email.clone().map(|e| (e, first, last))
                })
                .collect();
            registrants.sort();
            // Next week's lecture, on the hour.
            let start = (Utc::now() + Duration::days(7))
                .with_minute(0)
                .and_then(|t| t.with_second(0))
                .and_then(|t| t.with_nanosecond(0))
                .unwrap_or_else(Utc::now);
            SimSetup {
                zoom_meeting_id: 0,
                start_time: start,
                registrants,
            }
        }
    };
    let created = demo
        .sim
        .create_meeting(&MeetingSpec::scheduled(MEETING_TOPIC, setup.start_time, 60))
        .map_err(|e| format!("creating the simulated meeting: {e}"))?;
    if setup.zoom_meeting_id != 0 && setup.zoom_meeting_id != created.id {
        tracing::warn!(
            expected = setup.zoom_meeting_id,
            got = created.id,
            "the simulator did not recreate the same meeting id; starting a fresh demo meeting"
        );
    }
    for (email, first, last) in &setup.registrants {
        demo.sim
            .add_registrant(created.id, email, first, last)
            .map_err(|e| format!("adding a simulated registrant: {e}"))?;
    }
    let setup = SimSetup {
        zoom_meeting_id: created.id,
        ..setup
    };
    let json = serde_json::to_string(&setup).map_err(|e| e.to_string())?;
    store
        .with_transaction(move |conn| db::set_setting(conn, SIM_SETUP_KEY, &json))
        .await
        .map_err(|e| e.to_string())?;

    // attend: link the meeting to the course (once) and register the class (idempotent).
    let attend = &demo.attend;
    let group = GroupKey::from(course.id.as_str());
    let zoom_id = ZoomMeetingId(created.id as i64);
    let existing = attend
        .list_meetings(Some(&group))
        .await
        .map_err(|e| format!("listing the course's meetings: {e}"))?;
    let meeting = match existing.into_iter().find(|m| m.zoom_meeting_id == zoom_id) {
        Some(m) => m,
        None => attend
            .link_meeting(LinkMeeting {
                group: group.clone(),
                kind: MeetingKind::Meeting,
                zoom_meeting_id: Some(zoom_id),
                create: None,
                restrict_to_registered: None,
                policy: None,
                account: None,
            })
            .await
            .map_err(|e| format!("linking the demo meeting: {e}"))?,
    };
    let student_ids: Vec<UserId> = members
        .iter()
        .filter(|u| u.role == Role::Student)
        .map(|u| UserId::from(u.id.as_str()))
        .collect();
    if !student_ids.is_empty() {
        attend
            .register_users(&meeting.id, &student_ids)
            .await
            .map_err(|e| format!("registering the demo class: {e}"))?;
    }
    let counts = attend
        .registrations(&meeting.id)
        .await
        .map_err(|e| e.to_string())?
        .counts;

    // Zoom checks a new webhook endpoint with `endpoint.url_validation`; so does the demo.
    if let Err(e) = demo.webhook_target.validate_endpoint().await {
        tracing::warn!(error = %e, "the webhook endpoint did not pass URL validation");
    }

    let (instructor, student) = store
        .with_conn(|conn| {
            Ok::<_, db::DbError>((
                db::get_user(conn, INSTRUCTOR_ID)?,
                db::get_user(conn, SAMPLE_STUDENT_ID)?,
            ))
        })
        .await
        .map_err(|e| e.to_string())?;
    let instructor = instructor.unwrap_or_else(|| User {
        id: course.instructor_id.clone(),
        email: None,
        name: course.instructor_id.clone(),
        role: Role::Instructor,
    });
    let instructor_token = lms
        .tokens
        .issue(
            &instructor,
            groups_for(lms, &instructor.id, instructor.role)
                .await
                .map_err(|e| e.to_string())?,
            TOKEN_TTL,
        )
        .map_err(|e| e.to_string())?
        .token;
    let (student_name, student_token, student_join_link) = match student {
        Some(s) => {
            let token = lms
                .tokens
                .issue(&s, vec![course.id.clone()], TOKEN_TTL)
                .map_err(|e| e.to_string())?
                .token;
            let link = attend
                .join_link(&meeting.id, &UserId::from(s.id.as_str()))
                .await
                .map(|l| l.url)
                .unwrap_or_default();
            (s.name, token, link)
        }
        None => (String::new(), String::new(), String::new()),
    };
    Ok(Some(DemoInfo {
        course_id: course.id,
        meeting_id: meeting.id.to_string(),
        zoom_meeting_id: zoom_id.0,
        instructor_name: instructor.name,
        instructor_token,
        student_name,
        student_token,
        student_join_link,
        registered: counts.registered,
    }))
}

/// Registers the demo-only routes (they answer 404 outside demo mode).
pub fn configure_routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/dev/token", web::get().to(dev_token))
        .route("/dev/play-class", web::post().to(play_class));
}

/// Query of `GET /lms/dev/token`.
#[derive(Debug, Deserialize)]
pub struct TokenQuery {
    /// The user to mint a token for.
    pub user: String,
}

/// The groups to put in a user's token: the courses an instructor teaches, the courses a
/// student is enrolled in (so they may open their join links); none for admins.
pub(crate) async fn groups_for(
    lms: &Lms,
    user_id: &str,
    role: Role,
) -> Result<Vec<String>, LmsError> {
    let id = user_id.to_owned();
    Ok(lms
        .store
        .with_conn(move |conn| match role {
            Role::Admin => Ok(Vec::new()),
            Role::Instructor => db::courses_taught_by(conn, &id),
            Role::Student => db::courses_enrolled(conn, &id),
        })
        .await?)
}

fn demo_of(lms: &Lms) -> Result<&Arc<Demo>, LmsError> {
    lms.demo.as_ref().ok_or(LmsError::NotFound(
        "route (the dev routes exist only in demo mode)",
    ))
}

async fn dev_token(
    lms: web::Data<Lms>,
    query: web::Query<TokenQuery>,
) -> Result<HttpResponse, LmsError> {
    demo_of(&lms)?;
    let id = query.into_inner().user;
    let lookup = id.clone();
    let user = lms
        .store
        .with_conn(move |conn| db::get_user(conn, &lookup))
        .await?
        .ok_or(LmsError::NotFound("user"))?;
    let groups = groups_for(&lms, &user.id, user.role).await?;
    let issued = lms.tokens.issue(&user, groups.clone(), TOKEN_TTL)?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(serde_json::json!({
            "token": issued.token,
            "expires_at": issued.expires_at,
            "user": user,
            "groups": groups,
        })))
}

/// Query of `POST /lms/dev/play-class`.
#[derive(Debug, Deserialize)]
pub struct PlayQuery {
    /// The course whose (latest) meeting to play; default the demo course.
    pub course: Option<String>,
    /// How many real seconds the 60-minute class takes (default 60; 0 = as fast as
    /// possible).
    pub pace: Option<u32>,
    /// Seed of the scenario (who does what); default random.
    pub seed: Option<u64>,
}

/// One person of a played class, for the page and the tests.
#[derive(Debug, Clone, Serialize)]
pub struct CastMember {
    /// The LMS user, for registrants (absent for guests).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// Name (LMS name for students, display name for guests).
    pub name: String,
    /// What the scenario has them do ("late joiner", "two devices", …).
    pub label: String,
}

/// The default pace: a 60-minute class replayed in about a minute.
pub const DEFAULT_PACE_SECONDS: u32 = 60;

async fn play_class(
    lms: web::Data<Lms>,
    query: web::Query<PlayQuery>,
) -> Result<HttpResponse, LmsError> {
    let demo = demo_of(&lms)?.clone();
    let q = query.into_inner();
    let course = q.course.unwrap_or_else(|| COURSE_ID.to_owned());
    let pace = q.pace.unwrap_or(DEFAULT_PACE_SECONDS);
    if pace > 3600 {
        return Err(LmsError::invalid("pace must be 0 to 3600 seconds"));
    }
    let meetings = demo
        .attend
        .list_meetings(Some(&GroupKey::from(course.as_str())))
        .await?;
    let meeting = meetings
        .into_iter()
        .rev()
        .find(|m| demo.sim.meeting(m.zoom_meeting_id.0 as u64).is_some())
        .ok_or(LmsError::NotFound(
            "meeting at the simulator for this course",
        ))?;
    let zoom_id = meeting.zoom_meeting_id.0 as u64;
    let emails: Vec<String> = demo
        .sim
        .registrants(zoom_id)
        .into_iter()
        .filter(|r| r.status == RegistrantStatus::Approved)
        .map(|r| r.email)
        .collect();
    if demo.playing.swap(true, Ordering::SeqCst) {
        return Err(LmsError::Conflict(
            "a simulated class is playing already; wait until it ends",
        ));
    }
    let seed = q.seed.unwrap_or_else(rand::random);
    // A class that happened in the hour before now, replayed at `pace`: every event keeps
    // its real time, so attendance numbers are those of a real 60-minute class.
    let start = (Utc::now() - Duration::minutes(61))
        .with_nanosecond(0)
        .unwrap_or_else(Utc::now);
    let scenario = Scenario::typical_class(zoom_id, &emails, start, seed);

    // Who is who, in LMS terms.
    let by_email = {
        lms.store
            .with_conn(db::list_users)
            .await?
            .into_iter()
            .filter_map(|u| u.email.clone().map(|e| (e.to_ascii_lowercase(), u)))
            .collect::<std::collections::HashMap<_, _>>()
    };
    let mut cast = Vec::new();
    for p in &scenario.people {
        match &p.identity {
            Identity::Host => {}
            Identity::Registrant { email } => {
                let user = by_email.get(&email.to_ascii_lowercase());
                cast.push(CastMember {
                    user_id: user.map(|u| u.id.clone()),
                    name: user
                        .map(|u| u.name.clone())
                        .unwrap_or_else(|| email.clone()),
                    label: p.label.clone(),
                });
            }
            Identity::Guest { name, .. } => cast.push(CastMember {
                user_id: None,
                name: name.clone(),
                label: p.label.clone(),
            }),
        }
    }

    let speed = (pace > 0).then(|| 3600.0 / f64::from(pace));
    let options = DeliveryOptions {
        copies: (1, 2),
        speed,
        retry_schedule: vec![
            std::time::Duration::from_secs(1),
            std::time::Duration::from_secs(3),
            std::time::Duration::from_secs(10),
        ],
        seed,
        ..DeliveryOptions::default()
    };
    let title = scenario.title.clone();
    let d = demo.clone();
    let target = demo.webhook_target.clone();
    tokio::spawn(async move {
        match d.sim.play(&scenario, &target, &options).await {
            Ok(outcome) if outcome.report.all_acked() => {
                tracing::info!(events = outcome.report.events, "simulated class played");
            }
            Ok(outcome) => tracing::warn!(
                lost = outcome.report.lost_events().len(),
                "simulated class played; some webhooks were not acknowledged"
            ),
            Err(e) => tracing::warn!(error = %e, "the simulated class could not be played"),
        }
        d.playing.store(false, Ordering::SeqCst);
    });

    let message = if pace == 0 {
        "Replaying a 60-minute class (with a host restart at +30:00) as fast as possible."
            .to_owned()
    } else {
        format!(
            "Replaying a 60-minute class (with a host restart at +30:00) in about {pace} seconds. \
             Watch the roster fill in."
        )
    };
    Ok(HttpResponse::Accepted().json(serde_json::json!({
        "meeting_id": meeting.id,
        "zoom_meeting_id": zoom_id,
        "course_id": course,
        "scenario": title,
        "class_start": start,
        "pace_seconds": pace,
        "cast": cast,
        "message": message,
    })))
}
