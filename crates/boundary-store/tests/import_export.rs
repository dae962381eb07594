//! Import and export: idempotence, round trips through every format, and the error
//! messages users see for malformed input (snapshot-tested).

use boundary_store::{
    ExportFilter, ExportFormat, ImportError, Store, export, import_jsonl, read_counts,
};
use parquet::file::reader::{FileReader, SerializedFileReader};
use serde_json::{Value, json};

const SAMPLES: &str = r#"{"model": "base", "benchmark": "gsm8k", "problem_id": "1", "sample_index": 0, "response": "The answer is 18.", "correct": true, "gold": "18", "prompt": "Janet's ducks...", "finish_reason": "stop", "num_tokens": 5}
{"model": "base", "benchmark": "gsm8k", "problem_id": "1", "sample_index": 1, "response": "It is 17.", "correct": false, "gold": "18"}
{"model": "base", "benchmark": "gsm8k", "problem_id": 2, "sample_index": 0, "status": "failed", "error": "timeout"}
{"model": "rl", "benchmark": "gsm8k", "problem_id": "1", "sample_index": 0, "response": "18", "verdict": "correct", "verifier": "math", "extracted": "18"}

{"model": "rl", "benchmark": "gsm8k", "problem_id": 2, "sample_index": 0, "response": "\\boxed{3}"}
"#;

fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("run.db")).unwrap();
    (dir, store)
}

fn import(store: &mut Store, text: &str) -> Result<boundary_store::ImportSummary, ImportError> {
    import_jsonl(store, text.as_bytes(), "samples.jsonl", |_| {})
}

#[test]
fn importing_twice_adds_nothing() {
    let (_dir, mut store) = store();
    let first = import(&mut store, SAMPLES).unwrap();
    insta::assert_json_snapshot!("first_import", first);
    let second = import(&mut store, SAMPLES).unwrap();
    assert_eq!((second.inserted, second.unchanged), (0, 5));
    let counts = store.table_counts().unwrap();
    assert_eq!(
        (counts["runs"], counts["samples"], counts["grades"]),
        (2, 5, 3)
    );
}

fn export_string(store: &Store, format: ExportFormat) -> String {
    let mut out = Vec::new();
    export(store, &ExportFilter::default(), format, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn jsonl_export_reimports_identically() {
    let (_dir, mut store) = store();
    import(&mut store, SAMPLES).unwrap();
    let exported = export_string(&store, ExportFormat::Jsonl);
    insta::assert_snapshot!("export_jsonl", exported);

    let (_dir2, mut fresh) = self::store();
    let summary = import(&mut fresh, &exported).unwrap();
    assert_eq!(summary.inserted, 5);
    assert_eq!(
        export_string(&fresh, ExportFormat::Jsonl),
        exported,
        "round trip is exact"
    );
    // and importing the export back into the original store changes nothing
    let again = import(&mut store, &exported).unwrap();
    assert_eq!((again.inserted, again.unchanged), (0, 5));
}

#[test]
fn csv_export_has_the_same_rows() {
    let (_dir, mut store) = store();
    import(&mut store, SAMPLES).unwrap();
    let csv_text = export_string(&store, ExportFormat::Csv);
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let headers = reader.headers().unwrap().clone();
    for field in [
        "model",
        "benchmark",
        "problem_id",
        "sample_index",
        "response",
        "status",
        "correct",
        "verdict",
    ] {
        assert!(
            headers.iter().any(|h| h == field),
            "CSV lacks {field}: {headers:?}"
        );
    }
    let rows: Vec<_> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 5);
    let jsonl: Vec<Value> = export_string(&store, ExportFormat::Jsonl)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for (row, json) in rows.iter().zip(&jsonl) {
        for (h, v) in headers.iter().zip(row.iter()) {
            let expected = match &json[h] {
                Value::Null => String::new(),
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            assert_eq!(v, expected, "column {h}");
        }
    }
}

#[test]
fn parquet_export_reads_back() {
    let (dir, mut store) = store();
    import(&mut store, SAMPLES).unwrap();
    let path = dir.path().join("samples.parquet");
    let file = std::fs::File::create(&path).unwrap();
    let rows = export(
        &store,
        &ExportFilter::default(),
        ExportFormat::Parquet,
        file,
    )
    .unwrap();
    assert_eq!(rows, 5);

    let reader = SerializedFileReader::new(std::fs::File::open(&path).unwrap()).unwrap();
    assert_eq!(reader.metadata().file_metadata().num_rows(), 5);
    let jsonl: Vec<Value> = export_string(&store, ExportFormat::Jsonl)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for (row, expected) in reader.get_row_iter(None).unwrap().zip(&jsonl) {
        let row = row.unwrap().to_json_value();
        for field in [
            "model",
            "benchmark",
            "problem_id",
            "sample_index",
            "status",
            "response",
            "correct",
            "verdict",
            "sampling",
        ] {
            assert_eq!(row[field], expected[field], "column {field}");
        }
    }
}

#[test]
fn filters_select_runs() {
    let (_dir, mut store) = store();
    import(&mut store, SAMPLES).unwrap();
    let mut out = Vec::new();
    let filter = ExportFilter {
        model: Some("rl".into()),
        ..Default::default()
    };
    assert_eq!(
        export(&store, &filter, ExportFormat::Jsonl, &mut out).unwrap(),
        2
    );
}

/// Runs an import of `text` and returns the error message the user would see.
fn import_error(text: &str) -> String {
    let (_dir, mut store) = store();
    let err = import(&mut store, text).unwrap_err();
    assert_eq!(
        store.table_counts().unwrap()["samples"],
        0,
        "a failed import writes nothing"
    );
    err.to_string()
}

#[test]
fn error_messages_for_malformed_samples() {
    let ok = json!({"model": "m", "benchmark": "b", "problem_id": "p", "sample_index": 0, "response": "x"});
    let mut missing = ok.clone();
    missing.as_object_mut().unwrap().remove("sample_index");
    let mut wrong_type = ok.clone();
    wrong_type["sample_index"] = json!("three");
    let mut wrong_bool = ok.clone();
    wrong_bool["correct"] = json!("yes");
    wrong_bool["sample_index"] = json!(1);
    let text = format!(
        "{ok}\n{{\"model\": \"m\", \"benchmark\": \n{missing}\n{wrong_type}\n{wrong_bool}\n42\n"
    );
    insta::assert_snapshot!("malformed_samples", import_error(&text));
}

#[test]
fn error_messages_for_files_that_are_not_jsonl() {
    let cases = [
        ("empty", String::new()),
        (
            "csv",
            "model,benchmark,problem_id,sample_index,response\nm,b,1,0,x\n".to_string(),
        ),
        ("json_array", "[\n  {\"model\": \"m\"}\n]\n".to_string()),
        ("pretty_json", "{\n  \"model\": \"m\"\n}\n".to_string()),
        ("parquet", "PAR1\u{1}\u{2}".to_string()),
    ];
    let messages: Vec<String> = cases
        .iter()
        .map(|(name, text)| format!("{name}: {}", import_error(text)))
        .collect();
    insta::assert_snapshot!("not_jsonl", messages.join("\n\n"));
}

#[test]
fn conflicting_reimport_is_refused_and_keeps_the_store() {
    let (_dir, mut store) = store();
    import(&mut store, SAMPLES).unwrap();
    let changed = SAMPLES.replace("It is 17.", "It is 16.");
    let err = import(&mut store, &changed).unwrap_err();
    insta::assert_snapshot!("conflict", err.to_string());
    let gold_changed = SAMPLES.replace("\"gold\": \"18\"}", "\"gold\": \"17\"}");
    let err = import(&mut store, &gold_changed).unwrap_err();
    insta::assert_snapshot!("gold_conflict", err.to_string());
    assert_eq!(store.table_counts().unwrap()["samples"], 5);
}

#[test]
fn error_messages_for_count_files() {
    let read = |text: &str| read_counts(text.as_bytes(), "counts.jsonl").map_err(|e| e.to_string());
    assert_eq!(
        read("{\"id\": \"a\", \"n\": 4, \"c\": 1}\n").unwrap().len(),
        1
    );
    let text = concat!(
        "{\"id\": \"a\", \"n\": 4, \"c\": 1}\n",
        "{\"id\": \"b\", \"n\": 3, \"c\": 5}\n",
        "{\"id\": \"c\", \"n\": 0, \"c\": 0}\n",
        "{\"id\": \"d\", \"n\": \"256\", \"c\": 1}\n",
        "{\"id\": \"e\", \"c\": 1}\n",
        "{\"id\": \"a\", \"n\": 4, \"c\": 2}\n",
        "{\"n\": 4, \"c\": 2}\n",
        "not json\n",
    );
    insta::assert_snapshot!("malformed_counts", read(text).unwrap_err());
}
