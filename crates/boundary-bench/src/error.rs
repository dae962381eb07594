use std::path::PathBuf;

use thiserror::Error;

/// Why a benchmark could not be loaded or a prompt rendered. Messages name the file,
/// line and field, and say what to do.
#[derive(Debug, Error)]
pub enum BenchError {
    #[error(
        "unknown benchmark `{name}`; known benchmarks: {known} (or give a `path` for your own)"
    )]
    UnknownBenchmark { name: String, known: String },
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}:{line}: {message}")]
    Record {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("{path}: {message}")]
    File { path: PathBuf, message: String },
    #[error("cannot read Parquet file {path}: {source}")]
    Parquet {
        path: PathBuf,
        #[source]
        source: parquet::errors::ParquetError,
    },
    #[error("benchmark `{benchmark}` needs {what}, which is not in this checkout: {hint}")]
    DataMissing {
        benchmark: String,
        what: String,
        hint: String,
    },
    #[error("Hugging Face Hub: cannot get {repo}/{file}: {message}")]
    Hub {
        repo: String,
        file: String,
        message: String,
    },
    #[error(
        "{path}:{line}: the field mapping sends `{key}` to field `{field}`, which this record \
         does not have (it has: {available})"
    )]
    MappedField {
        key: &'static str,
        field: String,
        path: PathBuf,
        line: usize,
        available: String,
    },
    #[error("{0}")]
    Template(#[from] crate::template::TemplateError),
    #[error("benchmark `{benchmark}` has no problems{detail}")]
    Empty { benchmark: String, detail: String },
}

pub type Result<T, E = BenchError> = std::result::Result<T, E>;
