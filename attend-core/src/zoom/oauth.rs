//! Server-to-Server OAuth: the account's credentials and a cached access token.
//!
//! `POST {oauth_url}` with `Authorization: Basic base64(client_id:client_secret)` and the
//! form body `grant_type=account_credentials&account_id={account_id}` (the form encoding of
//! RFC 6749; Zoom accepts these parameters in the body as well as in the query string).
//! Tokens live one hour and there is no refresh token: a new token is fetched when the cached
//! one has [`REFRESH_MARGIN`] or less left, and once more when the API answers 401 (a token
//! revoked early). One fetch at a time per account: concurrent callers wait for it and share
//! the result.

use std::fmt;
use std::time::Duration;

use serde::Deserialize;
use tokio::sync::Mutex;
use tokio::time::Instant;

use super::error::{BoxError, ZoomApiError};
use super::rate_limit::{RateLimitResponse, classify_429};
use super::secret::Secret;

/// A token with this much validity left (or less) is replaced before use.
pub const REFRESH_MARGIN: Duration = Duration::from_secs(60);

/// The Server-to-Server OAuth app credentials of one Zoom account.
#[derive(Clone)]
pub struct S2SCredentials {
    /// Zoom's account id (`account_id` of the token request).
    pub account_id: String,
    /// The app's client id.
    pub client_id: String,
    /// The app's client secret (never printed).
    pub client_secret: Secret,
}

impl S2SCredentials {
    /// Credentials from the three values of the app's page in the Zoom Marketplace.
    pub fn new(
        account_id: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: impl Into<Secret>,
    ) -> Self {
        Self {
            account_id: account_id.into(),
            client_id: client_id.into(),
            client_secret: client_secret.into(),
        }
    }
}

impl fmt::Debug for S2SCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S2SCredentials")
            .field("account_id", &self.account_id)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .finish()
    }
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default, deserialize_with = "super::de::opt_i64")]
    expires_in: Option<i64>,
}

#[derive(Deserialize, Default)]
struct TokenError {
    #[serde(default, deserialize_with = "super::de::opt_string")]
    reason: Option<String>,
    #[serde(default, deserialize_with = "super::de::opt_string")]
    error_description: Option<String>,
    #[serde(default, deserialize_with = "super::de::opt_string")]
    error: Option<String>,
    #[serde(default, deserialize_with = "super::de::opt_string")]
    message: Option<String>,
}

struct CachedToken {
    token: Secret,
    expires_at: Instant,
}

/// Fetches and caches the access token of one account.
pub(crate) struct TokenSource {
    http: reqwest::Client,
    oauth_url: String,
    timeout: Duration,
    credentials: S2SCredentials,
    cached: Mutex<Option<CachedToken>>,
}

impl fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSource")
            .field("oauth_url", &self.oauth_url)
            .field("credentials", &self.credentials)
            .finish_non_exhaustive()
    }
}

impl TokenSource {
    pub(crate) fn new(
        http: reqwest::Client,
        oauth_url: String,
        timeout: Duration,
        credentials: S2SCredentials,
    ) -> Self {
        Self {
            http,
            oauth_url,
            timeout,
            credentials,
            cached: Mutex::new(None),
        }
    }

    pub(crate) fn credentials(&self) -> &S2SCredentials {
        &self.credentials
    }

    /// A token with more than [`REFRESH_MARGIN`] left, fetching one if needed.
    pub(crate) async fn token(&self) -> Result<Secret, ZoomApiError> {
        let mut cached = self.cached.lock().await;
        if let Some(c) = cached.as_ref()
            && c.expires_at.saturating_duration_since(Instant::now()) > REFRESH_MARGIN
        {
            return Ok(c.token.clone());
        }
        let fresh = self.fetch().await?;
        let token = fresh.token.clone();
        *cached = Some(fresh);
        Ok(token)
    }

    /// Replaces `rejected` (a token the API refused with 401). If another caller already
    /// replaced it, that newer token is returned without a second fetch.
    pub(crate) async fn refresh(&self, rejected: &Secret) -> Result<Secret, ZoomApiError> {
        let mut cached = self.cached.lock().await;
        if let Some(c) = cached.as_ref()
            && c.token != *rejected
            && c.expires_at.saturating_duration_since(Instant::now()) > REFRESH_MARGIN
        {
            return Ok(c.token.clone());
        }
        *cached = None;
        let fresh = self.fetch().await?;
        let token = fresh.token.clone();
        *cached = Some(fresh);
        Ok(token)
    }

    async fn fetch(&self) -> Result<CachedToken, ZoomApiError> {
        let started = Instant::now();
        let response = self
            .http
            .post(&self.oauth_url)
            .basic_auth(
                &self.credentials.client_id,
                Some(self.credentials.client_secret.expose()),
            )
            .form(&[
                ("grant_type", "account_credentials"),
                ("account_id", self.credentials.account_id.as_str()),
            ])
            .timeout(self.timeout)
            .send()
            .await
            .map_err(transport_error)?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.bytes().await.map_err(transport_error)?;
        if status.is_success() {
            let parsed: TokenResponse =
                serde_json::from_slice(&body).map_err(|source| ZoomApiError::Decode {
                    what: "oauth token",
                    source,
                })?;
            if parsed.access_token.is_empty() {
                return Err(ZoomApiError::InvalidResponse(
                    "the OAuth answer has an empty access_token".into(),
                ));
            }
            let lifetime =
                Duration::from_secs(u64::try_from(parsed.expires_in.unwrap_or(3600)).unwrap_or(0));
            tracing::debug!(
                account_id = %self.credentials.account_id,
                expires_in = lifetime.as_secs(),
                "fetched a Zoom access token"
            );
            return Ok(CachedToken {
                token: Secret::new(parsed.access_token),
                expires_at: started + lifetime,
            });
        }
        let error: TokenError = serde_json::from_slice(&body).unwrap_or_default();
        let message = error
            .reason
            .or(error.error_description)
            .or(error.message)
            .or(error.error)
            .unwrap_or_else(|| format!("HTTP {}", status.as_u16()));
        if status.as_u16() == 429 {
            let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
            let hit = classify_429(
                RateLimitResponse {
                    limit_type: header("x-ratelimit-type"),
                    category: header("x-ratelimit-category"),
                    retry_after: header("retry-after"),
                    reset: header("x-ratelimit-reset"),
                    message: Some(&message),
                },
                chrono::Utc::now(),
            );
            return Err(super::error::rate_limit_error(&hit, &message));
        }
        if status.is_server_error() {
            return Err(ZoomApiError::Server {
                status: status.as_u16(),
                code: None,
                message,
            });
        }
        Err(ZoomApiError::OAuth {
            status: status.as_u16(),
            message,
        })
    }
}

/// Maps a reqwest failure to `Timeout` or `Transport`.
pub(crate) fn transport_error(error: reqwest::Error) -> ZoomApiError {
    if error.is_timeout() {
        ZoomApiError::Timeout(BoxError::from(error))
    } else {
        ZoomApiError::Transport(BoxError::from(error))
    }
}
