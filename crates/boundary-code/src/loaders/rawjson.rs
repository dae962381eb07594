//! A tolerant scanner for JSON lines whose values Rust need not understand.
//!
//! evalplus inputs contain `Infinity`, `NaN` and integers wider than 64 bits (valid for
//! Python's `json`, not for strict JSON parsers). The loader slices such values out as raw
//! text and hands them to the Python judge untouched.

/// Splits the top-level object into `(key, raw value)` pairs.
pub(crate) fn object_fields(text: &str) -> Result<Vec<(String, &str)>, String> {
    let bytes = text.as_bytes();
    let mut i = skip_ws(bytes, 0);
    if bytes.get(i) != Some(&b'{') {
        return Err("expected a JSON object".into());
    }
    i += 1;
    let mut fields = Vec::new();
    loop {
        i = skip_ws(bytes, i);
        match bytes.get(i) {
            Some(b'}') => return Ok(fields),
            Some(b'"') => {}
            _ => return Err(format!("expected a key at byte {i}")),
        }
        let key_end = skip_string(bytes, i)?;
        let key: String = serde_json::from_str(&text[i..key_end]).map_err(|e| e.to_string())?;
        i = skip_ws(bytes, key_end);
        if bytes.get(i) != Some(&b':') {
            return Err(format!("expected `:` at byte {i}"));
        }
        let start = skip_ws(bytes, i + 1);
        let end = skip_value(bytes, start)?;
        fields.push((key, &text[start..end]));
        i = skip_ws(bytes, end);
        match bytes.get(i) {
            Some(b',') => i += 1,
            Some(b'}') => return Ok(fields),
            _ => return Err(format!("expected `,` or `}}` at byte {i}")),
        }
    }
}

/// The raw top-level items of a JSON array.
pub(crate) fn array_items(text: &str) -> Result<Vec<&str>, String> {
    let bytes = text.as_bytes();
    let mut i = skip_ws(bytes, 0);
    if bytes.get(i) != Some(&b'[') {
        return Err("expected a JSON array".into());
    }
    i = skip_ws(bytes, i + 1);
    let mut items = Vec::new();
    if bytes.get(i) == Some(&b']') {
        return Ok(items);
    }
    loop {
        let start = skip_ws(bytes, i);
        let end = skip_value(bytes, start)?;
        items.push(&text[start..end]);
        i = skip_ws(bytes, end);
        match bytes.get(i) {
            Some(b',') => i += 1,
            Some(b']') => return Ok(items),
            _ => return Err(format!("expected `,` or `]` at byte {i}")),
        }
    }
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && b[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}

fn skip_string(b: &[u8], start: usize) -> Result<usize, String> {
    let mut i = start + 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return Ok(i + 1),
            _ => i += 1,
        }
    }
    Err(format!("unterminated string starting at byte {start}"))
}

fn skip_value(b: &[u8], start: usize) -> Result<usize, String> {
    match b.get(start) {
        Some(b'"') => skip_string(b, start),
        Some(b'[') | Some(b'{') => {
            let mut depth = 0usize;
            let mut i = start;
            while i < b.len() {
                match b[i] {
                    b'"' => {
                        i = skip_string(b, i)?;
                        continue;
                    }
                    b'[' | b'{' => depth += 1,
                    b']' | b'}' => {
                        depth -= 1;
                        if depth == 0 {
                            return Ok(i + 1);
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            Err(format!("unterminated value starting at byte {start}"))
        }
        Some(_) => {
            let mut i = start;
            while i < b.len() && !matches!(b[i], b',' | b']' | b'}') && !b[i].is_ascii_whitespace()
            {
                i += 1;
            }
            if i == start {
                Err(format!("empty value at byte {start}"))
            } else {
                Ok(i)
            }
        }
        None => Err("unexpected end of line".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn slices_python_flavoured_values() {
        let line = r#"{"a": [[-Infinity, 1e+100], [9999999999999999999999999, NaN]], "b": "x\"]", "c": 0}"#;
        let f = object_fields(line).unwrap();
        assert_eq!(f[0].0, "a");
        assert_eq!(
            array_items(f[0].1).unwrap(),
            vec!["[-Infinity, 1e+100]", "[9999999999999999999999999, NaN]"]
        );
        assert_eq!(f[1], ("b".to_string(), r#""x\"]""#));
        assert_eq!(f[2], ("c".to_string(), "0"));
    }

    #[test]
    fn errors_instead_of_panicking() {
        assert!(object_fields("[1]").is_err());
        assert!(object_fields(r#"{"a": [1, 2"#).is_err());
        assert!(array_items("[1 2]").is_err());
        assert_eq!(array_items("[ ]").unwrap(), Vec::<&str>::new());
    }

    proptest! {
        #[test]
        fn never_panics(s in r#"[\[\]{}",:a-z0-9 \\]{0,40}"#) {
            let _ = object_fields(&s);
            let _ = array_items(&s);
        }

        #[test]
        fn agrees_with_serde_on_valid_json(v in proptest::collection::vec(-1000i64..1000, 0..8)) {
            let text = serde_json::to_string(&serde_json::json!({"k": v, "s": "a,b]"})).unwrap();
            let f = object_fields(&text).unwrap();
            prop_assert_eq!(array_items(f[0].1).unwrap().len(), v.len());
        }
    }
}
