use std::path::PathBuf;

use thiserror::Error;

/// Errors of the run store. Messages say what went wrong and, where it helps, what
/// to do; the path of the store is added by [`StoreError::at`].
#[derive(Debug, Error)]
pub enum StoreError {
    #[error("no store at {0}: check the path, or create one by importing or sampling into it")]
    Missing(PathBuf),
    #[error("{path} is not a Boundary store ({reason})")]
    NotAStore { path: PathBuf, reason: String },
    #[error(
        "{path} was written by a newer Boundary (schema version {found}; this build reads up to \
         {supported}): upgrade Boundary to read it"
    )]
    TooNew {
        path: PathBuf,
        found: i32,
        supported: i32,
    },
    #[error(
        "problem `{problem}` of benchmark `{benchmark}` already has gold answer {stored:?} in the \
         store, not {given:?}; a problem's gold answer never changes silently (use another \
         benchmark name if this is a different problem set)"
    )]
    GoldConflict {
        benchmark: String,
        problem: String,
        stored: String,
        given: String,
    },
    #[error("run {0} does not exist in this store")]
    NoSuchRun(i64),
    #[error(
        "run {run} ({model} on {benchmark}) has no sample {sample_index} of problem `{problem}` \
         to attach a grade or score to"
    )]
    NoSuchSample {
        run: i64,
        model: String,
        benchmark: String,
        problem: String,
        sample_index: u32,
    },
    #[error(
        "run {run} ({model} on {benchmark}) has grades from several verifiers ({available}); \
         choose one with --verifier"
    )]
    AmbiguousVerifier {
        run: i64,
        model: String,
        benchmark: String,
        available: String,
    },
    #[error("sampling settings must be a JSON object, got {0}")]
    SamplingNotObject(String),
    #[error("SQLite error in {path}: {source}")]
    Sqlite {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Attaches the store's path to SQLite errors.
pub(crate) trait SqliteContext<T> {
    fn at(self, path: &std::path::Path) -> Result<T>;
}

impl<T> SqliteContext<T> for std::result::Result<T, rusqlite::Error> {
    fn at(self, path: &std::path::Path) -> Result<T> {
        self.map_err(|source| StoreError::Sqlite {
            path: path.to_owned(),
            source,
        })
    }
}
