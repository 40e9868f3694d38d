//! Bearer tokens of the example LMS.
//!
//! The LMS mints the same HS256 bearer tokens attend's API accepts (claims `sub`, `role`,
//! `groups`, `exp`; see attend-actix's `Claims`), so one token works for the LMS routes and
//! for `/attend`. An instructor's `groups` are the ids of the courses they teach: a course
//! *is* attend's group. A real LMS would mint such a token from its own login session for the
//! pages that call attend; the demo hands them out through `GET /lms/dev/token`.

use std::future::{Ready, ready};

use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use attend_actix::auth::{AuthError, Claims, JwtAuthenticator, Principal, Role as ApiRole};
use chrono::{DateTime, Duration, Utc};

use crate::db::{Role, User};
use crate::error::LmsError;

/// How long tokens minted by the LMS stay valid.
pub const TOKEN_TTL: Duration = Duration::hours(12);

/// Issues and verifies the LMS's bearer tokens. Cheap to clone; `Debug` hides the secret.
#[derive(Clone, Debug)]
pub struct Tokens {
    jwt: JwtAuthenticator,
}

/// A minted token and when it stops working.
#[derive(Clone, Debug, serde::Serialize)]
pub struct IssuedToken {
    /// The bearer token.
    pub token: String,
    /// Its expiry.
    pub expires_at: DateTime<Utc>,
}

impl Tokens {
    /// Tokens signed with `secret` (the app's `ATTEND_JWT_SECRET`).
    pub fn new(secret: &[u8]) -> Self {
        Self {
            jwt: JwtAuthenticator::new(secret),
        }
    }

    /// The authenticator, to hand to attend's scope so both sides accept the same tokens.
    pub fn authenticator(&self) -> JwtAuthenticator {
        self.jwt.clone()
    }

    /// Mints a token for `user` valid for `ttl`; `groups` are the course ids an instructor
    /// teaches (ignored by attend for admins and students).
    ///
    /// # Errors
    /// [`LmsError::Internal`] if signing fails (it does not with an HMAC key).
    pub fn issue(
        &self,
        user: &User,
        groups: Vec<String>,
        ttl: Duration,
    ) -> Result<IssuedToken, LmsError> {
        let expires_at = Utc::now() + ttl;
        let claims = Claims {
            sub: user.id.clone(),
            role: api_role(user.role),
            groups,
            exp: expires_at.timestamp(),
        };
        let token = self.jwt.issue(&claims).map_err(LmsError::internal)?;
        Ok(IssuedToken { token, expires_at })
    }

    /// Verifies a bearer token.
    ///
    /// # Errors
    /// The attend-actix [`AuthError`] (expired, invalid).
    pub fn verify(&self, token: &str) -> Result<Principal, AuthError> {
        self.jwt.verify(token)
    }
}

/// The LMS role as attend's API role.
pub fn api_role(role: Role) -> ApiRole {
    match role {
        Role::Admin => ApiRole::Admin,
        Role::Instructor => ApiRole::Instructor,
        Role::Student => ApiRole::Student,
    }
}

/// The authenticated caller of an `/lms` route (extract it to require a bearer token; the
/// extractor answers 401 by itself).
#[derive(Clone, Debug)]
pub struct Caller(pub Principal);

impl Caller {
    /// The caller's user id.
    pub fn user_id(&self) -> &str {
        self.0.user_id.as_str()
    }

    /// Whether the caller is an admin.
    pub fn is_admin(&self) -> bool {
        self.0.role == ApiRole::Admin
    }

    /// 403 unless the caller is an admin.
    ///
    /// # Errors
    /// [`LmsError::Forbidden`].
    pub fn require_admin(&self) -> Result<(), LmsError> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(LmsError::Forbidden("this action needs the admin role"))
        }
    }
}

impl FromRequest for Caller {
    type Error = LmsError;
    type Future = Ready<Result<Self, LmsError>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let result = (|| {
            let tokens = req
                .app_data::<web::Data<Tokens>>()
                .ok_or_else(|| LmsError::internal("the LMS token verifier is not configured"))?;
            let token = attend_actix::auth::bearer_token(req)
                .map_err(LmsError::from)?
                .ok_or(LmsError::Unauthenticated(AuthError::Missing))?;
            Ok(Caller(tokens.verify(token)?))
        })();
        ready(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_tokens_verify_with_role_and_groups() {
        let tokens = Tokens::new(b"0123456789abcdef0123456789abcdef");
        let user = User {
            id: "t1".into(),
            email: None,
            name: "T".into(),
            role: Role::Instructor,
        };
        let issued = tokens
            .issue(&user, vec!["course-1".into()], Duration::minutes(5))
            .unwrap();
        let p = tokens.verify(&issued.token).unwrap();
        assert_eq!(p.user_id.as_str(), "t1");
        assert_eq!(p.role, ApiRole::Instructor);
        assert!(p.manages(&"course-1".into()));
        let other = Tokens::new(b"another-secret-another-secret-xx");
        assert!(other.verify(&issued.token).is_err());
    }
}
