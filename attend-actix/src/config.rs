//! [`AttendConfig`]: everything the scope needs, built with [`AttendConfig::builder`].

use std::{fmt, sync::Arc};

use attend_core::service::Attend;

use crate::auth::{Authenticator, JwtAuthenticator};

/// The default limit of JSON request bodies (512 KiB: a registration request for Zoom's
/// maximum of 4,999 users with long ids fits).
pub const DEFAULT_JSON_BODY_LIMIT: usize = 512 * 1024;

/// What the attend scope serves with: the service, the authenticator and the limits.
///
/// Cheap to clone (handles only); clone it into the `HttpServer::new` closure.
#[derive(Clone)]
pub struct AttendConfig {
    pub(crate) attend: Attend,
    pub(crate) authenticator: Arc<dyn Authenticator>,
    pub(crate) webhook_body_limit: usize,
    pub(crate) json_body_limit: usize,
    pub(crate) mount_prefix: Option<String>,
    pub(crate) serve_openapi: bool,
    #[cfg(feature = "swagger-ui")]
    pub(crate) swagger_ui: bool,
}

impl fmt::Debug for AttendConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AttendConfig")
            .field("attend", &self.attend)
            .field("authenticator", &self.authenticator)
            .field("webhook_body_limit", &self.webhook_body_limit)
            .field("json_body_limit", &self.json_body_limit)
            .field("mount_prefix", &self.mount_prefix)
            .field("serve_openapi", &self.serve_openapi)
            .finish_non_exhaustive()
    }
}

impl AttendConfig {
    /// Starts a configuration for `attend`, authenticating callers with `authenticator`
    /// (a [`JwtAuthenticator`], or the host's own [`Authenticator`]).
    pub fn builder(attend: Attend, authenticator: Arc<dyn Authenticator>) -> AttendConfigBuilder {
        AttendConfigBuilder {
            config: AttendConfig {
                webhook_body_limit: attend.webhook_body_limit(),
                attend,
                authenticator,
                json_body_limit: DEFAULT_JSON_BODY_LIMIT,
                mount_prefix: None,
                serve_openapi: true,
                #[cfg(feature = "swagger-ui")]
                swagger_ui: false,
            },
        }
    }

    /// Shorthand for a configuration with bearer JWTs (HS256) signed with `jwt_secret` and
    /// every other setting at its default.
    pub fn with_jwt(attend: Attend, jwt_secret: &[u8]) -> Self {
        Self::builder(attend, Arc::new(JwtAuthenticator::new(jwt_secret))).build()
    }

    /// The service.
    pub fn attend(&self) -> &Attend {
        &self.attend
    }

    /// The mount prefix, if set (by [`crate::scope`] or the builder).
    pub fn mount_prefix(&self) -> Option<&str> {
        self.mount_prefix.as_deref()
    }
}

/// Builds an [`AttendConfig`]. Every setter returns the builder; finish with
/// [`build`](AttendConfigBuilder::build).
#[must_use = "a builder does nothing until .build() is called"]
#[derive(Clone, Debug)]
pub struct AttendConfigBuilder {
    config: AttendConfig,
}

impl AttendConfigBuilder {
    /// The largest webhook body accepted, in bytes (default: the service's
    /// `webhook_body_limit`, itself 1 MiB unless configured). Larger bodies are refused with
    /// 413 before they are read: by their `Content-Length` when given, else as soon as the
    /// limit is crossed while reading.
    pub fn webhook_body_limit(mut self, bytes: usize) -> Self {
        self.config.webhook_body_limit = bytes;
        self
    }

    /// The largest JSON request body accepted, in bytes (default
    /// [`DEFAULT_JSON_BODY_LIMIT`]); larger ones get 413 `payload_too_large`.
    pub fn json_body_limit(mut self, bytes: usize) -> Self {
        self.config.json_body_limit = bytes;
        self
    }

    /// Where the host mounts the routes (e.g. `/attend`), when it uses [`crate::configure`]
    /// inside its own scope. Only used for the `servers` entry of the served OpenAPI
    /// document and the Swagger UI; [`crate::scope`] sets it by itself. Personal join links
    /// use the service's own `mount_prefix`, which must match.
    pub fn mount_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.config.mount_prefix = Some(normalize_prefix(&prefix.into()));
        self
    }

    /// Whether to serve `GET /openapi.json` (default `true`).
    pub fn serve_openapi(mut self, serve: bool) -> Self {
        self.config.serve_openapi = serve;
        self
    }

    /// Whether to serve Swagger UI at `/docs/` (default `false`; assets are compiled into
    /// the binary, nothing is downloaded).
    #[cfg(feature = "swagger-ui")]
    #[cfg_attr(docsrs, doc(cfg(feature = "swagger-ui")))]
    pub fn swagger_ui(mut self, serve: bool) -> Self {
        self.config.swagger_ui = serve;
        self
    }

    /// The finished configuration.
    pub fn build(self) -> AttendConfig {
        self.config
    }
}

/// `attend/` → `/attend`, `/` → `` (mounted at the root).
pub(crate) fn normalize_prefix(prefix: &str) -> String {
    let trimmed = prefix.trim().trim_end_matches('/');
    if trimmed.is_empty() {
        String::new()
    } else if trimmed.starts_with('/') {
        trimmed.to_owned()
    } else {
        format!("/{trimmed}")
    }
}

#[cfg(test)]
mod tests {
    use super::normalize_prefix;

    #[test]
    fn prefixes_are_normalized() {
        assert_eq!(normalize_prefix("/attend"), "/attend");
        assert_eq!(normalize_prefix("attend/"), "/attend");
        assert_eq!(normalize_prefix("/"), "");
        assert_eq!(normalize_prefix(""), "");
        assert_eq!(normalize_prefix("/lms/attend/"), "/lms/attend");
    }
}
