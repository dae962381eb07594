//! A loaded model: llama.cpp's weights, the engine's own tokenizer and chat template, and what
//! the scheduler needs to size its KV cache.

use std::num::NonZeroU32;
use std::path::{Path, PathBuf};

use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::model::params::LlamaModelParams;
use serde_json::Value as Json;

use crate::EngineError;
use crate::architecture::Architecture;
use crate::backend::{backend, clear_recent_problems, take_recent_problems};
use crate::chat_template::{ChatTemplate, RenderOptions};
use crate::gguf::GgufFile;
use crate::tokenizer::{Tokenizer, hf_chat_template};
use crate::{f32_weights, hf_import};

/// How to load and run a model.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModelOptions {
    /// Threads for llama.cpp's kernels; 0 means one per available core.
    pub threads: usize,
    /// Flash attention changes log-probabilities by up to ~0.2 nats on CPU, so it stays off
    /// unless asked for: scores and samples must not depend on a kernel choice.
    pub flash_attention: bool,
    /// Which weights llama.cpp computes with.
    pub weights: Weights,
    /// Directory for the GGUF files written while loading (safetensors models converted,
    /// weights expanded to f32); each is deleted once llama.cpp has it mapped. `None` means
    /// the system temp directory.
    pub conversion_dir: Option<PathBuf>,
}

/// Which weights llama.cpp computes with.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Weights {
    /// As stored in the file: the least memory, and the fastest for sampling, whose decode
    /// steps are bound by memory bandwidth.
    #[default]
    Stored,
    /// Every quantized or 16-bit weight expanded to f32 (the same values) before loading:
    /// faster for long batches such as scoring on x86, at 4 bytes per weight in a temporary
    /// file and in memory. Scores move slightly: activations are no longer rounded to 8 bits.
    F32,
    /// [`Weights::F32`] where it was measured faster, else [`Weights::Stored`]: on x86-64,
    /// when most weights are of a type llama.cpp multiplies more slowly with long batches than
    /// f32 (Q4_1, Q5_1, Q5_K; not Q4_0, Q8_0 or the other K-quants, whose kernels are faster
    /// than f32's) and the expanded weights take at most `max_f32_bytes`.
    Auto { max_f32_bytes: u64 },
}

impl ModelOptions {
    fn conversion_dir(&self) -> PathBuf {
        self.conversion_dir
            .clone()
            .unwrap_or_else(std::env::temp_dir)
    }
}

/// Where a model came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelFormat {
    Gguf,
    /// A Hugging Face directory of safetensors weights, converted to GGUF when loaded.
    Safetensors,
}

/// Facts about a loaded model.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelInfo {
    pub path: PathBuf,
    pub format: ModelFormat,
    pub architecture: Architecture,
    /// `general.name`, or the directory name.
    pub name: String,
    /// Longest sequence (prompt + generated tokens) the model was trained for.
    pub context_length: usize,
    pub vocab_size: usize,
    /// KV-cache bytes per token of context (f16 keys and values, all layers).
    pub kv_bytes_per_token: u64,
    /// Whether llama.cpp computes with the weights expanded to f32 (see [`Weights`]).
    pub f32_weights: bool,
}

/// What is known about a model file before llama.cpp loads it.
struct Source<'a> {
    path: &'a Path,
    format: ModelFormat,
    gguf: &'a GgufFile,
    architecture: Architecture,
    name: String,
}

fn architecture_of(gguf: &GgufFile, path: &Path) -> Result<Architecture, EngineError> {
    let name = gguf.str("general.architecture")?;
    Architecture::from_gguf(name).ok_or_else(|| EngineError::UnsupportedArchitecture {
        path: path.to_owned(),
        architecture: name.to_owned(),
    })
}

/// A model ready to sample from and score with.
pub struct Model {
    llama: LlamaModel,
    tokenizer: Tokenizer,
    chat_template: Option<ChatTemplate>,
    info: ModelInfo,
    threads: i32,
    flash_attention: bool,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

impl Model {
    /// Loads a GGUF file or a Hugging Face safetensors directory.
    pub fn load(path: &Path, options: &ModelOptions) -> Result<Self, EngineError> {
        if path.is_dir() {
            if !path.join("config.json").is_file() {
                return Err(EngineError::NotAModel {
                    path: path.to_owned(),
                });
            }
            let converted = hf_import::convert_to_temp_gguf(path, &options.conversion_dir())?;
            let tokenizer = Tokenizer::from_hf_dir(path)?;
            let template = hf_chat_template(path)?;
            let gguf = GgufFile::open(&converted)?;
            let architecture = architecture_of(&gguf, path)?;
            let name = path.file_name().map_or_else(
                || path.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            );
            // llama.cpp maps the file; deleting the path when `converted` drops keeps the mapping.
            let source = Source {
                path,
                format: ModelFormat::Safetensors,
                gguf: &gguf,
                architecture,
                name,
            };
            Self::finish_load(source, &converted, tokenizer, template, options)
        } else {
            let gguf = GgufFile::open(path)?;
            let architecture = architecture_of(&gguf, path)?;
            let tokenizer = Tokenizer::from_gguf(&gguf)?;
            let template = gguf
                .optional_str("tokenizer.chat_template")?
                .map(str::to_owned);
            let name = gguf
                .optional_str("general.name")?
                .map_or_else(|| path.display().to_string(), str::to_owned);
            let source = Source {
                path,
                format: ModelFormat::Gguf,
                gguf: &gguf,
                architecture,
                name,
            };
            Self::finish_load(source, path, tokenizer, template, options)
        }
    }

    fn finish_load(
        source: Source<'_>,
        gguf_path: &Path,
        tokenizer: Tokenizer,
        template: Option<String>,
        options: &ModelOptions,
    ) -> Result<Self, EngineError> {
        let Source {
            path: source,
            format,
            gguf,
            architecture,
            name,
        } = source;
        let arch_name = architecture.gguf_name();
        let hparam = |key: &str| -> Result<Option<i64>, EngineError> {
            Ok(gguf.optional_int(&format!("{arch_name}.{key}"))?)
        };
        let required = |key: &str| -> Result<u64, EngineError> {
            hparam(key)?
                .and_then(|v| u64::try_from(v).ok())
                .ok_or_else(|| {
                    crate::gguf::GgufError::MissingKey {
                        path: source.to_owned(),
                        key: format!("{arch_name}.{key}"),
                    }
                    .into()
                })
        };
        let n_layer = required("block_count")?;
        let n_embd = required("embedding_length")?;
        let n_head = required("attention.head_count")?.max(1);
        let n_head_kv = hparam("attention.head_count_kv")?.map_or(n_head, |v| v.max(1) as u64);
        let head_dim_k = hparam("attention.key_length")?.map_or(n_embd / n_head, |v| v as u64);
        let head_dim_v = hparam("attention.value_length")?.map_or(n_embd / n_head, |v| v as u64);
        let context_length = required("context_length")? as usize;
        // f16 keys and values: 2 bytes each.
        let kv_bytes_per_token = n_layer * n_head_kv * (head_dim_k + head_dim_v) * 2;

        let chat_template = template
            .map(|source| {
                ChatTemplate::new(
                    &source,
                    tokenizer.bos_text().unwrap_or_default(),
                    tokenizer.eos_text().unwrap_or_default(),
                )
            })
            .transpose()?;

        let expand = f32_weights::has_expandable(gguf)
            && match options.weights {
                Weights::Stored => false,
                Weights::F32 => true,
                Weights::Auto { max_f32_bytes } => {
                    f32_weights::faster_in_f32(gguf)
                        && f32_weights::expanded_bytes(gguf) <= max_f32_bytes
                }
            };
        // Deleted when this function returns, once llama.cpp has the file mapped.
        let expanded = expand
            .then(|| {
                f32_weights::write_temp(gguf, &options.conversion_dir())
                    .map_err(|source| EngineError::ExpandWeights { source })
            })
            .transpose()?;
        let backend = backend()?;
        clear_recent_problems();
        let params = LlamaModelParams::default().with_use_mmap(true);
        let load_path = expanded.as_deref().unwrap_or(gguf_path);
        let llama = LlamaModel::load_from_file(backend, load_path, &params).map_err(|e| {
            EngineError::backend("load the model", format!("{e}: {}", take_recent_problems()))
        })?;
        let vocab_size = usize::try_from(llama.n_vocab()).unwrap_or(0);
        if vocab_size < tokenizer.vocab_size() {
            return Err(EngineError::backend(
                "load the model",
                format!(
                    "its output layer has {vocab_size} entries but the tokenizer has {} tokens",
                    tokenizer.vocab_size()
                ),
            ));
        }
        let threads = match options.threads {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        };
        Ok(Self {
            llama,
            tokenizer,
            chat_template,
            info: ModelInfo {
                path: source.to_owned(),
                format,
                architecture,
                name,
                context_length,
                vocab_size,
                kv_bytes_per_token,
                f32_weights: expand,
            },
            threads: i32::try_from(threads).unwrap_or(i32::MAX),
            flash_attention: options.flash_attention,
        })
    }

    pub fn info(&self) -> &ModelInfo {
        &self.info
    }

    pub fn tokenizer(&self) -> &Tokenizer {
        &self.tokenizer
    }

    pub fn chat_template(&self) -> Option<&ChatTemplate> {
        self.chat_template.as_ref()
    }

    /// Renders chat messages with the model's template (ending with the assistant header).
    pub fn render_chat(
        &self,
        messages: &[Json],
        options: &RenderOptions,
    ) -> Result<String, EngineError> {
        let template = self
            .chat_template
            .as_ref()
            .ok_or_else(|| EngineError::NoChatTemplate {
                path: self.info.path.clone(),
            })?;
        Ok(template.render(messages, options)?)
    }

    /// A llama.cpp context with `sequences` separate KV streams of `tokens_per_sequence` cells
    /// each, and room for `batch_tokens` tokens per decode call.
    pub(crate) fn new_context(
        &self,
        sequences: usize,
        tokens_per_sequence: usize,
        batch_tokens: usize,
    ) -> Result<LlamaContext<'_>, EngineError> {
        let total = sequences * tokens_per_sequence;
        let as_u32 = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        let params = LlamaContextParams::default()
            .with_n_ctx(NonZeroU32::new(as_u32(total)))
            .with_n_batch(as_u32(batch_tokens))
            .with_n_ubatch(as_u32(batch_tokens.min(512)))
            .with_n_seq_max(as_u32(sequences))
            // One KV stream per sequence: each token attends only to its own sequence's cells.
            // A unified cache makes every token scan every sequence's cells (measured 4x slower
            // at 64 sequences).
            .with_kv_unified(false)
            .with_n_threads(self.threads)
            .with_n_threads_batch(self.threads)
            .with_flash_attention_policy(if self.flash_attention {
                llama_cpp_sys_2::LLAMA_FLASH_ATTN_TYPE_ENABLED
            } else {
                llama_cpp_sys_2::LLAMA_FLASH_ATTN_TYPE_DISABLED
            });
        // llama.cpp may write to the model while creating a context, so creations never overlap.
        static CREATING: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let _creating = CREATING.lock().unwrap_or_else(|e| e.into_inner());
        clear_recent_problems();
        self.llama.new_context(backend()?, params).map_err(|e| {
            EngineError::backend(
                "create a context",
                format!("{e}: {}", take_recent_problems()),
            )
        })
    }
}
