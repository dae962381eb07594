//! Reading the records of a data file, whatever its released format: JSON Lines
//! (optionally gzipped, as evalplus releases ship), a JSON array, or Parquet (the Hugging
//! Face Hub's format). Every record is a JSON object with its 1-based line or row
//! number, so that loaders can point at the record a problem came from.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use parquet::file::reader::{FileReader, SerializedFileReader};
use serde_json::{Map, Value};

use crate::error::{BenchError, Result};

/// One record of a data file.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// 1-based line (JSON Lines), element (JSON array) or row (Parquet) number.
    pub line: usize,
    pub fields: Map<String, Value>,
}

/// The formats records are read from, chosen by file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    JsonLines,
    GzipJsonLines,
    JsonArray,
    Parquet,
}

impl Format {
    pub fn of(path: &Path) -> Option<Format> {
        let name = path.file_name()?.to_str()?.to_ascii_lowercase();
        if name.ends_with(".jsonl") || name.ends_with(".ndjson") {
            Some(Format::JsonLines)
        } else if name.ends_with(".jsonl.gz") {
            Some(Format::GzipJsonLines)
        } else if name.ends_with(".json") {
            Some(Format::JsonArray)
        } else if name.ends_with(".parquet") {
            Some(Format::Parquet)
        } else {
            None
        }
    }
}

/// Reads every record of `path`. Parquet binary columns (image bytes) come back as
/// base64 strings.
pub fn read_records(path: &Path) -> Result<Vec<Record>> {
    let format = Format::of(path).ok_or_else(|| BenchError::File {
        path: path.to_owned(),
        message: "unknown file type; give a .jsonl, .jsonl.gz, .json or .parquet file".into(),
    })?;
    let open = || {
        File::open(path).map_err(|source| BenchError::Read {
            path: path.to_owned(),
            source,
        })
    };
    match format {
        Format::JsonLines => json_lines(BufReader::new(open()?), path),
        Format::GzipJsonLines => {
            json_lines(BufReader::new(flate2::read::GzDecoder::new(open()?)), path)
        }
        Format::JsonArray => json_array(open()?, path),
        Format::Parquet => parquet_rows(open()?, path),
    }
}

fn json_lines(reader: impl BufRead, path: &Path) -> Result<Vec<Record>> {
    let mut records = Vec::new();
    for (i, line) in reader.lines().enumerate() {
        let line_no = i + 1;
        let text = line.map_err(|source| BenchError::Read {
            path: path.to_owned(),
            source,
        })?;
        if text.trim().is_empty() {
            continue;
        }
        let value: Value = serde_json::from_str(&text)
            .or_else(|e| {
                // evalplus writes its test inputs with Python's `json`, which emits the
                // non-standard NaN and ±Infinity; read those as null rather than fail.
                serde_json::from_str(&python_specials_to_null(&text)).map_err(|_| e)
            })
            .map_err(|e| BenchError::Record {
                path: path.to_owned(),
                line: line_no,
                message: format!("not valid JSON: {e}"),
            })?;
        let Value::Object(fields) = value else {
            return Err(BenchError::Record {
                path: path.to_owned(),
                line: line_no,
                message: "each line must be a JSON object".into(),
            });
        };
        records.push(Record {
            line: line_no,
            fields,
        });
    }
    Ok(records)
}

/// Replaces the bare tokens `NaN`, `Infinity` and `-Infinity` outside strings by `null`.
fn python_specials_to_null(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_string = false;
    let mut escaped = false;
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if in_string {
            out.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            rest = &rest[c.len_utf8()..];
            continue;
        }
        if let Some(token) = ["-Infinity", "Infinity", "NaN"]
            .into_iter()
            .find(|t| rest.starts_with(t))
        {
            out.push_str("null");
            rest = &rest[token.len()..];
            continue;
        }
        if c == '"' {
            in_string = true;
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// A JSON array of objects, or an object of objects keyed by id (MathVista's
/// `testmini.json`), in file order.
fn json_array(mut file: File, path: &Path) -> Result<Vec<Record>> {
    let mut text = String::new();
    file.read_to_string(&mut text)
        .map_err(|source| BenchError::Read {
            path: path.to_owned(),
            source,
        })?;
    let value: Value = serde_json::from_str(&text).map_err(|e| BenchError::File {
        path: path.to_owned(),
        message: format!("not valid JSON: {e}"),
    })?;
    let items: Vec<Value> = match value {
        Value::Array(items) => items,
        Value::Object(map) => map.into_iter().map(|(_, v)| v).collect(),
        _ => {
            return Err(BenchError::File {
                path: path.to_owned(),
                message: "expected a JSON array of objects, or an object of objects".into(),
            });
        }
    };
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| match item {
            Value::Object(fields) => Ok(Record {
                line: i + 1,
                fields,
            }),
            _ => Err(BenchError::Record {
                path: path.to_owned(),
                line: i + 1,
                message: "element is not a JSON object".into(),
            }),
        })
        .collect()
}

fn parquet_rows(file: File, path: &Path) -> Result<Vec<Record>> {
    let err = |source| BenchError::Parquet {
        path: path.to_owned(),
        source,
    };
    let reader = SerializedFileReader::new(file).map_err(err)?;
    let rows = reader.get_row_iter(None).map_err(err)?;
    rows.enumerate()
        .map(|(i, row)| {
            let row = row.map_err(err)?;
            match row.to_json_value() {
                Value::Object(fields) => Ok(Record {
                    line: i + 1,
                    fields,
                }),
                _ => unreachable!("a Parquet row converts to a JSON object"),
            }
        })
        .collect()
}

/// Typed access to a record's fields, with errors that name the file, record and field.
pub struct Fields<'a> {
    pub record: &'a Record,
    pub path: &'a Path,
}

impl<'a> Fields<'a> {
    pub fn new(record: &'a Record, path: &'a Path) -> Self {
        Self { record, path }
    }

    pub fn error(&self, message: impl Into<String>) -> BenchError {
        BenchError::Record {
            path: self.path.to_owned(),
            line: self.record.line,
            message: message.into(),
        }
    }

    pub fn get(&self, field: &str) -> Option<&'a Value> {
        self.record.fields.get(field).filter(|v| !v.is_null())
    }

    /// A required string (numbers are accepted and written out: ids are often numbers).
    pub fn text(&self, field: &str) -> Result<String> {
        match self.get(field) {
            Some(Value::String(s)) => Ok(s.clone()),
            Some(Value::Number(n)) => Ok(n.to_string()),
            Some(other) => Err(self.error(format!(
                "field `{field}` must be a string, found {}",
                kind(other)
            ))),
            None => Err(self.error(format!(
                "field `{field}` is missing (the record has: {})",
                self.names()
            ))),
        }
    }

    pub fn optional_text(&self, field: &str) -> Result<Option<String>> {
        match self.get(field) {
            None => Ok(None),
            Some(_) => self.text(field).map(Some),
        }
    }

    /// The record's field names, for error messages.
    pub fn names(&self) -> String {
        let names: Vec<&str> = self.record.fields.keys().map(String::as_str).collect();
        names.join(", ")
    }
}

/// "a number", "an array", ... for error messages.
pub fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn reads_plain_and_gzipped_json_lines() {
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("a.jsonl");
        std::fs::write(&plain, "{\"id\": 1}\n\n{\"id\": 2}\n").unwrap();
        let records = read_records(&plain).unwrap();
        assert_eq!(records.len(), 2);
        assert_eq!(records[1].line, 3, "blank lines keep line numbers true");

        let gz = dir.path().join("a.jsonl.gz");
        let mut enc =
            flate2::write::GzEncoder::new(File::create(&gz).unwrap(), flate2::Compression::fast());
        enc.write_all(b"{\"id\": \"x\"}\n").unwrap();
        enc.finish().unwrap();
        assert_eq!(read_records(&gz).unwrap()[0].fields["id"], "x");
    }

    #[test]
    fn python_specials_outside_strings_become_null() {
        assert_eq!(
            python_specials_to_null(r#"{"a": [-Infinity, NaN], "b": "NaN \" Infinity"}"#),
            r#"{"a": [null, null], "b": "NaN \" Infinity"}"#
        );
    }

    #[test]
    fn bad_records_name_their_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.jsonl");
        std::fs::write(&path, "{\"id\": 1}\n[1, 2]\n").unwrap();
        let err = read_records(&path).unwrap_err().to_string();
        assert!(
            err.ends_with("bad.jsonl:2: each line must be a JSON object"),
            "{err}"
        );
        let other = dir.path().join("data.csv");
        std::fs::write(&other, "a,b").unwrap();
        assert!(
            read_records(&other)
                .unwrap_err()
                .to_string()
                .contains("unknown file type")
        );
    }

    #[test]
    fn json_objects_keyed_by_id_are_records() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("testmini.json");
        std::fs::write(&path, r#"{"2": {"pid": "2"}, "1": {"pid": "1"}}"#).unwrap();
        let mut pids: Vec<String> = read_records(&path)
            .unwrap()
            .into_iter()
            .map(|r| r.fields["pid"].as_str().unwrap().to_owned())
            .collect();
        pids.sort();
        assert_eq!(pids, ["1", "2"]);
    }
}
