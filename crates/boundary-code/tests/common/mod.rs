//! Shared set-up for the integration tests: one sandbox per test binary.

#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use boundary_code::{Grader, GraderOptions, Sandbox, SandboxOptions};

pub fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

pub fn sandbox() -> Arc<Sandbox> {
    static SANDBOX: OnceLock<Arc<Sandbox>> = OnceLock::new();
    SANDBOX
        .get_or_init(|| {
            let sandbox = Sandbox::new(SandboxOptions::default())
                .expect("sandbox must start with full isolation");
            eprintln!("{}", sandbox.isolation());
            Arc::new(sandbox)
        })
        .clone()
}

pub fn grader() -> Grader {
    Grader::new(sandbox(), GraderOptions::default())
}

/// Short limits for suites full of programs that must time out.
pub fn fast_grader() -> Grader {
    Grader::new(
        sandbox(),
        GraderOptions {
            humaneval_timeout_s: 1.0,
            load_timeout_s: 2.0,
            lcb_timeout_s: 1.0,
            ..GraderOptions::default()
        },
    )
}
