//! Fuzz target: `x-zm-signature` / `x-zm-request-timestamp` parsing and verification.
//!
//! Structured input (via `arbitrary`): each header is absent, arbitrary bytes, or (for the
//! signature) a correct signature by one of the configured secrets, possibly upper-cased or
//! with one hex digit changed; the timestamp can also be "now + offset". The body is
//! arbitrary bytes. Every input is checked against an independent oracle written from the
//! documented contract of `WebhookVerifier::verify`:
//!
//! * both headers present → both well-formed (`v0=` + 64 hex digits; 1–18 ASCII digits) →
//!   the first configured secret (accounts in key order, current before previous) whose
//!   HMAC matches → header timestamp within the replay window (inclusive) of "now";
//! * `Ok` therefore implies that the HMAC of the reported account/slot matches, and the
//!   exact error variant must be the oracle's;
//! * `intake` agrees with `verify`, answers `endpoint.url_validation` with the HMAC of the
//!   plain token under the secret that verified, and keys and names anything else as the tree
//!   path (`parse_event`) does, though it reads most bodies without a tree.

#![no_main]

use std::time::Duration;

use arbitrary::Arbitrary;
use attend_core::zoom::events::ZoomEvent;
use attend_core::zoom::signature::SecretSlot;
use attend_core::zoom::{
    Secret, VerifyError, WebhookHeaders, WebhookIntake, WebhookSecrets, WebhookVerifier,
    compute_signature, dedupe_key, encrypt_plain_token, parse_event,
};
use chrono::{TimeZone, Utc};
use libfuzzer_sys::fuzz_target;

/// (account key, current secret, previous secret). Keys are listed in `BTreeMap` order, the
/// order the verifier tries them in. Account `c` deliberately shares `a`'s current secret:
/// the first account in key order must win.
const ACCOUNTS: [(&str, &str, Option<&str>); 3] = [
    ("acct-a", "secret-a-current", Some("secret-a-previous")),
    ("acct-b", "secret-b-current", None),
    ("acct-c", "secret-a-current", Some("secret-c-previous")),
];

/// Every configured secret in the order the verifier tries them.
fn candidates() -> impl Iterator<Item = (&'static str, SecretSlot, &'static str)> {
    ACCOUNTS.iter().flat_map(|(key, current, previous)| {
        std::iter::once((*key, SecretSlot::Current, *current))
            .chain(previous.map(|p| (*key, SecretSlot::Previous, p)))
    })
}

#[derive(Arbitrary, Debug)]
enum SignatureInput<'a> {
    Absent,
    Raw(&'a [u8]),
    /// A signature computed with candidate secret number `secret` (modulo the count, or a
    /// secret nobody configured when it is out of range by more than that).
    Signed {
        secret: u8,
        uppercase: bool,
        /// Replace the hex digit at this position (mod 64) with another one.
        flip: Option<u8>,
    },
}

#[derive(Arbitrary, Debug)]
enum TimestampInput<'a> {
    Absent,
    Raw(&'a [u8]),
    /// `now + offset` seconds, as the decimal text Zoom sends (negative values come out with
    /// a `-` and must be refused as malformed).
    Offset(i32),
}

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    now: u32,
    window_seconds: u16,
    signature: SignatureInput<'a>,
    timestamp: TimestampInput<'a>,
    body: &'a [u8],
}

fn verifier(window: Duration) -> WebhookVerifier {
    let mut verifier = WebhookVerifier::new();
    for (key, current, previous) in ACCOUNTS {
        let mut secrets = WebhookSecrets::new(current);
        if let Some(previous) = previous {
            secrets = secrets.with_previous(previous);
        }
        verifier = verifier.with_account(key, secrets);
    }
    verifier
        .with_replay_window(window)
        .expect("window within the 90-minute limit")
}

fn well_formed_signature(raw: &[u8]) -> bool {
    raw.len() == 67 && raw.starts_with(b"v0=") && raw[3..].iter().all(u8::is_ascii_hexdigit)
}

fn well_formed_timestamp(raw: &[u8]) -> bool {
    !raw.is_empty() && raw.len() <= 18 && raw.iter().all(u8::is_ascii_digit)
}

/// What `verify` must answer, computed from the contract alone.
fn expected(
    signature: Option<&[u8]>,
    timestamp: Option<&[u8]>,
    body: &[u8],
    now: i64,
    window: i64,
) -> Result<(&'static str, SecretSlot, &'static str, i64), &'static str> {
    let signature = signature.ok_or("missing_signature_header")?;
    let timestamp = timestamp.ok_or("missing_signature_header")?;
    if !well_formed_signature(signature) || !well_formed_timestamp(timestamp) {
        return Err("malformed_signature_header");
    }
    let ts_text = std::str::from_utf8(timestamp).expect("digits are ASCII");
    let (account, slot, secret) = candidates()
        .find(|(_, _, secret)| {
            let mac = compute_signature(&Secret::new(*secret), ts_text, body);
            mac.as_bytes().eq_ignore_ascii_case(signature)
        })
        .ok_or("bad_signature")?;
    let ts: i64 = ts_text.parse().expect("at most 18 digits fit in i64");
    if now - ts > window {
        return Err("stale_timestamp");
    }
    if ts - now > window {
        return Err("future_timestamp");
    }
    Ok((account, slot, secret, ts))
}

fuzz_target!(|input: Input<'_>| {
    let now_secs = i64::from(input.now);
    let now = Utc
        .timestamp_opt(now_secs, 0)
        .single()
        .expect("u32 seconds are in range");
    let window_seconds = u64::from(input.window_seconds) % (90 * 60 + 1);
    let verifier = verifier(Duration::from_secs(window_seconds));

    let timestamp_owned: Option<Vec<u8>> = match &input.timestamp {
        TimestampInput::Absent => None,
        TimestampInput::Raw(raw) => Some(raw.to_vec()),
        TimestampInput::Offset(offset) => {
            Some((now_secs + i64::from(*offset)).to_string().into_bytes())
        }
    };
    let signature_owned: Option<Vec<u8>> = match &input.signature {
        SignatureInput::Absent => None,
        SignatureInput::Raw(raw) => Some(raw.to_vec()),
        SignatureInput::Signed {
            secret,
            uppercase,
            flip,
        } => {
            let all: Vec<_> = candidates().collect();
            let index = usize::from(*secret);
            let secret = if index < 2 * all.len() {
                all[index % all.len()].2
            } else {
                "a-secret-nobody-configured"
            };
            // Sign over whatever timestamp bytes are sent (lossy only for non-UTF-8 bytes,
            // which are malformed anyway).
            let ts_text = timestamp_owned
                .as_deref()
                .map(String::from_utf8_lossy)
                .unwrap_or_default();
            let mut sig = compute_signature(&Secret::new(secret), &ts_text, input.body);
            if *uppercase {
                sig = format!("v0={}", sig[3..].to_ascii_uppercase());
            }
            let mut bytes = sig.into_bytes();
            if let Some(position) = flip {
                let i = 3 + usize::from(*position) % 64;
                bytes[i] = if bytes[i] == b'0' { b'1' } else { b'0' };
            }
            Some(bytes)
        }
    };

    let headers = WebhookHeaders {
        signature: signature_owned.as_deref(),
        timestamp: timestamp_owned.as_deref(),
    };
    let window = i64::try_from(window_seconds).expect("small");
    let oracle = expected(
        headers.signature,
        headers.timestamp,
        input.body,
        now_secs,
        window,
    );
    let actual = verifier.verify(headers, input.body, now);

    match (&oracle, &actual) {
        (Ok((account, slot, _, ts)), Ok(verified)) => {
            assert_eq!(verified.account.as_str(), *account);
            assert_eq!(verified.slot, *slot);
            assert_eq!(verified.timestamp.timestamp(), *ts);
            assert!((verified.timestamp.timestamp() - now_secs).abs() <= window);
        }
        (Err(code), Err(error)) => {
            assert_eq!(error.code(), *code, "{error:?}");
            match error {
                VerifyError::TimestampTooOld { age_seconds, .. } => assert!(*age_seconds > window),
                VerifyError::TimestampInFuture { ahead_seconds, .. } => {
                    assert!(*ahead_seconds > window)
                }
                _ => {}
            }
        }
        _ => panic!("verify disagrees with the contract: oracle {oracle:?}, actual {actual:?}"),
    }

    // A correct signature, unmodified, must never be refused as bad.
    if let SignatureInput::Signed {
        secret, flip: None, ..
    } = input.signature
        && usize::from(secret) < 2 * candidates().count()
        && let Err(error) = &actual
    {
        assert_ne!(error.code(), "bad_signature");
    }

    // intake = verify + classification.
    let intake = verifier.intake(headers, input.body, now);
    match (&actual, intake) {
        (Err(a), Err(b)) => assert_eq!(a, &b),
        (Ok(verified), Ok(intake)) => {
            let secret = oracle.as_ref().expect("oracle agreed").2;
            let parsed = parse_event(input.body);
            match intake {
                WebhookIntake::UrlValidation {
                    verified: v,
                    response,
                } => {
                    assert_eq!(v.account, verified.account);
                    let Ok(event) = parsed else {
                        panic!("url validation answered for an unparsable body")
                    };
                    let ZoomEvent::UrlValidation { plain_token } = event.event else {
                        panic!("url validation answered for {:?}", event.name)
                    };
                    assert_eq!(response.plain_token, plain_token);
                    assert_eq!(
                        response.encrypted_token,
                        encrypt_plain_token(&Secret::new(secret), &plain_token)
                    );
                }
                WebhookIntake::Event {
                    verified: v,
                    dedupe_key: key,
                    event_name,
                } => {
                    assert_eq!(v.account, verified.account);
                    // The intake reads most bodies without a JSON tree: its key and its
                    // verdict must be the tree's (`parse_event`).
                    match &parsed {
                        Ok(event) => {
                            assert_eq!(key, event.dedupe_key());
                            assert_eq!(event_name.as_deref().ok(), Some(event.name.as_str()));
                            assert!(!matches!(event.event, ZoomEvent::UrlValidation { .. }));
                        }
                        Err(_) => {
                            assert!(event_name.is_err(), "parsed at intake: {event_name:?}");
                            assert_eq!(key, dedupe_key(input.body));
                        }
                    }
                }
            }
        }
        (a, b) => panic!("intake disagrees with verify: {a:?} vs {b:?}"),
    }
});
