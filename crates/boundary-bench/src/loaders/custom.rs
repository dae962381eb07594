//! A user's own benchmark: a JSON Lines, JSON or Parquet file and a field mapping
//! (`question = "problem"`, `answer = "solution"`, `image = "img"`, `id = "uid"`).

use std::path::{Path, PathBuf};

use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::load_with;
use crate::answer::{last_boxed, number_text};
use crate::error::{BenchError, Result};
use crate::problem::{Image, Problem};
use crate::records::{Fields, kind};

/// Which record fields hold the id, question, gold answer and image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldMapping {
    /// The problem id [default: `id` when the records have it, else the line number].
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default = "default_question")]
    pub question: String,
    /// The gold answer; a worked solution is reduced to its last `\boxed{}` [default: `answer`
    /// when the records have it].
    #[serde(default)]
    pub answer: Option<String>,
    /// An image: a path relative to the data file, a base64 string, or a
    /// `{"bytes": ...}` struct (Parquet image columns).
    #[serde(default)]
    pub image: Option<String>,
}

fn default_question() -> String {
    "question".into()
}

impl Default for FieldMapping {
    fn default() -> Self {
        Self {
            id: None,
            question: default_question(),
            answer: None,
            image: None,
        }
    }
}

/// The mapping key (`question`, `answer`, ...) whose field a record lacks.
fn missing(f: &Fields<'_>, key: &'static str, field: &str) -> BenchError {
    BenchError::MappedField {
        key,
        field: field.to_owned(),
        path: f.path.to_owned(),
        line: f.record.line,
        available: f.names(),
    }
}

/// Loads a user benchmark; every record must have the mapped fields.
pub fn load(path: &Path, mapping: &FieldMapping) -> Result<Vec<Problem>> {
    let base = path.parent().map(Path::to_owned).unwrap_or_default();
    load_with(path, |f| {
        let id = match &mapping.id {
            Some(field) => text_of(f, "id", field)?,
            None if f.get("id").is_some() => text_of(f, "id", "id")?,
            None => f.record.line.to_string(),
        };
        let question = text_of(f, "question", &mapping.question)?;
        let gold = match &mapping.answer {
            Some(field) => Some(text_of(f, "answer", field)?),
            None if f.get("answer").is_some() => Some(text_of(f, "answer", "answer")?),
            None => None,
        }
        .map(|g| last_boxed(&g).map(str::to_owned).unwrap_or(g));
        let mut problem = Problem::new(id, question, gold);
        let mapped: Vec<&str> = [
            mapping.id.as_deref(),
            Some(mapping.question.as_str()),
            mapping.answer.as_deref(),
            mapping.image.as_deref(),
        ]
        .into_iter()
        .flatten()
        .collect();
        for (name, value) in &f.record.fields {
            if !mapped.contains(&name.as_str()) && !value.is_null() {
                problem.fields.insert(name.clone(), value.clone());
            }
        }
        if let Some(field) = &mapping.image {
            let value = f.get(field).ok_or_else(|| missing(f, "image", field))?;
            problem.images.push(image(f, &base, field, value)?);
        }
        Ok(Some(problem))
    })
}

fn text_of(f: &Fields<'_>, key: &'static str, field: &str) -> Result<String> {
    match f.get(field) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(Value::Number(n)) => Ok(number_text(n)),
        Some(other) => Err(f.error(format!(
            "field `{field}` (mapped to `{key}`) must be a string or a number, found {}",
            kind(other)
        ))),
        None => Err(missing(f, key, field)),
    }
}

fn image(f: &Fields<'_>, base: &Path, field: &str, value: &Value) -> Result<Image> {
    let decode = |text: &str| -> Result<Image> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text)
            .map_err(|e| {
                f.error(format!(
                    "field `{field}` is not a path or base64 image: {e}"
                ))
            })?;
        let mime = Image::mime_from_bytes(&bytes);
        Ok(Image::Bytes { bytes, mime })
    };
    match value {
        Value::String(text) => {
            let path: PathBuf = base.join(text);
            if path.is_file() {
                Ok(Image::File { path })
            } else if text.len() > 256 {
                decode(text)
            } else {
                Err(f.error(format!(
                    "image `{text}` (field `{field}`) is not a file next to the data file"
                )))
            }
        }
        Value::Object(map) => match map.get("bytes") {
            Some(Value::String(b)) => decode(b),
            _ => Err(f.error(format!("field `{field}` has no `bytes`"))),
        },
        other => Err(f.error(format!(
            "field `{field}` must be an image path or bytes, found {}",
            kind(other)
        ))),
    }
}
