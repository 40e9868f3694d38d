//! The LMS's own tables — `users`, `courses`, `enrollments`, `lms_settings` — in the same
//! database as attend's `attend_*` tables, with their own embedded migrations.
//!
//! Every function here is synchronous and takes a connection: call them through
//! [`DieselStore::with_conn`](attend_diesel::DieselStore::with_conn) (reads) or
//! [`DieselStore::with_transaction`](attend_diesel::DieselStore::with_transaction) (writes),
//! which run them off the async executor on attend's own pool.

use attend_diesel::AnyConnection;
use diesel::prelude::*;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use serde::{Deserialize, Serialize};

/// The LMS's SQLite migrations (`examples/lms/migrations/sqlite`).
const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
/// The LMS's PostgreSQL migrations (`examples/lms/migrations/postgres`).
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

mod schema {
    diesel::table! {
        users (id) {
            id -> Text,
            email -> Nullable<Text>,
            name -> Text,
            role -> Text,
        }
    }
    diesel::table! {
        courses (id) {
            id -> Text,
            title -> Text,
            instructor_id -> Text,
        }
    }
    diesel::table! {
        enrollments (course_id, user_id) {
            course_id -> Text,
            user_id -> Text,
        }
    }
    diesel::table! {
        lms_settings (key) {
            key -> Text,
            value -> Text,
        }
    }
    diesel::joinable!(enrollments -> users (user_id));
    diesel::joinable!(enrollments -> courses (course_id));
    diesel::allow_tables_to_appear_in_same_query!(users, courses, enrollments, lms_settings);
}

use schema::{courses, enrollments, lms_settings, users};

/// Errors of the LMS's own data layer.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// A query failed.
    #[error("database query failed")]
    Query(#[from] diesel::result::Error),
    /// The LMS migrations failed.
    #[error("running the LMS migrations failed")]
    Migration(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// A row holds a value this version cannot read.
    #[error("stored value is invalid: {0}")]
    Corrupt(String),
}

impl From<DbError> for attend_diesel::DieselStoreError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::Query(q) => attend_diesel::DieselStoreError::Query(q),
            DbError::Migration(m) => attend_diesel::DieselStoreError::Migration(m),
            DbError::Corrupt(detail) => attend_diesel::DieselStoreError::InvalidOption(detail),
        }
    }
}

/// Applies the LMS's pending migrations (idempotent; attend's own are applied by
/// `DieselStore::connect`). Returns the versions applied.
///
/// # Errors
/// [`DbError::Migration`] when a migration fails.
pub fn run_migrations(conn: &mut AnyConnection) -> Result<Vec<String>, DbError> {
    let applied = match conn {
        AnyConnection::Sqlite(c) => c
            .run_pending_migrations(SQLITE_MIGRATIONS)
            .map(|v| v.iter().map(ToString::to_string).collect()),
        AnyConnection::Postgresql(c) => c
            .run_pending_migrations(POSTGRES_MIGRATIONS)
            .map(|v| v.iter().map(ToString::to_string).collect()),
    };
    applied.map_err(DbError::Migration)
}

/// What a user may do in the LMS (and, through their bearer token, in attend).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Manages everything.
    Admin,
    /// Teaches courses; manages the attend meetings of those courses.
    Instructor,
    /// Enrolled in courses; sees their own attendance and join links.
    Student,
}

impl Role {
    /// `"admin"`, `"instructor"` or `"student"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Instructor => "instructor",
            Role::Student => "student",
        }
    }

    /// Parses the stored/JSON name; `None` for anything else.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "admin" => Some(Role::Admin),
            "instructor" => Some(Role::Instructor),
            "student" => Some(Role::Student),
            _ => None,
        }
    }
}

/// One row of `users`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// The LMS's user id (attend's host user id).
    pub id: String,
    /// Email, if known (attend registers the user at Zoom with it and matches by it).
    pub email: Option<String>,
    /// Display name.
    pub name: String,
    /// Role.
    pub role: Role,
}

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = users)]
struct UserRow {
    id: String,
    email: Option<String>,
    name: String,
    role: String,
}

impl TryFrom<UserRow> for User {
    type Error = DbError;
    fn try_from(r: UserRow) -> Result<Self, DbError> {
        let role = Role::parse(&r.role)
            .ok_or_else(|| DbError::Corrupt(format!("users.role {:?}", r.role)))?;
        Ok(User {
            id: r.id,
            email: r.email,
            name: r.name,
            role,
        })
    }
}

/// One row of `courses`.
#[derive(
    Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Queryable, Selectable, Insertable,
)]
#[diesel(table_name = courses)]
pub struct Course {
    /// The course id; also attend's group key for the course's meetings.
    pub id: String,
    /// Title shown on pages.
    pub title: String,
    /// The user who teaches it.
    pub instructor_id: String,
}

/// What [`upsert_user`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Upsert {
    /// A new row was inserted.
    Created,
    /// The row existed and was updated to the given values (or already had them).
    Updated,
}

/// Creates the user, or updates name/email/role of an existing one with the same id.
///
/// # Errors
/// [`DbError::Query`] on a database failure.
pub fn upsert_user(conn: &mut AnyConnection, user: &User) -> Result<Upsert, DbError> {
    let row = UserRow {
        id: user.id.clone(),
        email: user.email.clone(),
        name: user.name.clone(),
        role: user.role.as_str().to_owned(),
    };
    let exists = users::table
        .find(&user.id)
        .select(users::id)
        .first::<String>(conn)
        .optional()?
        .is_some();
    if exists {
        diesel::update(users::table.find(&user.id))
            .set(&row)
            .execute(conn)?;
        Ok(Upsert::Updated)
    } else {
        diesel::insert_into(users::table)
            .values(&row)
            .execute(conn)?;
        Ok(Upsert::Created)
    }
}

/// The user with this id; `None` if there is none.
///
/// # Errors
/// [`DbError`] on a database failure or an unreadable row.
pub fn get_user(conn: &mut AnyConnection, id: &str) -> Result<Option<User>, DbError> {
    users::table
        .find(id)
        .select(UserRow::as_select())
        .get_result(conn)
        .optional()?
        .map(User::try_from)
        .transpose()
}

/// All users, by id.
///
/// # Errors
/// [`DbError`] on a database failure or an unreadable row.
pub fn list_users(conn: &mut AnyConnection) -> Result<Vec<User>, DbError> {
    users::table
        .order(users::id)
        .select(UserRow::as_select())
        .load(conn)?
        .into_iter()
        .map(User::try_from)
        .collect()
}

/// Creates the course, or updates title/instructor of an existing one with the same id.
///
/// # Errors
/// [`DbError`] on a database failure (e.g. an unknown instructor: foreign key).
pub fn upsert_course(conn: &mut AnyConnection, course: &Course) -> Result<Upsert, DbError> {
    let exists = courses::table
        .find(&course.id)
        .select(courses::id)
        .first::<String>(conn)
        .optional()?
        .is_some();
    if exists {
        diesel::update(courses::table.find(&course.id))
            .set((
                courses::title.eq(&course.title),
                courses::instructor_id.eq(&course.instructor_id),
            ))
            .execute(conn)?;
        Ok(Upsert::Updated)
    } else {
        diesel::insert_into(courses::table)
            .values(course)
            .execute(conn)?;
        Ok(Upsert::Created)
    }
}

/// The course with this id; `None` if there is none.
///
/// # Errors
/// [`DbError`] on a database failure.
pub fn get_course(conn: &mut AnyConnection, id: &str) -> Result<Option<Course>, DbError> {
    Ok(courses::table
        .find(id)
        .select(Course::as_select())
        .get_result(conn)
        .optional()?)
}

/// All courses, by id.
///
/// # Errors
/// [`DbError`] on a database failure.
pub fn list_courses(conn: &mut AnyConnection) -> Result<Vec<Course>, DbError> {
    Ok(courses::table
        .order(courses::id)
        .select(Course::as_select())
        .load(conn)?)
}

/// The ids of the courses `user_id` teaches.
///
/// # Errors
/// [`DbError`] on a database failure.
pub fn courses_taught_by(conn: &mut AnyConnection, user_id: &str) -> Result<Vec<String>, DbError> {
    Ok(courses::table
        .filter(courses::instructor_id.eq(user_id))
        .order(courses::id)
        .select(courses::id)
        .load(conn)?)
}

/// The ids of the courses `user_id` is enrolled in.
///
/// # Errors
/// [`DbError`] on a database failure.
pub fn courses_enrolled(conn: &mut AnyConnection, user_id: &str) -> Result<Vec<String>, DbError> {
    Ok(enrollments::table
        .filter(enrollments::user_id.eq(user_id))
        .order(enrollments::course_id)
        .select(enrollments::course_id)
        .load(conn)?)
}

/// Enrolls the users in the course; users already enrolled are left alone. Returns the ids
/// that were newly enrolled (in the order given, each once).
///
/// # Errors
/// [`DbError`] on a database failure (e.g. an unknown user or course: foreign key).
pub fn enroll(
    conn: &mut AnyConnection,
    course_id: &str,
    user_ids: &[String],
) -> Result<Vec<String>, DbError> {
    let already: std::collections::HashSet<String> = enrollments::table
        .filter(enrollments::course_id.eq(course_id))
        .select(enrollments::user_id)
        .load::<String>(conn)?
        .into_iter()
        .collect();
    let mut added = Vec::new();
    for id in user_ids {
        if already.contains(id) || added.contains(id) {
            continue;
        }
        diesel::insert_into(enrollments::table)
            .values((
                enrollments::course_id.eq(course_id),
                enrollments::user_id.eq(id),
            ))
            .execute(conn)?;
        added.push(id.clone());
    }
    Ok(added)
}

/// Removes one enrollment; `false` if there was none.
///
/// # Errors
/// [`DbError`] on a database failure.
pub fn unenroll(conn: &mut AnyConnection, course_id: &str, user_id: &str) -> Result<bool, DbError> {
    let n = diesel::delete(enrollments::table.find((course_id, user_id))).execute(conn)?;
    Ok(n > 0)
}

/// The users enrolled in the course, by name.
///
/// # Errors
/// [`DbError`] on a database failure or an unreadable row.
pub fn course_members(conn: &mut AnyConnection, course_id: &str) -> Result<Vec<User>, DbError> {
    enrollments::table
        .inner_join(users::table)
        .filter(enrollments::course_id.eq(course_id))
        .order((users::name, users::id))
        .select(UserRow::as_select())
        .load(conn)?
        .into_iter()
        .map(User::try_from)
        .collect()
}

/// A value from `lms_settings`; `None` if unset.
///
/// # Errors
/// [`DbError`] on a database failure.
pub fn get_setting(conn: &mut AnyConnection, key: &str) -> Result<Option<String>, DbError> {
    Ok(lms_settings::table
        .find(key)
        .select(lms_settings::value)
        .get_result(conn)
        .optional()?)
}

/// Returns the stored value of `key`, storing `make()` first if it is unset. Run it inside a
/// write transaction so that two processes starting at once agree on one value.
///
/// # Errors
/// [`DbError`] on a database failure.
pub fn get_or_init_setting(
    conn: &mut AnyConnection,
    key: &str,
    make: impl FnOnce() -> String,
) -> Result<String, DbError> {
    if let Some(v) = get_setting(conn, key)? {
        return Ok(v);
    }
    let value = make();
    diesel::insert_into(lms_settings::table)
        .values((lms_settings::key.eq(key), lms_settings::value.eq(&value)))
        .execute(conn)?;
    Ok(value)
}

/// Sets `key` to `value` (insert or update).
///
/// # Errors
/// [`DbError`] on a database failure.
pub fn set_setting(conn: &mut AnyConnection, key: &str, value: &str) -> Result<(), DbError> {
    let n = diesel::update(lms_settings::table.find(key))
        .set(lms_settings::value.eq(value))
        .execute(conn)?;
    if n == 0 {
        diesel::insert_into(lms_settings::table)
            .values((lms_settings::key.eq(key), lms_settings::value.eq(value)))
            .execute(conn)?;
    }
    Ok(())
}
