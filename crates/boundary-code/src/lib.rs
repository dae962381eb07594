//! `boundary-code`: the code verifier.
//!
//! Owns everything between a model's response and a verdict on it:
//! - [`extract`]: the code block to run, taken from a response;
//! - [`problem`] and [`loaders`]: benchmark problems and their tests (HumanEval, HumanEval+,
//!   MBPP+ and LiveCodeBench in their released formats);
//! - [`sandbox`]: the isolated executor, a pool of pre-forked Python workers whose
//!   candidates run confined (namespaces, rlimits, Landlock, seccomp);
//! - [`harness`]: assembles programs, runs the tests, and returns a [`verdict::Grade`];
//! - [`jsonl`]: grades JSONL files of samples line by line (`boundary grade --kind code`);
//! - `store` (feature `store`): grades a run store's code samples in place.
//!
//! Honest pass: tests and expected values live only in a trusted judge process; the
//! candidate process receives call arguments (or stdin) and returns plain data, so exiting
//! early, printing, patching builtins or rigging `__eq__` cannot make a test pass.

pub mod error;
pub mod extract;
pub mod harness;
pub mod jsonl;
pub mod loaders;
pub mod problem;
pub mod sandbox;
pub mod stdio_compare;
#[cfg(feature = "store")]
pub mod store;
pub mod verdict;

pub use error::{LoadError, SandboxError};
pub use harness::{Grader, GraderOptions};
pub use problem::CodeProblem;
pub use sandbox::{Sandbox, SandboxOptions};
pub use verdict::{Grade, Verdict};
