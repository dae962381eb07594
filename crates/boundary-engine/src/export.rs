//! GGUF to Hugging Face safetensors: every weight dequantized to f32, plus `config.json`,
//! `tokenizer.json`, `tokenizer_config.json` (with the chat template) and
//! `generation_config.json`. The result loads in `transformers` and candle, and back into this
//! engine, which is how the safetensors path is tested against the GGUF path.

use std::path::{Path, PathBuf};

use safetensors::Dtype;
use safetensors::tensor::TensorView;
use serde_json::json;

use crate::architecture::{self, Architecture};
use crate::gguf::{GgufError, GgufFile};
use crate::tokenizer::{Tokenizer, TokenizerError};

/// What can go wrong exporting.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Gguf(#[from] GgufError),
    #[error(transparent)]
    Tokenizer(#[from] TokenizerError),
    #[error(
        "{path}: architecture `{architecture}` is not supported; supported: {}",
        architecture::SUPPORTED
    )]
    UnsupportedArchitecture { path: PathBuf, architecture: String },
    #[error("{path}: tensor `{tensor}` has no Hugging Face equivalent in a {architecture} model")]
    UnknownTensor {
        path: PathBuf,
        tensor: String,
        architecture: Architecture,
    },
    #[error("{path}: tensor `{tensor}` of type {tensor_type} cannot be dequantized")]
    Dequantize {
        path: PathBuf,
        tensor: String,
        tensor_type: String,
    },
    #[error("writing {path}: {message}")]
    Write { path: PathBuf, message: String },
}

/// Writes `gguf_path` as an f32 safetensors model directory `out_dir` (created if missing).
pub fn export_safetensors(gguf_path: &Path, out_dir: &Path) -> Result<(), ExportError> {
    let gguf = GgufFile::open(gguf_path)?;
    let arch_name = gguf.str("general.architecture")?;
    let arch =
        Architecture::from_gguf(arch_name).ok_or_else(|| ExportError::UnsupportedArchitecture {
            path: gguf_path.to_owned(),
            architecture: arch_name.to_owned(),
        })?;
    let write_error = |path: &Path, message: String| ExportError::Write {
        path: path.to_owned(),
        message,
    };
    std::fs::create_dir_all(out_dir).map_err(|e| write_error(out_dir, e.to_string()))?;

    let hparam = |key: &str| -> Result<Option<i64>, GgufError> {
        gguf.optional_int(&format!("{arch_name}.{key}"))
    };
    let required = |key: &str| -> Result<i64, GgufError> {
        hparam(key)?.ok_or_else(|| GgufError::MissingKey {
            path: gguf_path.to_owned(),
            key: format!("{arch_name}.{key}"),
        })
    };
    let hidden = required("embedding_length")?;
    let n_head = required("attention.head_count")?;
    let n_head_kv = hparam("attention.head_count_kv")?.unwrap_or(n_head);
    let head_dim = hparam("attention.key_length")?.unwrap_or(hidden / n_head.max(1));

    // Dequantize every tensor; names and layouts follow transformers' conventions.
    let mut tensors: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
    for info in gguf.tensors() {
        let hf_name =
            architecture::hf_tensor_name(&info.name).ok_or_else(|| ExportError::UnknownTensor {
                path: gguf_path.to_owned(),
                tensor: info.name.clone(),
                architecture: arch,
            })?;
        let mut values = vec![0f32; info.element_count() as usize];
        if !info
            .tensor_type
            .dequantize(gguf.tensor_bytes(info)?, &mut values)
        {
            return Err(ExportError::Dequantize {
                path: gguf_path.to_owned(),
                tensor: info.name.clone(),
                tensor_type: info.tensor_type.to_string(),
            });
        }
        let mut bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        let shape: Vec<usize> = info.dims.iter().rev().map(|&d| d as usize).collect();
        if arch.permutes_query_key_rows()
            && let Some(heads) =
                architecture::rotary_heads(&info.name, n_head as u32, n_head_kv as u32)
        {
            let rows = shape.first().copied().unwrap_or(1).max(1);
            let row_bytes = bytes.len() / rows;
            bytes = architecture::pairs_to_halves(&bytes, heads as usize, row_bytes);
        }
        tensors.push((hf_name, shape, bytes));
    }
    let tied = !tensors.iter().any(|(name, _, _)| name == "lm_head.weight");
    let views = tensors
        .iter()
        .map(|(name, shape, bytes)| {
            TensorView::new(Dtype::F32, shape.clone(), bytes)
                .map(|view| (name.clone(), view))
                .map_err(|e| write_error(out_dir, e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let weights_path = out_dir.join("model.safetensors");
    safetensors::serialize_to_file(views, None, &weights_path)
        .map_err(|e| write_error(&weights_path, e.to_string()))?;

    let tokenizer = Tokenizer::from_gguf(&gguf)?;
    let vocab_size = gguf
        .tensor("token_embd.weight")
        .map(|t| t.dims.get(1).copied().unwrap_or(0))
        .unwrap_or(tokenizer.vocab_size() as u64);
    let config = json!({
        "architectures": [arch.hf_class()],
        "model_type": arch.hf_model_type(),
        "hidden_size": hidden,
        "intermediate_size": required("feed_forward_length")?,
        "num_hidden_layers": required("block_count")?,
        "num_attention_heads": n_head,
        "num_key_value_heads": n_head_kv,
        "head_dim": head_dim,
        "rms_norm_eps": gguf.optional_float(&format!("{arch_name}.attention.layer_norm_rms_epsilon"))?.unwrap_or(1e-6),
        "rope_theta": gguf.optional_float(&format!("{arch_name}.rope.freq_base"))?.unwrap_or(10_000.0),
        "max_position_embeddings": required("context_length")?,
        "vocab_size": vocab_size,
        "tie_word_embeddings": tied,
        "attention_bias": arch.has_qkv_bias(),
        "hidden_act": "silu",
        "torch_dtype": "float32",
        "bos_token_id": tokenizer.special_tokens().bos,
        "eos_token_id": tokenizer.special_tokens().eos,
    });
    write_json(&out_dir.join("config.json"), &config)?;

    tokenizer.save_tokenizer_json(&out_dir.join("tokenizer.json"))?;
    let special = tokenizer.special_tokens();
    let mut tokenizer_config = json!({
        "add_bos_token": special.add_bos,
        "bos_token": tokenizer.bos_text(),
        "eos_token": tokenizer.eos_text(),
        "tokenizer_class": "PreTrainedTokenizerFast",
    });
    if let Some(template) = gguf.optional_str("tokenizer.chat_template")? {
        tokenizer_config["chat_template"] = json!(template);
    }
    write_json(&out_dir.join("tokenizer_config.json"), &tokenizer_config)?;
    write_json(
        &out_dir.join("generation_config.json"),
        &json!({ "bos_token_id": special.bos, "eos_token_id": special.eos }),
    )
}

fn write_json(path: &Path, value: &serde_json::Value) -> Result<(), ExportError> {
    let text = serde_json::to_string_pretty(value).map_err(|e| ExportError::Write {
        path: path.to_owned(),
        message: e.to_string(),
    })?;
    std::fs::write(path, text + "\n").map_err(|e| ExportError::Write {
        path: path.to_owned(),
        message: e.to_string(),
    })
}
