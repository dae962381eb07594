//! Random and mutated input never panics the importer nor damages the store.

use boundary_store::{Store, import_jsonl, read_counts};
use proptest::prelude::*;

const VALID: &str = "{\"model\": \"m\", \"benchmark\": \"b\", \"problem_id\": \"p\", \"sample_index\": 0, \"response\": \"x\", \"correct\": true}\n";

/// Lines built from fragments of the format, so mutations reach deep into parsing.
fn line() -> impl Strategy<Value = String> {
    let value = prop_oneof![
        Just("\"s\"".to_string()),
        Just("0".to_string()),
        Just("-1".to_string()),
        Just("4294967296".to_string()),
        Just("1.5".to_string()),
        Just("true".to_string()),
        Just("null".to_string()),
        Just("[]".to_string()),
        Just("{}".to_string()),
        "\\PC{0,8}".prop_map(|s| serde_json::to_string(&s).unwrap()),
    ];
    let key = prop_oneof![
        Just("model"),
        Just("benchmark"),
        Just("problem_id"),
        Just("sample_index"),
        Just("response"),
        Just("correct"),
        Just("status"),
        Just("error"),
        Just("gold"),
        Just("verdict"),
        Just("sampling"),
        Just("seed"),
        Just("num_tokens"),
    ];
    prop::collection::vec((key, value), 0..10).prop_map(|fields| {
        let body: Vec<String> = fields
            .iter()
            .map(|(k, v)| format!("\"{k}\": {v}"))
            .collect();
        format!("{{{}}}", body.join(", "))
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn structured_garbage_is_handled(lines in prop::collection::vec(line(), 0..6)) {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path().join("s.db")).unwrap();
        let text = format!("{VALID}{}\n", lines.join("\n"));
        let before = store.table_counts().unwrap();
        match import_jsonl(&mut store, text.as_bytes(), "in.jsonl", |_| {}) {
            Ok(summary) => prop_assert_eq!(summary.lines as usize, 1 + lines.len()),
            Err(_) => prop_assert_eq!(store.table_counts().unwrap(), before),
        }
        prop_assert_eq!(store.integrity_check().unwrap(), vec!["ok".to_string()]);
    }

    #[test]
    fn arbitrary_bytes_are_handled(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path().join("s.db")).unwrap();
        let _ = import_jsonl(&mut store, &bytes[..], "in.jsonl", |_| {});
        let _ = read_counts(&bytes[..], "in.jsonl");
        prop_assert_eq!(store.integrity_check().unwrap(), vec!["ok".to_string()]);
    }
}
