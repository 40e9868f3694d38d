//! Webhook signature verification (`x-zm-signature`), the replay window, secret rotation,
//! several Zoom accounts, and the `endpoint.url_validation` answer.
//!
//! Zoom signs every delivery with
//! `x-zm-signature: v0=<hex HMAC-SHA256(secret, "v0:{x-zm-request-timestamp}:{raw body}")>`.
//! [`WebhookVerifier::verify`] checks that over the **raw request bytes** (Zoom's payloads are
//! not canonical JSON: re-serializing them changes the bytes and breaks the MAC), compares in
//! constant time (`hmac`'s `verify_slice`), and then checks the header timestamp against a
//! replay window. Only the `x-zm-request-timestamp` header is used for freshness, never the
//! body's `event_ts`: Zoom retries an event for about 85 minutes, with the original `event_ts`.
//!
//! The signature is checked *before* the timestamp, so [`VerifyError::TimestampTooOld`] and
//! [`VerifyError::TimestampInFuture`] always mean "authentic, but outside the window" (a
//! replay, a late retry, or a skewed clock) and never reveal anything about forged requests.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::secret::Secret;
use crate::model::AccountKey;

/// The signature header Zoom sends (lower case, as HTTP/2 and most frameworks present it).
pub const SIGNATURE_HEADER: &str = "x-zm-signature";
/// The timestamp header Zoom sends: Unix time in **seconds**, as a decimal string.
pub const TIMESTAMP_HEADER: &str = "x-zm-request-timestamp";
/// The default replay window: 5 minutes either side of "now".
pub const DEFAULT_REPLAY_WINDOW: Duration = Duration::from_secs(300);
/// The largest replay window accepted: 90 minutes, enough for Zoom's last retry (≈ 85 min) in
/// case Zoom does not re-stamp the timestamp header on retries (undocumented).
pub const MAX_REPLAY_WINDOW: Duration = Duration::from_secs(90 * 60);

type HmacSha256 = Hmac<Sha256>;

fn mac(secret: &Secret) -> HmacSha256 {
    // HMAC takes keys of any length (long keys are hashed, short ones padded), so this
    // constructor cannot fail for HMAC-SHA256.
    <HmacSha256 as KeyInit>::new_from_slice(secret.expose().as_bytes())
        .expect("HMAC-SHA256 accepts keys of any length")
}

fn signed_mac(secret: &Secret, timestamp: &str, body: &[u8]) -> HmacSha256 {
    let mut mac = mac(secret);
    mac.update(b"v0:");
    mac.update(timestamp.as_bytes());
    mac.update(b":");
    mac.update(body);
    mac
}

/// Computes the `x-zm-signature` value Zoom would send for `body` at `timestamp` (the header
/// value, Unix seconds as text): `v0=` + lowercase hex. For simulators and tests; receivers
/// use [`WebhookVerifier::verify`], which compares in constant time.
pub fn compute_signature(secret: &Secret, timestamp: &str, body: &[u8]) -> String {
    format!(
        "v0={}",
        hex::encode(signed_mac(secret, timestamp, body).finalize().into_bytes())
    )
}

/// The `encryptedToken` of an `endpoint.url_validation` answer: lowercase hex
/// HMAC-SHA256(secret, plainToken), without any prefix.
pub fn encrypt_plain_token(secret: &Secret, plain_token: &str) -> String {
    let mut mac = mac(secret);
    mac.update(plain_token.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The JSON body answering `endpoint.url_validation`:
/// `{"plainToken": "…", "encryptedToken": "…"}`, sent with status 200.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UrlValidationResponse {
    /// The `plainToken` Zoom sent, echoed back.
    #[serde(rename = "plainToken")]
    pub plain_token: String,
    /// Hex HMAC-SHA256 of the plain token with the secret that verified the request.
    #[serde(rename = "encryptedToken")]
    pub encrypted_token: String,
}

impl UrlValidationResponse {
    /// Builds the answer for `plain_token` with `secret`.
    pub fn new(secret: &Secret, plain_token: &str) -> Self {
        Self {
            plain_token: plain_token.to_owned(),
            encrypted_token: encrypt_plain_token(secret, plain_token),
        }
    }
}

/// The webhook secret token(s) of one Zoom account: the current one and, while rotating, the
/// previous one. A delivery signed with either is accepted.
#[derive(Clone, Debug)]
pub struct WebhookSecrets {
    current: Secret,
    previous: Option<Secret>,
}

impl WebhookSecrets {
    /// One secret (no rotation in progress).
    pub fn new(current: impl Into<Secret>) -> Self {
        Self {
            current: current.into(),
            previous: None,
        }
    }

    /// Also accepts `previous` until it is removed from the configuration: during a rotation
    /// Zoom may still sign in-flight deliveries and retries with the old secret.
    pub fn with_previous(mut self, previous: impl Into<Secret>) -> Self {
        self.previous = Some(previous.into());
        self
    }

    /// The current secret.
    pub fn current(&self) -> &Secret {
        &self.current
    }

    /// The previous secret, if a rotation is in progress.
    pub fn previous(&self) -> Option<&Secret> {
        self.previous.as_ref()
    }

    fn candidates(&self) -> impl Iterator<Item = (SecretSlot, &Secret)> {
        std::iter::once((SecretSlot::Current, &self.current))
            .chain(self.previous.iter().map(|s| (SecretSlot::Previous, s)))
    }
}

/// Which of an account's secrets verified a delivery.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SecretSlot {
    /// The current secret.
    Current,
    /// The previous secret (a rotation is in progress; the sender still uses the old one).
    Previous,
}

/// The two signature headers of a delivery, as raw header bytes (`None` = header absent).
///
/// Header values are taken as bytes so that a framework adapter can pass
/// `HeaderValue::as_bytes()` directly; a value that is not ASCII is reported as malformed,
/// not as missing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WebhookHeaders<'a> {
    /// The `x-zm-signature` value.
    pub signature: Option<&'a [u8]>,
    /// The `x-zm-request-timestamp` value.
    pub timestamp: Option<&'a [u8]>,
}

impl<'a> WebhookHeaders<'a> {
    /// Builds the header pair from string values.
    pub fn new(signature: Option<&'a str>, timestamp: Option<&'a str>) -> Self {
        Self {
            signature: signature.map(str::as_bytes),
            timestamp: timestamp.map(str::as_bytes),
        }
    }

    /// Builds the header pair with a lookup function over the request's headers
    /// (called with the lower-case names [`SIGNATURE_HEADER`] and [`TIMESTAMP_HEADER`]).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<&'a [u8]>) -> Self {
        Self {
            signature: lookup(SIGNATURE_HEADER),
            timestamp: lookup(TIMESTAMP_HEADER),
        }
    }
}

/// Why a delivery was refused. Every variant means "answer 401": the request is not a
/// trustworthy Zoom delivery. [`VerifyError::code`] gives a stable code for logs and bodies.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// A required header is absent.
    #[error("missing header {header}")]
    MissingHeader {
        /// The missing header's name.
        header: &'static str,
    },
    /// A header is present but not in Zoom's format (`v0=` + 64 hex digits for the signature,
    /// decimal Unix seconds for the timestamp).
    #[error("malformed header {header}: {reason}")]
    MalformedHeader {
        /// The malformed header's name.
        header: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The signature is well-formed but matches none of the configured secrets (tampered
    /// body, wrong secret, or a forged request).
    #[error("signature does not match any configured webhook secret")]
    BadSignature,
    /// Correctly signed, but the header timestamp is older than the replay window allows.
    #[error(
        "request timestamp {timestamp} is {age_seconds} s old, over the {window_seconds} s replay window"
    )]
    TimestampTooOld {
        /// The header timestamp (Unix seconds).
        timestamp: i64,
        /// How old it is, in seconds.
        age_seconds: i64,
        /// The configured window, in seconds.
        window_seconds: u64,
    },
    /// Correctly signed, but the header timestamp is further in the future than the window
    /// allows (a skewed clock, or a forged timestamp).
    #[error(
        "request timestamp {timestamp} is {ahead_seconds} s in the future, over the {window_seconds} s replay window"
    )]
    TimestampInFuture {
        /// The header timestamp (Unix seconds).
        timestamp: i64,
        /// How far ahead of "now" it is, in seconds.
        ahead_seconds: i64,
        /// The configured window, in seconds.
        window_seconds: u64,
    },
}

impl VerifyError {
    /// A stable snake_case code: `missing_signature_header`, `malformed_signature_header`,
    /// `bad_signature`, `stale_timestamp`, `future_timestamp`.
    pub fn code(&self) -> &'static str {
        match self {
            VerifyError::MissingHeader { .. } => "missing_signature_header",
            VerifyError::MalformedHeader { .. } => "malformed_signature_header",
            VerifyError::BadSignature => "bad_signature",
            VerifyError::TimestampTooOld { .. } => "stale_timestamp",
            VerifyError::TimestampInFuture { .. } => "future_timestamp",
        }
    }
}

/// A configuration value the verifier refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifierConfigError {
    /// The replay window is longer than [`MAX_REPLAY_WINDOW`].
    #[error("replay window of {0:?} is longer than the allowed 90 minutes")]
    ReplayWindowTooLong(Duration),
    /// A webhook secret is the empty string.
    #[error("the webhook secret of account {0} is empty")]
    EmptySecret(AccountKey),
}

/// A delivery that passed verification: which account (and which of its secrets) signed it.
#[derive(Clone, Debug)]
pub struct VerifiedWebhook {
    /// The account whose secret matched.
    pub account: AccountKey,
    /// Which of that account's secrets matched.
    pub slot: SecretSlot,
    /// The `x-zm-request-timestamp` of the delivery.
    pub timestamp: DateTime<Utc>,
    secret: Secret,
}

impl VerifiedWebhook {
    /// The answer to an `endpoint.url_validation` delivery, signed with the secret that
    /// verified this request (so each account validates with its own secret).
    pub fn url_validation_response(&self, plain_token: &str) -> UrlValidationResponse {
        UrlValidationResponse::new(&self.secret, plain_token)
    }
}

/// Verifies Zoom webhook deliveries for one or several Zoom accounts.
///
/// Holds `AccountKey → WebhookSecrets`; a delivery is accepted if its signature matches any
/// configured secret, and the result says which account matched. Accounts are tried in key
/// order; if two accounts were configured with the same secret, the first one wins.
///
/// Cheap to share (`Clone` + `Send` + `Sync`); it holds no interior state.
#[derive(Clone, Debug)]
pub struct WebhookVerifier {
    accounts: BTreeMap<AccountKey, WebhookSecrets>,
    window: Duration,
}

impl Default for WebhookVerifier {
    fn default() -> Self {
        Self::new()
    }
}

impl WebhookVerifier {
    /// A verifier with no accounts yet (it refuses everything with
    /// [`VerifyError::BadSignature`]) and the default 5-minute replay window.
    pub fn new() -> Self {
        Self {
            accounts: BTreeMap::new(),
            window: DEFAULT_REPLAY_WINDOW,
        }
    }

    /// A verifier for a single account.
    pub fn single(account: impl Into<AccountKey>, secrets: WebhookSecrets) -> Self {
        Self::new().with_account(account, secrets)
    }

    /// Adds (or replaces, if the key is already configured) an account's secrets.
    pub fn with_account(mut self, account: impl Into<AccountKey>, secrets: WebhookSecrets) -> Self {
        self.accounts.insert(account.into(), secrets);
        self
    }

    /// Sets the replay window (how far the header timestamp may be from "now", in either
    /// direction). Refuses windows over [`MAX_REPLAY_WINDOW`].
    pub fn with_replay_window(mut self, window: Duration) -> Result<Self, VerifierConfigError> {
        if window > MAX_REPLAY_WINDOW {
            return Err(VerifierConfigError::ReplayWindowTooLong(window));
        }
        self.window = window;
        Ok(self)
    }

    /// Checks the configuration: no account has an empty secret.
    pub fn validate(&self) -> Result<(), VerifierConfigError> {
        for (key, secrets) in &self.accounts {
            if secrets.candidates().any(|(_, s)| s.is_empty()) {
                return Err(VerifierConfigError::EmptySecret(key.clone()));
            }
        }
        Ok(())
    }

    /// The replay window in use.
    pub fn replay_window(&self) -> Duration {
        self.window
    }

    /// The configured accounts, in the order they are tried.
    pub fn accounts(&self) -> impl Iterator<Item = &AccountKey> {
        self.accounts.keys()
    }

    /// Verifies one delivery: `body` must be the exact bytes received, `now` the current time
    /// (a parameter so that tests are deterministic).
    ///
    /// Order of checks: both headers present → both well-formed → signature matches some
    /// account's current or previous secret (constant-time) → header timestamp within the
    /// replay window (inclusive bounds) of `now`. The body's `event_ts` is never looked at.
    pub fn verify(
        &self,
        headers: WebhookHeaders<'_>,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<VerifiedWebhook, VerifyError> {
        let signature_raw = headers.signature.ok_or(VerifyError::MissingHeader {
            header: SIGNATURE_HEADER,
        })?;
        let timestamp_raw = headers.timestamp.ok_or(VerifyError::MissingHeader {
            header: TIMESTAMP_HEADER,
        })?;
        let signature = parse_signature(signature_raw)?;
        let (timestamp_text, timestamp) = parse_timestamp(timestamp_raw)?;

        let (account, slot, secret) = self
            .accounts
            .iter()
            .flat_map(|(key, secrets)| {
                secrets
                    .candidates()
                    .map(move |(slot, secret)| (key, slot, secret))
            })
            .find(|(_, _, secret)| {
                signed_mac(secret, timestamp_text, body)
                    .verify_slice(&signature)
                    .is_ok()
            })
            .ok_or(VerifyError::BadSignature)?;

        let window_seconds = self.window.as_secs();
        let window = i64::try_from(window_seconds).unwrap_or(i64::MAX);
        let age = now.timestamp().saturating_sub(timestamp);
        if age > window {
            return Err(VerifyError::TimestampTooOld {
                timestamp,
                age_seconds: age,
                window_seconds,
            });
        }
        if -age > window {
            return Err(VerifyError::TimestampInFuture {
                timestamp,
                ahead_seconds: -age,
                window_seconds,
            });
        }
        let timestamp =
            Utc.timestamp_opt(timestamp, 0)
                .single()
                .ok_or(VerifyError::MalformedHeader {
                    header: TIMESTAMP_HEADER,
                    reason: "timestamp out of range",
                })?;
        Ok(VerifiedWebhook {
            account: account.clone(),
            slot,
            timestamp,
            secret: secret.clone(),
        })
    }
}

fn parse_signature(raw: &[u8]) -> Result<[u8; 32], VerifyError> {
    let malformed = |reason| VerifyError::MalformedHeader {
        header: SIGNATURE_HEADER,
        reason,
    };
    let hex_part = raw
        .strip_prefix(b"v0=")
        .ok_or_else(|| malformed("does not start with v0="))?;
    if hex_part.len() != 64 {
        return Err(malformed("expected 64 hex digits after v0="));
    }
    let mut out = [0u8; 32];
    hex::decode_to_slice(hex_part, &mut out).map_err(|_| malformed("not hexadecimal"))?;
    Ok(out)
}

fn parse_timestamp(raw: &[u8]) -> Result<(&str, i64), VerifyError> {
    let malformed = |reason| VerifyError::MalformedHeader {
        header: TIMESTAMP_HEADER,
        reason,
    };
    if raw.is_empty() || raw.len() > 18 || !raw.iter().all(u8::is_ascii_digit) {
        return Err(malformed("not a decimal Unix time in seconds"));
    }
    let text = std::str::from_utf8(raw).map_err(|_| malformed("not ASCII"))?;
    let value = text
        .parse::<i64>()
        .map_err(|_| malformed("not a decimal Unix time in seconds"))?;
    Ok((text, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "4fv1RkqGQUq5sWbEz6hA5A";
    const V1_BODY: &str = r#"{"payload":{"plainToken":"xys8n8PGS7mAU0m5-YJjRA"},"event_ts":1720705455858,"event":"endpoint.url_validation"}"#;
    const V1_SIG: &str = "v0=93a1a675965ceb9c5a50c5dfb31f20e50f763be37a54ef74cd2d16a1a8e5c0d6";

    fn at(ts: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(ts, 0).unwrap()
    }

    #[test]
    fn computes_the_published_vector() {
        assert_eq!(
            compute_signature(&Secret::new(SECRET), "1720705455", V1_BODY.as_bytes()),
            V1_SIG
        );
    }

    #[test]
    fn uppercase_hex_is_accepted() {
        let verifier = WebhookVerifier::single("a", WebhookSecrets::new(SECRET));
        let upper = format!("v0={}", V1_SIG[3..].to_ascii_uppercase());
        let headers = WebhookHeaders::new(Some(&upper), Some("1720705455"));
        assert!(
            verifier
                .verify(headers, V1_BODY.as_bytes(), at(1720705455))
                .is_ok()
        );
    }

    #[test]
    fn timestamp_parser_rejects_signs_and_spaces() {
        for bad in [
            "",
            "-1",
            "+1720705455",
            " 1720705455",
            "1720705455.0",
            "17207054551720705455",
        ] {
            assert!(parse_timestamp(bad.as_bytes()).is_err(), "{bad:?}");
        }
        assert_eq!(parse_timestamp(b"0").unwrap().1, 0);
    }

    #[test]
    fn window_is_limited_to_ninety_minutes() {
        assert!(
            WebhookVerifier::new()
                .with_replay_window(MAX_REPLAY_WINDOW)
                .is_ok()
        );
        assert_eq!(
            WebhookVerifier::new()
                .with_replay_window(MAX_REPLAY_WINDOW + Duration::from_secs(1))
                .unwrap_err(),
            VerifierConfigError::ReplayWindowTooLong(MAX_REPLAY_WINDOW + Duration::from_secs(1))
        );
    }

    #[test]
    fn empty_secrets_are_refused_by_validate() {
        let v = WebhookVerifier::single("a", WebhookSecrets::new("x").with_previous(""));
        assert_eq!(
            v.validate(),
            Err(VerifierConfigError::EmptySecret("a".into()))
        );
    }
}
