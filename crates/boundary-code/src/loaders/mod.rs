//! Loaders for the released benchmark files.

pub mod evalplus;
pub mod humaneval;
pub mod livecodebench;
mod pickle;
pub(crate) mod rawjson;

use std::path::Path;

use crate::error::LoadError;

/// Non-empty lines of a JSONL file with their 1-based line numbers.
pub(crate) fn jsonl_lines(path: &Path) -> Result<Vec<(usize, String)>, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|source| LoadError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| (i + 1, l.to_string()))
        .collect())
}

/// One line parsed as JSON, with a located error.
pub(crate) fn parse_line(
    text: &str,
    path: &Path,
    line: usize,
) -> Result<serde_json::Value, LoadError> {
    serde_json::from_str(text).map_err(|e| LoadError::invalid(path, line, format!("not JSON: {e}")))
}

/// A string field of a JSON object, with a located error when absent.
pub(crate) fn string_field(
    value: &serde_json::Value,
    field: &str,
    path: &Path,
    line: usize,
) -> Result<String, LoadError> {
    value
        .get(field)
        .and_then(|v| v.as_str())
        .map(str::to_string)
        .ok_or_else(|| LoadError::invalid(path, line, format!("missing string field `{field}`")))
}
