//! Fuzz target: join-token verification on arbitrary strings.
//!
//! Seeded with real tokens signed with [`SECRET`] (`fuzz/seeds/join_token/`, written by
//! `fuzz/make_join_token_seeds.py`): live and expired join tokens, tokens for another
//! meeting, bearer tokens and other audiences, missing claims, another secret, `alg: none`.
//! libFuzzer mutates those as well as arbitrary text. Checks, for every input:
//!
//! * nothing panics;
//! * a token that verifies carries a valid HMAC-SHA256 under [`SECRET`] over its first two
//!   segments (checked independently with `hmac`/`base64`, not through `jsonwebtoken`), its
//!   payload decodes to `"aud": "attend:join"` (or `["attend:join"]`) and to the `sub`,
//!   `mtg`, `exp` reported, and it was issued for the meeting the caller expected, if any;
//! * the expected-meeting check agrees with the claims and comes after the signature and
//!   purpose checks, before the expiry check;
//! * the expiry boundary is exact: valid one second before `exp`, expired at `exp`;
//! * a verifier with another secret refuses everything as `Invalid`.

#![no_main]

use attend_core::join_token::{JOIN_AUDIENCE, JoinClaims, JoinTokenError, JoinTokens, JwtSecret};
use attend_core::model::MeetingId;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, KeyInit, Mac};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use sha2::Sha256;

/// The secret the seed tokens were signed with.
const SECRET: &[u8] = b"attend-fuzz-join-token-secret-0123456789";
const OTHER_SECRET: &[u8] = b"another-secret-another-secret-0123456789";
/// "Now" for verification: 2025-03-01T10:30:00Z (the seeds are issued at 10:00 with ttls
/// from 1 s to 2 h, so some are live and some expired).
const NOW: i64 = 1_740_825_000;

/// The independent oracle: `token` is three segments, its signature is the HMAC of the
/// first two under `SECRET`, and its payload says what `claims` says.
fn assert_signed_by_us(token: &str, claims: &JoinClaims) {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(
        parts.len(),
        3,
        "a verified token has three segments: {token:?}"
    );
    let signature = URL_SAFE_NO_PAD
        .decode(parts[2])
        .expect("a verified token's signature is base64url");
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(SECRET).expect("any key length");
    mac.update(parts[0].as_bytes());
    mac.update(b".");
    mac.update(parts[1].as_bytes());
    assert!(
        mac.verify_slice(&signature).is_ok(),
        "a token not signed with our secret verified: {token:?}"
    );
    let header: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(parts[0])
            .expect("a verified token's header is base64url"),
    )
    .expect("a verified token's header is JSON");
    assert_eq!(header["alg"], "HS256");
    let payload: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(parts[1])
            .expect("a verified token's payload is base64url"),
    )
    .expect("a verified token's payload is JSON");
    let aud = &payload["aud"];
    assert!(
        aud == JOIN_AUDIENCE || *aud == Value::from(vec![JOIN_AUDIENCE]),
        "verified with aud {aud}"
    );
    assert_eq!(payload["sub"].as_str(), Some(claims.user.as_str()));
    assert_eq!(payload["mtg"].as_str(), Some(claims.meeting.as_str()));
    assert_eq!(payload["exp"].as_i64(), Some(claims.expires_at.timestamp()));
}

fuzz_target!(|data: &[u8]| {
    let Ok(token) = std::str::from_utf8(data) else {
        return;
    };
    let tokens = JoinTokens::new(&JwtSecret::new(SECRET).expect("long enough"));
    let other = JoinTokens::new(&JwtSecret::new(OTHER_SECRET).expect("long enough"));
    let now = DateTime::<Utc>::from_timestamp(NOW, 0).expect("in range");
    let expected = MeetingId::new("m-1");

    let any = tokens.verify_at(token, None, now);
    let scoped = tokens.verify_at(token, Some(&expected), now);

    match &any {
        Ok(claims) => {
            assert_signed_by_us(token, claims);
            assert!(now < claims.expires_at);
            assert!(!claims.user.as_str().is_empty() && !claims.meeting.as_str().is_empty());
            // Expiry boundary.
            assert_eq!(
                tokens.verify_at(token, None, claims.expires_at),
                Err(JoinTokenError::Expired {
                    expired_at: claims.expires_at
                })
            );
            let just_before = claims.expires_at - Duration::seconds(1);
            assert_eq!(
                tokens.verify_at(token, None, just_before).as_ref(),
                Ok(claims)
            );
            // Meeting scoping.
            if claims.meeting == expected {
                assert_eq!(scoped.as_ref(), Ok(claims));
            } else {
                assert_eq!(scoped, Err(JoinTokenError::ForeignMeeting));
            }
        }
        Err(JoinTokenError::Expired { expired_at }) => {
            assert!(now >= *expired_at);
            assert!(matches!(
                scoped,
                Err(JoinTokenError::Expired { .. } | JoinTokenError::ForeignMeeting)
            ));
            // Authentic: one second before expiry it verifies (when that time exists), and
            // the oracle agrees that we signed it.
            if let Some(before) = expired_at.checked_sub_signed(Duration::seconds(1)) {
                let claims = tokens
                    .verify_at(token, None, before)
                    .expect("an expired token verifies one second before its expiry");
                assert_eq!(claims.expires_at, *expired_at);
                assert_signed_by_us(token, &claims);
            }
        }
        Err(error @ (JoinTokenError::Invalid | JoinTokenError::WrongPurpose)) => {
            assert_eq!(scoped.as_ref(), Err(error));
        }
        Err(JoinTokenError::ForeignMeeting) => {
            panic!("ForeignMeeting without an expected meeting")
        }
    }
    if let Ok(claims) = &scoped {
        assert_eq!(claims.meeting, expected, "verified for another meeting");
    }

    // Another secret accepts nothing.
    assert_eq!(
        other.verify_at(token, None, now),
        Err(JoinTokenError::Invalid)
    );
});
