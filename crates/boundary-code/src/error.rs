//! Errors of the code verifier.

use std::path::PathBuf;

/// Failures of the sandbox machinery itself (never a verdict about a program).
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("cannot start the Python runtime `{python}`: {source}")]
    Spawn {
        python: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the sandbox worker failed: {0}")]
    Worker(String),
    #[error("building the seccomp filter failed: {0}")]
    Seccomp(String),
    #[error(
        "refusing to run untrusted code: {missing} not available on this machine.\n\
         Active layers: {active}.\n\
         Run on a kernel that allows it (see docs/benchmarks/code.md), or pass the explicit \
         unsafe flag (`--allow-unsafe-sandbox`) to run with only the layers listed."
    )]
    InsufficientIsolation { missing: String, active: String },
    #[error("sandbox I/O failed: {0}")]
    Io(#[from] std::io::Error),
}

/// Failures to read a benchmark or samples file.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}:{line}: {message}")]
    Invalid {
        path: PathBuf,
        line: usize,
        message: String,
    },
}

impl LoadError {
    pub(crate) fn invalid(path: &std::path::Path, line: usize, message: impl Into<String>) -> Self {
        LoadError::Invalid {
            path: path.to_path_buf(),
            line,
            message: message.into(),
        }
    }
}
