//! A benchmark problem, independent of the file it came from.

use std::path::PathBuf;

use serde::Serialize;
use serde_json::{Map, Value};

/// What a benchmark's answers are checked by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Domain {
    /// A final answer compared with a gold answer by the math verifier.
    Math,
    /// A program run against the benchmark's tests by the code verifier.
    Code,
    /// An image and a question, with a final answer checked by the math verifier.
    Visual,
}

impl Domain {
    pub fn as_str(self) -> &'static str {
        match self {
            Domain::Math => "math",
            Domain::Code => "code",
            Domain::Visual => "visual",
        }
    }
}

impl std::fmt::Display for Domain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An image that goes with a question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Image {
    /// A file on disk (MathVision's `images/N.jpg`, MathVista's unpacked images).
    File { path: PathBuf },
    /// Bytes carried by the data file itself (a Parquet column from the Hub).
    #[serde(skip_serializing)]
    Bytes { bytes: Vec<u8>, mime: &'static str },
}

impl Image {
    /// The MIME type guessed from the file name or the magic bytes.
    pub fn mime_from_bytes(bytes: &[u8]) -> &'static str {
        match bytes {
            [0x89, b'P', b'N', b'G', ..] => "image/png",
            [0xFF, 0xD8, ..] => "image/jpeg",
            [b'G', b'I', b'F', ..] => "image/gif",
            [
                b'R',
                b'I',
                b'F',
                b'F',
                _,
                _,
                _,
                _,
                b'W',
                b'E',
                b'B',
                b'P',
                ..,
            ] => "image/webp",
            _ => "application/octet-stream",
        }
    }
}

/// One problem of a benchmark.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Problem {
    /// Stable identifier within the benchmark (the dataset's own id where it has one).
    pub id: String,
    /// The question as the benchmark states it, before any template.
    pub question: String,
    /// The gold answer the paper grades against (for code: none; the tests decide).
    pub gold: Option<String>,
    /// Images shown with the question (visual benchmarks).
    pub images: Vec<Image>,
    /// Every other field of the record (subject, level, starter code, choices, ...):
    /// stored with the problem and available to prompt templates.
    pub fields: Map<String, Value>,
}

impl Problem {
    pub fn new(id: impl Into<String>, question: impl Into<String>, gold: Option<String>) -> Self {
        Self {
            id: id.into(),
            question: question.into(),
            gold,
            images: Vec::new(),
            fields: Map::new(),
        }
    }

    pub fn with_field(mut self, name: &str, value: Value) -> Self {
        self.fields.insert(name.to_owned(), value);
        self
    }
}
