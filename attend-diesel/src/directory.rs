//! The host-users-table directory: attend reads the host's own users table (never writes it).
//!
//! The host names its table and columns; attend validates every name once, at construction
//! ([`Ident`] rules: plain identifiers, optionally `schema.table`), double-quotes it, and binds
//! every value as a parameter. No value ever becomes SQL text, and no name that could break
//! out of its quotes is accepted, so the directory cannot be used for SQL injection.

use async_trait::async_trait;
use attend_core::model::{GroupKey, UserId};
use attend_core::store::{DirectoryError, HostUser, UserDirectory};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};

use crate::connection::{AnyConnection, BackendKind, MultiBackend};
use crate::error::DieselStoreError;
use crate::ident::{Ident, IdentifierError, TableName};
use crate::pool::Pool;

/// How the host's user id column is typed, which decides how ids are bound.
///
/// attend keeps host user ids as text. With [`Integer`](HostIdType::Integer), an id that is not
/// a decimal integer cannot exist in the host table and is reported as unknown (no query).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HostIdType {
    /// `TEXT`/`VARCHAR` ids (the default), bound as text.
    #[default]
    Text,
    /// `INTEGER`/`BIGINT` ids, bound as 64-bit integers.
    Integer,
}

/// Where the host keeps its users, and optionally who is in which group.
///
/// ```
/// use attend_diesel::{HostIdType, HostUsersTable};
///
/// // CREATE TABLE members (member_no INTEGER PRIMARY KEY, mail TEXT, full_name TEXT NOT NULL);
/// // CREATE TABLE enrolments (member_no INTEGER, course_code TEXT);
/// let table = HostUsersTable::new("members", "member_no", "mail", "full_name")?
///     .id_type(HostIdType::Integer)
///     .with_groups("enrolments", "member_no", "course_code")?;
///
/// // Anything that is not a plain identifier is refused up front:
/// let err = HostUsersTable::new("members; DROP TABLE members", "id", "email", "name")
///     .unwrap_err();
/// assert!(err.to_string().contains("not a plain SQL identifier"));
/// # Ok::<(), attend_diesel::IdentifierError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostUsersTable {
    table: TableName,
    id: Ident,
    email: Ident,
    name: Ident,
    id_type: HostIdType,
    groups: Option<GroupMembership>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct GroupMembership {
    table: TableName,
    user: Ident,
    group: Ident,
}

impl HostUsersTable {
    /// The users table (`table` or `schema.table`) and its id, email and display-name
    /// columns. The email column may hold NULLs (users without an email); a NULL name reads as
    /// the empty string.
    ///
    /// # Errors
    /// [`IdentifierError`] naming the offending setting if any name is not a plain identifier.
    pub fn new(
        table: &str,
        id_column: &str,
        email_column: &str,
        name_column: &str,
    ) -> Result<Self, IdentifierError> {
        Ok(Self {
            table: TableName::parse("users table", table)?,
            id: Ident::new("user id column", id_column)?,
            email: Ident::new("user email column", email_column)?,
            name: Ident::new("user name column", name_column)?,
            id_type: HostIdType::Text,
            groups: None,
        })
    }

    /// Sets how the id column is typed (default [`HostIdType::Text`]).
    #[must_use]
    pub fn id_type(mut self, id_type: HostIdType) -> Self {
        self.id_type = id_type;
        self
    }

    /// Enables [`UserDirectory::list_group_users`]: `table` holds one row per membership,
    /// `user_column` refers to the users table's id column, and `group_column` holds the host
    /// group key (compared as text, so an integer course id works too). The users table itself
    /// may be named here when the group is a column of it.
    ///
    /// # Errors
    /// [`IdentifierError`] if any name is not a plain identifier.
    pub fn with_groups(
        mut self,
        table: &str,
        user_column: &str,
        group_column: &str,
    ) -> Result<Self, IdentifierError> {
        self.groups = Some(GroupMembership {
            table: TableName::parse("group membership table", table)?,
            user: Ident::new("group membership user column", user_column)?,
            group: Ident::new("group membership group column", group_column)?,
        });
        Ok(self)
    }

    fn select_list(&self, alias: &str) -> String {
        format!(
            "CAST({alias}.{id} AS TEXT) AS id, CAST({alias}.{email} AS TEXT) AS email, \
             COALESCE(CAST({alias}.{name} AS TEXT), '') AS name",
            id = self.id,
            email = self.email,
            name = self.name,
        )
    }
}

/// [`UserDirectory`] over the host's own users table, read through attend's pool (obtain one
/// with [`DieselStore::user_directory`](crate::DieselStore::user_directory), or
/// [`HostUserDirectory::new`] with any [`Pool`]).
///
/// * `get_user`/`get_users` compare the id column with bound ids (typed per
///   [`HostIdType`]);
/// * `find_users_by_email` compares `lower(email) = lower(?)`: ASCII case-insensitive on
///   SQLite, Unicode case-insensitive on PostgreSQL (a superset); an index on `lower(email)`
///   makes it fast on large tables;
/// * `list_group_users` needs [`HostUsersTable::with_groups`], otherwise it answers
///   `Unsupported`.
///
/// Errors: pool exhaustion and connection failures are `Unavailable` (retryable); a missing
/// table or column is `Backend` (fix the configuration).
#[derive(Clone)]
pub struct HostUserDirectory {
    pool: Pool,
    table: HostUsersTable,
}

impl std::fmt::Debug for HostUserDirectory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostUserDirectory")
            .field("table", &self.table)
            .finish_non_exhaustive()
    }
}

#[derive(QueryableByName)]
struct UserRow {
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = Nullable<Text>)]
    email: Option<String>,
    #[diesel(sql_type = Text)]
    name: String,
}

impl From<UserRow> for HostUser {
    fn from(row: UserRow) -> Self {
        HostUser {
            id: UserId(row.id),
            email: row.email,
            name: row.name,
        }
    }
}

/// Bind placeholders: `$n` for PostgreSQL, `?n` for SQLite (both are numbered, so one value
/// can be referenced twice).
fn placeholder(backend: BackendKind, n: usize) -> String {
    match backend {
        BackendKind::Postgres => format!("${n}"),
        BackendKind::Sqlite => format!("?{n}"),
    }
}

/// Host ids are matched a chunk at a time so a long list never exceeds bind-parameter limits.
const IDS_PER_QUERY: usize = 500;

impl HostUserDirectory {
    /// A directory reading `table` through `pool`.
    pub fn new(pool: Pool, table: HostUsersTable) -> Self {
        Self { pool, table }
    }

    /// The configuration this directory reads with.
    pub fn table(&self) -> &HostUsersTable {
        &self.table
    }

    async fn run<T, F>(&self, f: F) -> Result<T, DieselStoreError>
    where
        F: FnOnce(&mut AnyConnection, &HostUsersTable) -> Result<T, DieselStoreError>
            + Send
            + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        let table = self.table.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.get()?;
            let result = f(&mut conn, &table);
            if let Err(err) = &result {
                crate::pool::flag_if_lost(&mut conn, err);
            }
            result
        })
        .await?
    }

    /// The ids that can exist in the host table (for integer ids: the decimal ones).
    fn bindable_ids(&self, ids: &[UserId]) -> Vec<UserId> {
        let mut seen = std::collections::BTreeSet::new();
        ids.iter()
            .filter(|id| match self.table.id_type {
                HostIdType::Text => true,
                HostIdType::Integer => id.as_str().parse::<i64>().is_ok(),
            })
            .filter(|id| seen.insert(id.as_str().to_owned()))
            .cloned()
            .collect()
    }
}

fn load_by_ids(
    conn: &mut AnyConnection,
    t: &HostUsersTable,
    ids: &[UserId],
) -> Result<Vec<HostUser>, DieselStoreError> {
    let backend = conn.backend();
    let mut users = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(IDS_PER_QUERY) {
        let list = (1..=chunk.len())
            .map(|n| placeholder(backend, n))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT {} FROM {} u WHERE u.{} IN ({list})",
            t.select_list("u"),
            t.table,
            t.id
        );
        let mut query = diesel::sql_query(sql).into_boxed::<MultiBackend>();
        for id in chunk {
            query = match t.id_type {
                HostIdType::Text => query.bind::<Text, _>(id.as_str().to_owned()),
                HostIdType::Integer => {
                    let n: i64 = id.as_str().parse().map_err(|_| {
                        DieselStoreError::InvalidOption("non-integer host user id".into())
                    })?;
                    query.bind::<BigInt, _>(n)
                }
            };
        }
        let rows: Vec<UserRow> = query.load(conn)?;
        users.extend(rows.into_iter().map(HostUser::from));
    }
    Ok(users)
}

#[async_trait]
impl UserDirectory for HostUserDirectory {
    async fn get_user(&self, id: &UserId) -> Result<Option<HostUser>, DirectoryError> {
        Ok(self
            .get_users(std::slice::from_ref(id))
            .await?
            .into_iter()
            .next())
    }

    async fn get_users(&self, ids: &[UserId]) -> Result<Vec<HostUser>, DirectoryError> {
        let ids = self.bindable_ids(ids);
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        Ok(self.run(move |conn, t| load_by_ids(conn, t, &ids)).await?)
    }

    async fn find_users_by_email(&self, email: &str) -> Result<Vec<HostUser>, DirectoryError> {
        let email = email.to_owned();
        if email.is_empty() {
            return Ok(Vec::new());
        }
        Ok(self
            .run(move |conn, t| {
                let sql = format!(
                    "SELECT {} FROM {} u WHERE lower(u.{}) = lower({})",
                    t.select_list("u"),
                    t.table,
                    t.email,
                    placeholder(conn.backend(), 1)
                );
                let rows: Vec<UserRow> =
                    diesel::sql_query(sql).bind::<Text, _>(email).load(conn)?;
                Ok(rows.into_iter().map(HostUser::from).collect())
            })
            .await?)
    }

    async fn list_group_users(&self, group: &GroupKey) -> Result<Vec<HostUser>, DirectoryError> {
        if self.table.groups.is_none() {
            return Err(DirectoryError::Unsupported {
                operation: "list_group_users",
            });
        }
        let group = group.as_str().to_owned();
        Ok(self
            .run(move |conn, t| {
                let Some(g) = &t.groups else {
                    return Ok(Vec::new());
                };
                // DISTINCT: a user listed twice in the membership table is one member.
                let sql = format!(
                    "SELECT DISTINCT {} FROM {} u JOIN {} m ON m.{} = u.{} \
                     WHERE CAST(m.{} AS TEXT) = {}",
                    t.select_list("u"),
                    t.table,
                    g.table,
                    g.user,
                    t.id,
                    g.group,
                    placeholder(conn.backend(), 1)
                );
                let rows: Vec<UserRow> =
                    diesel::sql_query(sql).bind::<Text, _>(group).load(conn)?;
                Ok(rows.into_iter().map(HostUser::from).collect())
            })
            .await?)
    }
}
