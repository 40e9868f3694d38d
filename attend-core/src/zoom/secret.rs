//! A string that must never be printed: webhook secret tokens, OAuth client secrets, access
//! tokens.

use std::fmt;

use serde::{Deserialize, Deserializer};

/// A secret string (webhook secret token, OAuth client secret, access token).
///
/// `Debug` prints `Secret(***)` and there is deliberately no `Display` and no `Serialize`, so
/// a secret cannot end up in a log line or a JSON response by accident. Read the value with
/// [`Secret::expose`] only where it is actually used (signing, an `Authorization` header).
///
/// It deserializes from a plain string, so it can sit in a host's configuration struct.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret value. Call this only where the value is used, never to log it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the secret is the empty string (a configuration mistake worth refusing).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let secret = Secret::new("hunter2-very-secret");
        let printed = format!("{secret:?} {:?}", Some(&secret));
        assert!(!printed.contains("hunter2"), "{printed}");
        assert!(printed.contains("***"));
    }

    #[test]
    fn deserializes_from_a_plain_string() {
        let secret: Secret = serde_json::from_str("\"abc\"").unwrap();
        assert_eq!(secret.expose(), "abc");
    }
}
