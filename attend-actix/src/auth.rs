//! Who is calling: the [`Authenticator`] trait, the built-in bearer-JWT authenticator
//! [`JwtAuthenticator`], the [`Principal`] extractor, and the role rules.
//!
//! # Bearer tokens
//!
//! [`JwtAuthenticator`] accepts `Authorization: Bearer <JWT>`, HS256 with the configured secret,
//! with the claims of [`Claims`]: `sub` (the host user id), `role` (`admin` | `instructor` |
//! `student`), `groups` (group keys an instructor may manage; ignored for admins; may be
//! omitted) and `exp` (required). A missing header answers 401 `missing_credentials`, an
//! expired token 401 `token_expired`, anything else wrong 401 `invalid_token`. A token that
//! carries an `aud` claim (such as a personal join token signed with the same secret) is
//! refused as a bearer token unless an audience is configured with
//! [`JwtAuthenticator::with_audience`].
//!
//! # Your own authenticator
//!
//! A host that already knows who is logged in (a session cookie, a gateway header) implements
//! [`Authenticator`] and passes it to the config builder instead:
//!
//! ```
//! use actix_web::HttpRequest;
//! use attend_actix::auth::{AuthError, Authenticator, Principal, Role};
//! use futures::future::LocalBoxFuture;
//!
//! /// Trusts a header set by the host's own gateway (an example, not a recommendation).
//! #[derive(Debug)]
//! struct GatewayHeader;
//!
//! impl Authenticator for GatewayHeader {
//!     fn authenticate<'a>(
//!         &'a self,
//!         req: &'a HttpRequest,
//!     ) -> LocalBoxFuture<'a, Result<Principal, AuthError>> {
//!         Box::pin(async move {
//!             let user = req
//!                 .headers()
//!                 .get("x-user-id")
//!                 .and_then(|v| v.to_str().ok())
//!                 .ok_or(AuthError::Missing)?;
//!             Ok(Principal::new(user, Role::Student, Vec::<String>::new()))
//!         })
//!     }
//! }
//! ```
//!
//! # Role rules
//!
//! * admins may do everything;
//! * instructors may read and manage only meetings whose `group` is in their `groups`, and get
//!   403 elsewhere;
//! * students may read only their own data and their own join link, and get 403 (never 404)
//!   on anybody else's.

use std::{collections::BTreeSet, fmt, sync::Arc};

use actix_web::{FromRequest, HttpRequest, dev::Payload, http::header, web};
use attend_core::model::{GroupKey, UserId};
use futures::future::LocalBoxFuture;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, errors::ErrorKind};
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, BoxError};

/// The role of an authenticated caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// May do everything.
    Admin,
    /// May manage the meetings of their groups.
    Instructor,
    /// May read their own data and open their own join links.
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
}

/// An authenticated caller. Extract it in a handler (`principal: Principal`) to require
/// authentication; the extractor answers 401 by itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    /// The host's own user id.
    pub user_id: UserId,
    /// The caller's role.
    pub role: Role,
    /// The groups an instructor may manage (ignored for admins, meaningless for students).
    pub groups: BTreeSet<GroupKey>,
}

impl Principal {
    /// Builds a principal.
    pub fn new<G: Into<GroupKey>>(
        user_id: impl Into<UserId>,
        role: Role,
        groups: impl IntoIterator<Item = G>,
    ) -> Self {
        Self {
            user_id: user_id.into(),
            role,
            groups: groups.into_iter().map(Into::into).collect(),
        }
    }

    /// Whether the caller is an admin.
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// Whether the caller is `user`.
    pub fn is_user(&self, user: &UserId) -> bool {
        &self.user_id == user
    }

    /// Whether the caller may manage (and read everything of) meetings of `group`: admins
    /// always, instructors when `group` is one of theirs, students never.
    pub fn manages(&self, group: &GroupKey) -> bool {
        match self.role {
            Role::Admin => true,
            Role::Instructor => self.groups.contains(group),
            Role::Student => false,
        }
    }

    /// 403 unless the caller is an admin.
    pub fn require_admin(&self) -> Result<(), ApiError> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(ApiError::forbidden("this action needs the admin role"))
        }
    }

    /// 403 unless the caller is an admin or an instructor.
    pub fn require_staff(&self) -> Result<(), ApiError> {
        match self.role {
            Role::Admin | Role::Instructor => Ok(()),
            Role::Student => Err(ApiError::forbidden(
                "this action needs the admin or instructor role",
            )),
        }
    }

    /// 403 unless the caller [manages](Principal::manages) `group`.
    pub fn require_group(&self, group: &GroupKey) -> Result<(), ApiError> {
        if self.manages(group) {
            Ok(())
        } else if self.role == Role::Student {
            Err(ApiError::forbidden(
                "this action needs the admin or instructor role",
            ))
        } else {
            Err(ApiError::forbidden(
                "instructors may only manage meetings of their own groups",
            ))
        }
    }

    /// 403 unless the caller is `user` or manages `group`: the rule for one user's data of
    /// one meeting.
    pub fn require_self_or_group(&self, user: &UserId, group: &GroupKey) -> Result<(), ApiError> {
        if self.is_user(user) || self.manages(group) {
            Ok(())
        } else {
            Err(ApiError::forbidden("you may only read your own data"))
        }
    }
}

/// Why a request could not be authenticated.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// No credentials at all (401 `missing_credentials`).
    #[error("no credentials")]
    Missing,
    /// Credentials that are malformed, badly signed or carry bad claims (401 `invalid_token`).
    #[error("invalid credentials")]
    Invalid,
    /// Credentials that were valid but have expired (401 `token_expired`).
    #[error("expired credentials")]
    Expired,
    /// The authenticator's own backend failed (a session store is down): 503
    /// `storage_unavailable` when `retryable`, else an opaque 500.
    #[error("authentication backend failed")]
    Backend {
        /// Whether trying again later may succeed.
        retryable: bool,
        /// The cause, logged only.
        #[source]
        source: BoxError,
    },
}

impl From<AuthError> for ApiError {
    fn from(err: AuthError) -> Self {
        match err {
            AuthError::Missing => ApiError::MissingCredentials,
            AuthError::Invalid => ApiError::InvalidToken,
            AuthError::Expired => ApiError::TokenExpired,
            AuthError::Backend {
                retryable: true,
                source,
            } => {
                tracing::warn!(error = %source, "authenticator backend unavailable");
                ApiError::storage_unavailable()
            }
            AuthError::Backend { source, .. } => ApiError::Internal(source),
        }
    }
}

/// Turns a request into a [`Principal`]. The scope holds one as `Arc<dyn Authenticator>`,
/// shared by every worker thread of the server (hence `Send + Sync`).
///
/// Implementations must not log credentials. The returned future may borrow both `self` and
/// the request; it need not be `Send` (actix runs each request on one thread).
pub trait Authenticator: fmt::Debug + Send + Sync + 'static {
    /// Authenticates `req`.
    ///
    /// # Errors
    /// [`AuthError::Missing`] when the request carries no credentials,
    /// [`AuthError::Invalid`]/[`AuthError::Expired`] when they are bad, and
    /// [`AuthError::Backend`] when the check itself could not be made.
    fn authenticate<'a>(
        &'a self,
        req: &'a HttpRequest,
    ) -> LocalBoxFuture<'a, Result<Principal, AuthError>>;
}

/// The claims of an attend bearer token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The host user id.
    pub sub: String,
    /// The caller's role.
    pub role: Role,
    /// Group keys an instructor may manage (ignored for admins). May be omitted.
    #[serde(default)]
    pub groups: Vec<String>,
    /// Expiry, seconds since the Unix epoch. Required.
    pub exp: i64,
}

/// The built-in [`Authenticator`]: `Authorization: Bearer <JWT>`, HS256, claims [`Claims`].
///
/// `Debug` never shows the secret.
#[derive(Clone)]
pub struct JwtAuthenticator {
    decoding: DecodingKey,
    encoding: EncodingKey,
    validation: Validation,
}

impl fmt::Debug for JwtAuthenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtAuthenticator")
            .field("secret", &"<redacted>")
            .field("leeway_seconds", &self.validation.leeway)
            .finish()
    }
}

impl JwtAuthenticator {
    /// An authenticator verifying HS256 tokens signed with `secret`, with `exp` required and
    /// 30 seconds of clock leeway.
    pub fn new(secret: &[u8]) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 30;
        validation.set_required_spec_claims(&["exp", "sub"]);
        Self {
            decoding: DecodingKey::from_secret(secret),
            encoding: EncodingKey::from_secret(secret),
            validation,
        }
    }

    /// Accepts only tokens whose `aud` is one of `audiences` (and requires the claim).
    #[must_use]
    pub fn with_audience(mut self, audiences: &[&str]) -> Self {
        self.validation.set_audience(audiences);
        self.validation
            .required_spec_claims
            .insert("aud".to_owned());
        self
    }

    /// Accepts only tokens whose `iss` is one of `issuers` (and requires the claim).
    #[must_use]
    pub fn with_issuer(mut self, issuers: &[&str]) -> Self {
        self.validation.set_issuer(issuers);
        self.validation
            .required_spec_claims
            .insert("iss".to_owned());
        self
    }

    /// Sets the clock leeway for `exp`, in seconds (default 30).
    #[must_use]
    pub fn with_leeway(mut self, seconds: u64) -> Self {
        self.validation.leeway = seconds;
        self
    }

    /// Signs `claims` with this authenticator's secret: for hosts that mint attend tokens for
    /// their users, for tests and demos.
    ///
    /// # Errors
    /// Only if serialization fails, which [`Claims`] never does in practice.
    pub fn issue(&self, claims: &Claims) -> Result<String, jsonwebtoken::errors::Error> {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.encoding)
    }

    /// Verifies a bare token (without the `Bearer ` prefix).
    ///
    /// # Errors
    /// [`AuthError::Expired`] when the signature is good but `exp` has passed (beyond the
    /// leeway), [`AuthError::Invalid`] for every other problem.
    pub fn verify(&self, token: &str) -> Result<Principal, AuthError> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|err| match err.kind() {
                ErrorKind::ExpiredSignature => AuthError::Expired,
                _ => AuthError::Invalid,
            })?;
        let claims = data.claims;
        if claims.sub.is_empty() {
            return Err(AuthError::Invalid);
        }
        Ok(Principal::new(claims.sub, claims.role, claims.groups))
    }
}

/// The token of an `Authorization: Bearer <token>` header: `Ok(None)` without the header,
/// `Err` when the header is there but is not a bearer token.
pub fn bearer_token(req: &HttpRequest) -> Result<Option<&str>, AuthError> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().map_err(|_| AuthError::Invalid)?;
    let (scheme, token) = value.split_once(' ').ok_or(AuthError::Invalid)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(AuthError::Invalid);
    }
    let token = token.trim();
    if token.is_empty() {
        return Err(AuthError::Missing);
    }
    Ok(Some(token))
}

impl Authenticator for JwtAuthenticator {
    fn authenticate<'a>(
        &'a self,
        req: &'a HttpRequest,
    ) -> LocalBoxFuture<'a, Result<Principal, AuthError>> {
        let result = bearer_token(req)
            .and_then(|token| token.ok_or(AuthError::Missing))
            .and_then(|token| self.verify(token));
        Box::pin(std::future::ready(result))
    }
}

/// The authenticator of the scope, stored in its app data.
#[derive(Clone, Debug)]
pub(crate) struct AuthData(pub(crate) Arc<dyn Authenticator>);

impl FromRequest for Principal {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let Some(auth) = req.app_data::<web::Data<AuthData>>().cloned() else {
                return Err(ApiError::internal(
                    "no authenticator configured: is the attend scope mounted?",
                ));
            };
            let principal = auth.0.authenticate(&req).await?;
            tracing::Span::current().record("role", principal.role.as_str());
            Ok(principal)
        })
    }
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn claims(exp: i64) -> Claims {
        Claims {
            sub: "u1".into(),
            role: Role::Instructor,
            groups: vec!["course-101".into()],
            exp,
        }
    }

    fn now() -> i64 {
        chrono::Utc::now().timestamp()
    }

    #[test]
    fn a_good_token_gives_its_principal() {
        let auth = JwtAuthenticator::new(SECRET);
        let token = auth.issue(&claims(now() + 600)).unwrap();
        let principal = auth.verify(&token).unwrap();
        assert_eq!(principal.user_id.as_str(), "u1");
        assert_eq!(principal.role, Role::Instructor);
        assert!(principal.manages(&GroupKey::from("course-101")));
        assert!(!principal.manages(&GroupKey::from("course-102")));
    }

    #[test]
    fn expired_and_forged_tokens_are_told_apart() {
        let auth = JwtAuthenticator::new(SECRET);
        let expired = auth.issue(&claims(now() - 3600)).unwrap();
        assert!(matches!(auth.verify(&expired), Err(AuthError::Expired)));
        let other = JwtAuthenticator::new(b"another secret, also 32 bytes long!!");
        let forged = other.issue(&claims(now() - 3600)).unwrap();
        assert!(matches!(auth.verify(&forged), Err(AuthError::Invalid)));
        assert!(matches!(auth.verify("not.a.jwt"), Err(AuthError::Invalid)));
    }

    #[test]
    fn a_join_token_is_not_a_bearer_token() {
        use attend_core::join_token::{JoinTokens, JwtSecret};
        let tokens = JoinTokens::new(&JwtSecret::new(SECRET.to_vec()).unwrap());
        let (join, _) = tokens
            .issue(&"u1".into(), &"m1".into(), chrono::Duration::hours(1))
            .unwrap();
        let auth = JwtAuthenticator::new(SECRET);
        assert!(matches!(auth.verify(&join), Err(AuthError::Invalid)));
    }

    #[test]
    fn bearer_header_parsing() {
        let req = TestRequest::default().to_http_request();
        assert!(matches!(bearer_token(&req), Ok(None)));
        let req = TestRequest::default()
            .insert_header((header::AUTHORIZATION, "Basic abc"))
            .to_http_request();
        assert!(matches!(bearer_token(&req), Err(AuthError::Invalid)));
        let req = TestRequest::default()
            .insert_header((header::AUTHORIZATION, "bearer  tok "))
            .to_http_request();
        assert_eq!(bearer_token(&req).unwrap(), Some("tok"));
    }

    #[test]
    fn role_rules() {
        let admin = Principal::new("a", Role::Admin, Vec::<String>::new());
        let teacher = Principal::new("t", Role::Instructor, ["g1"]);
        let student = Principal::new("s", Role::Student, ["g1"]);
        let g1 = GroupKey::from("g1");
        let g2 = GroupKey::from("g2");
        assert!(admin.require_group(&g2).is_ok());
        assert!(teacher.require_group(&g1).is_ok());
        assert!(teacher.require_group(&g2).is_err());
        assert!(student.require_group(&g1).is_err());
        assert!(student.require_self_or_group(&"s".into(), &g1).is_ok());
        assert!(student.require_self_or_group(&"x".into(), &g1).is_err());
        assert!(student.require_staff().is_err());
        assert!(teacher.require_admin().is_err());
    }
}
