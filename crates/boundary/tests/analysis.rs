//! The analysis commands end to end, through the real binary: the JSON contracts
//! scripts rely on, and the error messages users see.

mod common;

use common::{TestDir, two_model_samples};
use serde_json::{Value, json};

fn json_of(text: &str) -> Value {
    serde_json::from_str(text).expect("stdout is JSON")
}

#[test]
fn passk_from_counts_follows_the_contract() {
    let t = TestDir::new();
    let counts = (0..10)
        .map(|i| format!("{{\"id\": \"q{i}\", \"n\": 16, \"c\": {i}}}\n"))
        .collect::<String>();
    t.write("counts.jsonl", &counts);
    let out = json_of(&t.ok(&[
        "passk",
        "--counts",
        "counts.jsonl",
        "--k",
        "1,4,16",
        "--json",
    ]));
    insta::assert_json_snapshot!("passk_counts", out);

    let with_ci = json_of(&t.ok(&[
        "passk",
        "--counts",
        "counts.jsonl",
        "--k",
        "1,4,16",
        "--bootstrap",
        "200",
        "--seed",
        "0",
        "--json",
    ]));
    assert_eq!(with_ci["problems"], 10);
    for point in with_ci["curve"].as_array().unwrap() {
        let (lo, p, hi) = (
            point["ci_low"].as_f64().unwrap(),
            point["pass_at_k"].as_f64().unwrap(),
            point["ci_high"].as_f64().unwrap(),
        );
        assert!(lo <= p && p <= hi, "{point}");
    }
    // --bootstrap without a number uses 1000 resamples and is reproducible
    let a = t.ok(&["passk", "--counts", "counts.jsonl", "--bootstrap", "--json"]);
    let b = t.ok(&["passk", "--counts", "counts.jsonl", "--bootstrap", "--json"]);
    assert_eq!(a, b);
}

#[test]
fn passk_and_coverage_from_a_store() {
    let t = TestDir::new();
    t.write("samples.jsonl", &two_model_samples(8, 8));
    t.ok(&["import", "--store", "run.db", "--input", "samples.jsonl"]);
    let curves = json_of(&t.ok(&["passk", "--store", "run.db", "--json"]));
    insta::assert_json_snapshot!("passk_store", curves);
    let only_rl = json_of(&t.ok(&[
        "passk", "--store", "run.db", "--model", "rl", "--k", "1", "--json",
    ]));
    assert_eq!(only_rl["curves"].as_array().unwrap().len(), 1);

    let coverage = json_of(&t.ok(&["coverage", "--store", "run.db", "--json"]));
    insta::assert_json_snapshot!("coverage_store", coverage);

    let gap = json_of(&t.ok(&["gap", "--store", "run.db", "--reference", "base", "--json"]));
    assert_eq!(gap["gaps"][0]["reference_k"], 8);
    assert_eq!(gap["gaps"][0]["other"], "rl");
    let histogram = json_of(&t.ok(&["histogram", "--store", "run.db", "--bins", "4", "--json"]));
    assert_eq!(
        histogram["histograms"][0]["bins"].as_array().unwrap().len(),
        6
    );

    // The human-readable forms print without error too.
    for command in [
        &["passk", "--store", "run.db", "--bootstrap", "100"][..],
        &["coverage", "--store", "run.db"],
        &["runs", "--store", "run.db"],
    ] {
        let mut args = command.to_vec();
        args.push("--quiet");
        assert!(!t.ok(&args).is_empty());
    }
}

#[test]
fn count_file_errors() {
    let t = TestDir::new();
    t.write("bad.jsonl", "{\"id\": \"a\", \"n\": 4, \"c\": 1}\n{\"id\": \"b\", \"n\": 3, \"c\": 5}\n{\"id\": \"c\", \"n\": \"many\", \"c\": 1}\n{\"id\": \"d\", \"c\": 1}\n{bad json\n");
    t.write(
        "short.jsonl",
        "{\"id\": \"a\", \"n\": 16, \"c\": 1}\n{\"id\": \"tiny\", \"n\": 2, \"c\": 1}\n",
    );
    t.write("empty.jsonl", "");
    t.write("table.csv", "id,n,c\na,4,1\n");
    let cases = [
        ("malformed lines", vec!["passk", "--counts", "bad.jsonl"]),
        (
            "k larger than n",
            vec!["passk", "--counts", "short.jsonl", "--k", "1,16"],
        ),
        ("empty file", vec!["passk", "--counts", "empty.jsonl"]),
        ("not JSON Lines", vec!["passk", "--counts", "table.csv"]),
        ("missing file", vec!["passk", "--counts", "nope.jsonl"]),
        ("missing store", vec!["passk", "--store", "nope.db"]),
        (
            "bad bootstrap",
            vec!["passk", "--counts", "short.jsonl", "--bootstrap", "1"],
        ),
        (
            "k zero",
            vec!["passk", "--counts", "short.jsonl", "--k", "0"],
        ),
    ];
    let report: Vec<String> = cases
        .iter()
        .map(|(name, args)| format!("## {name}\n{}", t.fails(args)))
        .collect();
    insta::assert_snapshot!("count_file_errors", report.join("\n"));
    // --skip-short turns the k > n error into per-point problem counts
    let out = json_of(&t.ok(&[
        "passk",
        "--counts",
        "short.jsonl",
        "--k",
        "1,16",
        "--skip-short",
        "--json",
    ]));
    assert_eq!(out["curve"][1]["problems"], 1);
}

#[test]
fn store_errors_name_what_is_there() {
    let t = TestDir::new();
    t.write("samples.jsonl", &two_model_samples(2, 2));
    t.ok(&["import", "--store", "run.db", "--input", "samples.jsonl"]);
    let ungraded = common::jsonl(&[
        json!({"model": "new", "benchmark": "toy", "problem_id": "p0", "sample_index": 0, "response": "x"}),
    ]);
    t.write("ungraded.jsonl", &ungraded);
    t.ok(&["import", "--store", "run.db", "--input", "ungraded.jsonl"]);
    let cases = [
        (
            "unknown model",
            vec!["passk", "--store", "run.db", "--model", "gpt"],
        ),
        (
            "ungraded run",
            vec!["passk", "--store", "run.db", "--model", "new"],
        ),
        (
            "k beyond n in a store",
            vec!["passk", "--store", "run.db", "--model", "base", "--k", "64"],
        ),
        (
            "gap without reference run",
            vec!["gap", "--store", "run.db", "--reference", "gpt"],
        ),
        (
            "export to a missing store",
            vec!["export", "--store", "missing.db"],
        ),
    ];
    let report: Vec<String> = cases
        .iter()
        .map(|(name, args)| format!("## {name}\n{}", t.fails(args)))
        .collect();
    insta::assert_snapshot!("store_errors", report.join("\n"));
}

#[test]
fn export_round_trips_through_import() {
    let t = TestDir::new();
    t.write("samples.jsonl", &two_model_samples(3, 4));
    t.ok(&["import", "--store", "a.db", "--input", "samples.jsonl"]);
    let exported = t.ok(&["export", "--store", "a.db", "--format", "jsonl"]);
    t.write("exported.jsonl", &exported);
    t.ok(&["import", "--store", "b.db", "--input", "exported.jsonl"]);
    assert_eq!(t.ok(&["export", "--store", "b.db"]), exported);
    t.ok(&[
        "export",
        "--store",
        "a.db",
        "--format",
        "parquet",
        "--output",
        "samples.parquet",
    ]);
    t.ok(&[
        "export",
        "--store",
        "a.db",
        "--format",
        "csv",
        "--output",
        "samples.csv",
    ]);
    assert!(t.path("samples.parquet").exists() && !t.path("samples.partial").exists());
    let csv = std::fs::read_to_string(t.path("samples.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 2 * 3 * 4);
}

#[test]
fn exports_open_in_pandas_and_polars() {
    let python = common::venv_python("analysis");
    let t = TestDir::new();
    t.write("samples.jsonl", &two_model_samples(3, 4));
    t.ok(&["import", "--store", "run.db", "--input", "samples.jsonl"]);
    t.ok(&[
        "export",
        "--store",
        "run.db",
        "--format",
        "parquet",
        "--output",
        "s.parquet",
    ]);
    t.ok(&[
        "export", "--store", "run.db", "--format", "csv", "--output", "s.csv",
    ]);
    t.ok(&[
        "export", "--store", "run.db", "--format", "jsonl", "--output", "s.jsonl",
    ]);
    let script = r#"
import json, pandas as pd, polars as pl
frames = {
    "pandas-parquet": pd.read_parquet("s.parquet"),
    "pandas-csv": pd.read_csv("s.csv"),
    "pandas-jsonl": pd.read_json("s.jsonl", lines=True),
    "polars-parquet": pl.read_parquet("s.parquet").to_pandas(),
    "polars-csv": pl.read_csv("s.csv").to_pandas(),
    "polars-jsonl": pl.read_ndjson("s.jsonl").to_pandas(),
}
print(json.dumps({name: {
    "rows": len(df),
    "correct": int(df["correct"].sum()),
    "models": sorted(df["model"].unique().tolist()),
    "solved_per_model": {m: int(g.groupby("problem_id")["correct"].any().sum()) for m, g in df.groupby("model")},
} for name, df in frames.items()}))
"#;
    let out = std::process::Command::new(python)
        .args(["-c", script])
        .current_dir(t.dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen: Value = serde_json::from_slice(&out.stdout).unwrap();
    let coverage = json_of(&t.ok(&["coverage", "--store", "run.db", "--json"]));
    let solved = |model: usize| coverage["benchmarks"][0]["models"][model]["solved_count"].clone();
    for (reader, summary) in seen.as_object().unwrap() {
        assert_eq!(summary["rows"], 24, "{reader}");
        assert_eq!(summary["models"], json!(["base", "rl"]), "{reader}");
        assert_eq!(summary["solved_per_model"]["base"], solved(0), "{reader}");
        assert_eq!(summary["solved_per_model"]["rl"], solved(1), "{reader}");
    }
}
