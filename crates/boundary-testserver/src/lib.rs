//! Test support for Boundary's OpenAI-compatible backend, on loopback only:
//! - [`InstantServer`]: an OpenAI-compatible server that answers at once (vLLM-like: honours
//!   `n`, child seeds `s+i`, `token_ids`, `max_model_len`), for client throughput benchmarks
//!   and fault tests;
//! - [`FaultProxy`]: a proxy that injects 500s, 429s, stalls, dropped connections, truncated
//!   JSON and missing choices at configured rates, in front of any server.
//!
//! - [`RealServer`]: llama.cpp's `llama-server` and llama-cpp-python's server with the
//!   SmolLM2 test model, started on a free port for integration tests.
//!
//! The first two run in-process on a tokio runtime (tests) or as the `boundary-testserver`
//! and `boundary-faultproxy` binaries (benchmark scripts).

pub mod body;
pub mod fault_proxy;
pub mod instant;
pub mod real;
pub mod serve;

pub use fault_proxy::{ALL_FAULTS, Fault, FaultCounts, FaultPlan, FaultProxy};
pub use instant::{InstantConfig, InstantServer, InstantStats};
pub use real::{RealServer, RealServerError};
pub use serve::ServerHandle;
