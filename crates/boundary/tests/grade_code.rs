//! `boundary grade --kind code`: a JSONL file graded into another, and a store's code
//! samples graded in place (the sandbox itself is tested in `boundary-code`).

mod common;

use common::TestDir;

fn humaneval() -> String {
    concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../boundary-code/tests/data/HumanEval.jsonl"
    )
    .to_string()
}

const GOOD: &str =
    "```python\\ndef truncate_number(number: float) -> float:\\n    return number % 1.0\\n```";
const BAD: &str = "```python\\ndef truncate_number(number):\\n    return 0\\n```";

#[test]
fn grades_a_jsonl_file_and_reports_bad_lines() {
    let t = TestDir::new();
    let input = format!(
        "{{\"problem_id\": \"HumanEval/2\", \"response\": \"{GOOD}\", \"sample\": 7}}\n\
         {{\"problem_id\": \"HumanEval/2\", \"response\": \"{BAD}\"}}\n\
         {{\"problem_id\": \"HumanEval/2\"}}\n"
    );
    t.write("samples.jsonl", &input);
    let data = humaneval();
    let out = t.run(&[
        "grade",
        "--kind",
        "code",
        "--benchmark",
        "humaneval",
        "--data",
        &data,
        "--input",
        "samples.jsonl",
        "--output",
        "graded.jsonl",
    ]);
    assert!(
        !out.status.success(),
        "an invalid line makes the command fail"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("pid-namespace"),
        "the isolation layers are listed: {stderr}"
    );
    assert!(stderr.contains("1 lines could not be graded"), "{stderr}");
    let graded: Vec<serde_json::Value> = std::fs::read_to_string(t.path("graded.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(graded.len(), 3, "one output line per input line");
    assert_eq!(
        (
            graded[0]["correct"].as_bool(),
            graded[0]["verdict"].as_str()
        ),
        (Some(true), Some("passed"))
    );
    assert_eq!(graded[0]["sample"], 7);
    assert_eq!(graded[1]["verdict"], "failed");
    assert_eq!(
        graded[1]["error"],
        "AssertionError: assert candidate(3.5) == 0.5"
    );
    assert_eq!(graded[2]["verdict"], "invalid_input");
}

#[test]
fn grades_a_store_in_place() {
    let t = TestDir::new();
    let lines: Vec<String> = [GOOD, BAD]
        .iter()
        .enumerate()
        .map(|(i, r)| {
            format!(
                "{{\"model\": \"m\", \"benchmark\": \"humaneval\", \"problem_id\": \"HumanEval/2\", \"sample_index\": {i}, \"response\": \"{r}\"}}"
            )
        })
        .collect();
    t.write("samples.jsonl", &(lines.join("\n") + "\n"));
    t.ok(&["import", "--store", "runs.db", "--input", "samples.jsonl"]);
    let data = humaneval();
    let args = [
        "grade",
        "--kind",
        "code",
        "--store",
        "runs.db",
        "--benchmark",
        "humaneval",
        "--data",
        &data,
    ];
    let out = t.run(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("graded 2 samples in 1 runs: 1 correct"));
    let again = t.run(&args);
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("graded 0 samples"),
        "a second pass grades nothing"
    );
}
