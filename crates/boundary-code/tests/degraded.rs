//! Machines that allow less: the sandbox refuses, says why, and with the explicit unsafe
//! flag still grades honestly with the layers it has.

use std::sync::Arc;

use boundary_code::problem::{Benchmark, CodeProblem, TestSuite};
use boundary_code::{Grader, GraderOptions, Sandbox, SandboxError, SandboxOptions};

fn options(disabled: &[&str], allow_unsafe: bool) -> SandboxOptions {
    SandboxOptions {
        workers: 1,
        allow_unsafe,
        disabled_layers: disabled.iter().map(|s| s.to_string()).collect(),
        ..SandboxOptions::default()
    }
}

#[test]
fn refuses_without_required_layers_and_names_them() {
    let err = match Sandbox::new(options(&["pid-namespace", "landlock"], false)) {
        Err(e) => e,
        Ok(_) => panic!("the sandbox started without a PID namespace and Landlock"),
    };
    assert!(matches!(err, SandboxError::InsufficientIsolation { .. }));
    insta::assert_snapshot!(err.to_string());
}

#[test]
fn unsafe_flag_runs_with_what_is_left_and_still_grades_honestly() {
    let sandbox = Sandbox::new(options(
        &["user-namespace", "pid-namespace", "landlock", "seccomp"],
        true,
    ))
    .unwrap();
    let report = sandbox.isolation();
    for layer in ["user-namespace", "pid-namespace", "landlock", "seccomp"] {
        assert!(
            !report.is_active(layer),
            "{layer} reported active:\n{report}"
        );
    }
    assert!(report.is_active("session+rlimits"));
    let grader = Grader::new(Arc::new(sandbox), GraderOptions::default());
    let problem = CodeProblem {
        id: "double".into(),
        benchmark: Benchmark::Custom,
        prompt: String::new(),
        tests: TestSuite::Check {
            test: "def check(candidate):\n    assert candidate(2) == 4\n".into(),
            entry_point: "f".into(),
        },
        reference: None,
    };
    assert!(
        grader
            .grade_code(&problem, "def f(x):\n    return 2 * x\n")
            .correct
    );
    assert!(
        !grader
            .grade_code(&problem, "import sys\ndef f(x):\n    sys.exit(0)\n")
            .correct
    );
    assert!(
        !grader
            .grade_code(
                &problem,
                "class A:\n    def __eq__(s, o): return True\ndef f(x):\n    return A()\n"
            )
            .correct
    );
}
