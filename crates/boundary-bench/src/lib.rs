//! The benchmarks Boundary evaluates on, and how their problems become prompts.
//!
//! This crate owns everything between a benchmark's released data file and the text
//! sent to a model, and nothing after: no sampling, no grading.
//!
//! - [`Benchmark`]: the registry of the paper's benchmarks (GSM8K, MATH500, Minerva
//!   Math, OlympiadBench, AIME24, AMC23, HumanEval+, MBPP+, LiveCodeBench, MathVista,
//!   MathVision) with [`BenchmarkInfo`]: domain, the answer field the paper grades
//!   against, the paper's n and template, where the data lives.
//! - [`Benchmark::load`] and [`loaders`]: [`Problem`]s from the vendored `data/` folder,
//!   a local file in the released format, or the Hugging Face Hub ([`Hub`]).
//! - [`loaders::custom`]: a user's benchmark from JSONL/JSON/Parquet with a
//!   [`FieldMapping`].
//! - [`Templates`] and [`PromptTemplate`]: the paper's named prompt templates and the
//!   user's (minijinja), rendered raw (one text, as the paper sends base models) or as
//!   chat messages (with images as content parts).

mod answer;
mod error;
pub mod hub;
pub mod loaders;
mod problem;
pub mod records;
mod registry;
mod source;
pub mod template;

pub use answer::last_boxed;
pub use error::{BenchError, Result};
pub use hub::Hub;
pub use loaders::custom::FieldMapping;
pub use problem::{Domain, Image, Problem};
pub use registry::{Benchmark, BenchmarkInfo, DataSource};
pub use source::{DATA_ENV, LoadOptions, data_root};
pub use template::{
    PromptMode, PromptTemplate, RawFormat, RenderedPrompt, TemplateError, Templates,
};
