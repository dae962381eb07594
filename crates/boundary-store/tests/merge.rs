//! `merge_stores`: shards combine into one store, identical rows are not duplicated, a
//! completed sample replaces a failed one, and every disagreement is reported while the
//! destination keeps its value.

use std::path::{Path, PathBuf};

use boundary_store::{
    MergeError, NewGrade, NewSample, NewScore, RunSpec, SampleOutcome, Store, merge_stores,
};
use serde_json::json;

fn spec(model: &str) -> RunSpec {
    RunSpec {
        model: model.into(),
        benchmark: "math".into(),
        source: "openai".into(),
        sampling: json!({"temperature": 0.6, "top_p": 0.95, "max_tokens": 64}),
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
        prompt_tokens: None,
        completion_tokens: Some(3),
    }
}

fn failed(problem: &str, index: u32) -> NewSample {
    NewSample {
        outcome: SampleOutcome::Failed {
            error: "HTTP 500".into(),
        },
        ..ok(problem, index, "")
    }
}

/// A store with one run of `model` holding `samples`, each problem with gold "4".
fn store_with(dir: &Path, name: &str, model: &str, samples: &[NewSample]) -> PathBuf {
    let path = dir.join(name);
    let mut store = Store::open(&path).unwrap();
    let run = store.ensure_run(&spec(model)).unwrap();
    let mut writer = store.writer().unwrap();
    for sample in samples {
        writer
            .ensure_problem("math", &sample.problem, Some("4"), None)
            .unwrap();
        writer
            .set_prompt(run.id, &sample.problem, &format!("Q {}", sample.problem))
            .unwrap();
        writer.put_sample(run.id, sample).unwrap();
    }
    writer.commit().unwrap();
    path
}

fn grade(store_path: &Path, problem: &str, index: u32, correct: bool) {
    let mut store = Store::open_existing(store_path).unwrap();
    let run = store.runs().unwrap()[0].clone();
    let mut writer = store.writer().unwrap();
    writer
        .put_grade(
            run.id,
            &NewGrade {
                problem: problem.into(),
                sample_index: index,
                verifier: "math".into(),
                verdict: if correct { "correct" } else { "wrong" }.into(),
                correct,
                extracted: Some("4".into()),
                detail: None,
            },
        )
        .unwrap();
    writer
        .put_score(
            run.id,
            &NewScore {
                problem: problem.into(),
                sample_index: index,
                scorer: "smol".into(),
                logprob_sum: -3.5,
                num_tokens: 3,
            },
        )
        .unwrap();
    writer.commit().unwrap();
}

#[test]
fn shards_merge_into_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let a = store_with(
        dir.path(),
        "a.db",
        "m",
        &[ok("p1", 0, "x"), ok("p1", 1, "y")],
    );
    let b = store_with(
        dir.path(),
        "b.db",
        "m",
        &[ok("p2", 0, "z"), ok("p2", 1, "w")],
    );
    grade(&b, "p2", 0, true);
    let merged_path = dir.path().join("merged.db");
    let mut merged = Store::open(&merged_path).unwrap();
    let summary = merge_stores(&mut merged, &[a.as_path(), b.as_path()]).unwrap();
    assert_eq!(summary.runs_added, 1);
    assert_eq!(summary.runs_matched, 1, "both shards are the same run");
    assert_eq!(summary.problems_added, 2);
    assert_eq!(summary.samples_added, 4);
    assert_eq!((summary.grades_added, summary.scores_added), (1, 1));
    assert_eq!(summary.conflict_count, 0);
    let counts = merged.table_counts().unwrap();
    assert_eq!(counts["runs"], 1);
    assert_eq!(counts["samples"], 4);
    assert_eq!(counts["prompts"], 2);
    assert_eq!(counts["grades"], 1);
    assert_eq!(merged.integrity_check().unwrap(), vec!["ok".to_string()]);

    // Merging again adds nothing.
    let again = merge_stores(&mut merged, &[a.as_path(), b.as_path()]).unwrap();
    assert_eq!((again.samples_added, again.samples_unchanged), (0, 4));
    assert_eq!(again.grades_added, 0);
    assert_eq!(merged.table_counts().unwrap()["samples"], 4);
}

#[test]
fn completed_samples_replace_failed_ones() {
    let dir = tempfile::tempdir().unwrap();
    let dest = store_with(
        dir.path(),
        "dest.db",
        "m",
        &[failed("p1", 0), ok("p1", 1, "y")],
    );
    let src = store_with(
        dir.path(),
        "src.db",
        "m",
        &[ok("p1", 0, "x"), failed("p1", 1)],
    );
    let mut store = Store::open_existing(&dest).unwrap();
    let summary = merge_stores(&mut store, &[src.as_path()]).unwrap();
    assert_eq!(summary.samples_completed, 1);
    assert_eq!(
        summary.samples_unchanged, 1,
        "a failure never replaces a completed sample"
    );
    let run = store.runs().unwrap()[0].clone();
    assert_eq!(
        store.missing_indices(run.id, "p1", 2).unwrap(),
        Vec::<u32>::new()
    );
    assert_eq!(store.sample_stats(run.id).unwrap().failed, 0);
}

#[test]
fn disagreements_are_reported_and_the_destination_kept() {
    let dir = tempfile::tempdir().unwrap();
    let dest = store_with(dir.path(), "dest.db", "m", &[ok("p1", 0, "mine")]);
    let src = store_with(
        dir.path(),
        "src.db",
        "m",
        &[ok("p1", 0, "theirs"), ok("p1", 1, "new")],
    );
    grade(&src, "p1", 0, true);
    // A different gold answer for the same problem.
    {
        let mut store = Store::open_existing(&src).unwrap();
        let mut writer = store.writer().unwrap();
        writer
            .ensure_problem("math", "p9", Some("7"), None)
            .unwrap();
        writer.commit().unwrap();
        let mut store = Store::open_existing(&dest).unwrap();
        let mut writer = store.writer().unwrap();
        writer
            .ensure_problem("math", "p9", Some("8"), None)
            .unwrap();
        writer.commit().unwrap();
    }
    let mut store = Store::open_existing(&dest).unwrap();
    let summary = merge_stores(&mut store, &[src.as_path()]).unwrap();
    assert_eq!(summary.conflict_count, 2, "{:?}", summary.conflicts);
    let kinds: Vec<&str> = summary.conflicts.iter().map(|c| c.kind).collect();
    assert_eq!(kinds, vec!["gold", "sample"]);
    assert_eq!(summary.conflicts[1].sample_index, Some(0));
    assert_eq!(summary.samples_added, 1, "the rest still merges");
    assert_eq!(
        (summary.grades_added, summary.annotations_skipped),
        (0, 2),
        "the grade and score of a conflicting sample describe the other response"
    );
    let run = store.runs().unwrap()[0].clone();
    let counts = store.counts(&run, None).unwrap();
    assert_eq!(counts.ungraded_samples, 2);
    drop(store);
    let exported = Store::open_existing(&dest).unwrap();
    assert_eq!(exported.table_counts().unwrap()["grades"], 0);
}

#[test]
fn a_store_is_not_merged_into_itself_and_missing_sources_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = store_with(dir.path(), "one.db", "m", &[ok("p1", 0, "x")]);
    let mut store = Store::open_existing(&path).unwrap();
    let err = merge_stores(&mut store, &[path.as_path()]).unwrap_err();
    assert!(matches!(err, MergeError::SameStore(_)), "{err}");
    let missing = dir.path().join("nope.db");
    let err = merge_stores(&mut store, &[missing.as_path()]).unwrap_err();
    assert!(err.to_string().contains("nope.db"), "{err}");
    assert_eq!(store.table_counts().unwrap()["samples"], 1);
}

#[test]
fn duplicate_responses_are_counted_per_problem() {
    let dir = tempfile::tempdir().unwrap();
    let path = store_with(
        dir.path(),
        "dups.db",
        "m",
        &[
            ok("p1", 0, "same"),
            ok("p1", 1, "same"),
            ok("p1", 2, "same"),
            ok("p1", 3, "other"),
            ok("p2", 0, "a"),
            ok("p2", 1, "b"),
            failed("p2", 2),
        ],
    );
    let store = Store::open_existing(&path).unwrap();
    let run = store.runs().unwrap()[0].clone();
    let duplicates = store.duplicate_responses(run.id).unwrap();
    assert_eq!(duplicates.len(), 1);
    assert_eq!(duplicates[0].problem, "p1");
    assert_eq!((duplicates[0].samples, duplicates[0].duplicates), (4, 2));
}
