//! The crate's error type.

use std::path::PathBuf;

use crate::chat_template::TemplateError;
use crate::export::ExportError;
use crate::gguf::GgufError;
use crate::hf_import::ImportError;
use crate::sampling::SamplingError;
use crate::tokenizer::TokenizerError;

/// Everything that can go wrong loading a model, sampling or scoring.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Gguf(#[from] GgufError),
    #[error(transparent)]
    Tokenizer(#[from] TokenizerError),
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error(transparent)]
    Import(#[from] ImportError),
    #[error(transparent)]
    Export(#[from] ExportError),
    #[error(transparent)]
    Sampling(#[from] SamplingError),
    #[error(
        "{path} is neither a GGUF file nor a Hugging Face model directory (one with config.json, \
         *.safetensors and tokenizer.json)"
    )]
    NotAModel { path: PathBuf },
    #[error(
        "{path}: architecture `{architecture}` is not supported; supported: {}",
        crate::architecture::SUPPORTED
    )]
    UnsupportedArchitecture { path: PathBuf, architecture: String },
    #[error(
        "cannot write a temporary f32 copy of the weights: {source}. Free space in that \
         directory, set TMPDIR to one with room, or score with the weights as stored"
    )]
    ExpandWeights { source: GgufError },
    #[error(
        "{path} has no chat template, so chat messages cannot be turned into a prompt; give plain `prompt` text instead"
    )]
    NoChatTemplate { path: PathBuf },
    #[error("llama.cpp could not {action}: {message}")]
    Backend {
        action: &'static str,
        message: String,
    },
    #[error(
        "request {request}: the prompt has {prompt_tokens} tokens and up to {max_tokens} new tokens \
         are allowed, {needed} in all, but the model's context holds {context} tokens; lower \
         --max-tokens or shorten the prompt"
    )]
    ContextOverflow {
        request: usize,
        prompt_tokens: usize,
        max_tokens: usize,
        needed: usize,
        context: usize,
    },
    #[error(
        "request {request}: the prompt is empty; scoring needs at least one prompt token (or a model that adds BOS)"
    )]
    EmptyPrompt { request: usize },
    #[error("request {request}: token id {token} is outside the vocabulary of {vocab_size} tokens")]
    TokenOutOfRange {
        request: usize,
        token: u32,
        vocab_size: usize,
    },
    #[error(
        "one sequence of {tokens} tokens needs {needed_mib} MiB of KV cache, more than the budget \
         of {budget_mib} MiB; raise the KV-cache budget or lower --max-tokens"
    )]
    KvBudget {
        tokens: usize,
        needed_mib: u64,
        budget_mib: u64,
    },
}

impl EngineError {
    pub(crate) fn backend(action: &'static str, message: impl ToString) -> Self {
        Self::Backend {
            action,
            message: message.to_string(),
        }
    }
}
