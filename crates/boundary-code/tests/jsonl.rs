//! The JSONL grading path behind `boundary grade --kind code`.

mod common;

use boundary_code::jsonl::{ProblemIndex, Summary, grade_jsonl};
use boundary_code::loaders::humaneval;
use serde_json::Value;

fn run(index: &ProblemIndex, input: &str) -> (Summary, Vec<Value>) {
    let grader = common::grader();
    let mut out = Vec::new();
    let summary = grade_jsonl(
        &grader,
        index,
        input.as_bytes(),
        &mut out,
        "samples.jsonl",
        |_| {},
    )
    .unwrap();
    let lines = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (summary, lines)
}

#[test]
fn benchmark_references_inline_tests_and_bad_lines() {
    let index = ProblemIndex::new(humaneval::load(&common::data("HumanEval.jsonl")).unwrap());
    let input = [
        // By problem id, chat-style response with a fenced block.
        r#"{"problem_id": "HumanEval/2", "response": "Sure:\n```python\ndef truncate_number(number: float) -> float:\n    return number % 1.0\n```", "sample": 0}"#,
        // A wrong answer.
        r#"{"problem_id": "HumanEval/2", "response": "```python\ndef truncate_number(number):\n    return number\n```"}"#,
        // A raw completion of the prompt.
        r#"{"task_id": "HumanEval/2", "completion": "    return number - int(number)\n"}"#,
        // Inline tests, MBPP style.
        r#"{"response": "def add(a, b):\n    return a + b", "tests": {"style": "asserts", "setup": "", "asserts": ["assert add(1, 2) == 3", "assert add(-1, 1) == 0"]}}"#,
        // Inline stdin/stdout tests.
        r#"{"response": "print(sum(map(int, input().split())))", "tests": {"style": "stdio", "cases": [{"input": "1 2\n", "output": "3\n"}]}}"#,
        // HumanEval's own fields.
        r#"{"response": "def f(x):\n    return -x", "test": "def check(c):\n    assert c(1) == -1\n", "entry_point": "f"}"#,
        "",
        "not json",
        r#"{"problem_id": "HumanEval/999", "response": "x"}"#,
        r#"{"problem_id": "HumanEval/2"}"#,
        r#"{"response": 3, "tests": {}}"#,
        r#"{"response": "x", "tests": {"style": "nope"}}"#,
    ]
    .join("\n");
    let (summary, lines) = run(&index, &input);
    assert_eq!(
        summary,
        Summary {
            lines: 11,
            correct: 5,
            invalid: 5,
            harness_errors: 0
        }
    );
    let verdicts: Vec<_> = lines
        .iter()
        .map(|l| l["verdict"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        verdicts[..6],
        ["passed", "failed", "passed", "passed", "passed", "passed"]
    );
    assert_eq!(lines[0]["sample"], 0, "input fields are kept");
    assert_eq!(
        lines[0]["code"],
        "def truncate_number(number: float) -> float:\n    return number % 1.0\n"
    );
    assert!(
        lines[1]["error"].as_str().unwrap().contains("assert"),
        "{}",
        lines[1]
    );
    assert_eq!(lines[1]["failing_test"], "check");
    let errors: Vec<_> = lines[6..]
        .iter()
        .map(|l| l["error"].as_str().unwrap().to_string())
        .collect();
    insta::assert_debug_snapshot!(errors);
}

#[test]
fn no_benchmark_loaded_is_explained() {
    let (_, lines) = run(
        &ProblemIndex::empty(),
        r#"{"problem_id": "HumanEval/0", "response": "x"}"#,
    );
    assert_eq!(
        lines[0]["error"],
        "samples.jsonl:1: refers to problem `HumanEval/0` but no benchmark is loaded (pass --benchmark and --data)"
    );
}
