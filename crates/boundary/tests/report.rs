//! `boundary report` end to end on a fixed store: the Markdown, CSV and JSON outputs are
//! snapshot-tested; the HTML is checked to be self-contained.

mod common;

use common::{TestDir, two_model_samples};

fn read(t: &TestDir, path: &str) -> String {
    std::fs::read_to_string(t.path(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn report_of_a_fixed_store() {
    let t = TestDir::new();
    t.write("samples.jsonl", &two_model_samples(12, 16));
    t.ok(&["import", "--store", "run.db", "--input", "samples.jsonl"]);
    t.ok(&[
        "report",
        "--store",
        "run.db",
        "--out",
        "report",
        "--bootstrap",
        "200",
        "--seed",
        "0",
        "--bins",
        "4",
        "--quiet",
    ]);

    insta::assert_snapshot!("report_md", read(&t, "report/report.md"));
    insta::assert_snapshot!("summary_csv", read(&t, "report/tables/summary.csv"));
    insta::assert_snapshot!("passk_csv", read(&t, "report/tables/toy-passk.csv"));
    insta::assert_snapshot!(
        "crossover_json",
        read(&t, "report/tables/toy-crossover.json")
    );
    insta::assert_snapshot!("coverage_json", read(&t, "report/tables/toy-coverage.json"));

    for plot in ["toy-passk", "toy-histogram"] {
        for ext in ["svg", "png"] {
            let path = t.path(&format!("report/plots/{plot}.{ext}"));
            assert!(path.metadata().unwrap().len() > 1000, "{}", path.display());
        }
    }
    let html = read(&t, "report/report.html");
    assert_eq!(html.matches("<svg").count(), 2, "both figures inline");
    assert!(!html.contains("src=\"http"), "no network resources");
    assert!(!html.contains("<script"), "the report is static");
    let browser = read(&t, "report/samples.html");
    assert!(browser.contains("\"samples\":["));
    assert!(browser.contains("\"verdict\":\"correct\""));

    // Writing again gives the same files.
    t.ok(&[
        "report",
        "--store",
        "run.db",
        "--out",
        "again",
        "--bootstrap",
        "200",
        "--seed",
        "0",
        "--bins",
        "4",
        "--quiet",
    ]);
    assert_eq!(read(&t, "report/report.md"), read(&t, "again/report.md"));
    assert_eq!(
        read(&t, "report/report.html"),
        read(&t, "again/report.html")
    );
}

#[test]
fn report_errors_are_explained() {
    let t = TestDir::new();
    insta::assert_snapshot!(
        "report_missing_store",
        t.fails(&["report", "--store", "missing.db", "--out", "r"])
    );
    t.write(
        "ungraded.jsonl",
        "{\"model\": \"m\", \"benchmark\": \"b\", \"problem_id\": \"1\", \"sample_index\": 0, \"response\": \"x\"}\n",
    );
    t.ok(&["import", "--store", "run.db", "--input", "ungraded.jsonl"]);
    insta::assert_snapshot!(
        "report_nothing_graded",
        t.fails(&["report", "--store", "run.db", "--out", "r"])
    );
}

#[test]
fn a_model_evaluated_on_fewer_problems_is_named_in_the_report() {
    let t = TestDir::new();
    // "rl" has no samples of p4 and p5, as when `skip_unfit` left them out for its context.
    let samples: String = two_model_samples(6, 4)
        .lines()
        .filter(|l| {
            !(l.contains("\"model\":\"rl\"")
                && (l.contains("\"problem_id\":\"p4\"") || l.contains("\"problem_id\":\"p5\"")))
        })
        .map(|l| format!("{l}\n"))
        .collect();
    t.write("samples.jsonl", &samples);
    t.ok(&["import", "--store", "run.db", "--input", "samples.jsonl"]);
    let out = t.run(&["report", "--store", "run.db", "--out", "report"]);
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let expected = "toy: rl has no graded samples of 2 of the 6 problems its models were \
                    evaluated on (`p4`, `p5`); its pass@k and histogram cover its 4 problems only";
    assert!(stderr.contains(expected), "{stderr}");
    let report = read(&t, "report/report.md");
    let left_out = &report[report.find("## Left out").expect("a Left out section")..];
    assert!(left_out.contains(expected), "{left_out}");
    assert!(
        !report.contains("base has no graded samples"),
        "base has every problem"
    );
}
