//! The host-users-table directory against host-style tables with non-default names.

use attend_core::model::{GroupKey, UserId};
use attend_core::store::{DirectoryError, HostUser, UserDirectory};
use attend_diesel::{HostIdType, HostUsersTable, IdentifierError};
use diesel::prelude::*;

use crate::common::{self, TestDb};

/// The host's schema: integer member numbers, `mail`, `full_name`, and an enrolment table
/// whose course column is an integer.
const HOST_DDL: &[&str] = &[
    "CREATE TABLE members (member_no INTEGER PRIMARY KEY, mail TEXT, full_name TEXT NOT NULL)",
    "CREATE TABLE enrolments (member INTEGER NOT NULL, course_id INTEGER NOT NULL)",
    "INSERT INTO members VALUES (1, 'Ana.Lima@Example.org', 'Ana Lima')",
    "INSERT INTO members VALUES (2, 'bo@example.org', 'Bo Berg')",
    "INSERT INTO members VALUES (3, NULL, 'Cy NoMail')",
    "INSERT INTO members VALUES (4, 'BO@EXAMPLE.ORG', 'Bo Twin')",
    "INSERT INTO enrolments VALUES (1, 101)",
    "INSERT INTO enrolments VALUES (2, 101)",
    "INSERT INTO enrolments VALUES (2, 101)",
    "INSERT INTO enrolments VALUES (3, 202)",
];

async fn create_host_tables(db: &TestDb) {
    db.store
        .with_transaction(|conn| {
            for stmt in HOST_DDL {
                diesel::sql_query(*stmt).execute(conn)?;
            }
            Ok::<_, diesel::result::Error>(())
        })
        .await
        .expect("host tables");
}

fn members() -> HostUsersTable {
    HostUsersTable::new("members", "member_no", "mail", "full_name")
        .expect("valid names")
        .id_type(HostIdType::Integer)
        .with_groups("enrolments", "member", "course_id")
        .expect("valid names")
}

fn sorted_ids(users: &[HostUser]) -> Vec<&str> {
    let mut ids: Vec<&str> = users.iter().map(|u| u.id.as_str()).collect();
    ids.sort_unstable();
    ids
}

async fn directory_reads_the_host_table(db: TestDb) {
    create_host_tables(&db).await;
    let dir = db.store.user_directory(members());

    let ana = dir
        .get_user(&UserId::new("1"))
        .await
        .expect("get")
        .expect("ana");
    assert_eq!(
        ana,
        HostUser {
            id: UserId::new("1"),
            email: Some("Ana.Lima@Example.org".to_owned()),
            name: "Ana Lima".to_owned(),
        }
    );
    let cy = dir
        .get_user(&UserId::new("3"))
        .await
        .expect("get")
        .expect("cy");
    assert_eq!(cy.email, None);
    assert!(
        dir.get_user(&UserId::new("99"))
            .await
            .expect("get")
            .is_none()
    );
    // Not an integer: cannot exist in an integer id column, answered without a query error.
    assert!(
        dir.get_user(&UserId::new("abc"))
            .await
            .expect("get")
            .is_none()
    );

    let ids = ["2", "1", "2", "99", "x"].map(UserId::new);
    let users = dir.get_users(&ids).await.expect("get_users");
    assert_eq!(sorted_ids(&users), ["1", "2"]);
    assert!(dir.get_users(&[]).await.expect("empty").is_empty());

    // Case-insensitive email, several users may share one.
    let ana = dir
        .find_users_by_email("ana.lima@example.ORG")
        .await
        .expect("email");
    assert_eq!(sorted_ids(&ana), ["1"]);
    let bos = dir
        .find_users_by_email("Bo@Example.Org")
        .await
        .expect("email");
    assert_eq!(sorted_ids(&bos), ["2", "4"]);
    assert!(
        dir.find_users_by_email("nobody@example.org")
            .await
            .expect("email")
            .is_empty()
    );
    // Values are bound, never spliced: an injection attempt is just an unknown email.
    let injected = dir
        .find_users_by_email("x' OR '1'='1")
        .await
        .expect("bound parameter");
    assert!(injected.is_empty());

    // Group membership through the enrolment table; an integer group column compares as text,
    // and a duplicate enrolment row does not list the member twice.
    let course = dir
        .list_group_users(&GroupKey::new("101"))
        .await
        .expect("group");
    assert_eq!(sorted_ids(&course), ["1", "2"]);
    assert!(
        dir.list_group_users(&GroupKey::new("999"))
            .await
            .expect("group")
            .is_empty()
    );
}

#[tokio::test]
async fn directory_reads_a_host_table_with_custom_names_on_sqlite() {
    directory_reads_the_host_table(common::sqlite_file().await).await;
}

#[tokio::test]
async fn directory_reads_a_host_table_with_custom_names_on_postgres() {
    if let Some(db) = common::postgres().await {
        directory_reads_the_host_table(db).await;
    }
}

async fn text_ids_and_reserved_names(db: TestDb) {
    // A table called `user` (reserved in PostgreSQL) with text ids: quoting makes it work.
    db.store
        .with_transaction(|conn| {
            diesel::sql_query(
                "CREATE TABLE \"user\" (\"id\" TEXT PRIMARY KEY, \"email\" TEXT, \"name\" TEXT)",
            )
            .execute(conn)?;
            diesel::sql_query("INSERT INTO \"user\" VALUES ('u-1', 'a@x.org', NULL)").execute(conn)
        })
        .await
        .expect("host table");
    let dir = db
        .store
        .user_directory(HostUsersTable::new("user", "id", "email", "name").expect("names"));
    let user = dir
        .get_user(&UserId::new("u-1"))
        .await
        .expect("get")
        .expect("user");
    assert_eq!(user.name, "", "a NULL name reads as empty");
    assert!(
        dir.get_user(&UserId::new("U-1"))
            .await
            .expect("get")
            .is_none()
    );
    // No membership table configured: group listing is unsupported, not an error.
    let err = dir.list_group_users(&GroupKey::new("g")).await.unwrap_err();
    assert!(matches!(err, DirectoryError::Unsupported { .. }), "{err:?}");
    // A table that does not exist is a configuration error, not retryable.
    let missing = db.store.user_directory(
        HostUsersTable::new("no_such_table", "id", "email", "name").expect("names"),
    );
    let err = missing.get_user(&UserId::new("u-1")).await.unwrap_err();
    assert!(matches!(err, DirectoryError::Backend { .. }), "{err:?}");
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn text_ids_and_reserved_table_names_on_sqlite() {
    text_ids_and_reserved_names(common::sqlite_memory().await).await;
}

#[tokio::test]
async fn text_ids_and_reserved_table_names_on_postgres() {
    if let Some(db) = common::postgres().await {
        text_ids_and_reserved_names(db).await;
    }
}

#[tokio::test]
async fn schema_qualified_tables_work_on_postgres() {
    let Some(db) = common::postgres().await else {
        return;
    };
    let schema = common::unique_name("attend_host");
    let ddl = schema.clone();
    db.store
        .with_transaction(move |conn| {
            diesel::sql_query(format!("CREATE SCHEMA \"{ddl}\"")).execute(conn)?;
            diesel::sql_query(format!(
                "CREATE TABLE \"{ddl}\".people (pid TEXT PRIMARY KEY, mail TEXT, nm TEXT)"
            ))
            .execute(conn)?;
            diesel::sql_query(format!(
                "INSERT INTO \"{ddl}\".people VALUES ('p1', 'p@x.org', 'P One')"
            ))
            .execute(conn)
        })
        .await
        .expect("host schema");
    let dir = db.store.user_directory(
        HostUsersTable::new(&format!("{schema}.people"), "pid", "mail", "nm").expect("names"),
    );
    let found = dir.find_users_by_email("P@X.ORG").await.expect("email");
    assert_eq!(sorted_ids(&found), ["p1"]);
    let drop = schema.clone();
    db.store
        .with_transaction(move |conn| {
            diesel::sql_query(format!("DROP SCHEMA \"{drop}\" CASCADE")).execute(conn)
        })
        .await
        .expect("drop host schema");
}

#[test]
fn unsafe_names_are_rejected_at_construction_with_a_clear_error() {
    let cases: &[(&str, &str, &str, &str, &str)] = &[
        (
            "members; DROP TABLE members",
            "id",
            "mail",
            "name",
            "users table",
        ),
        ("members", "id\"--", "mail", "name", "user id column"),
        ("members", "id", "mail OR 1=1", "name", "user email column"),
        ("members", "id", "mail", "", "user name column"),
        ("a.b.c", "id", "mail", "name", "users table"),
        ("1members", "id", "mail", "name", "users table"),
    ];
    for (table, id, mail, name, role) in cases {
        let err = HostUsersTable::new(table, id, mail, name).unwrap_err();
        let message = err.to_string();
        assert!(message.starts_with(role), "{message}");
        assert!(
            matches!(
                err,
                IdentifierError::InvalidCharacters { .. } | IdentifierError::Empty { .. }
            ),
            "{err:?}"
        );
    }
    let err = HostUsersTable::new("members", "id", "mail", "name")
        .expect("valid")
        .with_groups("enrolments", "member", "course'; --")
        .unwrap_err();
    assert!(
        err.to_string().starts_with("group membership group column"),
        "{err}"
    );
    assert!(matches!(
        HostUsersTable::new(&"t".repeat(64), "id", "mail", "name"),
        Err(IdentifierError::TooLong { .. })
    ));
}
