//! Hugging Face safetensors directories, converted to GGUF so that llama.cpp runs them with the
//! same kernels as a GGUF download.
//!
//! Weights keep their dtype (f32, f16 or bf16: all three have the same bytes in both formats),
//! names are mapped through [`crate::architecture`], and Llama's query/key rows are permuted to
//! llama.cpp's rotary convention. The tokenizer stays with the engine (`tokenizer.json`), so
//! the GGUF carries no vocabulary (`tokenizer.ggml.model = "none"`).

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use memmap2::Mmap;
use safetensors::{Dtype, SafeTensors};
use serde::Deserialize;
use tempfile::TempPath;

use crate::architecture::{self, Architecture};
use crate::gguf::{GgufWriter, TensorData, TensorType};

/// What can go wrong converting a safetensors directory.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Config { path: PathBuf, message: String },
    #[error(
        "{path}: model_type `{model_type}` is not supported; supported: {}",
        architecture::SUPPORTED
    )]
    UnsupportedArchitecture { path: PathBuf, model_type: String },
    #[error("{path}: no *.safetensors files")]
    NoWeights { path: PathBuf },
    #[error("{path}: {message}")]
    Safetensors { path: PathBuf, message: String },
    #[error("{path}: tensor `{tensor}` has dtype {dtype}; supported: F32, F16, BF16")]
    UnsupportedDtype {
        path: PathBuf,
        tensor: String,
        dtype: String,
    },
    #[error(
        "{path}: tensor `{tensor}` is not part of a {architecture} model this engine knows \
         (a variant with extra weights?)"
    )]
    UnknownTensor {
        path: PathBuf,
        tensor: String,
        architecture: Architecture,
    },
    #[error("{path}: rope_scaling type `{kind}` is not supported (supported: none, llama3)")]
    UnsupportedRopeScaling { path: PathBuf, kind: String },
    #[error("writing the converted model: {0}")]
    Write(String),
}

/// The fields of `config.json` the conversion uses.
#[derive(Debug, Deserialize)]
struct HfConfig {
    model_type: String,
    hidden_size: u32,
    intermediate_size: u32,
    num_hidden_layers: u32,
    num_attention_heads: u32,
    num_key_value_heads: Option<u32>,
    head_dim: Option<u32>,
    rms_norm_eps: f32,
    rope_theta: Option<f32>,
    max_position_embeddings: u32,
    vocab_size: u32,
    rope_scaling: Option<RopeScaling>,
}

#[derive(Debug, Deserialize)]
struct RopeScaling {
    #[serde(alias = "type")]
    rope_type: String,
    factor: Option<f32>,
    low_freq_factor: Option<f32>,
    high_freq_factor: Option<f32>,
    original_max_position_embeddings: Option<u32>,
}

/// Converts the directory to a GGUF file in `out_dir`, deleted when the returned path drops.
pub fn convert_to_temp_gguf(dir: &Path, out_dir: &Path) -> Result<TempPath, ImportError> {
    std::fs::create_dir_all(out_dir).map_err(|source| ImportError::Io {
        path: out_dir.to_owned(),
        source,
    })?;
    let temp = tempfile::Builder::new()
        .prefix("boundary-converted-")
        .suffix(".gguf")
        .tempfile_in(out_dir)
        .map_err(|source| ImportError::Io {
            path: out_dir.to_owned(),
            source,
        })?
        .into_temp_path();
    convert(dir, &temp)?;
    Ok(temp)
}

/// Converts a Hugging Face model directory to a GGUF file at `out`.
pub fn convert(dir: &Path, out: &Path) -> Result<(), ImportError> {
    let config_path = dir.join("config.json");
    let config_text = std::fs::read_to_string(&config_path).map_err(|source| ImportError::Io {
        path: config_path.clone(),
        source,
    })?;
    let config: HfConfig = serde_json::from_str(&config_text).map_err(|e| ImportError::Config {
        path: config_path.clone(),
        message: e.to_string(),
    })?;
    let arch = Architecture::from_hf_model_type(&config.model_type).ok_or_else(|| {
        ImportError::UnsupportedArchitecture {
            path: config_path.clone(),
            model_type: config.model_type.clone(),
        }
    })?;

    let shards = safetensors_files(dir)?;
    let maps = shards
        .iter()
        .map(|path| {
            let file = File::open(path).map_err(|source| ImportError::Io {
                path: path.clone(),
                source,
            })?;
            // SAFETY: read-only map of a weights file nobody writes while we convert it.
            unsafe { Mmap::map(&file) }.map_err(|source| ImportError::Io {
                path: path.clone(),
                source,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut parsed = Vec::new();
    for (path, map) in shards.iter().zip(&maps) {
        let tensors = SafeTensors::deserialize(map).map_err(|e| ImportError::Safetensors {
            path: path.clone(),
            message: e.to_string(),
        })?;
        parsed.push((path, tensors));
    }

    let n_head = config.num_attention_heads;
    let n_head_kv = config.num_key_value_heads.unwrap_or(n_head);
    let head_dim = config
        .head_dim
        .unwrap_or(config.hidden_size / n_head.max(1));
    let mut writer = GgufWriter::new();
    let name = arch.gguf_name();
    let key = |suffix: &str| format!("{name}.{suffix}");
    writer.set("general.architecture", name);
    writer.set(
        "general.name",
        dir.file_name()
            .map_or_else(|| "model".to_owned(), |n| n.to_string_lossy().into_owned()),
    );
    writer.set(&key("context_length"), config.max_position_embeddings);
    writer.set(&key("embedding_length"), config.hidden_size);
    writer.set(&key("block_count"), config.num_hidden_layers);
    writer.set(&key("feed_forward_length"), config.intermediate_size);
    writer.set(&key("attention.head_count"), n_head);
    writer.set(&key("attention.head_count_kv"), n_head_kv);
    writer.set(&key("attention.key_length"), head_dim);
    writer.set(&key("attention.value_length"), head_dim);
    writer.set(&key("rope.dimension_count"), head_dim);
    writer.set(
        &key("attention.layer_norm_rms_epsilon"),
        config.rms_norm_eps,
    );
    writer.set(
        &key("rope.freq_base"),
        config.rope_theta.unwrap_or(10_000.0),
    );
    writer.set(&key("vocab_size"), config.vocab_size);
    // The engine tokenizes with tokenizer.json; llama.cpp only needs the vocabulary size.
    writer.set("tokenizer.ggml.model", "none");

    let rope_factors = match &config.rope_scaling {
        None => None,
        Some(scaling) if scaling.rope_type == "llama3" => Some(llama3_rope_factors(
            scaling,
            head_dim,
            config.rope_theta.unwrap_or(10_000.0),
        )),
        Some(scaling) if scaling.rope_type == "default" => None,
        Some(scaling) => {
            return Err(ImportError::UnsupportedRopeScaling {
                path: config_path,
                kind: scaling.rope_type.clone(),
            });
        }
    };
    if let Some(factors) = rope_factors {
        let bytes: Vec<u8> = factors.iter().flat_map(|f| f.to_le_bytes()).collect();
        let dims = [factors.len() as u64];
        writer
            .add_tensor(
                "rope_freqs.weight",
                &dims,
                TensorType::F32,
                TensorData::Owned(bytes),
            )
            .map_err(ImportError::Write)?;
    }

    // Sorted by GGUF name so the output does not depend on shard order.
    let mut tensors = BTreeMap::new();
    for (path, file) in &parsed {
        for (hf_name, view) in file.iter() {
            if hf_name.ends_with("rotary_emb.inv_freq") {
                continue;
            }
            let gguf_name = architecture::gguf_tensor_name(hf_name).ok_or_else(|| {
                ImportError::UnknownTensor {
                    path: (*path).clone(),
                    tensor: hf_name.to_owned(),
                    architecture: arch,
                }
            })?;
            tensors.insert(gguf_name, (*path, hf_name.to_owned(), view));
        }
    }
    for (gguf_name, (path, hf_name, view)) in tensors {
        let tensor_type = match view.dtype() {
            Dtype::F32 => TensorType::F32,
            Dtype::F16 => TensorType::F16,
            Dtype::BF16 => TensorType::BF16,
            other => {
                return Err(ImportError::UnsupportedDtype {
                    path: path.clone(),
                    tensor: hf_name,
                    dtype: format!("{other:?}"),
                });
            }
        };
        let dims: Vec<u64> = view.shape().iter().rev().map(|&d| d as u64).collect();
        let data = match architecture::rotary_heads(&gguf_name, n_head, n_head_kv) {
            Some(heads) if arch.permutes_query_key_rows() => {
                let rows = view.shape().first().copied().unwrap_or(1).max(1);
                let row_bytes = view.data().len() / rows;
                TensorData::Owned(architecture::halves_to_pairs(
                    view.data(),
                    heads as usize,
                    row_bytes,
                ))
            }
            _ => TensorData::Borrowed(view.data()),
        };
        writer
            .add_tensor(&gguf_name, &dims, tensor_type, data)
            .map_err(ImportError::Write)?;
    }
    writer
        .write(out)
        .map_err(|e| ImportError::Write(e.to_string()))
}

/// The `*.safetensors` files of a directory, sorted.
fn safetensors_files(dir: &Path) -> Result<Vec<PathBuf>, ImportError> {
    let entries = std::fs::read_dir(dir).map_err(|source| ImportError::Io {
        path: dir.to_owned(),
        source,
    })?;
    let mut files = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(|source| ImportError::Io {
                path: dir.to_owned(),
                source,
            })?
            .path();
        if path.extension().is_some_and(|e| e == "safetensors") {
            files.push(path);
        }
    }
    files.sort();
    if files.is_empty() {
        return Err(ImportError::NoWeights {
            path: dir.to_owned(),
        });
    }
    Ok(files)
}

/// Per-frequency divisors of Llama 3's rope scaling: long wavelengths are divided by
/// `factor`, short ones kept, and the band between interpolated smoothly (Meta's published
/// rule, which llama.cpp reads as the `rope_freqs` tensor).
fn llama3_rope_factors(scaling: &RopeScaling, head_dim: u32, base: f32) -> Vec<f32> {
    let factor = scaling.factor.unwrap_or(8.0);
    let low = scaling.low_freq_factor.unwrap_or(1.0);
    let high = scaling.high_freq_factor.unwrap_or(4.0);
    let original = scaling.original_max_position_embeddings.unwrap_or(8192) as f32;
    let (low_wavelength, high_wavelength) = (original / low, original / high);
    (0..head_dim / 2)
        .map(|i| {
            let frequency = 1.0 / base.powf(2.0 * i as f32 / head_dim as f32);
            let wavelength = 2.0 * std::f32::consts::PI / frequency;
            if wavelength < high_wavelength {
                1.0
            } else if wavelength > low_wavelength {
                factor
            } else {
                let smooth = (original / wavelength - low) / (high - low);
                1.0 / ((1.0 - smooth) / factor + smooth)
            }
        })
        .collect()
}
