//! The store's write and read semantics: idempotence, conflicts, failures, counts.

use boundary_core::ProblemCounts;
use boundary_store::{
    NewGrade, NewSample, NewScore, RunSpec, SampleOutcome, SampleWrite, Store, StoreError,
};
use serde_json::json;

fn spec(model: &str) -> RunSpec {
    RunSpec {
        model: model.into(),
        benchmark: "gsm8k".into(),
        source: "test".into(),
        sampling: json!({"temperature": 0.6, "top_p": 0.95}),
        seed: Some(0),
    }
}

fn ok(problem: &str, index: u32, response: &str) -> NewSample {
    NewSample {
        problem: problem.into(),
        sample_index: index,
        outcome: SampleOutcome::Ok {
            response: response.into(),
        },
        finish_reason: Some("stop".into()),
        prompt_tokens: Some(10),
        completion_tokens: Some(3),
    }
}

fn failed(problem: &str, index: u32) -> NewSample {
    NewSample {
        problem: problem.into(),
        sample_index: index,
        outcome: SampleOutcome::Failed {
            error: "HTTP 503 after 5 retries".into(),
        },
        finish_reason: None,
        prompt_tokens: None,
        completion_tokens: None,
    }
}

fn grade(problem: &str, index: u32, correct: bool) -> NewGrade {
    NewGrade {
        problem: problem.into(),
        sample_index: index,
        verifier: "math".into(),
        verdict: if correct { "correct" } else { "incorrect" }.into(),
        correct,
        extracted: Some("42".into()),
        detail: Some(json!({"rule": "exact"})),
    }
}

fn temp_store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("run.db")).unwrap();
    (dir, store)
}

#[test]
fn runs_are_identified_by_model_benchmark_and_settings() {
    let (_dir, mut store) = temp_store();
    let a = store.ensure_run(&spec("base")).unwrap();
    let again = store.ensure_run(&spec("base")).unwrap();
    assert_eq!(a, again, "same spec resumes the same run");

    let mut reordered = spec("base");
    reordered.sampling = json!({"top_p": 0.95, "temperature": 0.6});
    assert_eq!(
        store.ensure_run(&reordered).unwrap().id,
        a.id,
        "key order is irrelevant"
    );

    let mut hotter = spec("base");
    hotter.sampling = json!({"temperature": 1.0, "top_p": 0.95});
    assert_ne!(
        store.ensure_run(&hotter).unwrap().id,
        a.id,
        "other settings, other run"
    );
    assert_ne!(store.ensure_run(&spec("rl")).unwrap().id, a.id);
    assert_eq!(store.runs().unwrap().len(), 3);
}

#[test]
fn sample_writes_are_idempotent() {
    let (_dir, mut store) = temp_store();
    let run = store.ensure_run(&spec("base")).unwrap();
    let mut w = store.writer().unwrap();
    assert_eq!(
        w.put_sample(run.id, &ok("p1", 0, "a")).unwrap(),
        SampleWrite::Inserted
    );
    assert_eq!(
        w.put_sample(run.id, &ok("p1", 0, "a")).unwrap(),
        SampleWrite::Unchanged
    );
    assert_eq!(
        w.put_sample(run.id, &ok("p1", 0, "b")).unwrap(),
        SampleWrite::Conflict
    );
    assert_eq!(
        w.put_sample(run.id, &failed("p1", 0)).unwrap(),
        SampleWrite::Unchanged
    );
    assert_eq!(
        w.put_sample(run.id, &failed("p1", 1)).unwrap(),
        SampleWrite::Inserted
    );
    assert_eq!(
        w.put_sample(run.id, &failed("p1", 1)).unwrap(),
        SampleWrite::Unchanged
    );
    assert_eq!(
        w.put_sample(run.id, &ok("p1", 1, "c")).unwrap(),
        SampleWrite::ReplacedFailed
    );
    w.commit().unwrap();
    assert_eq!(store.table_counts().unwrap()["samples"], 2);
    let exported = store.missing_indices(run.id, "p1", 4).unwrap();
    assert_eq!(exported, vec![2, 3]);
}

#[test]
fn uncommitted_writes_roll_back() {
    let (_dir, mut store) = temp_store();
    let run = store.ensure_run(&spec("base")).unwrap();
    {
        let mut w = store.writer().unwrap();
        w.put_sample(run.id, &ok("p1", 0, "a")).unwrap();
        // dropped without commit
    }
    assert_eq!(store.table_counts().unwrap()["samples"], 0);
}

#[test]
fn counts_use_graded_completed_samples_only() {
    let (_dir, mut store) = temp_store();
    let run = store.ensure_run(&spec("base")).unwrap();
    let mut w = store.writer().unwrap();
    for i in 0..4 {
        w.put_sample(run.id, &ok("p1", i, "x")).unwrap();
    }
    w.put_sample(run.id, &ok("p2", 0, "x")).unwrap();
    w.put_sample(run.id, &failed("p2", 1)).unwrap();
    w.put_sample(run.id, &ok("p3", 0, "ungraded")).unwrap();
    for i in 0..4 {
        w.put_grade(run.id, &grade("p1", i, i == 2)).unwrap();
    }
    w.put_grade(run.id, &grade("p2", 0, false)).unwrap();
    w.commit().unwrap();

    let counts = store.counts(&run, None).unwrap();
    assert_eq!(counts.verifier.as_deref(), Some("math"));
    assert_eq!(
        counts.problems,
        vec![
            ProblemCounts::new("p1", 4, 1),
            ProblemCounts::new("p2", 1, 0)
        ]
    );
    assert_eq!(counts.failed_samples, 1);
    assert_eq!(counts.ungraded_samples, 1);
    let ungraded = store.ungraded(run.id, "math", None, 10).unwrap();
    assert_eq!(ungraded.len(), 1);
    assert_eq!(
        (ungraded[0].problem.as_str(), ungraded[0].response.as_str()),
        ("p3", "ungraded")
    );
    let after = Some(ungraded[0].cursor);
    assert!(
        store
            .ungraded(run.id, "math", after, 10)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn ungraded_samples_come_in_pages() {
    let (_dir, mut store) = temp_store();
    let run = store.ensure_run(&spec("base")).unwrap();
    let mut w = store.writer().unwrap();
    for p in ["b", "a", "c"] {
        for i in 0..5 {
            w.put_sample(run.id, &ok(p, i, "x")).unwrap();
        }
    }
    w.put_grade(run.id, &grade("a", 2, true)).unwrap();
    w.commit().unwrap();
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = store.ungraded(run.id, "math", after, 4).unwrap();
        let Some(last) = page.last() else { break };
        assert!(page.len() <= 4);
        after = Some(last.cursor);
        seen.extend(
            page.iter()
                .map(|s| format!("{}{}", s.problem, s.sample_index)),
        );
    }
    // Problems in the order they were stored, the graded sample left out, none twice.
    let expected: Vec<String> = ["b", "a", "c"]
        .iter()
        .flat_map(|p| (0..5).map(move |i| format!("{p}{i}")))
        .filter(|s| s != "a2")
        .collect();
    assert_eq!(seen, expected);
}

#[test]
fn regrading_replaces_and_several_verifiers_need_a_choice() {
    let (_dir, mut store) = temp_store();
    let run = store.ensure_run(&spec("base")).unwrap();
    let mut w = store.writer().unwrap();
    w.put_sample(run.id, &ok("p1", 0, "x")).unwrap();
    w.put_grade(run.id, &grade("p1", 0, false)).unwrap();
    w.put_grade(run.id, &grade("p1", 0, true)).unwrap();
    let mut other = grade("p1", 0, false);
    other.verifier = "math-verify".into();
    w.put_grade(run.id, &other).unwrap();
    w.commit().unwrap();
    assert_eq!(store.table_counts().unwrap()["grades"], 2);

    let err = store.counts(&run, None).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "run {} (base on gsm8k) has grades from several verifiers (math, math-verify); \
             choose one with --verifier",
            run.id
        )
    );
    let math = store.counts(&run, Some("math")).unwrap();
    assert_eq!(math.problems, vec![ProblemCounts::new("p1", 1, 1)]);
    let mv = store.counts(&run, Some("math-verify")).unwrap();
    assert_eq!(mv.problems, vec![ProblemCounts::new("p1", 1, 0)]);
}

#[test]
fn grades_and_scores_need_a_completed_sample() {
    let (_dir, mut store) = temp_store();
    let run = store.ensure_run(&spec("base")).unwrap();
    let mut w = store.writer().unwrap();
    w.put_sample(run.id, &failed("p1", 0)).unwrap();
    let err = w.put_grade(run.id, &grade("p1", 0, true)).unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::NoSuchSample {
                sample_index: 0,
                ..
            }
        ),
        "{err}"
    );
    let err = w
        .put_grade(run.id, &grade("never-sampled", 0, true))
        .unwrap_err();
    assert!(matches!(err, StoreError::NoSuchSample { .. }), "{err}");
    w.put_sample(run.id, &ok("p1", 1, "x")).unwrap();
    let score = NewScore {
        problem: "p1".into(),
        sample_index: 1,
        scorer: "base".into(),
        logprob_sum: -12.5,
        num_tokens: 5,
    };
    w.put_score(run.id, &score).unwrap();
    w.put_score(run.id, &score).unwrap();
    w.commit().unwrap();
    assert_eq!(store.table_counts().unwrap()["scores"], 1);
}

#[test]
fn gold_answers_never_change_silently() {
    let (_dir, mut store) = temp_store();
    let mut w = store.writer().unwrap();
    w.ensure_problem("gsm8k", "p1", None, None).unwrap();
    w.ensure_problem("gsm8k", "p1", Some("18"), None).unwrap();
    w.ensure_problem("gsm8k", "p1", Some("18"), None).unwrap();
    let err = w
        .ensure_problem("gsm8k", "p1", Some("19"), None)
        .unwrap_err();
    assert!(matches!(err, StoreError::GoldConflict { .. }), "{err}");
    // Another benchmark may reuse the key.
    w.ensure_problem("math500", "p1", Some("19"), None).unwrap();
}

#[test]
fn missing_and_foreign_files_are_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.db");
    let err = Store::open_existing(&missing).err().unwrap();
    assert!(err.to_string().starts_with("no store at"), "{err}");
    assert!(
        !missing.exists(),
        "opening for reading must not create a store"
    );

    let text = dir.path().join("notes.txt");
    std::fs::write(
        &text,
        "this is not a database, just some text that is long enough",
    )
    .unwrap();
    let err = Store::open_existing(&text).err().unwrap();
    assert!(err.to_string().contains("is not a Boundary store"), "{err}");

    let other = dir.path().join("other.db");
    rusqlite_create_foreign(&other);
    let err = Store::open_existing(&other).err().unwrap();
    assert!(err.to_string().contains("another application"), "{err}");
}

/// Another application's SQLite file, made with Python's own sqlite3 module.
fn rusqlite_create_foreign(path: &std::path::Path) {
    let status = std::process::Command::new("python3")
        .args([
            "-c",
            "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute('CREATE TABLE t(x)'); c.commit()",
        ])
        .arg(path)
        .status()
        .expect("python3 runs");
    assert!(status.success());
}

#[test]
fn reopening_keeps_everything() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.db");
    {
        let mut store = Store::open(&path).unwrap();
        let run = store.ensure_run(&spec("base")).unwrap();
        let mut w = store.writer().unwrap();
        w.set_prompt(run.id, "p1", "What is 6 x 7?").unwrap();
        w.put_sample(run.id, &ok("p1", 0, "42")).unwrap();
        w.commit().unwrap();
    }
    let store = Store::open_existing(&path).unwrap();
    assert_eq!(
        store.schema_version().unwrap(),
        boundary_store::schema::LATEST_VERSION
    );
    assert_eq!(store.integrity_check().unwrap(), vec!["ok"]);
    let counts = store.table_counts().unwrap();
    assert_eq!(
        (counts["runs"], counts["prompts"], counts["samples"]),
        (1, 1, 1)
    );
}
