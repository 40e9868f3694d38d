//! Configuration of the example app, read from the environment variables of API.md.
//!
//! Every variable is optional. Without Zoom credentials the app runs in **demo mode**: a
//! SQLite file in the working directory, the built-in Zoom simulator, generated secrets and
//! demo data. With `ATTEND_ZOOM_ACCOUNT_ID`, `ATTEND_ZOOM_CLIENT_ID` and
//! `ATTEND_ZOOM_CLIENT_SECRET` it runs in **real mode** against Zoom, and then also needs
//! `ATTEND_JWT_SECRET`, `ATTEND_ZOOM_WEBHOOK_SECRET` and (for links Zoom and students can
//! reach) `ATTEND_PUBLIC_URL`.
//!
//! Bad values are refused with a [`ConfigError`] that names the variable, so a typo never
//! silently turns into a default.

use std::fmt;
use std::net::{SocketAddr, ToSocketAddrs};

use reqwest::Url;

/// The listen address used when `ATTEND_BIND` is unset.
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
/// The database used when `ATTEND_DATABASE_URL` is unset: a SQLite file in the working
/// directory.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://attend-example.sqlite";
/// Zoom's REST API base, used in real mode when `ATTEND_ZOOM_API_BASE` is unset.
pub const DEFAULT_ZOOM_API_BASE: &str = "https://api.zoom.us/v2";
/// Zoom's OAuth token endpoint, used in real mode when `ATTEND_ZOOM_OAUTH_URL` is unset.
pub const DEFAULT_ZOOM_OAUTH_URL: &str = "https://zoom.us/oauth/token";

/// A secret string (JWT secret, Zoom client secret, webhook secret). `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// A fresh random secret: 32 random bytes as 64 lowercase hex characters (printable, so
    /// it can be shown in the demo guide and pasted into an environment variable).
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::fill(&mut bytes[..]);
        Self(bytes.iter().map(|b| format!("{b:02x}")).collect())
    }

    /// The secret itself. Keep it out of logs.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// The Server-to-Server OAuth app of a real Zoom account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ZoomCredentials {
    /// `ATTEND_ZOOM_ACCOUNT_ID`.
    pub account_id: String,
    /// `ATTEND_ZOOM_CLIENT_ID`.
    pub client_id: String,
    /// `ATTEND_ZOOM_CLIENT_SECRET`.
    pub client_secret: Secret,
}

/// Which Zoom the app talks to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mode {
    /// No Zoom credentials: the built-in simulator is started in-process and the app
    /// fills itself with demo data.
    Demo,
    /// A real Zoom account.
    Real(Box<RealZoom>),
}

/// How to reach a real Zoom account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RealZoom {
    /// The Server-to-Server OAuth credentials.
    pub credentials: ZoomCredentials,
    /// Zoom's REST base (`ATTEND_ZOOM_API_BASE`).
    pub api_base: Url,
    /// Zoom's token endpoint (`ATTEND_ZOOM_OAUTH_URL`).
    pub oauth_url: Url,
}

impl Mode {
    /// Whether this is demo mode.
    pub fn is_demo(&self) -> bool {
        matches!(self, Mode::Demo)
    }
}

/// The whole configuration of the example app.
#[derive(Clone, Debug)]
pub struct Config {
    /// Where to listen (`ATTEND_BIND`). Port 0 picks a free port (tests do this).
    pub bind: SocketAddr,
    /// The public base URL (`ATTEND_PUBLIC_URL`), without a trailing slash. `None` means
    /// "derive it from the address actually bound" (`http://{bind}`, with `127.0.0.1` in place
    /// of an unspecified address such as `0.0.0.0`).
    pub public_url: Option<Url>,
    /// `ATTEND_DATABASE_URL`: `sqlite://path`, `sqlite::memory:` or `postgres://…`.
    pub database_url: String,
    /// `ATTEND_JWT_SECRET`. `None` in demo mode means "reuse the one kept in the database,
    /// or generate one".
    pub jwt_secret: Option<Secret>,
    /// `ATTEND_ZOOM_WEBHOOK_SECRET`. `None` in demo mode means "reuse or generate".
    pub webhook_secret: Option<Secret>,
    /// Demo or real Zoom.
    pub mode: Mode,
    /// Whether to fill an empty database with the demo course (demo mode only; default on).
    pub seed_demo_data: bool,
    /// Whether to serve `GET /metrics` (Prometheus text): `ATTEND_METRICS=on|off`; default on
    /// in demo mode and off with real Zoom, where the page would be public unless your proxy
    /// keeps it in.
    pub metrics: bool,
}

/// A configuration value was missing or malformed. The message names the variable.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    /// A variable holds a value that cannot be used.
    #[error("{var}: {reason} (got {shown})")]
    Invalid {
        /// The environment variable.
        var: &'static str,
        /// What is wrong and what is expected.
        reason: String,
        /// The offending value, or `<hidden>` for secrets.
        shown: String,
    },
    /// A variable that the chosen mode needs is not set.
    #[error("{var} is not set: {why}")]
    Missing {
        /// The environment variable.
        var: &'static str,
        /// Why it is needed and where to find it.
        why: &'static str,
    },
    /// A variable is not valid Unicode.
    #[error("{var} is not valid UTF-8")]
    NotUnicode {
        /// The environment variable.
        var: &'static str,
    },
}

impl Config {
    /// Reads the configuration from the process environment.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the first variable that is malformed, or missing for the
    /// chosen mode.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| match std::env::var(name) {
            Ok(v) => Ok(Some(v)),
            Err(std::env::VarError::NotPresent) => Ok(None),
            Err(std::env::VarError::NotUnicode(_)) => Err(()),
        })
    }

    /// Reads the configuration through `lookup` (the environment in [`from_env`]; a map in
    /// tests). `lookup` returns `Err(())` for a value that is not valid Unicode. Empty values
    /// count as unset.
    ///
    /// [`from_env`]: Config::from_env
    ///
    /// # Errors
    /// As for [`from_env`](Config::from_env).
    pub fn from_lookup<F>(lookup: F) -> Result<Self, ConfigError>
    where
        F: Fn(&'static str) -> Result<Option<String>, ()>,
    {
        let get = |var: &'static str| -> Result<Option<String>, ConfigError> {
            match lookup(var) {
                Ok(Some(v)) if !v.trim().is_empty() => Ok(Some(v.trim().to_owned())),
                Ok(_) => Ok(None),
                Err(()) => Err(ConfigError::NotUnicode { var }),
            }
        };

        let bind = parse_bind(get("ATTEND_BIND")?.as_deref().unwrap_or(DEFAULT_BIND))?;
        let public_url = get("ATTEND_PUBLIC_URL")?
            .map(|v| parse_base_url("ATTEND_PUBLIC_URL", &v))
            .transpose()?;
        let database_url =
            get("ATTEND_DATABASE_URL")?.unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned());
        check_database_url(&database_url)?;

        let account_id = get("ATTEND_ZOOM_ACCOUNT_ID")?;
        let client_id = get("ATTEND_ZOOM_CLIENT_ID")?;
        let client_secret = get("ATTEND_ZOOM_CLIENT_SECRET")?;
        let api_base = get("ATTEND_ZOOM_API_BASE")?
            .map(|v| parse_base_url("ATTEND_ZOOM_API_BASE", &v))
            .transpose()?;
        let oauth_url = get("ATTEND_ZOOM_OAUTH_URL")?
            .map(|v| parse_url("ATTEND_ZOOM_OAUTH_URL", &v))
            .transpose()?;

        let mode = match (account_id, client_id, client_secret) {
            (None, None, None) => Mode::Demo,
            (Some(account_id), Some(client_id), Some(client_secret)) => {
                Mode::Real(Box::new(RealZoom {
                    credentials: ZoomCredentials {
                        account_id,
                        client_id,
                        client_secret: Secret::new(client_secret),
                    },
                    api_base: match api_base {
                        Some(url) => url,
                        None => parse_base_url("ATTEND_ZOOM_API_BASE", DEFAULT_ZOOM_API_BASE)?,
                    },
                    oauth_url: match oauth_url {
                        Some(url) => url,
                        None => parse_url("ATTEND_ZOOM_OAUTH_URL", DEFAULT_ZOOM_OAUTH_URL)?,
                    },
                }))
            }
            (a, c, s) => {
                let var = if a.is_none() {
                    "ATTEND_ZOOM_ACCOUNT_ID"
                } else if c.is_none() {
                    "ATTEND_ZOOM_CLIENT_ID"
                } else {
                    debug_assert!(s.is_none());
                    "ATTEND_ZOOM_CLIENT_SECRET"
                };
                return Err(ConfigError::Missing {
                    var,
                    why: "set all three of ATTEND_ZOOM_ACCOUNT_ID, ATTEND_ZOOM_CLIENT_ID and \
                          ATTEND_ZOOM_CLIENT_SECRET for real Zoom (your Server-to-Server OAuth \
                          app's \"App Credentials\" page), or none of them for demo mode",
                });
            }
        };

        let jwt_secret = get("ATTEND_JWT_SECRET")?.map(Secret::new);
        if let Some(secret) = &jwt_secret
            && secret.expose().len() < attend_core::join_token::MIN_SECRET_LEN
        {
            return Err(ConfigError::Invalid {
                var: "ATTEND_JWT_SECRET",
                reason: format!(
                    "must be at least {} bytes long (e.g. `openssl rand -hex 32`)",
                    attend_core::join_token::MIN_SECRET_LEN
                ),
                shown: "<hidden>".to_owned(),
            });
        }
        let webhook_secret = get("ATTEND_ZOOM_WEBHOOK_SECRET")?.map(Secret::new);

        if let Mode::Real(_) = mode {
            if jwt_secret.is_none() {
                return Err(ConfigError::Missing {
                    var: "ATTEND_JWT_SECRET",
                    why: "real mode signs bearer tokens and personal join links with it; it must \
                          stay the same across restarts (e.g. `openssl rand -hex 32`)",
                });
            }
            if webhook_secret.is_none() {
                return Err(ConfigError::Missing {
                    var: "ATTEND_ZOOM_WEBHOOK_SECRET",
                    why: "copy the \"Secret Token\" from your Zoom app's Feature > Access page; \
                          without it no webhook can be verified",
                });
            }
        }

        let metrics = match get("ATTEND_METRICS")? {
            None => mode.is_demo(),
            Some(v) => parse_switch("ATTEND_METRICS", &v)?,
        };

        Ok(Self {
            bind,
            public_url,
            database_url,
            jwt_secret,
            webhook_secret,
            mode,
            seed_demo_data: true,
            metrics,
        })
    }

    /// A demo-mode configuration for tests: binds `127.0.0.1:0` (a free port), uses
    /// `database_url`, generated secrets, and no demo data unless `seed` is set.
    pub fn for_tests(database_url: impl Into<String>, seed: bool) -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            public_url: None,
            database_url: database_url.into(),
            jwt_secret: Some(Secret::generate()),
            webhook_secret: Some(Secret::generate()),
            mode: Mode::Demo,
            seed_demo_data: seed,
            metrics: false,
        }
    }
}

/// `on`/`off` (also `true`/`false`, `1`/`0`, `yes`/`no`, any case).
fn parse_switch(var: &'static str, value: &str) -> Result<bool, ConfigError> {
    match value.to_ascii_lowercase().as_str() {
        "on" | "true" | "1" | "yes" => Ok(true),
        "off" | "false" | "0" | "no" => Ok(false),
        _ => Err(ConfigError::Invalid {
            var,
            reason: "expected on or off".to_owned(),
            shown: format!("{value:?}"),
        }),
    }
}

fn parse_bind(value: &str) -> Result<SocketAddr, ConfigError> {
    let invalid = |reason: &str| ConfigError::Invalid {
        var: "ATTEND_BIND",
        reason: reason.to_owned(),
        shown: format!("{value:?}"),
    };
    if let Ok(addr) = value.parse::<SocketAddr>() {
        return Ok(addr);
    }
    if !value.contains(':') {
        return Err(invalid("expected host:port, e.g. 127.0.0.1:8080"));
    }
    let mut addrs = value
        .to_socket_addrs()
        .map_err(|e| invalid(&format!("expected host:port, e.g. 127.0.0.1:8080 ({e})")))?;
    addrs
        .next()
        .ok_or_else(|| invalid("the host name resolves to no address"))
}

fn parse_url(var: &'static str, value: &str) -> Result<Url, ConfigError> {
    let invalid = |reason: String| ConfigError::Invalid {
        var,
        reason,
        shown: format!("{value:?}"),
    };
    let url = Url::parse(value).map_err(|e| {
        invalid(format!(
            "not a valid absolute URL ({e}); expected e.g. https://example.org"
        ))
    })?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(invalid(format!(
            "the scheme must be http or https, not {:?}",
            url.scheme()
        )));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid("the URL has no host".to_owned()));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid(
            "the URL must not have a query or fragment".to_owned(),
        ));
    }
    Ok(url)
}

/// Parses a base URL and drops a trailing slash from its path, so `{base}/path` joins cleanly.
fn parse_base_url(var: &'static str, value: &str) -> Result<Url, ConfigError> {
    let mut url = parse_url(var, value)?;
    let trimmed = url.path().trim_end_matches('/').to_owned();
    url.set_path(&trimmed);
    Ok(url)
}

fn check_database_url(value: &str) -> Result<(), ConfigError> {
    let ok = value.starts_with("sqlite://")
        || value == "sqlite::memory:"
        || value == ":memory:"
        || value.starts_with("postgres://")
        || value.starts_with("postgresql://");
    if ok && value != "sqlite://" {
        Ok(())
    } else {
        Err(ConfigError::Invalid {
            var: "ATTEND_DATABASE_URL",
            reason: "expected sqlite://path/to/file.sqlite, sqlite::memory: or \
                     postgres://user@host:5432/db"
                .to_owned(),
            // Never echo a URL that may carry a password.
            shown: if value.contains('@') {
                "<hidden>".to_owned()
            } else {
                format!("{value:?}")
            },
        })
    }
}

/// The string form of a base URL without a trailing slash (`Url` always prints one for an
/// empty path).
pub fn base_str(url: &Url) -> String {
    url.as_str().trim_end_matches('/').to_owned()
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn cfg(vars: &[(&'static str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<&'static str, String> =
            vars.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
        Config::from_lookup(|name| Ok(map.get(name).cloned()))
    }

    #[test]
    fn nothing_set_is_demo_mode_with_defaults() {
        let c = cfg(&[]).unwrap();
        assert_eq!(c.bind, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(c.database_url, DEFAULT_DATABASE_URL);
        assert!(c.public_url.is_none());
        assert!(c.jwt_secret.is_none());
        assert_eq!(c.mode, Mode::Demo);
    }

    #[test]
    fn malformed_public_url_names_the_variable() {
        let err = cfg(&[("ATTEND_PUBLIC_URL", "lms.example.org")]).unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("ATTEND_PUBLIC_URL:"), "{text}");
        assert!(text.contains("lms.example.org"), "{text}");
        let err = cfg(&[("ATTEND_PUBLIC_URL", "ftp://lms.example.org")]).unwrap_err();
        assert!(err.to_string().contains("scheme"), "{err}");
    }

    #[test]
    fn public_url_trailing_slash_is_dropped() {
        let c = cfg(&[("ATTEND_PUBLIC_URL", "https://lms.example.org/school/")]).unwrap();
        assert_eq!(
            base_str(c.public_url.as_ref().unwrap()),
            "https://lms.example.org/school"
        );
    }

    #[test]
    fn bad_bind_names_the_variable() {
        let err = cfg(&[("ATTEND_BIND", "8080")]).unwrap_err();
        assert!(err.to_string().starts_with("ATTEND_BIND:"), "{err}");
    }

    #[test]
    fn bad_database_url_is_refused_without_echoing_passwords() {
        let err = cfg(&[("ATTEND_DATABASE_URL", "mysql://u:hunter2@h/db")]).unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("ATTEND_DATABASE_URL:"), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
        assert!(cfg(&[("ATTEND_DATABASE_URL", "attend.db")]).is_err());
    }

    #[test]
    fn metrics_page_is_on_in_demo_mode_off_with_real_zoom_and_switchable() {
        assert!(cfg(&[]).unwrap().metrics);
        assert!(!cfg(&[("ATTEND_METRICS", "off")]).unwrap().metrics);
        let real = [
            ("ATTEND_ZOOM_ACCOUNT_ID", "acc"),
            ("ATTEND_ZOOM_CLIENT_ID", "cid"),
            ("ATTEND_ZOOM_CLIENT_SECRET", "csecret"),
            ("ATTEND_JWT_SECRET", "0123456789abcdef0123456789abcdef"),
            ("ATTEND_ZOOM_WEBHOOK_SECRET", "whsecret"),
        ];
        assert!(!cfg(&real).unwrap().metrics);
        let mut on = real.to_vec();
        on.push(("ATTEND_METRICS", "ON"));
        assert!(cfg(&on).unwrap().metrics);
        let err = cfg(&[("ATTEND_METRICS", "sometimes")]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "ATTEND_METRICS: expected on or off (got \"sometimes\")"
        );
    }

    #[test]
    fn partial_zoom_credentials_are_an_error() {
        let err = cfg(&[
            ("ATTEND_ZOOM_ACCOUNT_ID", "acc"),
            ("ATTEND_ZOOM_CLIENT_ID", "cid"),
        ])
        .unwrap_err();
        assert!(matches!(
            err,
            ConfigError::Missing {
                var: "ATTEND_ZOOM_CLIENT_SECRET",
                ..
            }
        ));
    }

    #[test]
    fn real_mode_needs_secrets_and_uses_zoom_defaults() {
        let creds = [
            ("ATTEND_ZOOM_ACCOUNT_ID", "acc"),
            ("ATTEND_ZOOM_CLIENT_ID", "cid"),
            ("ATTEND_ZOOM_CLIENT_SECRET", "csecret"),
        ];
        let err = cfg(&creds).unwrap_err();
        assert!(matches!(
            err,
            ConfigError::Missing {
                var: "ATTEND_JWT_SECRET",
                ..
            }
        ));
        let mut all = creds.to_vec();
        all.push(("ATTEND_JWT_SECRET", "0123456789abcdef0123456789abcdef"));
        all.push(("ATTEND_ZOOM_WEBHOOK_SECRET", "whsecret"));
        let c = cfg(&all).unwrap();
        match c.mode {
            Mode::Real(real) => {
                let RealZoom {
                    api_base,
                    oauth_url,
                    credentials,
                } = *real;
                assert_eq!(base_str(&api_base), "https://api.zoom.us/v2");
                assert_eq!(oauth_url.as_str(), "https://zoom.us/oauth/token");
                assert!(!format!("{credentials:?}").contains("csecret"));
            }
            Mode::Demo => panic!("expected real mode"),
        }
    }

    #[test]
    fn short_jwt_secret_is_refused_and_not_shown() {
        let err = cfg(&[("ATTEND_JWT_SECRET", "short-secret")]).unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("ATTEND_JWT_SECRET:"), "{text}");
        assert!(!text.contains("short-secret"), "{text}");
    }

    #[test]
    fn malformed_zoom_api_base_names_the_variable() {
        let err = cfg(&[("ATTEND_ZOOM_API_BASE", "not a url")]).unwrap_err();
        assert!(
            err.to_string().starts_with("ATTEND_ZOOM_API_BASE:"),
            "{err}"
        );
    }

    #[test]
    fn secrets_are_redacted_in_debug() {
        let s = Secret::new("topsecret");
        assert!(!format!("{s:?}").contains("topsecret"));
        assert_eq!(Secret::generate().expose().len(), 64);
    }
}
