//! The adversarial suite: hostile and reward-hacking programs from `tests/adversarial/`.
//!
//! Each file starts with comment headers: `style` (check, stdio, functional, evalplus),
//! `expect` (the verdicts it may get; never `passed`), and optionally `needs`
//! (`listener`, `data_path`), `secret`, `expected-output`. Afterwards the suite checks
//! that nothing escaped: no sentinel files outside the sandbox, no surviving daemon, no
//! connection to the grader's listener, the grader's secret never printed, and the grader
//! itself still alive and grading honest controls correctly.

mod common;

use std::io::ErrorKind;
use std::net::TcpListener;
use std::path::PathBuf;

use boundary_code::problem::{Benchmark, CodeProblem, EvalPlusDataset, IoCase, TestSuite};
use boundary_code::verdict::Verdict;
use rayon::prelude::*;

const SECRET: &str = "s3cretTokenForTheAdversarialSuite";

struct Case {
    name: String,
    code: String,
    style: String,
    expect: Vec<String>,
    needs: Option<String>,
    secret: bool,
    expected_output: Option<String>,
}

fn header(code: &str, key: &str) -> Option<String> {
    code.lines()
        .take_while(|l| l.starts_with('#'))
        .find_map(|l| {
            l.strip_prefix(&format!("# {key}:"))
                .map(|v| v.trim().to_string())
        })
}

fn load_cases() -> Vec<Case> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/adversarial");
    let mut cases: Vec<Case> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "py"))
        .map(|p| {
            let code = std::fs::read_to_string(&p).unwrap();
            let name = p.file_stem().unwrap().to_string_lossy().to_string();
            let style = header(&code, "style").unwrap_or_else(|| panic!("{name}: no style header"));
            let expect = header(&code, "expect")
                .unwrap_or_else(|| panic!("{name}: no expect header"))
                .split(',')
                .map(|s| s.trim().to_string())
                .collect();
            Case {
                needs: header(&code, "needs"),
                secret: header(&code, "secret").is_some(),
                expected_output: header(&code, "expected-output"),
                name,
                code,
                style,
                expect,
            }
        })
        .collect();
    cases.sort_by(|a, b| a.name.cmp(&b.name));
    cases
}

fn problem(case: &Case, port: u16) -> CodeProblem {
    let (tests, benchmark, reference) = match case.style.as_str() {
        "check" => (
            TestSuite::Check {
                test: "def check(candidate):\n    assert candidate(2) == 4\n    assert candidate(10) == 20\n".into(),
                entry_point: "f".into(),
            },
            Benchmark::Custom,
            None,
        ),
        "stdio" => {
            let input = match case.needs.as_deref() {
                Some("listener") => format!("{port}\n"),
                Some("data_path") => format!("{}\n", common::data("HumanEval.jsonl").display()),
                _ => "2\n".into(),
            };
            let output = if case.secret {
                SECRET.to_string()
            } else {
                case.expected_output.clone().unwrap_or_else(|| "4".into())
            };
            (TestSuite::Stdio { cases: vec![IoCase { input, output }] }, Benchmark::LiveCodeBench, None)
        }
        "functional" => (
            TestSuite::Functional {
                fn_name: "double".into(),
                cases: vec![IoCase { input: "2".into(), output: "4".into() }, IoCase { input: "10".into(), output: "20".into() }],
            },
            Benchmark::LiveCodeBench,
            None,
        ),
        "evalplus" => (
            TestSuite::EvalPlus {
                dataset: EvalPlusDataset::HumanEval,
                entry_point: "f".into(),
                inputs_json: "[[2], [10]]".into(),
                input_count: 2,
                atol: 0.0,
                mbpp_task: None,
            },
            Benchmark::Custom,
            Some("def f(x):\n    return [x * 2]\n".to_string()),
        ),
        other => panic!("{}: unknown style {other}", case.name),
    };
    CodeProblem {
        id: format!("adversarial/{}/{}", case.style, case.name),
        benchmark,
        prompt: String::new(),
        tests,
        reference,
    }
}

fn sentinel_files() -> Vec<PathBuf> {
    let mut dirs = vec![
        PathBuf::from("/tmp"),
        PathBuf::from("/var/tmp"),
        PathBuf::from("/dev/shm"),
        PathBuf::from("/"),
    ];
    if let Some(home) = std::env::var_os("HOME") {
        dirs.push(PathBuf::from(home));
    }
    dirs.push(PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    dirs.iter()
        .filter_map(|d| std::fs::read_dir(d).ok())
        .flat_map(|rd| rd.filter_map(|e| e.ok()).map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("boundary-adv-"))
        })
        .collect()
}

fn surviving_daemons() -> Vec<String> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok())
        .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
        .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
        .filter(|c| c.contains("1234.56"))
        .collect()
}

#[test]
fn hostile_programs_neither_escape_nor_pass() {
    // The grader's secret, visible to this process (and its /proc environ) only.
    // SAFETY: set before any other thread of this test binary starts.
    unsafe { std::env::set_var("BOUNDARY_ADV_SECRET", SECRET) };
    let before = sentinel_files();
    assert!(
        before.is_empty(),
        "stale sentinels from an earlier run: {before:?}"
    );
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();

    let grader = common::fast_grader();
    let cases = load_cases();
    assert!(
        cases.len() >= 50,
        "the suite must hold at least 50 programs, found {}",
        cases.len()
    );
    let results: Vec<_> = cases
        .par_iter()
        .map(|c| (c, grader.grade_code(&problem(c, port), &c.code)))
        .collect();

    let mut problems = Vec::new();
    for (case, grade) in &results {
        eprintln!(
            "{:<34} {:<13} {}",
            case.name,
            grade.verdict.as_str(),
            grade
                .error
                .as_deref()
                .unwrap_or("")
                .lines()
                .next()
                .unwrap_or("")
        );
        if grade.correct || grade.verdict == Verdict::Passed {
            problems.push(format!("FALSE PASS: {}", case.name));
        } else if !case.expect.iter().any(|e| e == grade.verdict.as_str()) {
            problems.push(format!(
                "{}: verdict {} not in {:?} ({:?})",
                case.name,
                grade.verdict.as_str(),
                case.expect,
                grade.error
            ));
        }
        let shown = format!("{:?}", grade);
        if shown.contains(SECRET) {
            problems.push(format!("SECRET LEAKED by {}", case.name));
        }
    }

    // Escapes.
    std::thread::sleep(std::time::Duration::from_millis(500));
    let files = sentinel_files();
    if !files.is_empty() {
        problems.push(format!("ESCAPE: files outside the sandbox: {files:?}"));
    }
    let daemons = surviving_daemons();
    if !daemons.is_empty() {
        problems.push(format!("ESCAPE: surviving processes: {daemons:?}"));
    }
    match listener.accept() {
        Err(e) if e.kind() == ErrorKind::WouldBlock => {}
        other => problems.push(format!(
            "ESCAPE: the listener on 127.0.0.1 was reached: {other:?}"
        )),
    }

    // The grader is alive and still grades honest programs correctly in every style.
    let honest = [
        ("check", "def f(x):\n    return x * 2\n"),
        ("stdio", "print(int(input()) * 2)\n"),
        (
            "functional",
            "class Solution:\n    def double(self, x):\n        return x * 2\n",
        ),
        ("evalplus", "def f(x):\n    return [x * 2]\n"),
    ];
    for (style, code) in honest {
        let case = Case {
            name: format!("honest-{style}"),
            code: code.into(),
            style: style.into(),
            expect: vec![],
            needs: None,
            secret: false,
            expected_output: None,
        };
        let grade = grader.grade_code(&problem(&case, port), code);
        if !grade.correct {
            problems.push(format!("honest {style} program did not pass: {grade:?}"));
        }
    }
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}
