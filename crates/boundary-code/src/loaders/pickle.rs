//! The one pickle LiveCodeBench ships: a single `str` (its private tests, as JSON text).
//!
//! Only the opcodes a pickled string uses are accepted; anything else (which could
//! execute code in Python's unpickler) is an error, never interpreted.

/// Decodes a pickle (protocols 2 to 5) that holds exactly one string.
pub(crate) fn unpickle_str(data: &[u8]) -> Result<String, String> {
    let mut i = 0;
    let mut value: Option<String> = None;
    let take = |i: &mut usize, n: usize| -> Result<&[u8], String> {
        let end = i
            .checked_add(n)
            .filter(|&e| e <= data.len())
            .ok_or("truncated pickle")?;
        let s = &data[*i..end];
        *i = end;
        Ok(s)
    };
    loop {
        let op = *take(&mut i, 1)?.first().ok_or("truncated pickle")?;
        match op {
            0x80 => {
                take(&mut i, 1)?; // PROTO n
            }
            0x95 => {
                take(&mut i, 8)?; // FRAME length
            }
            0x8c | 0x58 | 0x8d => {
                // SHORT_BINUNICODE (u8 len), BINUNICODE (u32), BINUNICODE8 (u64)
                let width = match op {
                    0x8c => 1,
                    0x58 => 4,
                    _ => 8,
                };
                let mut len_bytes = [0u8; 8];
                len_bytes[..width].copy_from_slice(take(&mut i, width)?);
                let len = usize::try_from(u64::from_le_bytes(len_bytes))
                    .map_err(|_| "string too long")?;
                if value.is_some() {
                    return Err("pickle holds more than one string".into());
                }
                let bytes = take(&mut i, len)?;
                value = Some(String::from_utf8(bytes.to_vec()).map_err(|_| "string is not UTF-8")?);
            }
            0x94 => {} // MEMOIZE
            0x2e => return value.ok_or_else(|| "pickle holds no string".to_string()), // STOP
            other => {
                return Err(format!(
                    "unsupported pickle opcode 0x{other:02x} (only a pickled str is accepted)"
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn protocol_4_string() {
        // pickle.dumps("hi", protocol=4)
        let data = b"\x80\x04\x95\x06\x00\x00\x00\x00\x00\x00\x00\x8c\x02hi\x94.";
        assert_eq!(unpickle_str(data).unwrap(), "hi");
    }

    #[test]
    fn code_execution_opcodes_are_refused() {
        // GLOBAL 'os system' ... REDUCE
        let evil = b"cos\nsystem\n(S'echo hi'\ntR.";
        assert!(
            unpickle_str(evil)
                .unwrap_err()
                .contains("unsupported pickle opcode")
        );
    }

    proptest! {
        #[test]
        fn never_panics(data in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = unpickle_str(&data);
        }
    }
}
