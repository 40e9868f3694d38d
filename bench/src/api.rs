//! A small client of the example app's HTTP API (attend at `/attend`, the LMS at `/lms`),
//! authenticated with bearer tokens minted here from the app's JWT secret.

use std::time::Duration;

use attend_actix::auth::{Claims, JwtAuthenticator, Role};
use serde_json::{Value, json};

/// A failed API call: transport, or an unexpected status (with the body).
#[derive(Debug, thiserror::Error)]
pub enum ApiCallError {
    /// No answer.
    #[error("{what}: request failed: {source}")]
    Transport {
        /// The call.
        what: String,
        /// reqwest's error.
        #[source]
        source: reqwest::Error,
    },
    /// An answer with a status the caller did not expect.
    #[error("{what}: status {status}: {body}")]
    Status {
        /// The call.
        what: String,
        /// The status.
        status: u16,
        /// The body (truncated).
        body: String,
    },
    /// A token could not be minted.
    #[error("cannot mint a token: {0}")]
    Token(String),
}

/// The example app's API at `base` (e.g. `http://127.0.0.1:8080`).
#[derive(Clone, Debug)]
pub struct Api {
    /// The app's base URL.
    pub base: String,
    client: reqwest::Client,
    jwt: JwtAuthenticator,
    admin: String,
}

impl Api {
    /// A client for the app at `base` whose JWT secret is `jwt_secret`; calls are made as an
    /// admin (`sub` = `admin`).
    ///
    /// # Errors
    /// If the client cannot be built or the token cannot be minted.
    pub fn new(base: &str, jwt_secret: &str) -> Result<Self, ApiCallError> {
        let client = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|source| ApiCallError::Transport {
                what: "client".into(),
                source,
            })?;
        let jwt = JwtAuthenticator::new(jwt_secret.as_bytes());
        let mut api = Self {
            base: base.trim_end_matches('/').to_owned(),
            client,
            jwt,
            admin: String::new(),
        };
        api.admin = api.token("admin", Role::Admin, Vec::new())?;
        Ok(api)
    }

    /// Mints a bearer token valid for 12 hours.
    ///
    /// # Errors
    /// [`ApiCallError::Token`].
    pub fn token(
        &self,
        sub: &str,
        role: Role,
        groups: Vec<String>,
    ) -> Result<String, ApiCallError> {
        let claims = Claims {
            sub: sub.to_owned(),
            role,
            groups,
            exp: chrono::Utc::now().timestamp() + 12 * 3600,
        };
        self.jwt
            .issue(&claims)
            .map_err(|e| ApiCallError::Token(e.to_string()))
    }

    /// Sends `method path` (relative to the base) with an optional JSON body as admin and
    /// returns status and JSON body (`Null` when empty or not JSON).
    ///
    /// # Errors
    /// [`ApiCallError::Transport`].
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<(u16, Value), ApiCallError> {
        let url = format!("{}{path}", self.base);
        let mut req = self
            .client
            .request(method.clone(), &url)
            .bearer_auth(&self.admin);
        if let Some(body) = body {
            req = req.json(body);
        }
        let what = format!("{method} {path}");
        let resp = req.send().await.map_err(|source| ApiCallError::Transport {
            what: what.clone(),
            source,
        })?;
        let status = resp.status().as_u16();
        let bytes = resp
            .bytes()
            .await
            .map_err(|source| ApiCallError::Transport { what, source })?;
        Ok((
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        ))
    }

    /// `GET path` as admin: the raw body of a 200 answer (not parsed).
    ///
    /// # Errors
    /// [`ApiCallError`] on transport errors or another status.
    pub async fn get_bytes(&self, path: &str) -> Result<Vec<u8>, ApiCallError> {
        let what = format!("GET {path}");
        let resp = self
            .client
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.admin)
            .send()
            .await
            .map_err(|source| ApiCallError::Transport {
                what: what.clone(),
                source,
            })?;
        let status = resp.status().as_u16();
        let bytes = resp
            .bytes()
            .await
            .map_err(|source| ApiCallError::Transport {
                what: what.clone(),
                source,
            })?;
        if status != 200 {
            return Err(ApiCallError::Status {
                what,
                status,
                body: String::from_utf8_lossy(&bytes[..bytes.len().min(500)]).into_owned(),
            });
        }
        Ok(bytes.to_vec())
    }

    /// Like [`call`](Self::call), but any status outside `expected` is an error.
    ///
    /// # Errors
    /// [`ApiCallError`].
    pub async fn expect(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
        expected: &[u16],
    ) -> Result<Value, ApiCallError> {
        let (status, value) = self.call(method.clone(), path, body).await?;
        if expected.contains(&status) {
            Ok(value)
        } else {
            let mut text = value.to_string();
            text.truncate(500);
            Err(ApiCallError::Status {
                what: format!("{method} {path}"),
                status,
                body: text,
            })
        }
    }

    /// `GET /attend/meetings`.
    ///
    /// # Errors
    /// [`ApiCallError`].
    pub async fn meetings(&self) -> Result<Vec<Value>, ApiCallError> {
        let v = self
            .expect(reqwest::Method::GET, "/attend/meetings", None, &[200])
            .await?;
        Ok(v["meetings"].as_array().cloned().unwrap_or_default())
    }

    /// `GET /attend/meetings/{id}/registrations`.
    ///
    /// # Errors
    /// [`ApiCallError`].
    pub async fn registrations(&self, meeting: &str) -> Result<Value, ApiCallError> {
        self.expect(
            reqwest::Method::GET,
            &format!("/attend/meetings/{meeting}/registrations"),
            None,
            &[200],
        )
        .await
    }

    /// `POST /lms/users` (create or update).
    ///
    /// # Errors
    /// [`ApiCallError`].
    pub async fn upsert_user(
        &self,
        id: &str,
        email: &str,
        name: &str,
        role: &str,
    ) -> Result<(), ApiCallError> {
        self.expect(
            reqwest::Method::POST,
            "/lms/users",
            Some(&json!({"id": id, "email": email, "name": name, "role": role})),
            &[200, 201],
        )
        .await
        .map(|_| ())
    }

    /// `GET /lms/users`: user id → email.
    ///
    /// # Errors
    /// [`ApiCallError`].
    pub async fn user_emails(
        &self,
    ) -> Result<std::collections::HashMap<String, String>, ApiCallError> {
        let v = self
            .expect(reqwest::Method::GET, "/lms/users", None, &[200])
            .await?;
        let list = v
            .get("users")
            .and_then(Value::as_array)
            .or_else(|| v.as_array())
            .cloned()
            .unwrap_or_default();
        Ok(list
            .iter()
            .filter_map(|u| {
                Some((
                    u["id"].as_str()?.to_owned(),
                    u["email"].as_str().unwrap_or_default().to_owned(),
                ))
            })
            .collect())
    }

    /// Registers `users` for `meeting` and waits (at most `within`) until none is pending.
    /// Returns the final registrations document.
    ///
    /// # Errors
    /// [`ApiCallError`], or a `Status` error with status 0 on timeout.
    pub async fn register_all(
        &self,
        meeting: &str,
        users: &[String],
        within: Duration,
    ) -> Result<Value, ApiCallError> {
        let path = format!("/attend/meetings/{meeting}/registrations");
        for chunk in users.chunks(1000) {
            self.expect(
                reqwest::Method::POST,
                &path,
                Some(&json!({ "user_ids": chunk })),
                &[200, 202],
            )
            .await?;
        }
        let deadline = std::time::Instant::now() + within;
        loop {
            let v = self.registrations(meeting).await?;
            if v["counts"]["pending"].as_u64() == Some(0) {
                return Ok(v);
            }
            if std::time::Instant::now() > deadline {
                return Err(ApiCallError::Status {
                    what: format!("waiting for registrations of {meeting}"),
                    status: 0,
                    body: v["counts"].to_string(),
                });
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}
