//! Stores written by earlier releases keep opening.
//!
//! `tests/data/schema-vN.db` is a store written by the release that introduced schema
//! version N (made with `boundary import` of a small file, then never edited). Every
//! later build must open it, migrate it, and read the same samples and grades.

use boundary_core::ProblemCounts;
use boundary_store::{
    ExportFilter, ExportFormat, Store, StoreError, export, schema::LATEST_VERSION,
};

fn open_copy(fixture: &str) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(fixture);
    std::fs::copy(source, &path).unwrap();
    let store = Store::open_existing(&path).unwrap();
    (dir, store)
}

#[test]
fn version_1_store_opens_and_reads() {
    let (_dir, store) = open_copy("schema-v1.db");
    assert_eq!(store.schema_version().unwrap(), LATEST_VERSION);
    let runs = store.runs().unwrap();
    assert_eq!(runs.len(), 2);
    assert_eq!((runs[0].model.as_str(), runs[0].seed), ("base", Some(3)));
    let counts = store.counts(&runs[0], None).unwrap();
    assert_eq!(counts.problems, vec![ProblemCounts::new("1", 2, 1)]);
    assert_eq!(counts.failed_samples, 1);
    let mut out = Vec::new();
    assert_eq!(
        export(
            &store,
            &ExportFilter::default(),
            ExportFormat::Jsonl,
            &mut out
        )
        .unwrap(),
        4
    );
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.contains(r#""sampling":"{\"temperature\":0.6}""#),
        "{text}"
    );
}

#[test]
fn a_newer_store_is_refused_with_advice() {
    let (dir, store) = open_copy("schema-v1.db");
    drop(store);
    let path = dir.path().join("store.db");
    let status = std::process::Command::new("python3")
        .args(["-c", "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute('PRAGMA user_version=99'); c.commit()"])
        .arg(&path)
        .status()
        .unwrap();
    assert!(status.success());
    let err = Store::open_existing(&path).err().unwrap();
    assert!(matches!(err, StoreError::TooNew { found: 99, .. }), "{err}");
    assert!(err.to_string().contains("upgrade Boundary"), "{err}");
}
