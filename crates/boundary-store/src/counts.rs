//! Count files: per-problem `{"id": ..., "n": ..., "c": ...}` lines, for pass@k from
//! counts computed anywhere.

use std::collections::HashSet;
use std::io::BufRead;

use boundary_core::{ProblemCounts, validate_counts};

use crate::jsonl::Fields;
use crate::jsonl::{ErrorList, InputError, InputErrors, read_objects};

const REQUIRED: &str = "each line needs `id`, `n` (samples) and `c` (correct samples)";

/// Reads a count file; every bad line is reported (up to a limit), with its line.
pub fn read_counts<R: BufRead>(
    reader: R,
    source_name: &str,
) -> Result<Vec<ProblemCounts>, InputErrors> {
    let mut problems = Vec::new();
    let mut seen = HashSet::new();
    let mut errors = ErrorList::default();
    read_objects(reader, source_name, &mut errors, |line, map, errors| {
        let parsed = (|| -> Result<ProblemCounts, String> {
            let f = Fields { map: &map };
            let id = f.id("id", REQUIRED)?;
            let n = f.count("n", REQUIRED)?;
            let c = f.count("c", REQUIRED)?;
            validate_counts(n, c).map_err(|e| format!("problem `{id}`: {e}"))?;
            if !seen.insert(id.clone()) {
                return Err(format!(
                    "problem `{id}` appears twice; give each problem one line"
                ));
            }
            Ok(ProblemCounts::new(id, n, c))
        })();
        match parsed {
            Ok(p) => problems.push(p),
            Err(message) => errors.push(InputError::Line {
                source_name: source_name.to_owned(),
                line,
                message,
            }),
        }
    })?;
    errors.into_result()?;
    Ok(problems)
}
