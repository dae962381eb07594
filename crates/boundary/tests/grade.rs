//! `boundary grade` and `boundary verify` through the real binary: the JSON Lines
//! contract, grading a store in place, and error messages for bad input.

mod common;

use boundary_store::{NewSample, RunSpec, SampleOutcome, Store};
use common::TestDir;
use serde_json::{Value, json};

fn lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|line| serde_json::from_str(line).expect("output lines are JSON"))
        .collect()
}

#[test]
fn grades_a_file_of_pairs_and_copies_other_fields() {
    let dir = TestDir::new();
    dir.write(
        "pairs.jsonl",
        concat!(
            r#"{"id": 1, "gold": "\\frac12", "response": "so the answer is \\boxed{0.5}"}"#,
            "\n",
            r#"{"id": 2, "gold": "\\frac13", "response": "I get \\boxed{0.33}", "model": "m"}"#,
            "\n",
            r#"{"id": 3, "gold": "5", "response": "I give up."}"#,
            "\n",
            r#"{"id": 4, "gold": "2", "response": "\\boxed{10^{10^{10^{10}}}}"}"#,
            "\n",
        ),
    );
    let stdout = dir.ok(&[
        "grade",
        "--input",
        "pairs.jsonl",
        "--output",
        "graded.jsonl",
    ]);
    assert_eq!(stdout, "");
    let graded = std::fs::read_to_string(dir.path("graded.jsonl")).expect("output written");
    insta::assert_snapshot!("graded_pairs", graded);
    let graded = lines(&graded);
    assert_eq!(
        graded
            .iter()
            .map(|line| line["correct"].clone())
            .collect::<Vec<_>>(),
        [json!(true), json!(false), json!(false), json!(false)]
    );
    assert!(!dir.path("graded.jsonl.partial").exists());
}

#[test]
fn grades_to_standard_output_in_paper_mode() {
    let dir = TestDir::new();
    dir.write(
        "pairs.jsonl",
        "{\"gold\": \"50\", \"response\": \"\\\\boxed{0.5}\"}\n",
    );
    let default = lines(&dir.ok(&["grade", "--input", "pairs.jsonl"]));
    let paper = lines(&dir.ok(&["grade", "--input", "pairs.jsonl", "--math-mode", "paper"]));
    assert_eq!(
        (default[0]["correct"].clone(), paper[0]["correct"].clone()),
        (json!(false), json!(true))
    );
}

#[test]
fn bad_lines_are_all_reported_and_nothing_is_written() {
    let dir = TestDir::new();
    dir.write(
        "pairs.jsonl",
        concat!(
            r#"{"gold": "1", "response": "\\boxed{1}"}"#,
            "\n",
            r#"{"gold": 1, "response": "\\boxed{1}"}"#,
            "\n",
            r#"{"answer": "1"}"#,
            "\n",
            "not json\n",
        ),
    );
    let stderr = dir.fails(&[
        "grade",
        "--input",
        "pairs.jsonl",
        "--output",
        "graded.jsonl",
    ]);
    insta::assert_snapshot!("bad_pairs", stderr);
    assert!(!dir.path("graded.jsonl").exists());
    assert!(!dir.path("graded.jsonl.partial").exists());
}

#[test]
fn missing_input_and_conflicting_sources_are_explained() {
    let dir = TestDir::new();
    insta::assert_snapshot!(
        "missing_file",
        dir.fails(&["grade", "--input", "absent.jsonl"])
    );
    insta::assert_snapshot!("no_source", dir.fails(&["grade"]));
}

fn store_with_samples(dir: &TestDir) -> std::path::PathBuf {
    let path = dir.path("run.db");
    let mut store = Store::open(&path).expect("store opens");
    let spec = RunSpec {
        model: "m".into(),
        benchmark: "math500".into(),
        source: "import".into(),
        sampling: json!({"temperature": 0.6}),
        seed: Some(1),
    };
    let mut writer = store.writer().expect("writer");
    let run = writer.ensure_run(&spec).expect("run");
    writer
        .ensure_problem("math500", "p1", Some("\\frac{\\sqrt2}{2}"), None)
        .expect("problem");
    writer
        .ensure_problem("math500", "p2", Some("(3, 4]"), None)
        .expect("problem");
    writer
        .ensure_problem("math500", "p3", None, None)
        .expect("problem");
    for (problem, index, response) in [
        ("p1", 0, "\\boxed{\\frac{1}{\\sqrt2}}"),
        ("p1", 1, "\\boxed{0.7071}"),
        ("p2", 0, "so $3 < x \\le 4$"),
        ("p3", 0, "\\boxed{7}"),
    ] {
        writer
            .put_sample(
                run.id,
                &NewSample {
                    problem: problem.into(),
                    sample_index: index,
                    outcome: SampleOutcome::Ok {
                        response: response.into(),
                    },
                    finish_reason: None,
                    prompt_tokens: None,
                    completion_tokens: None,
                },
            )
            .expect("sample");
    }
    writer.commit().expect("commit");
    path
}

#[test]
fn grades_a_store_in_place_and_resumes() {
    let dir = TestDir::new();
    let path = store_with_samples(&dir);
    let out = dir.run(&["grade", "--store", "run.db"]);
    assert!(
        !out.status.success(),
        "a problem without gold is an error after grading the rest"
    );
    insta::assert_snapshot!(
        "store_first_pass",
        dir.mask(&String::from_utf8_lossy(&out.stderr))
    );
    let store = Store::open_existing(&path).expect("store opens");
    let run = store.runs().expect("runs").remove(0);
    let counts = store.counts(&run, Some("math")).expect("counts");
    let solved: Vec<(String, u64, u64)> = counts
        .problems
        .iter()
        .map(|p| (p.id.clone(), p.c, p.n))
        .collect();
    insta::assert_debug_snapshot!("store_counts", solved);
    // A second pass has nothing left to grade but the problem without gold.
    let again = dir.run(&["grade", "--store", "run.db"]);
    insta::assert_snapshot!(
        "store_second_pass",
        dir.mask(&String::from_utf8_lossy(&again.stderr))
    );
}

#[test]
fn verify_prints_one_verdict_with_its_reasons() {
    let dir = TestDir::new();
    insta::assert_snapshot!(
        "verify_correct",
        dir.ok(&[
            "verify",
            "--gold",
            "\\frac12",
            "--response",
            "... \\boxed{0.5}"
        ])
    );
    insta::assert_snapshot!(
        "verify_no_answer",
        dir.ok(&["verify", "--gold", "3", "--response", "no idea"])
    );
    let json: Value = serde_json::from_str(&dir.ok(&[
        "verify",
        "--gold",
        "(3,4]",
        "--response",
        "\\boxed{[3,4)}",
        "--json",
    ]))
    .expect("json verdict");
    assert_eq!(
        (json["outcome"].clone(), json["rule"].clone()),
        (json!("incorrect"), json!("interval_ends"))
    );
}
