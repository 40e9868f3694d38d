//! SQL identifiers that are safe to splice into a statement.
//!
//! Values are always bound parameters. Only *names* (the host's table and column names, a
//! PostgreSQL schema) ever become part of SQL text, and only after passing [`Ident::new`]:
//! an ASCII letter or `_`, then up to 62 ASCII letters, digits or `_` (PostgreSQL's 63-byte
//! limit). Such a name cannot contain a quote, a space, a dot or a semicolon, and it is
//! additionally double-quoted when rendered, so it can be a reserved word (`user`, `order`).
//!
//! Quoting makes names case-sensitive on PostgreSQL: write them exactly as the database stores
//! them (unquoted names created by `CREATE TABLE Members` are stored as `members`).

use std::fmt;

/// Why a name was refused as an SQL identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdentifierError {
    /// The name is empty.
    #[error("{role}: the name is empty")]
    Empty {
        /// Which setting held the name (e.g. `"users table"`).
        role: &'static str,
    },
    /// The name is longer than 63 characters.
    #[error("{role}: {name:?} is longer than 63 characters")]
    TooLong {
        /// Which setting held the name.
        role: &'static str,
        /// The refused name.
        name: String,
    },
    /// The name contains something other than ASCII letters, digits and `_`, or starts with a
    /// digit.
    #[error(
        "{role}: {name:?} is not a plain SQL identifier (allowed: an ASCII letter or _, then \
         letters, digits or _; a table may be schema.table)"
    )]
    InvalidCharacters {
        /// Which setting held the name.
        role: &'static str,
        /// The refused name.
        name: String,
    },
}

/// A validated SQL identifier: an ASCII letter or `_`, then up to 62 ASCII letters, digits or
/// `_`. It cannot contain a quote, space, dot or semicolon, and it renders double-quoted
/// (`"members"`), so it may be a reserved word. Quoting makes it case-sensitive on PostgreSQL:
/// write names exactly as the database stores them.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Ident(String);

impl Ident {
    /// Validates `name`; `role` names the setting in the error message.
    ///
    /// # Errors
    /// [`IdentifierError`] when the name is empty, too long, or has any character outside
    /// `[A-Za-z0-9_]` (or starts with a digit).
    pub fn new(role: &'static str, name: &str) -> Result<Self, IdentifierError> {
        if name.is_empty() {
            return Err(IdentifierError::Empty { role });
        }
        if name.len() > 63 {
            return Err(IdentifierError::TooLong {
                role,
                name: name.to_owned(),
            });
        }
        let mut chars = name.chars();
        let first_ok = chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
        if !first_ok || !chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(IdentifierError::InvalidCharacters {
                role,
                name: name.to_owned(),
            });
        }
        Ok(Self(name.to_owned()))
    }

    /// The name as given (unquoted).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Ident {
    /// Writes the identifier double-quoted (it never contains a quote).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{}\"", self.0)
    }
}

impl fmt::Debug for Ident {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Ident({:?})", self.0)
    }
}

/// A table name, optionally schema-qualified (`schema.table`), each part an [`Ident`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TableName {
    schema: Option<Ident>,
    table: Ident,
}

impl TableName {
    /// Parses `table` or `schema.table`.
    ///
    /// # Errors
    /// [`IdentifierError`] if either part is not a plain identifier (a second dot is refused
    /// the same way).
    pub fn parse(role: &'static str, name: &str) -> Result<Self, IdentifierError> {
        match name.split_once('.') {
            Some((schema, table)) => Ok(Self {
                schema: Some(Ident::new(role, schema)?),
                table: Ident::new(role, table)?,
            }),
            None => Ok(Self {
                schema: None,
                table: Ident::new(role, name)?,
            }),
        }
    }

    /// The schema part, if any.
    pub fn schema(&self) -> Option<&Ident> {
        self.schema.as_ref()
    }

    /// The table part.
    pub fn table(&self) -> &Ident {
        &self.table
    }
}

impl fmt::Display for TableName {
    /// Writes `"schema"."table"` or `"table"`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.schema {
            Some(schema) => write!(f, "{schema}.{}", self.table),
            None => write!(f, "{}", self.table),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_names_are_accepted_and_quoted() {
        assert_eq!(
            Ident::new("t", "members").unwrap().to_string(),
            "\"members\""
        );
        assert_eq!(Ident::new("t", "_x9").unwrap().as_str(), "_x9");
        assert_eq!(Ident::new("t", "user").unwrap().to_string(), "\"user\"");
        let long = "a".repeat(63);
        assert!(Ident::new("t", &long).is_ok());
        assert_eq!(
            TableName::parse("t", "lms.members").unwrap().to_string(),
            "\"lms\".\"members\""
        );
    }

    #[test]
    fn unsafe_names_are_refused() {
        for bad in [
            "members; DROP TABLE x",
            "mem\"bers",
            "mem bers",
            "1members",
            "members--",
            "naïve",
            "a.b",
        ] {
            assert!(
                matches!(
                    Ident::new("users table", bad),
                    Err(IdentifierError::InvalidCharacters { .. })
                ),
                "{bad}"
            );
        }
        assert_eq!(
            Ident::new("users table", ""),
            Err(IdentifierError::Empty {
                role: "users table"
            })
        );
        assert!(matches!(
            Ident::new("t", &"a".repeat(64)),
            Err(IdentifierError::TooLong { .. })
        ));
        assert!(TableName::parse("t", "a.b.c").is_err());
        assert!(TableName::parse("t", ".b").is_err());
        assert!(TableName::parse("t", "a.").is_err());
    }
}
