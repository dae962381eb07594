//! One loader per family of released formats. Each reads the benchmark's file, keeps
//! the paper's answer field as the gold answer, and puts every other useful field in
//! [`Problem::fields`](crate::Problem::fields).

pub mod code;
pub mod custom;
pub mod livecodebench;
pub mod math;
pub mod visual;

use std::path::Path;

use crate::error::Result;
use crate::problem::Problem;
use crate::records::{Fields, Record, read_records};

/// Reads `path` and maps every record to a problem; ids must be unique.
pub(crate) fn load_with(
    path: &Path,
    mut map: impl FnMut(&Fields<'_>) -> Result<Option<Problem>>,
) -> Result<Vec<Problem>> {
    let records: Vec<Record> = read_records(path)?;
    let mut seen = std::collections::HashSet::new();
    let mut problems = Vec::with_capacity(records.len());
    for record in &records {
        let fields = Fields::new(record, path);
        if let Some(problem) = map(&fields)? {
            if !seen.insert(problem.id.clone()) {
                return Err(fields.error(format!(
                    "problem id `{}` appears twice; ids must be unique",
                    problem.id
                )));
            }
            problems.push(problem);
        }
    }
    Ok(problems)
}

/// Copies the named fields of a record (when present) into a problem's fields.
pub(crate) fn keep(problem: &mut Problem, fields: &Fields<'_>, names: &[&str]) {
    for name in names {
        if let Some(v) = fields.get(name) {
            problem.fields.insert((*name).to_owned(), v.clone());
        }
    }
}
