//! Fuzz target: join-token issue → (mutate) → verify round trips, structured via
//! `arbitrary`.
//!
//! Arbitrary user and meeting ids, issue time, ttl, verification time and expected meeting;
//! the issued token is then verified as is (the result must be exactly what the contract
//! says: `Invalid` for empty ids, then `ForeignMeeting`, then `Expired` at or after `exp`,
//! else the claims that were issued) and after a list of edits (byte changes, inserts,
//! removals, truncation, segment swaps and replacements): an edited token that differs from
//! the issued one must never verify, and a verifier with another secret refuses both.

#![no_main]

use arbitrary::Arbitrary;
use attend_core::join_token::{JoinTokenError, JoinTokens, JwtSecret};
use attend_core::model::{MeetingId, UserId};
use chrono::{DateTime, Duration, Utc};
use libfuzzer_sys::fuzz_target;

const SECRET: &[u8] = b"attend-fuzz-join-token-secret-0123456789";
const OTHER_SECRET: &[u8] = b"another-secret-another-secret-0123456789";

#[derive(Arbitrary, Debug)]
enum Expected {
    Any,
    Same,
    Other(String),
}

#[derive(Arbitrary, Debug)]
enum Edit {
    Set { at: u16, byte: u8 },
    Insert { at: u16, byte: u8 },
    Remove { at: u16 },
    Truncate { at: u16 },
    SwapSegments { a: u8, b: u8 },
    ReplaceSegment { index: u8, text: String },
    Append(String),
}

#[derive(Arbitrary, Debug)]
struct Input {
    user: String,
    meeting: String,
    issued_at: i64,
    ttl_seconds: i64,
    verify_offset: i64,
    expected: Expected,
    edits: Vec<Edit>,
}

fn apply(token: &str, edits: &[Edit]) -> String {
    let mut bytes = token.as_bytes().to_vec();
    for edit in edits {
        let at = |at: u16, len: usize| usize::from(at) % len.max(1);
        match edit {
            Edit::Set { at: i, byte } if !bytes.is_empty() => {
                let i = at(*i, bytes.len());
                bytes[i] = *byte;
            }
            Edit::Insert { at: i, byte } => {
                let i = at(*i, bytes.len() + 1);
                bytes.insert(i.min(bytes.len()), *byte);
            }
            Edit::Remove { at: i } if !bytes.is_empty() => {
                let i = at(*i, bytes.len());
                bytes.remove(i);
            }
            Edit::Truncate { at: i } => {
                let i = at(*i, bytes.len() + 1);
                bytes.truncate(i);
            }
            Edit::SwapSegments { a, b } => {
                let text = String::from_utf8_lossy(&bytes).into_owned();
                let mut parts: Vec<&str> = text.split('.').collect();
                let (a, b) = (usize::from(*a) % parts.len(), usize::from(*b) % parts.len());
                parts.swap(a, b);
                bytes = parts.join(".").into_bytes();
            }
            Edit::ReplaceSegment { index, text: new } => {
                let text = String::from_utf8_lossy(&bytes).into_owned();
                let mut parts: Vec<&str> = text.split('.').collect();
                let i = usize::from(*index) % parts.len();
                parts[i] = new;
                bytes = parts.join(".").into_bytes();
            }
            Edit::Append(text) => bytes.extend_from_slice(text.as_bytes()),
            _ => {}
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

fuzz_target!(|input: Input| {
    let tokens = JoinTokens::new(&JwtSecret::new(SECRET).expect("long enough"));
    let other = JoinTokens::new(&JwtSecret::new(OTHER_SECRET).expect("long enough"));
    // Inputs the caller cannot even express (times outside chrono's range) are skipped.
    let Some(issued_at) = DateTime::<Utc>::from_timestamp(input.issued_at, 0) else {
        return;
    };
    let Some(ttl) = Duration::try_seconds(input.ttl_seconds) else {
        return;
    };
    let Some(now) = input
        .issued_at
        .checked_add(input.verify_offset)
        .and_then(|t| DateTime::<Utc>::from_timestamp(t, 0))
    else {
        return;
    };
    let user = UserId::new(input.user.clone());
    let meeting = MeetingId::new(input.meeting.clone());

    let exp_seconds = input.issued_at.saturating_add(ttl.num_seconds());
    let issued = tokens.issue_at(&user, &meeting, issued_at, ttl);
    let exp = DateTime::<Utc>::from_timestamp(exp_seconds, 0);
    let (token, expires_at) = match (issued, exp) {
        (Ok((token, expires_at)), Some(exp)) => {
            assert_eq!(expires_at, exp);
            (token, expires_at)
        }
        (Err(JoinTokenError::Invalid), None) => return,
        (issued, exp) => panic!("issue_at: {issued:?} for exp {exp:?}"),
    };

    let expected = match &input.expected {
        Expected::Any => None,
        Expected::Same => Some(meeting.clone()),
        Expected::Other(m) => Some(MeetingId::new(m.clone())),
    };
    let result = tokens.verify_at(&token, expected.as_ref(), now);
    let oracle = if input.user.is_empty() || input.meeting.is_empty() {
        Err(JoinTokenError::Invalid)
    } else if expected.as_ref().is_some_and(|m| m != &meeting) {
        Err(JoinTokenError::ForeignMeeting)
    } else if now >= expires_at {
        Err(JoinTokenError::Expired {
            expired_at: expires_at,
        })
    } else {
        Ok((user.clone(), meeting.clone(), issued_at, expires_at))
    };
    match (&oracle, &result) {
        (Ok((u, m, iat, exp)), Ok(claims)) => {
            assert_eq!(&claims.user, u);
            assert_eq!(&claims.meeting, m);
            assert_eq!(&claims.issued_at, iat);
            assert_eq!(&claims.expires_at, exp);
        }
        (Err(a), Err(b)) => assert_eq!(a, b),
        _ => panic!("verify_at: expected {oracle:?}, got {result:?}"),
    }
    assert_eq!(
        other.verify_at(&token, None, now),
        Err(JoinTokenError::Invalid)
    );

    let edited = apply(&token, &input.edits);
    if edited != token {
        // The signature covers every byte before the last dot, and its own encoding is
        // canonical: any other string is refused as `Invalid`, whatever it claims.
        assert_eq!(
            tokens.verify_at(&edited, expected.as_ref(), now),
            Err(JoinTokenError::Invalid),
            "edited token {edited:?} (issued {token:?})"
        );
        assert_eq!(
            tokens.verify_at(&edited, None, now),
            Err(JoinTokenError::Invalid),
            "edited token {edited:?} (issued {token:?})"
        );
        assert_eq!(
            other.verify_at(&edited, None, now),
            Err(JoinTokenError::Invalid)
        );
    }
});
