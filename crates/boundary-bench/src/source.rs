//! Where benchmark files are found: the vendored `data/` folder, a file the user
//! names, or the Hugging Face Hub.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{BenchError, Result};
use crate::hub::Hub;

/// The environment variable that points at a `data/` folder (for an installed binary,
/// away from its checkout).
pub const DATA_ENV: &str = "BOUNDARY_DATA";

/// The vendored data folder: `$BOUNDARY_DATA`, else the `data/` folder of the checkout
/// this crate was built from.
pub fn data_root() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os(DATA_ENV) {
        return Some(PathBuf::from(dir));
    }
    let built_from = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data");
    built_from
        .is_dir()
        .then(|| built_from.canonicalize().unwrap_or(built_from))
}

/// How to load a benchmark.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LoadOptions {
    /// The vendored data folder (see [`data_root`]); `None` when there is none.
    pub data_root: Option<PathBuf>,
    /// A local file in the benchmark's released format, instead of the vendored one.
    pub path: Option<PathBuf>,
    /// A folder holding the benchmark's images (MathVista's unpacked `images.zip`).
    pub images: Option<PathBuf>,
    /// Keep multiple-choice questions of visual benchmarks (the paper drops them).
    pub multiple_choice: bool,
    /// Which release: LiveCodeBench `release_v1` … `release_v6`; MBPP+ `v0.2.0` (from
    /// the Hub when no `path` is given).
    pub version: Option<String>,
    /// LiveCodeBench: the contest-date window, inclusive, as `YYYY-MM-DD`.
    pub start_date: Option<String>,
    pub end_date: Option<String>,
    /// Fetch missing files from the Hugging Face Hub (cached under `HF_HOME`).
    #[serde(skip)]
    pub hub: Option<Hub>,
}

impl LoadOptions {
    /// Options with the vendored data folder found, the Hub off.
    pub fn vendored() -> Self {
        Self {
            data_root: data_root(),
            ..Self::default()
        }
    }

    /// The user's file when given, else the vendored `file`.
    pub(crate) fn vendored_or_path(&self, benchmark: &str, file: &str) -> Result<PathBuf> {
        if let Some(path) = &self.path {
            return Ok(path.clone());
        }
        let Some(root) = &self.data_root else {
            return Err(BenchError::DataMissing {
                benchmark: benchmark.to_owned(),
                what: format!("the vendored file data/{file}"),
                hint: format!(
                    "set {DATA_ENV} to the data/ folder of a Boundary checkout, or give `path`"
                ),
            });
        };
        let path = root.join(file);
        if !path.exists() {
            return Err(BenchError::DataMissing {
                benchmark: benchmark.to_owned(),
                what: path.display().to_string(),
                hint: format!("check that {DATA_ENV} points at a complete data/ folder"),
            });
        }
        Ok(path)
    }
}
