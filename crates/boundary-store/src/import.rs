//! Importing samples made anywhere (JSON Lines) into a store.

use std::collections::HashMap;
use std::io::BufRead;

use serde::Serialize;
use thiserror::Error;

use crate::error::StoreError;
use crate::jsonl::{ErrorList, InputError, InputErrors, read_objects};
use crate::record::SampleRecord;
use crate::store::Store;
use crate::writer::SampleWrite;

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ImportSummary {
    /// Lines holding a sample.
    pub lines: u64,
    /// Samples new to the store.
    pub inserted: u64,
    /// Samples the store already had, identical (a repeated import adds nothing).
    pub unchanged: u64,
    /// Failed samples replaced by completed ones.
    pub replaced_failed: u64,
    /// Grades written (imported `correct`/`verdict` fields).
    pub grades: u64,
    /// The (model, benchmark) runs the samples went to, with their run ids.
    pub runs: Vec<ImportedRun>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImportedRun {
    pub run: i64,
    pub model: String,
    pub benchmark: String,
    pub samples: u64,
}

#[derive(Debug, Error)]
pub enum ImportError {
    /// The file has problems; nothing was imported.
    #[error("{0}\nnothing was imported: fix the lines above and run the same command again")]
    Input(InputErrors),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Imports every line of `reader` in one transaction: the file goes in whole or not
/// at all, so a bad line or a killed process never leaves half a file behind, and
/// running the same import again adds nothing twice.
///
/// A line whose (model, benchmark, problem, index) is already stored with a
/// *different* response is a conflict: the stored sample is kept and the import is
/// refused, listing the conflicts. `progress` is called with the number of lines read.
pub fn import_jsonl<R: BufRead>(
    store: &mut Store,
    reader: R,
    source_name: &str,
    mut progress: impl FnMut(u64),
) -> Result<ImportSummary, ImportError> {
    let mut writer = store.writer()?;
    let mut summary = ImportSummary::default();
    let mut runs: HashMap<String, usize> = HashMap::new(); // config hash + model + benchmark → index
    let mut run_ids = Vec::new();
    // Consecutive lines almost always belong to one run: comparing with the previous
    // line's spec skips hashing the settings for every line.
    let mut last_run: Option<(crate::store::RunSpec, usize)> = None;
    let mut errors = ErrorList::default();
    let mut store_error: Option<StoreError> = None;

    let line_error = |line: u64, message: String| InputError::Line {
        source_name: source_name.to_owned(),
        line,
        message,
    };

    let read = read_objects(reader, source_name, &mut errors, |line, map, errors| {
        if store_error.is_some() {
            return;
        }
        summary.lines += 1;
        if summary.lines % 10_000 == 0 {
            progress(summary.lines);
        }
        let record = match SampleRecord::from_object(&map) {
            Ok(r) => r,
            Err(message) => return errors.push(line_error(line, message)),
        };
        if !errors.is_empty() {
            return; // keep validating, but stop writing: the transaction will be rolled back
        }
        let mut write = || -> Result<(), StoreError> {
            let cached = last_run
                .as_ref()
                .filter(|(spec, _)| *spec == record.run)
                .map(|(_, slot)| *slot);
            let slot = match cached {
                Some(slot) => slot,
                None => {
                    let hash = record.run.config_hash()?;
                    let run_key = format!("{hash}\0{}\0{}", record.run.model, record.run.benchmark);
                    let slot = match runs.get(&run_key) {
                        Some(&slot) => slot,
                        None => {
                            let run = writer.ensure_run(&record.run)?;
                            summary.runs.push(ImportedRun {
                                run: run.id,
                                model: run.model,
                                benchmark: run.benchmark,
                                samples: 0,
                            });
                            run_ids.push(run.id);
                            runs.insert(run_key, run_ids.len() - 1);
                            run_ids.len() - 1
                        }
                    };
                    last_run = Some((record.run.clone(), slot));
                    slot
                }
            };
            let run_id = run_ids[slot];
            if record.gold.is_some() {
                writer.ensure_problem(
                    &record.run.benchmark,
                    &record.sample.problem,
                    record.gold.as_deref(),
                    None,
                )?;
            }
            if let Some(prompt) = &record.prompt {
                writer.set_prompt(run_id, &record.sample.problem, prompt)?;
            }
            match writer.put_sample(run_id, &record.sample)? {
                SampleWrite::Inserted => summary.inserted += 1,
                SampleWrite::Unchanged => summary.unchanged += 1,
                SampleWrite::ReplacedFailed => summary.replaced_failed += 1,
                SampleWrite::Conflict => {
                    errors.push(line_error(
                        line,
                        format!(
                            "sample {} of problem `{}` ({} on {}) is already in the store with a \
                             different response; the stored one is kept",
                            record.sample.sample_index,
                            record.sample.problem,
                            record.run.model,
                            record.run.benchmark
                        ),
                    ));
                    return Ok(());
                }
            }
            summary.runs[slot].samples += 1;
            if let Some(grade) = &record.grade {
                writer.put_grade(run_id, grade)?;
                summary.grades += 1;
            }
            Ok(())
        };
        if let Err(e) = write() {
            match e {
                // A gold answer that contradicts the store is the user's input, not a
                // store failure: report it at its line.
                e @ StoreError::GoldConflict { .. } => errors.push(line_error(line, e.to_string())),
                e => store_error = Some(e),
            }
        }
    });
    if let Some(e) = store_error {
        return Err(e.into());
    }
    read.map_err(|e| ImportError::Input(e.into()))?;
    errors.into_result().map_err(ImportError::Input)?;
    writer.commit()?;
    progress(summary.lines);
    Ok(summary)
}
