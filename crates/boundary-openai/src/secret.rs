//! API keys: read from an environment variable or a key file, sent only in the
//! `Authorization` header, and never printed, logged or stored.
//!
//! There is deliberately no way to pass a key on the command line: arguments are visible
//! to every user of the machine (`ps`) and end up in shell history.

use std::fmt;
use std::path::{Path, PathBuf};

/// Where a key could not be read from, and why. Never contains the key itself.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("cannot read the API key file {path}: {source}")]
    Unreadable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the API key in {origin} is empty")]
    Empty { origin: String },
    #[error(
        "the API key in {origin} contains whitespace or control characters inside it; \
         a key is one line with no spaces"
    )]
    InvalidCharacters { origin: String },
    #[error("the environment variable {var} is not valid UTF-8")]
    NotUnicode { var: String },
}

/// A bearer token for an OpenAI-compatible server.
///
/// `Debug` prints `ApiKey(***)`; there is no `Display` and no `Serialize`, so the key cannot
/// reach a log line, a report or the store by accident. [`ApiKey::redact`] scrubs it from
/// text that came back from a server (an error body could echo request headers).
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// Reads the key from the environment variable `var`; `Ok(None)` when it is unset.
    pub fn from_env(var: &str) -> Result<Option<Self>, SecretError> {
        match std::env::var(var) {
            Ok(value) => Self::parse(&value, &format!("the environment variable {var}")).map(Some),
            Err(std::env::VarError::NotPresent) => Ok(None),
            Err(std::env::VarError::NotUnicode(_)) => Err(SecretError::NotUnicode {
                var: var.to_owned(),
            }),
        }
    }

    /// Reads the key from a file holding it on one line (a trailing newline is fine).
    pub fn from_file(path: &Path) -> Result<Self, SecretError> {
        let text = std::fs::read_to_string(path).map_err(|source| SecretError::Unreadable {
            path: path.to_owned(),
            source,
        })?;
        warn_if_readable_by_others(path);
        Self::parse(&text, &format!("the file {}", path.display()))
    }

    pub(crate) fn parse(raw: &str, origin: &str) -> Result<Self, SecretError> {
        let key = raw.trim();
        if key.is_empty() {
            return Err(SecretError::Empty {
                origin: origin.to_owned(),
            });
        }
        if key.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(SecretError::InvalidCharacters {
                origin: origin.to_owned(),
            });
        }
        Ok(Self(key.to_owned()))
    }

    /// The value for the `Authorization` header. Only the HTTP layer calls this.
    pub(crate) fn bearer_header(&self) -> String {
        format!("Bearer {}", self.0)
    }

    /// `text` with every occurrence of the key replaced by `***`.
    pub fn redact(&self, text: &str) -> String {
        text.replace(&self.0, "***")
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(***)")
    }
}

#[cfg(unix)]
fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path)
        && meta.permissions().mode() & 0o077 != 0
    {
        tracing::warn!(
            "the API key file {} is readable by other users; `chmod 600` it",
            path.display()
        );
    }
}

#[cfg(not(unix))]
fn warn_if_readable_by_others(_path: &Path) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_key() {
        let key = ApiKey::parse("sk-secret-123", "test").unwrap();
        assert_eq!(format!("{key:?}"), "ApiKey(***)");
        assert_eq!(
            format!("{:?}", Some(&key)),
            "Some(ApiKey(***))",
            "nested Debug must stay redacted too"
        );
    }

    #[test]
    fn file_keys_are_trimmed_and_validated() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        std::fs::write(&path, "sk-abc\n").unwrap();
        let key = ApiKey::from_file(&path).unwrap();
        assert_eq!(key.bearer_header(), "Bearer sk-abc");

        std::fs::write(&path, "\n  \n").unwrap();
        let err = ApiKey::from_file(&path).unwrap_err();
        assert!(matches!(err, SecretError::Empty { .. }), "{err}");

        std::fs::write(&path, "sk-a b").unwrap();
        let err = ApiKey::from_file(&path).unwrap_err();
        assert!(
            matches!(err, SecretError::InvalidCharacters { .. }),
            "{err}"
        );
        assert!(
            !err.to_string().contains("sk-a"),
            "errors never quote the key"
        );
    }

    #[test]
    fn missing_file_names_the_path() {
        let err = ApiKey::from_file(Path::new("/nonexistent/boundary/key")).unwrap_err();
        assert!(
            err.to_string().contains("/nonexistent/boundary/key"),
            "{err}"
        );
    }

    #[test]
    fn redact_scrubs_every_occurrence() {
        let key = ApiKey::parse("sk-xyz", "test").unwrap();
        assert_eq!(
            key.redact("auth: Bearer sk-xyz, again sk-xyz"),
            "auth: Bearer ***, again ***"
        );
    }
}
