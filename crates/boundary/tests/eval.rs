//! `boundary eval`: the experiment file is checked before anything is sampled, with
//! errors pointing at its lines; the dry run prints the plan; the prepare stage records
//! runs and prompts idempotently; samples come from the embedded engine (SmolLM2) or an
//! OpenAI-compatible server and are graded and reported, and a re-run resumes.

mod common;

use common::TestDir;

/// A valid two-model experiment on small subsets; the model file only has to exist for
/// the checks and the plan.
fn experiment(t: &TestDir, extra: &str) -> String {
    t.write("model.gguf", "not a real model: the dry run never loads it");
    format!(
        r#"title = "test"
store = "run.db"
out = "report"

[sampling]
max_tokens = 256

[[model]]
name = "base"
path = "model.gguf"
prompt = "raw"

[[model]]
name = "rl"
endpoint = "http://127.0.0.1:9/v1"
served_model = "rl-model"

[[benchmark]]
name = "gsm8k"
n = 4
limit = 3

[[benchmark]]
name = "math500"
n = 8
limit = 2
{extra}"#
    )
}

#[test]
fn bad_experiments_point_at_their_lines() {
    let t = TestDir::new();
    let cases = [
        (
            "unknown_benchmark",
            "\n[[benchmark]]\nname = \"math5000\"\n".to_string(),
        ),
        ("k_beyond_n", "\n[analysis]\nk = [1, 2, 4, 8]\n".to_string()),
        (
            "missing_model_file",
            "\n[[model]]\nname = \"distilled\"\npath = \"missing.gguf\"\n".to_string(),
        ),
        ("mapping_names_a_missing_field", {
            t.write(
                "mine.jsonl",
                "{\"uid\": \"a\", \"problem\": \"1+1?\", \"solution\": \"\\\\boxed{2}\"}\n",
            );
            "\n[[benchmark]]\nname = \"mine\"\npath = \"mine.jsonl\"\nfields = { id = \"uid\", question = \"prompt\", answer = \"solution\" }\n".to_string()
        }),
        ("user_benchmark_without_answers", {
            t.write("plain.jsonl", "{\"uid\": \"a\", \"problem\": \"1+1?\"}\n");
            "\n[[benchmark]]\nname = \"plain\"\npath = \"plain.jsonl\"\nfields = { id = \"uid\", question = \"problem\" }\n".to_string()
        }),
        (
            "unknown_key",
            "\n[analysis]\nbootstraps = 100\n".to_string(),
        ),
        (
            "unknown_template",
            "\n[[benchmark]]\nname = \"aime24\"\ntemplate = \"qwen-boxd\"\n".to_string(),
        ),
        (
            "images_need_chat",
            "\n[[benchmark]]\nname = \"mathvision\"\nlimit = 1\n".to_string(),
        ),
        ("server_setting_on_an_embedded_model", {
            t.write("tiny.gguf", "not read before the check");
            "\n[[model]]\nname = \"local\"\npath = \"tiny.gguf\"\nchunk_size = 4\n".to_string()
        }),
        (
            "zero_chunk_size",
            "\n[[model]]\nname = \"served\"\nendpoint = \"http://127.0.0.1:9/v1\"\nchunk_size = 0\nmax_in_flight = 0\n".to_string(),
        ),
    ];
    for (name, extra) in cases {
        t.write("exp.toml", &experiment(&t, &extra));
        let err = t.fails(&["eval", "exp.toml", "--dry-run"]);
        insta::assert_snapshot!(format!("bad_{name}"), err);
        assert!(!t.path("run.db").exists(), "{name}: nothing may be written");
    }
}

#[test]
fn several_problems_are_reported_together() {
    let t = TestDir::new();
    let text = experiment(
        &t,
        "\n[[benchmark]]\nname = \"nope\"\n\n[analysis]\nreference = \"nobody\"\n",
    );
    t.write("exp.toml", &text);
    let err = t.fails(&["eval", "exp.toml", "--dry-run"]);
    assert!(err.contains("unknown benchmark `nope`"), "{err}");
    assert!(
        err.contains("reference `nobody` is not one of the models"),
        "{err}"
    );
    assert!(err.contains("2 problems in exp.toml"), "{err}");
}

#[test]
fn dry_run_prints_the_plan_and_writes_nothing() {
    let t = TestDir::new();
    t.write("exp.toml", &experiment(&t, ""));
    let plan = t.ok(&["eval", "exp.toml", "--dry-run"]);
    insta::assert_snapshot!("dry_run_plan", t.mask(&plan));
    let json: serde_json::Value =
        serde_json::from_str(&t.ok(&["eval", "exp.toml", "--dry-run", "--json"])).unwrap();
    // 2 models × (3 problems × 4 + 2 problems × 8) samples.
    assert_eq!(json["samples_to_make"], 56);
    assert_eq!(json["max_new_tokens"], 56 * 256);
    assert!(!t.path("run.db").exists());
}

#[test]
fn prepare_records_runs_and_prompts_before_sampling() {
    let t = TestDir::new();
    t.write("exp.toml", &experiment(&t, ""));
    // The first model's file is no GGUF: sampling fails, naming it, after the runs and
    // prompts of both models were recorded.
    let err = t.fails(&["eval", "exp.toml", "--quiet"]);
    assert!(err.contains("cannot load the model"), "{err}");
    assert!(err.contains("model.gguf"), "{err}");
    let runs: serde_json::Value =
        serde_json::from_str(&t.ok(&["runs", "--store", "run.db", "--json"])).unwrap();
    assert_eq!(runs["runs"].as_array().unwrap().len(), 4);
    // The exact raw prompt of the paper's template is stored with the run.
    let exported = t.ok(&["export", "--store", "run.db", "--format", "jsonl"]);
    assert_eq!(exported, "", "no samples yet");
    // Running again changes nothing: the same four runs, resumed.
    t.fails(&["eval", "exp.toml", "--quiet"]);
    let again: serde_json::Value =
        serde_json::from_str(&t.ok(&["runs", "--store", "run.db", "--json"])).unwrap();
    assert_eq!(runs, again);
    // Changing a sampling setting makes new runs instead of mixing samples.
    let changed = experiment(&t, "").replace("max_tokens = 256", "max_tokens = 512");
    t.write("exp.toml", &changed);
    t.fails(&["eval", "exp.toml", "--quiet"]);
    let more: serde_json::Value =
        serde_json::from_str(&t.ok(&["runs", "--store", "run.db", "--json"])).unwrap();
    assert_eq!(more["runs"].as_array().unwrap().len(), 8);
}

#[test]
fn quick_run_flags_write_their_experiment() {
    let t = TestDir::new();
    t.write("model.gguf", "x");
    let plan = t.ok(&[
        "eval",
        "--model",
        "m=model.gguf",
        "--benchmark",
        "aime24",
        "--n",
        "2",
        "--limit",
        "3",
        "--out",
        "quick",
        "--dry-run",
    ]);
    assert!(plan.contains("aime24"), "{plan}");
    let written = std::fs::read_to_string(t.path("quick/experiment.toml")).unwrap();
    assert!(
        written.contains("name = \"aime24\"\nn = 2\nlimit = 3"),
        "{written}"
    );
}

/// Writes responses into the runs `eval` recorded, as a sampling backend (or an earlier,
/// interrupted eval) would: `correct(problem index, sample index)` picks a right or a
/// wrong response.
fn put_samples(
    t: &TestDir,
    benchmark: &str,
    n: u32,
    responses: impl Fn(usize, u32) -> String,
    problems: &[String],
) {
    use boundary_store::{NewSample, SampleOutcome, Store};
    let mut store = Store::open_existing(t.path("run.db")).unwrap();
    let runs: Vec<_> = store
        .runs()
        .unwrap()
        .into_iter()
        .filter(|r| r.benchmark == benchmark)
        .collect();
    assert!(!runs.is_empty(), "eval recorded a run on {benchmark}");
    let mut writer = store.writer().unwrap();
    for run in &runs {
        for (p, id) in problems.iter().enumerate() {
            for i in 0..n {
                writer
                    .put_sample(
                        run.id,
                        &NewSample {
                            problem: id.clone(),
                            sample_index: i,
                            outcome: SampleOutcome::Ok {
                                response: responses(p, i),
                            },
                            finish_reason: Some("stop".into()),
                            prompt_tokens: None,
                            completion_tokens: None,
                        },
                    )
                    .unwrap();
            }
        }
    }
    writer.commit().unwrap();
}

#[test]
fn existing_samples_are_graded_analysed_and_reported() {
    use boundary_bench::{Benchmark, LoadOptions};
    let t = TestDir::new();
    t.write(
        "exp.toml",
        r#"title = "existing samples"
store = "run.db"
out = "report"

[analysis]
bootstrap = 200

[[model]]
name = "server"
endpoint = "http://127.0.0.1:9/v1"

[[benchmark]]
name = "gsm8k"
n = 4
limit = 3

[[benchmark]]
name = "humaneval_plus"
n = 2
limit = 2
"#,
    );
    // Nothing sampled and the server is down: a clear error naming it, the runs and
    // prompts recorded.
    let err = t.fails(&["eval", "exp.toml", "--quiet"]);
    assert!(err.contains("http://127.0.0.1:9/v1"), "{err}");

    // GSM8K: problem p has p + 1 correct samples of 4.
    let gsm8k = Benchmark::Gsm8k.load(&LoadOptions::vendored()).unwrap();
    let gold: Vec<String> = gsm8k[..3].iter().map(|p| p.gold.clone().unwrap()).collect();
    let ids: Vec<String> = gsm8k[..3].iter().map(|p| p.id.clone()).collect();
    put_samples(
        &t,
        "gsm8k",
        4,
        |p, i| {
            if (i as usize) <= p {
                format!("Reasoning first. The answer is \\boxed{{{}}}.", gold[p])
            } else {
                "I am not sure. \\boxed{-1}".to_string()
            }
        },
        &ids,
    );
    // HumanEval+: the canonical solution of problem 0 twice; for problem 1 one correct
    // and one wrong program.
    let data = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../data/humaneval_plus/HumanEvalPlus-v0.1.10.jsonl"
    ))
    .unwrap();
    let rows: Vec<serde_json::Value> = data
        .lines()
        .take(2)
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let solution = |p: usize| {
        format!(
            "```python\n{}{}\n```",
            rows[p]["prompt"].as_str().unwrap(),
            rows[p]["canonical_solution"].as_str().unwrap()
        )
    };
    let ids: Vec<String> = rows
        .iter()
        .map(|r| r["task_id"].as_str().unwrap().to_owned())
        .collect();
    put_samples(
        &t,
        "humaneval_plus",
        2,
        |p, i| {
            if p == 1 && i == 1 {
                "```python\ndef separate_paren_groups(paren_string):\n    return []\n```".into()
            } else {
                solution(p)
            }
        },
        &ids,
    );

    // Now eval grades both kinds, analyses and writes the report.
    t.ok(&["eval", "exp.toml", "--quiet"]);
    let summary = std::fs::read_to_string(t.path("report/tables/summary.csv")).unwrap();
    let passk: serde_json::Value =
        serde_json::from_str(&t.ok(&["passk", "--store", "run.db", "--json", "--k", "1,2"]))
            .unwrap();
    let curves = passk["curves"].as_array().unwrap();
    let mean_at = |benchmark: &str, k: usize| {
        curves
            .iter()
            .find(|c| c["benchmark"] == benchmark)
            .unwrap_or_else(|| panic!("{benchmark} in {passk}"))["curve"][k]["pass_at_k"]
            .as_f64()
            .unwrap()
    };
    // pass@1 = mean accuracy: (1/4 + 2/4 + 3/4) / 3 = 0.5 and (1 + 1/2) / 2 = 0.75.
    assert!((mean_at("gsm8k", 0) - 0.5).abs() < 1e-9, "{passk}");
    assert!(
        (mean_at("humaneval_plus", 0) - 0.75).abs() < 1e-9,
        "{passk}"
    );
    // pass@2 of HumanEval+: both problems solved.
    assert!((mean_at("humaneval_plus", 1) - 1.0).abs() < 1e-9, "{passk}");
    assert!(summary.contains("gsm8k"), "{summary}");
    assert!(summary.contains("humaneval_plus"), "{summary}");
    for file in [
        "report/report.md",
        "report/report.html",
        "report/samples.html",
    ] {
        assert!(t.path(file).is_file(), "{file}");
    }

    // Running again grades nothing new and writes the same report.
    let before = std::fs::read_to_string(t.path("report/report.md")).unwrap();
    t.ok(&["eval", "exp.toml", "--quiet"]);
    assert_eq!(
        before,
        std::fs::read_to_string(t.path("report/report.md")).unwrap()
    );
}

#[test]
fn code_tests_the_verifier_cannot_read_stop_the_run_before_sampling() {
    let t = TestDir::new();
    let released = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../boundary-bench/tests/fixtures/mbpp_plus/MbppPlus-v0.2.0.jsonl.gz"
    );
    let text = experiment(
        &t,
        &format!("\n[[benchmark]]\nname = \"mbpp_plus\"\npath = \"{released}\"\nn = 4\n"),
    );
    t.write("exp.toml", &text);
    let err = t.fails(&["eval", "exp.toml", "--dry-run"]);
    assert!(err.contains("reading the tests of `mbpp_plus`"), "{err}");
    assert!(err.contains("uncompressed JSON Lines"), "{err}");
    assert!(!t.path("run.db").exists());
}

#[test]
fn no_sample_grades_and_reports_imported_samples() {
    let t = TestDir::new();
    t.write(
        "exp.toml",
        r#"store = "run.db"
out = "report"

[analysis]
bootstrap = 100

[[model]]
name = "qwen"
endpoint = "http://127.0.0.1:9/v1"

[[benchmark]]
name = "aime24"
n = 2
"#,
    );
    let err = t.fails(&["eval", "exp.toml", "--no-sample", "--quiet"]);
    assert!(
        err.contains("--no-sample reports the samples of an existing store"),
        "{err}"
    );

    // Samples made elsewhere, imported with their gold answers and a pipeline's own
    // (wrong) grades: of two problems, the first is answered right once, the second never.
    let line = |problem: &str, index: u32, response: &str, gold: &str| {
        serde_json::json!({"model": "qwen", "benchmark": "aime24", "problem_id": problem,
            "sample_index": index, "response": response, "gold": gold, "correct": true})
        .to_string()
    };
    t.write(
        "samples.jsonl",
        &[
            line("60", 0, "so it is \\boxed{204}", "204"),
            line("60", 1, "so it is \\boxed{205}", "204"),
            line("61", 0, "\\boxed{1}", "25"),
            line("61", 1, "no idea", "25"),
        ]
        .join("\n"),
    );
    t.ok(&["import", "--store", "run.db", "--input", "samples.jsonl"]);
    t.ok(&["eval", "exp.toml", "--no-sample", "--quiet"]);
    let report = std::fs::read_to_string(t.path("report/report.md")).unwrap();
    assert!(report.contains("aime24"), "{report}");
    // pass@1 = (1/2 + 0) / 2 = 25%, pass@2 = 50%: the math verifier graded them, and
    // the report reads its grades, not the imported ones.
    let summary = std::fs::read_to_string(t.path("report/tables/summary.csv")).unwrap();
    assert!(summary.contains("aime24,qwen,2,2,0.25,0.5,1,"), "{summary}");
    let passk: serde_json::Value = serde_json::from_str(&t.ok(&[
        "passk",
        "--store",
        "run.db",
        "--json",
        "--verifier",
        "math",
    ]))
    .unwrap();
    let curve = &passk["curves"][0]["curve"];
    assert_eq!(curve[0]["pass_at_k"], 0.25, "{passk}");
    assert_eq!(curve[1]["pass_at_k"], 0.5, "{passk}");
    // Nothing was planned or sampled: the store holds only the imported run.
    let runs: serde_json::Value =
        serde_json::from_str(&t.ok(&["runs", "--store", "run.db", "--json"])).unwrap();
    assert_eq!(runs["runs"].as_array().unwrap().len(), 1, "{runs}");
}

/// Every sample of a store as (model, benchmark, problem, index, response), sorted.
fn stored_samples(t: &TestDir) -> Vec<(String, String, String, u64, String)> {
    let exported = t.ok(&["export", "--store", "run.db", "--format", "jsonl"]);
    let mut rows: Vec<_> = exported
        .lines()
        .map(|l| {
            let row: serde_json::Value = serde_json::from_str(l).unwrap();
            assert_eq!(row["status"], "ok", "{row}");
            assert!(row["verdict"].is_string(), "graded: {row}");
            let text = |field: &str| row[field].as_str().unwrap().to_owned();
            (
                text("model"),
                text("benchmark"),
                text("problem_id"),
                row["sample_index"].as_u64().unwrap(),
                text("response"),
            )
        })
        .collect();
    rows.sort();
    rows
}

#[test]
fn samples_with_the_embedded_engine_then_grades_reports_and_tops_up() {
    let t = TestDir::new();
    let experiment = |n: u32| {
        format!(
            r#"store = "run.db"
out = "report"

[sampling]
max_tokens = 24

[analysis]
bootstrap = 50

[[model]]
name = "smollm2"
path = "{model}"
prompt = "chat"

[[benchmark]]
name = "gsm8k"
n = {n}
limit = 2
"#,
            model = common::smollm2().display()
        )
    };
    t.write("exp.toml", &experiment(2));
    t.ok(&["eval", "exp.toml", "--quiet"]);
    let first = stored_samples(&t);
    assert_eq!(first.len(), 4, "2 problems × 2 samples: {first:?}");
    assert!(first.iter().all(|s| !s.4.is_empty()), "{first:?}");
    let report = std::fs::read_to_string(t.path("report/report.md")).unwrap();
    assert!(report.contains("smollm2"), "{report}");

    // Running again makes nothing; a larger n tops the run up, keeping what it had.
    t.ok(&["eval", "exp.toml", "--quiet"]);
    assert_eq!(stored_samples(&t), first);
    t.write("exp.toml", &experiment(3));
    t.ok(&["eval", "exp.toml", "--quiet"]);
    let topped_up = stored_samples(&t);
    assert_eq!(topped_up.len(), 6, "{topped_up:?}");
    for sample in &first {
        assert!(topped_up.contains(sample), "kept: {sample:?}");
    }

    // Another setting makes a new run; the report's results are its alone, not mixed with
    // or shown beside the old run's (which stays in the store and its list of runs).
    t.write(
        "exp.toml",
        &experiment(3).replace("max_tokens = 24", "max_tokens = 20"),
    );
    t.ok(&["eval", "exp.toml", "--quiet"]);
    assert_eq!(stored_samples(&t).len(), 12);
    let summary = std::fs::read_to_string(t.path("report/tables/summary.csv")).unwrap();
    let rows: Vec<&str> = summary
        .lines()
        .filter(|l| l.starts_with("gsm8k,"))
        .collect();
    assert_eq!(rows.len(), 1, "{summary}");
    assert!(
        rows[0].starts_with("gsm8k,smollm2,2,3,"),
        "2 problems × 3: {summary}"
    );
}

/// The instant OpenAI-compatible test server on a free port, served by `runtime`.
fn instant_server(runtime: &tokio::runtime::Runtime) -> boundary_testserver::InstantServer {
    runtime
        .block_on(boundary_testserver::InstantServer::start(
            "127.0.0.1:0".parse().unwrap(),
            boundary_testserver::InstantConfig::default(),
        ))
        .unwrap()
}

#[test]
fn samples_through_an_openai_server_then_grades_and_reports() {
    use std::sync::atomic::Ordering;
    let runtime = tokio::runtime::Runtime::new().unwrap();
    // One server per model, so each model's requests can be told apart.
    let (server, low_server) = (instant_server(&runtime), instant_server(&runtime));
    let t = TestDir::new();
    t.write(
        "exp.toml",
        &format!(
            r#"store = "run.db"
out = "report"

[sampling]
max_tokens = 64

[analysis]
bootstrap = 50

[[model]]
name = "low"
endpoint = "{low_url}"
served_model = "test-model"
sampling = {{ temperature = 0.3 }}
chunk_size = 2
max_in_flight = 1

[[model]]
name = "high"
endpoint = "{url}"
served_model = "test-model"
sampling = {{ temperature = 1.0 }}

[[benchmark]]
name = "gsm8k"
n = 4
limit = 3

[[benchmark]]
name = "math500"
n = 2
limit = 2
"#,
            url = server.base_url(),
            low_url = low_server.base_url()
        ),
    );
    t.ok(&["eval", "exp.toml", "--quiet"]);
    // 2 models × (3 × 4 + 2 × 2) samples, every one stored and graded.
    assert_eq!(stored_samples(&t).len(), 32);
    let exported = t.ok(&["export", "--store", "run.db", "--format", "jsonl"]);
    assert!(
        exported.lines().all(|l| l.contains("boxed")),
        "the paper's template asks for a boxed answer: {exported}"
    );
    for file in [
        "report/report.md",
        "report/report.html",
        "report/samples.html",
    ] {
        assert!(t.path(file).is_file(), "{file}");
    }
    // Each model's own chunk size: "low" asks for at most 2 samples a request, "high" for
    // up to the default 16 (its start-up probe checks that the server takes 16).
    assert_eq!(low_server.stats.largest_n.load(Ordering::SeqCst), 2);
    assert_eq!(server.stats.largest_n.load(Ordering::SeqCst), 16);
    let requests = server.stats.generation_requests.load(Ordering::SeqCst)
        + low_server.stats.generation_requests.load(Ordering::SeqCst);
    // Running again asks the server for nothing: every sample is in the store.
    t.ok(&["eval", "exp.toml", "--quiet"]);
    assert_eq!(
        server.stats.generation_requests.load(Ordering::SeqCst)
            + low_server.stats.generation_requests.load(Ordering::SeqCst),
        requests
    );
}

/// The report's files and the Markdown headings of report.md, for comparing structure.
fn report_structure(t: &TestDir, dir: &str) -> (Vec<String>, Vec<String>) {
    let mut files = Vec::new();
    let mut pending = vec![t.path(dir)];
    while let Some(folder) = pending.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let relative = path.strip_prefix(t.path(dir)).unwrap();
                files.push(relative.display().to_string());
            }
        }
    }
    files.sort();
    let markdown = std::fs::read_to_string(t.path(dir).join("report.md")).unwrap();
    let headings = markdown
        .lines()
        .filter(|l| l.starts_with('#'))
        .map(str::to_owned)
        .collect();
    (files, headings)
}

#[test]
fn the_embedded_engine_and_llama_server_give_the_same_report_structure() {
    let server =
        boundary_testserver::RealServer::llama_server(4, 2048).unwrap_or_else(|e| panic!("{e}"));
    let t = TestDir::new();
    let experiment = |out: &str, model: &str| {
        format!(
            r#"title = "SmolLM2 on GSM8K and MATH500"
store = "{out}.db"
out = "{out}"

[sampling]
max_tokens = 16

[analysis]
bootstrap = 50

[[model]]
name = "smollm2"
{model}
prompt = "chat"

[[benchmark]]
name = "gsm8k"
n = 2
limit = 2

[[benchmark]]
name = "math500"
n = 2
limit = 1
"#
        )
    };
    let embedded = format!("path = \"{}\"", common::smollm2().display());
    let served = format!(
        "endpoint = \"{}\"\nserved_model = \"{}\"",
        server.base_url(),
        server.model_id
    );
    t.write("embedded.toml", &experiment("embedded", &embedded));
    t.write("served.toml", &experiment("served", &served));
    t.ok(&["eval", "embedded.toml", "--quiet"]);
    t.ok(&["eval", "served.toml", "--quiet"]);
    let (files, headings) = report_structure(&t, "embedded");
    assert!(files.contains(&"report.html".to_owned()), "{files:?}");
    assert!(
        headings.iter().any(|h| h.contains("math500")),
        "{headings:?}"
    );
    assert_eq!(report_structure(&t, "served"), (files, headings));
}

/// A server model's stage installs a Ctrl-C handler (its graceful stop) that lives as long
/// as the process; the stages after it must still stop on Ctrl-C, here the embedded model's
/// sampling, and what they stored must survive for the re-run to finish.
#[test]
fn ctrl_c_still_stops_the_stages_after_a_server_model() {
    use std::os::unix::process::ExitStatusExt;
    use std::process::{Command, Stdio};

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = instant_server(&runtime);
    let t = TestDir::new();
    t.write(
        "exp.toml",
        &format!(
            r#"store = "run.db"
out = "report"

[sampling]
max_tokens = 256

[[model]]
name = "served"
endpoint = "{url}"
served_model = "test-model"

[[model]]
name = "smollm2"
path = "{model}"
prompt = "chat"

[[benchmark]]
name = "gsm8k"
n = 8
limit = 2
"#,
            url = server.base_url(),
            model = common::smollm2().display()
        ),
    );
    let samples_of = |model: &str| -> u64 {
        // Unreadable while eval is still creating the store: nothing stored yet.
        let runs = t.samples_per_run("run.db").unwrap_or_default();
        runs.iter()
            .filter(|(m, _)| m == model)
            .map(|(_, n)| n)
            .sum()
    };
    let mut eval = Command::new(env!("CARGO_BIN_EXE_boundary"))
        .args(["eval", "exp.toml", "--quiet"])
        .current_dir(t.dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // The server model is sampled first; Ctrl-C comes once the embedded one stored a sample.
    while samples_of("smollm2") == 0 {
        assert!(
            eval.try_wait().unwrap().is_none(),
            "eval ended before the embedded model stored anything"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(samples_of("served"), 16);
    let signalled = Command::new("kill")
        .args(["-INT", &eval.id().to_string()])
        .status()
        .unwrap();
    assert!(signalled.success());
    let status = eval.wait().unwrap();
    assert_eq!(
        status.signal(),
        Some(2), // SIGINT
        "Ctrl-C ended the embedded stage ({status}), not swallowed by the server stage's handler"
    );
    let responses = |t: &TestDir| -> Vec<(String, u64, String)> {
        let exported = t.ok(&["export", "--store", "run.db", "--format", "jsonl"]);
        exported
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .filter(|row| row["model"] == "smollm2")
            .map(|row| {
                (
                    row["problem_id"].as_str().unwrap().to_owned(),
                    row["sample_index"].as_u64().unwrap(),
                    row["response"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    let kept = responses(&t);
    assert!(!kept.is_empty());

    t.ok(&["eval", "exp.toml", "--quiet"]);
    assert_eq!(stored_samples(&t).len(), 32, "2 models × 2 problems × 8");
    let finished = responses(&t);
    for sample in &kept {
        assert!(finished.contains(sample), "kept: {sample:?}");
    }
}
