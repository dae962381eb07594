//! The GGUF container: metadata and tensor descriptors read straight from the file, and a
//! writer for the files the engine makes itself (safetensors conversion, test models).
//!
//! The engine reads GGUF metadata on its own, before llama.cpp sees the file, because the
//! tokenizer, the chat template, the stop tokens and the architecture check all come from it,
//! and a malformed or unsupported file must give an error naming the file and the field rather
//! than whatever llama.cpp prints.

mod reader;
mod tensor_type;
mod value;
mod writer;

pub use reader::{GgufFile, TensorInfo};
pub use tensor_type::TensorType;
pub use value::MetadataValue;
pub use writer::{GgufWriter, TensorData};

use std::path::PathBuf;

/// GGUF files start with these four bytes.
const MAGIC: &[u8; 4] = b"GGUF";
/// Tensor data starts at a multiple of this unless `general.alignment` says otherwise.
const DEFAULT_ALIGNMENT: u64 = 32;

/// What can go wrong reading or writing a GGUF file.
#[derive(Debug, thiserror::Error)]
pub enum GgufError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a GGUF file (it does not start with the bytes \"GGUF\")")]
    NotGguf { path: PathBuf },
    #[error("{path} is GGUF version {version}; only versions 2 and 3 are supported")]
    UnsupportedVersion { path: PathBuf, version: u32 },
    #[error(
        "{path} is truncated or corrupt: {what} at byte {offset} runs past the end of the file"
    )]
    Truncated {
        path: PathBuf,
        what: String,
        offset: u64,
    },
    #[error("{path} is corrupt: {what} at byte {offset}")]
    Corrupt {
        path: PathBuf,
        what: String,
        offset: u64,
    },
    #[error(
        "{path}: tensor `{tensor}` has type id {type_id}, which this build of llama.cpp does not know \
         (the file may need a newer Boundary)"
    )]
    UnknownTensorType {
        path: PathBuf,
        tensor: String,
        type_id: u32,
    },
    #[error("{path}: metadata key `{key}` is missing")]
    MissingKey { path: PathBuf, key: String },
    #[error("{path}: metadata key `{key}` is {found}, expected {expected}")]
    WrongType {
        path: PathBuf,
        key: String,
        expected: &'static str,
        found: &'static str,
    },
    #[error("{path}: tensor `{tensor}` is missing")]
    MissingTensor { path: PathBuf, tensor: String },
    #[error("writing {path}: {what}")]
    Write { path: PathBuf, what: String },
}
