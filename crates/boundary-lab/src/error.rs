//! The lab's error type: what went wrong and where, for the CLI to print.

use thiserror::Error;

use crate::config::ConfigError;
use crate::model::ModelError;
use crate::task::TaskError;
use crate::task::generator::SplitError;

#[derive(Debug, Error)]
pub enum LabError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("task: {0}")]
    Task(#[from] TaskError),
    #[error(transparent)]
    Split(#[from] SplitError),
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error(transparent)]
    Store(#[from] boundary_store::StoreError),
    #[error(transparent)]
    Export(#[from] boundary_store::ExportError),
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Invalid(String),
}

impl From<candle_core::Error> for LabError {
    fn from(e: candle_core::Error) -> Self {
        LabError::Model(ModelError::Tensor(e))
    }
}

pub type Result<T> = std::result::Result<T, LabError>;

/// Attaches the path to an I/O error.
pub fn io_at(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> LabError + '_ {
    move |source| LabError::Io {
        path: path.display().to_string(),
        source,
    }
}
