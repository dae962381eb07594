//! Boundary's embedded backend: sample from and score with a model file on the local CPU, no
//! server needed.
//!
//! It owns loading models (GGUF files and Hugging Face safetensors directories, for the Llama,
//! Qwen2/2.5 and Qwen3 architectures), tokenizing (byte-level BPE rebuilt from GGUF metadata or
//! read from `tokenizer.json`), chat templates (rendered with `minijinja`), batched sampling (n
//! samples of a prompt decode together after one prefill) and batched scoring (log-probability
//! of a continuation after a prompt).
//!
//! Main types: [`Model`] (load, tokenizer, chat template), [`generate`] with
//! [`GenerationRequest`] and [`SamplingParams`], [`run_plan`] (a `boundary-sample` plan into
//! the store), [`score`] with [`ScoreRequest`], [`export_safetensors`] (GGUF to an f32
//! safetensors directory).
//!
//! # Why llama.cpp
//! The arithmetic runs in llama.cpp (through the `llama-cpp-2` crate, built from source); the
//! engine does everything around it: tokenizer, template, scheduling, sampling, scoring. The
//! choice was measured on the 2-core development machine with SmolLM2-135M Q4_1: candle 0.11's
//! quantized Llama decodes at 0.21x llama.cpp's single-stream rate (0.43x with
//! `target-cpu=native`), has no SIMD kernel for Q4_1, returns only the last position's logits
//! (no scoring) and has no batched decoding; llama.cpp decodes 16-64 sequences per call with a
//! separate KV stream each. Safetensors directories are converted to GGUF on load (no
//! quantization: f32/f16/bf16 as stored), so both formats share one engine. For scoring, a
//! model's weights can be expanded to f32 before llama.cpp loads them ([`Weights`]), because
//! llama.cpp's x86 kernels process long batches faster in f32 than in Q4_1, Q5_1 or Q5_K. See
//! `docs/benchmarks/engine.md` for the numbers side by side with llama-cpp-python.
//!
//! # Reproducibility
//! Every sample has its own random stream, seeded from (run seed, problem id, sample index)
//! by `boundary_sample::sample_seed`; flash attention is off by default because it moves log-probabilities by
//! up to 0.2 nats; chat templates get no clock (`strftime_now` is not defined). Scores are
//! bit-reproducible between builds with the same CPU kernels: the default build compiles
//! llama.cpp for AVX2 without AVX-512, and a `-C target-cpu=native` build on an AVX-512 machine
//! moves SmolLM2 Q4_1's logits by up to 1.15 (top-1 token changed at 2.7% of positions).

mod architecture;
mod backend;
mod chat_template;
mod error;
mod export;
mod f32_weights;
mod generate;
pub mod gguf;
mod hf_import;
mod model;
mod sampling;
mod score;
mod store_run;
mod tokenizer;

pub use architecture::Architecture;
pub use chat_template::{ChatTemplate, RenderOptions, TemplateError};
pub use error::EngineError;
pub use export::{ExportError, export_safetensors};
pub use generate::{
    Completion, FinishReason, GenerateError, GenerationConfig, GenerationEvent, GenerationRequest,
    GenerationStats, SampleSpec, generate,
};
pub use hf_import::{ImportError, convert as convert_safetensors_to_gguf};
pub use model::{Model, ModelFormat, ModelInfo, ModelOptions, Weights};
pub use sampling::{SamplingError, SamplingParams, StopStrings, TokenSampler, sample_rng};
pub use score::{
    ContinuationScore, ScoreConfig, ScoreError, ScoreRequest, ScoreStats, all_logits, score,
};
pub use store_run::{RunError, RunProgress, RunSummary, prompt_tokens, run_plan};
pub use tokenizer::{SpecialTokens, Tokenizer, TokenizerError};
