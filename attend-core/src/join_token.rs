//! Personal join links: a signed, expiring token bound to one host user and one meeting.
//!
//! A join link is `{public_url}{mount prefix}/join/{token}`. The token is an HS256 JWT whose
//! claims name the host user (`sub`), attend's meeting id (`mtg`), the time it was issued
//! (`iat`) and when it stops working (`exp`), plus an audience claim
//! `aud = "attend:join"` ([`JOIN_AUDIENCE`]).
//!
//! The audience is what keeps join tokens and API bearer tokens apart even though both may
//! be signed with the same secret:
//! - a join token presented as a bearer token fails any bearer validation that does not list
//!   `attend:join` as an accepted audience (`jsonwebtoken` rejects a token carrying an `aud`
//!   claim when the validator expects none);
//! - a bearer token (no `aud`, or another one) presented as a join token fails here with
//!   [`JoinTokenError::WrongPurpose`].
//!
//! Verification checks, in this order: the signature and shape ([`JoinTokenError::Invalid`]),
//! the purpose ([`JoinTokenError::WrongPurpose`]), the meeting when the caller expects one
//! ([`JoinTokenError::ForeignMeeting`]), then the expiry ([`JoinTokenError::Expired`]). The
//! expiry is checked against a caller-supplied "now" (no leeway), so tests and services
//! with an injected clock get deterministic answers. An expired token is only reported as
//! expired once its signature has been verified: a forged token is always `Invalid`.

use std::fmt;

use chrono::{DateTime, Duration, TimeZone, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::model::{MeetingId, UserId};

/// The `aud` claim of every join token.
pub const JOIN_AUDIENCE: &str = "attend:join";

/// The shortest secret accepted, in bytes (256 bits, the size of the HS256 key).
pub const MIN_SECRET_LEN: usize = 32;

/// An HS256 signing secret. Its `Debug` output never shows the bytes.
#[derive(Clone)]
pub struct JwtSecret(Vec<u8>);

impl JwtSecret {
    /// Wraps secret bytes.
    ///
    /// # Errors
    /// [`SecretTooShort`] when the secret has fewer than [`MIN_SECRET_LEN`] bytes: a short
    /// HS256 secret can be brute-forced offline from any issued link.
    pub fn new(secret: impl Into<Vec<u8>>) -> Result<Self, SecretTooShort> {
        let bytes = secret.into();
        if bytes.len() < MIN_SECRET_LEN {
            return Err(SecretTooShort { len: bytes.len() });
        }
        Ok(Self(bytes))
    }

    /// A fresh random secret (for demo mode and tests).
    pub fn generate() -> Self {
        let mut bytes = vec![0u8; 48];
        rand::fill(&mut bytes[..]);
        Self(bytes)
    }

    /// The raw secret bytes. Keep them out of logs.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for JwtSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JwtSecret(<redacted>)")
    }
}

/// A secret was rejected because it is too short.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the JWT secret must be at least {min} bytes long, got {len}", min = MIN_SECRET_LEN)]
pub struct SecretTooShort {
    /// The length that was given.
    pub len: usize,
}

/// The verified contents of a join token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JoinClaims {
    /// The host user the link belongs to.
    pub user: UserId,
    /// attend's meeting id the link opens.
    pub meeting: MeetingId,
    /// When the token was issued.
    pub issued_at: DateTime<Utc>,
    /// When the token stops working.
    pub expires_at: DateTime<Utc>,
}

/// Why a join token was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum JoinTokenError {
    /// Not a token we signed: bad shape, bad signature, wrong algorithm, or missing claims.
    /// Maps to HTTP 401.
    #[error("the join token is invalid")]
    Invalid,
    /// Signed by us, but its time is up. Maps to HTTP 410; the user needs a fresh link.
    #[error("the join token expired at {expired_at}")]
    Expired {
        /// When it expired.
        expired_at: DateTime<Utc>,
    },
    /// Signed by us for another meeting than the one expected. Maps to HTTP 401/403.
    #[error("the join token belongs to another meeting")]
    ForeignMeeting,
    /// Signed with our secret but not a join token (e.g. an API bearer token). Maps to 401.
    #[error("the token is not a join token")]
    WrongPurpose,
}

#[derive(Serialize)]
struct ClaimsOut<'a> {
    aud: &'static str,
    sub: &'a str,
    mtg: &'a str,
    iat: i64,
    exp: i64,
}

/// Every field optional so that a bearer token (or any other token signed with the same
/// secret) decodes and can be told apart by its purpose instead of failing as "invalid".
#[derive(Deserialize)]
struct ClaimsIn {
    aud: Option<serde_json::Value>,
    sub: Option<String>,
    mtg: Option<String>,
    iat: Option<i64>,
    exp: Option<i64>,
}

/// Issues and verifies join tokens with one secret. Cheap to clone.
#[derive(Clone)]
pub struct JoinTokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl fmt::Debug for JoinTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JoinTokens { secret: <redacted> }")
    }
}

impl JoinTokens {
    /// Builds the signer/verifier from a secret.
    pub fn new(secret: &JwtSecret) -> Self {
        Self {
            encoding: EncodingKey::from_secret(secret.expose()),
            decoding: DecodingKey::from_secret(secret.expose()),
        }
    }

    /// Issues a token for `user` and `meeting` valid for `ttl` from the system time.
    /// Returns the token and its expiry. See [`JoinTokens::issue_at`].
    pub fn issue(
        &self,
        user: &UserId,
        meeting: &MeetingId,
        ttl: Duration,
    ) -> Result<(String, DateTime<Utc>), JoinTokenError> {
        self.issue_at(user, meeting, Utc::now(), ttl)
    }

    /// Issues a token for `user` and `meeting`, issued at `now`, valid for `ttl`.
    ///
    /// Times are whole seconds (JWT `NumericDate`): the returned `expires_at` is truncated
    /// to the second and is exactly what [`JoinTokens::verify_at`] will enforce.
    ///
    /// # Errors
    /// [`JoinTokenError::Invalid`] only if signing fails, which HS256 with an in-memory key
    /// does not do in practice.
    pub fn issue_at(
        &self,
        user: &UserId,
        meeting: &MeetingId,
        now: DateTime<Utc>,
        ttl: Duration,
    ) -> Result<(String, DateTime<Utc>), JoinTokenError> {
        let iat = now.timestamp();
        let exp = iat.saturating_add(ttl.num_seconds());
        let claims = ClaimsOut {
            aud: JOIN_AUDIENCE,
            sub: user.as_str(),
            mtg: meeting.as_str(),
            iat,
            exp,
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|_| JoinTokenError::Invalid)?;
        let expires_at = Utc
            .timestamp_opt(exp, 0)
            .single()
            .ok_or(JoinTokenError::Invalid)?;
        Ok((token, expires_at))
    }

    /// Verifies `token` against the system time. See [`JoinTokens::verify_at`].
    pub fn verify(
        &self,
        token: &str,
        expected_meeting: Option<&MeetingId>,
    ) -> Result<JoinClaims, JoinTokenError> {
        self.verify_at(token, expected_meeting, Utc::now())
    }

    /// Verifies `token` at time `now`.
    ///
    /// `expected_meeting`: `None` accepts a token for any meeting (the `/join/{token}` route,
    /// where the meeting comes from the token); `Some(m)` refuses tokens for other meetings.
    ///
    /// # Errors
    /// See [`JoinTokenError`]; the checks run in the order given in the module docs. A
    /// token is expired when `now >= exp`.
    pub fn verify_at(
        &self,
        token: &str,
        expected_meeting: Option<&MeetingId>,
        now: DateTime<Utc>,
    ) -> Result<JoinClaims, JoinTokenError> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.validate_exp = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        let data = jsonwebtoken::decode::<ClaimsIn>(token, &self.decoding, &validation)
            .map_err(|_| JoinTokenError::Invalid)?;
        let claims = data.claims;

        let is_join = match &claims.aud {
            Some(serde_json::Value::String(aud)) => aud == JOIN_AUDIENCE,
            Some(serde_json::Value::Array(auds)) => {
                auds.len() == 1 && auds[0].as_str() == Some(JOIN_AUDIENCE)
            }
            _ => false,
        };
        if !is_join {
            return Err(JoinTokenError::WrongPurpose);
        }
        let (Some(sub), Some(mtg), Some(exp)) = (claims.sub, claims.mtg, claims.exp) else {
            return Err(JoinTokenError::Invalid);
        };
        if sub.is_empty() || mtg.is_empty() {
            return Err(JoinTokenError::Invalid);
        }
        let meeting = MeetingId::new(mtg);
        if let Some(expected) = expected_meeting
            && expected != &meeting
        {
            return Err(JoinTokenError::ForeignMeeting);
        }
        let expires_at = Utc
            .timestamp_opt(exp, 0)
            .single()
            .ok_or(JoinTokenError::Invalid)?;
        if now >= expires_at {
            return Err(JoinTokenError::Expired {
                expired_at: expires_at,
            });
        }
        let issued_at = claims
            .iat
            .and_then(|iat| Utc.timestamp_opt(iat, 0).single())
            .unwrap_or(expires_at);
        Ok(JoinClaims {
            user: UserId::new(sub),
            meeting,
            issued_at,
            expires_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret() -> JwtSecret {
        JwtSecret::new(b"0123456789abcdef0123456789abcdef".to_vec()).unwrap()
    }

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn round_trip_binds_user_and_meeting() {
        let tokens = JoinTokens::new(&secret());
        let now = t("2025-03-01T10:00:00Z");
        let (token, exp) = tokens
            .issue_at(&"u1".into(), &"m1".into(), now, Duration::hours(2))
            .unwrap();
        assert_eq!(exp, t("2025-03-01T12:00:00Z"));
        let claims = tokens
            .verify_at(&token, Some(&"m1".into()), now + Duration::minutes(5))
            .unwrap();
        assert_eq!(claims.user, UserId::new("u1"));
        assert_eq!(claims.meeting, MeetingId::new("m1"));
        assert_eq!(claims.issued_at, now);
        assert_eq!(claims.expires_at, exp);
        // No expected meeting: any meeting is accepted.
        assert!(tokens.verify_at(&token, None, now).is_ok());
    }

    #[test]
    fn expired_is_distinct_and_exact() {
        let tokens = JoinTokens::new(&secret());
        let now = t("2025-03-01T10:00:00Z");
        let (token, exp) = tokens
            .issue_at(&"u1".into(), &"m1".into(), now, Duration::seconds(60))
            .unwrap();
        assert!(
            tokens
                .verify_at(&token, None, exp - Duration::seconds(1))
                .is_ok()
        );
        assert_eq!(
            tokens.verify_at(&token, None, exp),
            Err(JoinTokenError::Expired { expired_at: exp })
        );
    }

    #[test]
    fn tampered_token_is_invalid_even_when_expired() {
        let tokens = JoinTokens::new(&secret());
        let now = t("2025-03-01T10:00:00Z");
        let (token, _) = tokens
            .issue_at(&"u1".into(), &"m1".into(), now, Duration::seconds(60))
            .unwrap();
        // Swap the payload for one naming another user, keep the signature.
        let parts: Vec<&str> = token.split('.').collect();
        let (forged, _) = tokens
            .issue_at(&"u2".into(), &"m1".into(), now, Duration::seconds(60))
            .unwrap();
        let forged_payload = forged.split('.').nth(1).unwrap();
        let tampered = format!("{}.{}.{}", parts[0], forged_payload, parts[2]);
        let later = now + Duration::days(1);
        assert_eq!(
            tokens.verify_at(&tampered, None, later),
            Err(JoinTokenError::Invalid)
        );
        // Flipped signature character.
        let mut bad = token.clone();
        let last = bad.pop().unwrap();
        bad.push(if last == 'A' { 'B' } else { 'A' });
        assert_eq!(
            tokens.verify_at(&bad, None, now),
            Err(JoinTokenError::Invalid)
        );
        assert_eq!(
            tokens.verify_at("not-a-jwt", None, now),
            Err(JoinTokenError::Invalid)
        );
        assert_eq!(
            tokens.verify_at("", None, now),
            Err(JoinTokenError::Invalid)
        );
    }

    #[test]
    fn other_secret_is_invalid() {
        let tokens = JoinTokens::new(&secret());
        let other = JoinTokens::new(&JwtSecret::generate());
        let now = t("2025-03-01T10:00:00Z");
        let (token, _) = other
            .issue_at(&"u1".into(), &"m1".into(), now, Duration::hours(1))
            .unwrap();
        assert_eq!(
            tokens.verify_at(&token, None, now),
            Err(JoinTokenError::Invalid)
        );
    }

    #[test]
    fn foreign_meeting_is_refused() {
        let tokens = JoinTokens::new(&secret());
        let now = t("2025-03-01T10:00:00Z");
        let (token, _) = tokens
            .issue_at(&"u1".into(), &"m1".into(), now, Duration::hours(1))
            .unwrap();
        assert_eq!(
            tokens.verify_at(&token, Some(&"m2".into()), now),
            Err(JoinTokenError::ForeignMeeting)
        );
    }

    #[test]
    fn bearer_token_signed_with_same_secret_has_wrong_purpose() {
        let s = secret();
        let tokens = JoinTokens::new(&s);
        let bearer = serde_json::json!({
            "sub": "u1", "role": "admin", "groups": [], "exp": 4_000_000_000i64
        });
        let token = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &bearer,
            &EncodingKey::from_secret(s.expose()),
        )
        .unwrap();
        assert_eq!(
            tokens.verify_at(&token, None, t("2025-03-01T10:00:00Z")),
            Err(JoinTokenError::WrongPurpose)
        );
    }

    #[test]
    fn join_token_is_rejected_by_a_plain_bearer_validator() {
        let s = secret();
        let tokens = JoinTokens::new(&s);
        let (token, _) = tokens
            .issue(&"u1".into(), &"m1".into(), Duration::hours(1))
            .unwrap();
        // What a bearer-token validator with default settings does.
        let res = jsonwebtoken::decode::<serde_json::Value>(
            &token,
            &DecodingKey::from_secret(s.expose()),
            &Validation::new(Algorithm::HS256),
        );
        assert!(res.is_err());
    }

    #[test]
    fn secrets_are_redacted_and_checked() {
        let s = secret();
        assert!(!format!("{s:?}").contains("0123"));
        assert!(!format!("{:?}", JoinTokens::new(&s)).contains("0123"));
        assert_eq!(
            JwtSecret::new(b"short".to_vec()).unwrap_err(),
            SecretTooShort { len: 5 }
        );
    }
}
