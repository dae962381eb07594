//! Reading JSON Lines with errors that name the file, the line and the field.

use std::fmt;
use std::io::BufRead;

use serde_json::{Map, Value};
use thiserror::Error;

/// How many input errors are listed before the rest are only counted.
pub const MAX_LISTED_ERRORS: usize = 10;

/// One problem with a user's input file.
#[derive(Debug, Error, PartialEq)]
pub enum InputError {
    #[error("cannot read {source_name}: {message}")]
    Io {
        source_name: String,
        message: String,
    },
    #[error("{source_name} is empty: expected JSON Lines, one JSON object per line")]
    Empty { source_name: String },
    #[error("{source_name} is not JSON Lines: {what}")]
    NotJsonLines { source_name: String, what: String },
    #[error("{source_name}:{line}: {message}")]
    Line {
        source_name: String,
        line: u64,
        message: String,
    },
}

/// Several input errors, listed together so a user fixes them in one go.
#[derive(Debug, PartialEq)]
pub struct InputErrors {
    pub listed: Vec<InputError>,
    /// Errors found beyond the listed ones.
    pub more: u64,
}

impl fmt::Display for InputErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.listed.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        if self.more > 0 {
            write!(f, "\n… and {} more errors", self.more)?;
        }
        Ok(())
    }
}

impl std::error::Error for InputErrors {}

impl From<InputError> for InputErrors {
    fn from(e: InputError) -> Self {
        Self {
            listed: vec![e],
            more: 0,
        }
    }
}

/// Collects input errors up to [`MAX_LISTED_ERRORS`], counting the rest.
#[derive(Debug, Default)]
pub struct ErrorList {
    listed: Vec<InputError>,
    more: u64,
}

impl ErrorList {
    pub fn push(&mut self, e: InputError) {
        if self.listed.len() < MAX_LISTED_ERRORS {
            self.listed.push(e);
        } else {
            self.more += 1;
        }
    }

    pub fn is_empty(&self) -> bool {
        self.listed.is_empty()
    }

    /// `Ok(())` when nothing was collected.
    pub fn into_result(self) -> Result<(), InputErrors> {
        if self.listed.is_empty() {
            Ok(())
        } else {
            Err(InputErrors {
                listed: self.listed,
                more: self.more,
            })
        }
    }
}

/// Reads JSON Lines: calls `each(line_number, object)` for every non-blank line that
/// holds one JSON object, and collects an error for every other line. Blank lines are
/// skipped. Files that are clearly something else (Parquet, SQLite, a JSON array,
/// pretty-printed JSON, CSV) are named as such instead of failing on line 1.
pub fn read_objects<R: BufRead>(
    mut reader: R,
    source_name: &str,
    errors: &mut ErrorList,
    mut each: impl FnMut(u64, Map<String, Value>, &mut ErrorList),
) -> Result<(), InputError> {
    let io_error = |e: std::io::Error| InputError::Io {
        source_name: source_name.to_owned(),
        message: e.to_string(),
    };
    let head = reader.fill_buf().map_err(io_error)?;
    if let Some(what) = sniff_other_format(head) {
        return Err(InputError::NotJsonLines {
            source_name: source_name.to_owned(),
            what,
        });
    }

    let mut line_number = 0u64;
    let mut seen_content = false;
    let mut buf = Vec::new();
    loop {
        buf.clear();
        if reader.read_until(b'\n', &mut buf).map_err(io_error)? == 0 {
            break;
        }
        line_number += 1;
        let line_error = |message: String| InputError::Line {
            source_name: source_name.to_owned(),
            line: line_number,
            message,
        };
        let Ok(text) = std::str::from_utf8(&buf) else {
            errors.push(line_error("not UTF-8 text".into()));
            continue;
        };
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        if !seen_content {
            seen_content = true;
            let ahead = reader.fill_buf().map_err(io_error)?;
            if let Some(what) = sniff_first_line(text, ahead) {
                return Err(InputError::NotJsonLines {
                    source_name: source_name.to_owned(),
                    what,
                });
            }
        }
        match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(map)) => each(line_number, map, errors),
            Ok(other) => errors.push(line_error(format!(
                "expected a JSON object, found {}; each line must be one object such as {{\"id\": ...}}",
                describe(&other)
            ))),
            Err(e) => errors.push(line_error(format!(
                "not valid JSON ({e}); each line must be one complete JSON object"
            ))),
        }
    }
    if !seen_content {
        return Err(InputError::Empty {
            source_name: source_name.to_owned(),
        });
    }
    Ok(())
}

/// Recognises binary formats from the first bytes.
fn sniff_other_format(head: &[u8]) -> Option<String> {
    if head.starts_with(b"PAR1") {
        return Some(
            "it is a Parquet file; convert it to JSON Lines first, for example with \
             polars: pl.read_parquet(path).write_ndjson(out)"
                .into(),
        );
    }
    if head.starts_with(b"SQLite format 3\0") {
        return Some(
            "it is an SQLite database; if it is a Boundary store, pass it with --store".into(),
        );
    }
    if head.starts_with(&[0x1f, 0x8b]) {
        return Some("it is gzip-compressed; decompress it first (gunzip)".into());
    }
    None
}

/// Recognises text formats from the first non-blank line and a peek at what follows.
fn sniff_first_line(line: &str, ahead: &[u8]) -> Option<String> {
    if line.starts_with('[') && serde_json::from_str::<Value>(line).is_err() || line == "[" {
        return Some(
            "it looks like one JSON array spread over several lines; write one object per \
             line, for example with: jq -c '.[]' FILE"
                .into(),
        );
    }
    if line.starts_with('[') {
        return Some(
            "line 1 is a JSON array, not an object; write one object per line, for example \
             with: jq -c '.[]' FILE"
                .into(),
        );
    }
    // A pretty-printed object opens on line 1 and closes a few lines later.
    let closes_later = || {
        String::from_utf8_lossy(ahead)
            .lines()
            .any(|l| l.trim_start().starts_with('}'))
    };
    if line == "{"
        || (line.starts_with('{') && serde_json::from_str::<Value>(line).is_err() && closes_later())
    {
        return Some(
            "it looks like pretty-printed JSON; JSON Lines needs each object on one line, \
             for example: jq -c . FILE"
                .into(),
        );
    }
    if !line.starts_with('{') && line.contains(',') && serde_json::from_str::<Value>(line).is_err()
    {
        return Some(format!(
            "line 1 is not JSON and looks like a CSV header ({}); convert the file to JSON \
             Lines, one object per line",
            truncate(line, 60)
        ));
    }
    None
}

fn truncate(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

/// "a string (\"abc\")", "a number (1.5)", ... for error messages.
pub fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("a boolean ({b})"),
        Value::Number(n) => format!("a number ({n})"),
        Value::String(s) => format!("a string ({:?})", truncate(s, 40)),
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
    }
}

/// Typed access to the fields of one input line, each error naming the field.
pub struct Fields<'a> {
    pub map: &'a Map<String, Value>,
}

impl Fields<'_> {
    fn get(&self, field: &str) -> Option<&Value> {
        self.map.get(field).filter(|v| !v.is_null())
    }

    fn missing(field: &str, needs: &str) -> String {
        format!("field `{field}` is missing; {needs}")
    }

    fn wrong(field: &str, expected: &str, found: &Value) -> String {
        format!(
            "field `{field}` must be {expected}, found {}",
            describe(found)
        )
    }

    /// A required non-empty string. `needs` completes "field `x` is missing; ...".
    pub fn string(&self, field: &str, needs: &str) -> Result<String, String> {
        match self.get(field) {
            None => Err(Self::missing(field, needs)),
            Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
            Some(v) => Err(Self::wrong(field, "a non-empty string", v)),
        }
    }

    pub fn optional_string(&self, field: &str) -> Result<Option<String>, String> {
        match self.get(field) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(v) => Err(Self::wrong(field, "a string", v)),
        }
    }

    /// An identifier: a non-empty string, or an integer (written as its decimal text).
    pub fn id(&self, field: &str, needs: &str) -> Result<String, String> {
        match self.get(field) {
            None => Err(Self::missing(field, needs)),
            Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
            Some(Value::Number(n)) if n.is_i64() || n.is_u64() => Ok(n.to_string()),
            Some(v) => Err(Self::wrong(field, "a non-empty string or an integer", v)),
        }
    }

    /// A gold answer: a string, or a number (kept as written).
    pub fn optional_answer(&self, field: &str) -> Result<Option<String>, String> {
        match self.get(field) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(v) => Err(Self::wrong(field, "a string or a number", v)),
        }
    }

    pub fn count(&self, field: &str, needs: &str) -> Result<u64, String> {
        match self.get(field) {
            None => Err(Self::missing(field, needs)),
            Some(v) => v
                .as_u64()
                .ok_or_else(|| Self::wrong(field, "a non-negative integer", v)),
        }
    }

    pub fn optional_u32(&self, field: &str) -> Result<Option<u32>, String> {
        match self.get(field) {
            None => Ok(None),
            Some(v) => v
                .as_u64()
                .and_then(|x| u32::try_from(x).ok())
                .map(Some)
                .ok_or_else(|| Self::wrong(field, "a non-negative integer below 2^32", v)),
        }
    }

    pub fn u32(&self, field: &str, needs: &str) -> Result<u32, String> {
        self.optional_u32(field)?
            .ok_or_else(|| Self::missing(field, needs))
    }

    /// A boolean; 0 and 1 are accepted too, as many tools write them.
    pub fn optional_bool(&self, field: &str) -> Result<Option<bool>, String> {
        match self.get(field) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::Number(n)) if n.as_u64() == Some(0) => Ok(Some(false)),
            Some(Value::Number(n)) if n.as_u64() == Some(1) => Ok(Some(true)),
            Some(v) => Err(Self::wrong(field, "true or false", v)),
        }
    }

    /// A JSON object, or a string holding one (as CSV and Parquet exports write it).
    pub fn optional_object(&self, field: &str) -> Result<Option<Value>, String> {
        match self.get(field) {
            None => Ok(None),
            Some(v @ Value::Object(_)) => Ok(Some(v.clone())),
            Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
                Ok(v @ Value::Object(_)) => Ok(Some(v)),
                _ => Err(format!(
                    "field `{field}` must be a JSON object, found {s:?}"
                )),
            },
            Some(v) => Err(Self::wrong(field, "a JSON object", v)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The line numbers of the objects read, and the errors as text.
    fn read(text: &str) -> (Vec<u64>, Result<(), String>) {
        let mut seen = Vec::new();
        let mut errors = ErrorList::default();
        let outcome = read_objects(text.as_bytes(), "in.jsonl", &mut errors, |n, _, _| {
            seen.push(n)
        });
        let outcome = match outcome {
            Err(e) => Err(e.to_string()),
            Ok(()) => errors.into_result().map_err(|e| e.to_string()),
        };
        (seen, outcome)
    }

    #[test]
    fn reads_objects_and_skips_blank_lines() {
        let (seen, outcome) = read("{\"a\": 1}\n\n  {\"a\": 2}\r\n");
        assert_eq!(outcome, Ok(()));
        assert_eq!(seen, vec![1, 3]);
    }

    #[test]
    fn errors_name_lines() {
        let (_, outcome) = read("{\"a\": 1}\n{\"a\": \n7\n");
        let message = outcome.unwrap_err();
        assert!(
            message.starts_with("in.jsonl:2: not valid JSON"),
            "{message}"
        );
        assert!(message.contains("in.jsonl:3: expected a JSON object, found a number (7)"));
    }

    #[test]
    fn recognises_other_formats() {
        let cases = [
            ("", "in.jsonl is empty"),
            ("\n\n", "in.jsonl is empty"),
            ("PAR1\u{0}\u{0}", "it is a Parquet file"),
            (
                "[\n{\"a\": 1}\n]\n",
                "one JSON array spread over several lines",
            ),
            ("[{\"a\": 1}]\n", "line 1 is a JSON array"),
            ("{\n  \"a\": 1\n}\n", "pretty-printed JSON"),
            (
                "model,benchmark,problem_id\nm,b,1\n",
                "looks like a CSV header",
            ),
        ];
        for (text, expected) in cases {
            let (_, outcome) = read(text);
            let message = outcome.unwrap_err();
            assert!(message.contains(expected), "{text:?}: {message}");
        }
    }
}
