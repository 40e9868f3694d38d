//! The LMS's own HTTP routes under `/lms`, plus the landing page at `/`.
//!
//! | route | who | what |
//! |---|---|---|
//! | `POST /lms/users` | admin | create or update a user `{"id","email","name","role"}` → 201 (created) / 200 (updated) |
//! | `GET /lms/users` | admin | all users |
//! | `POST /lms/courses` | admin | create or update a course `{"id","title","instructor_id"}` → 201 / 200 |
//! | `GET /lms/courses` | anyone signed in | admins: all; instructors: theirs; students: their enrolments |
//! | `GET /lms/courses/{id}` | admin, the course's instructor | the course with its students |
//! | `POST /lms/courses/{id}/enrollments` | admin, the course's instructor | `{"user_ids":[…]}`: enrol (idempotent) and register them for the course's meetings |
//! | `DELETE /lms/courses/{id}/enrollments/{user_id}` | admin, the course's instructor | unenrol → 204 |
//! | `GET /lms/courses/{id}/attendance` | (the page authenticates its API calls) | the course attendance page |
//! | `GET /lms/assets/…` | anyone | the page's script and style sheet |

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};

use crate::auth::Caller;
use crate::db::{self, Course, Role, Upsert, User};
use crate::error::LmsError;
use crate::page;
use crate::state::Lms;

/// Registers the `/lms` routes and the landing page on an actix `ServiceConfig`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(index)).service(
        web::scope("/lms")
            .route("/users", web::post().to(upsert_user))
            .route("/users", web::get().to(list_users))
            .route("/courses", web::post().to(upsert_course))
            .route("/courses", web::get().to(list_courses))
            .route("/courses/{id}", web::get().to(get_course))
            .route("/courses/{id}/enrollments", web::post().to(enroll))
            .route(
                "/courses/{id}/enrollments/{user_id}",
                web::delete().to(unenroll),
            )
            .route("/courses/{id}/attendance", web::get().to(attendance_page))
            .route("/assets/attendance.js", web::get().to(asset_js))
            .route("/assets/attendance.css", web::get().to(asset_css))
            .configure(crate::demo::configure_routes),
    );
}

/// Body of `POST /lms/users`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserBody {
    /// The user id (any non-empty string up to 128 characters).
    pub id: String,
    /// Email (optional; attend registers users at Zoom with it and matches by it).
    #[serde(default)]
    pub email: Option<String>,
    /// Display name.
    pub name: String,
    /// `admin`, `instructor` or `student`.
    pub role: String,
}

fn check_id(what: &'static str, id: &str) -> Result<(), LmsError> {
    if id.trim().is_empty() || id.len() > 128 || id.chars().any(char::is_control) {
        return Err(LmsError::invalid(format!(
            "{what} must be 1 to 128 printable characters"
        )));
    }
    Ok(())
}

async fn upsert_user(
    lms: web::Data<Lms>,
    caller: Caller,
    body: web::Json<UserBody>,
) -> Result<HttpResponse, LmsError> {
    caller.require_admin()?;
    let body = body.into_inner();
    check_id("id", &body.id)?;
    let role = Role::parse(&body.role)
        .ok_or_else(|| LmsError::invalid("role must be admin, instructor or student"))?;
    let email = body
        .email
        .map(|e| e.trim().to_owned())
        .filter(|e| !e.is_empty());
    if let Some(e) = &email
        && (!e.contains('@') || e.len() > 254)
    {
        return Err(LmsError::invalid("email must look like name@domain"));
    }
    if body.name.trim().is_empty() {
        return Err(LmsError::invalid("name must not be empty"));
    }
    let user = User {
        id: body.id,
        email,
        name: body.name.trim().to_owned(),
        role,
    };
    let u = user.clone();
    let outcome = lms
        .store
        .with_transaction(move |conn| db::upsert_user(conn, &u))
        .await?;
    Ok(match outcome {
        Upsert::Created => HttpResponse::Created().json(&user),
        Upsert::Updated => HttpResponse::Ok().json(&user),
    })
}

#[derive(Serialize)]
struct UsersOut {
    users: Vec<User>,
}

async fn list_users(lms: web::Data<Lms>, caller: Caller) -> Result<HttpResponse, LmsError> {
    caller.require_admin()?;
    let users = lms.store.with_conn(db::list_users).await?;
    Ok(HttpResponse::Ok().json(UsersOut { users }))
}

/// Body of `POST /lms/courses`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CourseBody {
    /// Course id (also attend's group key).
    pub id: String,
    /// Title.
    pub title: String,
    /// The instructor's user id (must exist, with role instructor or admin).
    pub instructor_id: String,
}

async fn upsert_course(
    lms: web::Data<Lms>,
    caller: Caller,
    body: web::Json<CourseBody>,
) -> Result<HttpResponse, LmsError> {
    caller.require_admin()?;
    let body = body.into_inner();
    check_id("id", &body.id)?;
    if body.title.trim().is_empty() {
        return Err(LmsError::invalid("title must not be empty"));
    }
    let course = Course {
        id: body.id,
        title: body.title.trim().to_owned(),
        instructor_id: body.instructor_id,
    };
    let c = course.clone();
    let outcome = lms
        .store
        .with_transaction(move |conn| {
            match db::get_user(conn, &c.instructor_id)? {
                Some(u) if u.role != Role::Student => {}
                Some(_) => return Ok(Err("instructor_id names a student")),
                None => return Ok(Err("instructor_id names no user")),
            }
            db::upsert_course(conn, &c).map(Ok)
        })
        .await?
        .map_err(LmsError::invalid)?;
    Ok(match outcome {
        Upsert::Created => HttpResponse::Created().json(&course),
        Upsert::Updated => HttpResponse::Ok().json(&course),
    })
}

#[derive(Serialize)]
struct CoursesOut {
    courses: Vec<Course>,
}

async fn list_courses(lms: web::Data<Lms>, caller: Caller) -> Result<HttpResponse, LmsError> {
    let me = caller.user_id().to_owned();
    let admin = caller.is_admin();
    let courses = lms
        .store
        .with_conn(move |conn| {
            let all = db::list_courses(conn)?;
            if admin {
                return Ok::<_, db::DbError>(all);
            }
            let taught = db::courses_taught_by(conn, &me)?;
            let enrolled = db::courses_enrolled(conn, &me)?;
            Ok(all
                .into_iter()
                .filter(|c| taught.contains(&c.id) || enrolled.contains(&c.id))
                .collect())
        })
        .await?;
    Ok(HttpResponse::Ok().json(CoursesOut { courses }))
}

/// A person as the course page shows them.
#[derive(Debug, Clone, Serialize)]
pub struct PersonOut {
    /// User id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Email, if any.
    pub email: Option<String>,
}

impl From<User> for PersonOut {
    fn from(u: User) -> Self {
        PersonOut {
            id: u.id,
            name: u.name,
            email: u.email,
        }
    }
}

#[derive(Serialize)]
struct CourseInfo {
    id: String,
    title: String,
    instructor: PersonOut,
}

#[derive(Serialize)]
struct CourseOut {
    course: CourseInfo,
    students: Vec<PersonOut>,
    /// Everyone else the page may need a name for (the instructor, admins).
    people: Vec<PersonOut>,
}

/// Loads the course and checks that the caller may manage it (admin or its instructor).
async fn managed_course(lms: &Lms, caller: &Caller, id: String) -> Result<Course, LmsError> {
    let course = lms
        .store
        .with_conn(move |conn| db::get_course(conn, &id))
        .await?
        .ok_or(LmsError::NotFound("course"))?;
    if caller.is_admin() || course.instructor_id == caller.user_id() {
        Ok(course)
    } else {
        Err(LmsError::Forbidden(
            "only the course's instructor or an admin may do this",
        ))
    }
}

async fn get_course(
    lms: web::Data<Lms>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, LmsError> {
    let course = managed_course(&lms, &caller, path.into_inner()).await?;
    let c = course.clone();
    let (instructor, students, people) = lms
        .store
        .with_conn(move |conn| {
            let instructor = db::get_user(conn, &c.instructor_id)?;
            let students = db::course_members(conn, &c.id)?;
            let people: Vec<User> = db::list_users(conn)?
                .into_iter()
                .filter(|u| u.role != Role::Student)
                .collect();
            Ok::<_, db::DbError>((instructor, students, people))
        })
        .await?;
    let instructor = instructor
        .map(PersonOut::from)
        .unwrap_or_else(|| PersonOut {
            id: course.instructor_id.clone(),
            name: course.instructor_id.clone(),
            email: None,
        });
    Ok(HttpResponse::Ok().json(CourseOut {
        course: CourseInfo {
            id: course.id,
            title: course.title,
            instructor,
        },
        students: students.into_iter().map(PersonOut::from).collect(),
        people: people.into_iter().map(PersonOut::from).collect(),
    }))
}

/// Body of `POST /lms/courses/{id}/enrollments`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrollBody {
    /// The users to enrol.
    pub user_ids: Vec<String>,
}

#[derive(Serialize)]
struct EnrollOut {
    /// Users newly enrolled by this call.
    enrolled: Vec<String>,
    /// Everyone enrolled now.
    students: usize,
    /// Per linked meeting, how registering the given users at Zoom went.
    registrations: Vec<serde_json::Value>,
}

async fn enroll(
    lms: web::Data<Lms>,
    caller: Caller,
    path: web::Path<String>,
    body: web::Json<EnrollBody>,
) -> Result<HttpResponse, LmsError> {
    let course = managed_course(&lms, &caller, path.into_inner()).await?;
    let ids = body.into_inner().user_ids;
    if ids.is_empty() || ids.len() > 5000 {
        return Err(LmsError::invalid("user_ids must hold 1 to 5000 ids"));
    }
    let course_id = course.id.clone();
    let ids2 = ids.clone();
    let (enrolled, students) = lms
        .store
        .with_transaction(move |conn| {
            for id in &ids2 {
                match db::get_user(conn, id)? {
                    Some(u) if u.role == Role::Student => {}
                    Some(_) => return Ok(Err(format!("{id} is not a student"))),
                    None => return Ok(Err(format!("no user {id}"))),
                }
            }
            let added = db::enroll(conn, &course_id, &ids2)?;
            let n = db::course_members(conn, &course_id)?.len();
            Ok::<_, db::DbError>(Ok((added, n)))
        })
        .await?
        .map_err(LmsError::invalid)?;
    let registrations = lms.register_for_course_meetings(&course.id, &ids).await?;
    Ok(HttpResponse::Ok().json(EnrollOut {
        enrolled,
        students,
        registrations,
    }))
}

async fn unenroll(
    lms: web::Data<Lms>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, LmsError> {
    let (course_id, user_id) = path.into_inner();
    let course = managed_course(&lms, &caller, course_id).await?;
    let removed = lms
        .store
        .with_transaction(move |conn| db::unenroll(conn, &course.id, &user_id))
        .await?;
    if removed {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(LmsError::NotFound("enrollment"))
    }
}

async fn attendance_page(
    lms: web::Data<Lms>,
    path: web::Path<String>,
) -> Result<HttpResponse, LmsError> {
    let id = path.into_inner();
    let lookup = id.clone();
    let course = lms
        .store
        .with_conn(move |conn| db::get_course(conn, &lookup))
        .await?;
    let Some(course) = course else {
        return Ok(HttpResponse::NotFound()
            .content_type("text/html; charset=utf-8")
            .body(format!(
                "<!doctype html><title>Not found</title><p>No course {}. <a href=\"/\">All courses</a></p>",
                page::escape_html(&id)
            )));
    };
    let dev_user = lms.demo.as_ref().map(|_| course.instructor_id.as_str());
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .body(page::attendance_page(
            &course.id,
            lms.demo.is_some(),
            dev_user,
        )))
}

async fn asset_js() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header(("Cache-Control", "no-cache"))
        .body(page::ATTENDANCE_JS)
}

async fn asset_css() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header(("Cache-Control", "no-cache"))
        .body(page::ATTENDANCE_CSS)
}

async fn index(lms: web::Data<Lms>) -> Result<HttpResponse, LmsError> {
    let courses = lms
        .store
        .with_conn(|conn| {
            let mut out = Vec::new();
            for c in db::list_courses(conn)? {
                let instructor = db::get_user(conn, &c.instructor_id)?
                    .map(|u| u.name)
                    .unwrap_or_else(|| c.instructor_id.clone());
                let students = db::course_members(conn, &c.id)?.len();
                out.push(page::CourseLink {
                    id: c.id,
                    title: c.title,
                    instructor,
                    students,
                });
            }
            Ok::<_, db::DbError>(out)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(page::index_page(&courses, lms.demo.is_some())))
}
