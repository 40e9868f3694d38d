//! Checks of [`UserDirectory`](crate::store::UserDirectory), run by
//! [`run_directory`](super::run_directory).

use std::sync::Arc;

use futures::future::BoxFuture;

use crate::model::{GroupKey, UserId};
use crate::store::{DirectoryError, HostUser, UserDirectory};

use super::{CheckResult, Ctx, DirectoryCapabilities, DirectorySeed, ensure, ensure_eq};

type DirCheck =
    fn(Arc<dyn UserDirectory>, DirectoryCapabilities) -> BoxFuture<'static, CheckResult>;

pub(super) fn checks() -> Vec<(&'static str, DirCheck)> {
    vec![
        ("directory::get_user", |d, c| Box::pin(get_user(d, c))),
        ("directory::get_users", |d, c| Box::pin(get_users(d, c))),
        ("directory::find_by_email", |d, c| {
            Box::pin(find_by_email(d, c))
        }),
        ("directory::group_listing", |d, c| {
            Box::pin(group_listing(d, c))
        }),
    ]
}

fn user(id: &str, email: Option<&str>, name: &str) -> HostUser {
    HostUser {
        id: UserId::from(id),
        email: email.map(str::to_owned),
        name: name.to_owned(),
    }
}

pub(super) fn seed() -> DirectorySeed {
    DirectorySeed {
        users: vec![
            user("1", Some("Ana.Lopez@Example.org"), "Ana López"),
            user("2", Some("bo@example.org"), "Bo"),
            user("3", None, "Cy without email"),
            user("4", Some("shared@example.org"), "Dee"),
            user("5", Some("SHARED@example.org"), "Eve"),
        ],
        memberships: vec![
            (GroupKey::from("course-101"), UserId::from("1")),
            (GroupKey::from("course-101"), UserId::from("3")),
            (GroupKey::from("course-202"), UserId::from("2")),
        ],
    }
}

fn ids(mut users: Vec<HostUser>) -> Vec<String> {
    let mut out: Vec<String> = users.drain(..).map(|u| u.id.0).collect();
    out.sort();
    out
}

async fn get_user(d: Arc<dyn UserDirectory>, _: DirectoryCapabilities) -> CheckResult {
    let got = d.get_user(&UserId::from("1")).await.ctx("get_user")?;
    ensure_eq!(
        got,
        Some(seed().users[0].clone()),
        "get_user(1) with a non-ASCII name"
    );
    let got = d.get_user(&UserId::from("3")).await.ctx("get_user")?;
    ensure_eq!(
        got,
        Some(seed().users[2].clone()),
        "get_user(3) without an email"
    );
    let got = d
        .get_user(&UserId::from("999"))
        .await
        .ctx("get_user unknown")?;
    ensure_eq!(got, None, "get_user of an unknown id");
    Ok(())
}

async fn get_users(d: Arc<dyn UserDirectory>, _: DirectoryCapabilities) -> CheckResult {
    let wanted = ["2", "999", "1", "2"].map(UserId::from);
    let got = d.get_users(&wanted).await.ctx("get_users")?;
    ensure_eq!(
        ids(got),
        vec!["1", "2"],
        "get_users: unknown ids left out, repeated ids once"
    );
    let none = d.get_users(&[]).await.ctx("get_users(&[])")?;
    ensure!(none.is_empty(), "get_users of no ids, got {none:?}");
    Ok(())
}

async fn find_by_email(d: Arc<dyn UserDirectory>, _: DirectoryCapabilities) -> CheckResult {
    for query in ["ana.lopez@example.org", "ANA.LOPEZ@EXAMPLE.ORG"] {
        let got = d
            .find_users_by_email(query)
            .await
            .ctx("find_users_by_email")?;
        ensure_eq!(ids(got), vec!["1"], "find_users_by_email({query:?})");
    }
    let got = d
        .find_users_by_email("shared@EXAMPLE.org")
        .await
        .ctx("find shared")?;
    ensure_eq!(
        ids(got),
        vec!["4", "5"],
        "an email shared by two users finds both"
    );
    let got = d
        .find_users_by_email("nobody@example.org")
        .await
        .ctx("find unknown")?;
    ensure!(got.is_empty(), "an unknown email finds nobody, got {got:?}");
    Ok(())
}

async fn group_listing(d: Arc<dyn UserDirectory>, caps: DirectoryCapabilities) -> CheckResult {
    let result = d.list_group_users(&GroupKey::from("course-101")).await;
    if !caps.group_listing {
        ensure!(
            matches!(result, Err(DirectoryError::Unsupported { .. })),
            "without group listing, list_group_users must answer Unsupported, got {result:?}"
        );
        return Ok(());
    }
    ensure_eq!(
        ids(result.ctx("list_group_users")?),
        vec!["1", "3"],
        "members of course-101"
    );
    let none = d
        .list_group_users(&GroupKey::from("empty-group"))
        .await
        .ctx("list_group_users unknown")?;
    ensure!(
        none.is_empty(),
        "an unknown group has no members, got {none:?}"
    );
    Ok(())
}
