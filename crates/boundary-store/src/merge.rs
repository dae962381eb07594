//! Merging stores: the shards of a run (`boundary sample --shard i/N`), or stores made on
//! different machines, combined into one.
//!
//! Runs are matched by (model, benchmark, settings hash), problems by (benchmark, key),
//! samples, grades and scores by their keys. What only one side has is copied; what both
//! sides hold identically is left alone; a completed sample replaces a failed one. What
//! both sides hold *differently* is a conflict: the store merged into keeps its value and
//! the conflict is reported, never overwritten. Each source store is merged in one
//! transaction, so a failed merge changes nothing.

use std::collections::HashMap;
use std::path::Path;

use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use crate::error::{Result, SqliteContext, StoreError};
use crate::store::Store;

/// Conflicts kept in full in a [`MergeSummary`]; the rest are only counted.
const CONFLICTS_KEPT: usize = 100;

/// One value the two stores hold differently (the destination's was kept).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MergeConflict {
    /// `gold`, `metadata`, `prompt`, `sample`, `grade` or `score`.
    pub kind: &'static str,
    pub model: Option<String>,
    pub benchmark: String,
    pub problem: String,
    pub sample_index: Option<u32>,
    /// What differs, briefly.
    pub detail: String,
}

/// What a merge did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MergeSummary {
    pub runs_added: u64,
    pub runs_matched: u64,
    pub problems_added: u64,
    pub samples_added: u64,
    /// Failed samples of the destination completed by the source.
    pub samples_completed: u64,
    pub samples_unchanged: u64,
    pub grades_added: u64,
    pub scores_added: u64,
    /// All conflicts found (the first ones are listed in `conflicts`).
    pub conflict_count: u64,
    pub conflicts: Vec<MergeConflict>,
    /// Grades and scores not copied because they belong to a conflicting sample.
    pub annotations_skipped: u64,
}

impl MergeSummary {
    fn conflict(&mut self, conflict: MergeConflict) {
        self.conflict_count += 1;
        if self.conflicts.len() < CONFLICTS_KEPT {
            self.conflicts.push(conflict);
        }
    }

    fn add(&mut self, other: MergeSummary) {
        self.runs_added += other.runs_added;
        self.runs_matched += other.runs_matched;
        self.problems_added += other.problems_added;
        self.samples_added += other.samples_added;
        self.samples_completed += other.samples_completed;
        self.samples_unchanged += other.samples_unchanged;
        self.grades_added += other.grades_added;
        self.scores_added += other.scores_added;
        self.annotations_skipped += other.annotations_skipped;
        let unlisted = other.conflict_count - other.conflicts.len() as u64;
        for conflict in other.conflicts {
            self.conflict(conflict);
        }
        self.conflict_count += unlisted;
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("{0} is the store being merged into; give other stores to merge from")]
    SameStore(std::path::PathBuf),
    #[error(transparent)]
    Store(#[from] StoreError),
}

struct RunInfo {
    dest: i64,
    model: String,
}

impl Store {
    /// Merges the store at `source` into this one (see the module documentation).
    pub fn merge_from(&mut self, source: &Path) -> Result<MergeSummary, MergeError> {
        let same = match (self.path.canonicalize(), source.canonicalize()) {
            (Ok(a), Ok(b)) => a == b,
            _ => false,
        };
        if same {
            return Err(MergeError::SameStore(source.to_owned()));
        }
        // Opening checks that the source is a Boundary store and brings its schema up to
        // this build's, so both sides have the same tables.
        drop(Store::open_existing(source)?);
        let path = self.path.clone();
        self.conn
            .execute("ATTACH DATABASE ?1 AS src", [source.to_string_lossy()])
            .at(&path)?;
        let merged = self.merge_attached();
        self.conn.execute("DETACH DATABASE src", []).at(&path)?;
        Ok(merged?)
    }

    fn merge_attached(&mut self) -> Result<MergeSummary> {
        let path = self.path.clone();
        let tx = self.conn.transaction().at(&path)?;
        let mut summary = MergeSummary::default();
        let runs = merge_runs(&tx, &path, &mut summary)?;
        let problems = merge_problems(&tx, &path, &mut summary)?;
        merge_prompts(&tx, &path, &runs, &problems, &mut summary)?;
        let conflicting = merge_samples(&tx, &path, &runs, &problems, &mut summary)?;
        merge_annotations(&tx, &path, &runs, &problems, &conflicting, &mut summary)?;
        tx.commit().at(&path)?;
        Ok(summary)
    }
}

/// Merges several stores in turn, adding up what each merge did.
pub fn merge_stores(into: &mut Store, sources: &[&Path]) -> Result<MergeSummary, MergeError> {
    let mut total = MergeSummary::default();
    for source in sources {
        let summary = into.merge_from(source)?;
        total.add(summary);
    }
    Ok(total)
}

fn merge_runs(
    tx: &rusqlite::Transaction<'_>,
    path: &Path,
    summary: &mut MergeSummary,
) -> Result<HashMap<i64, RunInfo>> {
    let mut runs = HashMap::new();
    let mut select = tx
        .prepare(
            "SELECT id, model, benchmark, source, sampling, seed, config_hash, created_at \
             FROM src.runs ORDER BY id",
        )
        .at(path)?;
    let rows = select
        .query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, Option<i64>>(5)?,
                r.get::<_, String>(6)?,
                r.get::<_, String>(7)?,
            ))
        })
        .at(path)?
        .collect::<rusqlite::Result<Vec<_>>>()
        .at(path)?;
    for (src_id, model, benchmark, source, sampling, seed, hash, created) in rows {
        let existing: Option<i64> = tx
            .query_row(
                "SELECT id FROM main.runs WHERE model = ?1 AND benchmark = ?2 AND config_hash = ?3",
                params![model, benchmark, hash],
                |r| r.get(0),
            )
            .optional()
            .at(path)?;
        let dest = match existing {
            Some(id) => {
                summary.runs_matched += 1;
                id
            }
            None => {
                tx.execute(
                    "INSERT INTO main.runs (model, benchmark, source, sampling, seed, config_hash, \
                     created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    params![model, benchmark, source, sampling, seed, hash, created],
                )
                .at(path)?;
                summary.runs_added += 1;
                tx.last_insert_rowid()
            }
        };
        runs.insert(src_id, RunInfo { dest, model });
    }
    Ok(runs)
}

/// Source problem id → (destination id, benchmark, key).
type ProblemMap = HashMap<i64, (i64, String, String)>;

fn merge_problems(
    tx: &rusqlite::Transaction<'_>,
    path: &Path,
    summary: &mut MergeSummary,
) -> Result<ProblemMap> {
    let mut problems = HashMap::new();
    let mut select = tx
        .prepare("SELECT id, benchmark, key, gold, metadata FROM src.problems ORDER BY id")
        .at(path)?;
    type Row = (i64, String, String, Option<String>, Option<String>);
    let rows: Vec<Row> = select
        .query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .at(path)?
        .collect::<rusqlite::Result<_>>()
        .at(path)?;
    for (src_id, benchmark, key, gold, metadata) in rows {
        let existing: Option<(i64, Option<String>, Option<String>)> = tx
            .query_row(
                "SELECT id, gold, metadata FROM main.problems WHERE benchmark = ?1 AND key = ?2",
                params![benchmark, key],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
            .at(path)?;
        let dest = match existing {
            None => {
                tx.execute(
                    "INSERT INTO main.problems (benchmark, key, gold, metadata) \
                     VALUES (?1, ?2, ?3, ?4)",
                    params![benchmark, key, gold, metadata],
                )
                .at(path)?;
                summary.problems_added += 1;
                tx.last_insert_rowid()
            }
            Some((id, dest_gold, dest_metadata)) => {
                for (kind, column, mine, theirs) in [
                    ("gold", "gold", dest_gold, gold),
                    ("metadata", "metadata", dest_metadata, metadata),
                ] {
                    match (mine, theirs) {
                        (None, Some(value)) => {
                            tx.execute(
                                &format!("UPDATE main.problems SET {column} = ?2 WHERE id = ?1"),
                                params![id, value],
                            )
                            .at(path)?;
                        }
                        (Some(mine), Some(theirs)) if mine != theirs => {
                            summary.conflict(MergeConflict {
                                kind,
                                model: None,
                                benchmark: benchmark.clone(),
                                problem: key.clone(),
                                sample_index: None,
                                detail: format!("kept {mine:?}, source has {theirs:?}"),
                            });
                        }
                        _ => {}
                    }
                }
                id
            }
        };
        problems.insert(src_id, (dest, benchmark, key));
    }
    Ok(problems)
}

fn merge_prompts(
    tx: &rusqlite::Transaction<'_>,
    path: &Path,
    runs: &HashMap<i64, RunInfo>,
    problems: &ProblemMap,
    summary: &mut MergeSummary,
) -> Result<()> {
    let mut select = tx
        .prepare("SELECT run_id, problem_id, prompt FROM src.prompts")
        .at(path)?;
    let rows: Vec<(i64, i64, String)> = select
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .at(path)?
        .collect::<rusqlite::Result<_>>()
        .at(path)?;
    for (run, problem, prompt) in rows {
        let (Some(run), Some((problem_id, benchmark, key))) =
            (runs.get(&run), problems.get(&problem))
        else {
            continue;
        };
        let existing: Option<String> = tx
            .query_row(
                "SELECT prompt FROM main.prompts WHERE run_id = ?1 AND problem_id = ?2",
                params![run.dest, problem_id],
                |r| r.get(0),
            )
            .optional()
            .at(path)?;
        match existing {
            None => {
                tx.execute(
                    "INSERT INTO main.prompts (run_id, problem_id, prompt) VALUES (?1, ?2, ?3)",
                    params![run.dest, problem_id, prompt],
                )
                .at(path)?;
            }
            Some(mine) if mine != prompt => summary.conflict(MergeConflict {
                kind: "prompt",
                model: Some(run.model.clone()),
                benchmark: benchmark.clone(),
                problem: key.clone(),
                sample_index: None,
                detail: "the two stores sent different prompts for this run".into(),
            }),
            Some(_) => {}
        }
    }
    Ok(())
}

/// Merges samples; returns the (destination run, problem, index) keys whose samples
/// conflict, whose grades and scores must not be copied.
fn merge_samples(
    tx: &rusqlite::Transaction<'_>,
    path: &Path,
    runs: &HashMap<i64, RunInfo>,
    problems: &ProblemMap,
    summary: &mut MergeSummary,
) -> Result<std::collections::HashSet<(i64, i64, u32)>> {
    let mut conflicting = std::collections::HashSet::new();
    let mut select = tx
        .prepare(
            "SELECT run_id, problem_id, sample_index, status, response, error, finish_reason, \
             prompt_tokens, completion_tokens, created_at FROM src.samples \
             ORDER BY run_id, problem_id, sample_index",
        )
        .at(path)?;
    let mut existing = tx
        .prepare(
            "SELECT status, response FROM main.samples \
             WHERE run_id = ?1 AND problem_id = ?2 AND sample_index = ?3",
        )
        .at(path)?;
    let mut insert = tx
        .prepare(
            "INSERT OR REPLACE INTO main.samples (run_id, problem_id, sample_index, status, \
             response, error, finish_reason, prompt_tokens, completion_tokens, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )
        .at(path)?;
    let mut rows = select.query([]).at(path)?;
    while let Some(row) = rows.next().at(path)? {
        let (run, problem): (i64, i64) = (row.get(0).at(path)?, row.get(1).at(path)?);
        let (Some(run), Some((problem_id, benchmark, key))) =
            (runs.get(&run), problems.get(&problem))
        else {
            continue;
        };
        let index: u32 = row.get(2).at(path)?;
        let status: String = row.get(3).at(path)?;
        let response: Option<String> = row.get(4).at(path)?;
        let stored: Option<(String, Option<String>)> = existing
            .query_row(params![run.dest, problem_id, index], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()
            .at(path)?;
        let copy = match (&stored, status.as_str()) {
            (None, _) => {
                summary.samples_added += 1;
                true
            }
            (Some((mine, _)), "ok") if mine == "failed" => {
                summary.samples_completed += 1;
                true
            }
            (Some((mine, Some(my_response))), "ok")
                if mine == "ok" && Some(my_response) != response.as_ref() =>
            {
                conflicting.insert((run.dest, *problem_id, index));
                summary.conflict(MergeConflict {
                    kind: "sample",
                    model: Some(run.model.clone()),
                    benchmark: benchmark.clone(),
                    problem: key.clone(),
                    sample_index: Some(index),
                    detail: "the two stores hold different responses".into(),
                });
                false
            }
            _ => {
                summary.samples_unchanged += 1;
                false
            }
        };
        if copy {
            insert
                .execute(params![
                    run.dest,
                    problem_id,
                    index,
                    status,
                    response,
                    row.get::<_, Option<String>>(5).at(path)?,
                    row.get::<_, Option<String>>(6).at(path)?,
                    row.get::<_, Option<i64>>(7).at(path)?,
                    row.get::<_, Option<i64>>(8).at(path)?,
                    row.get::<_, String>(9).at(path)?,
                ])
                .at(path)?;
        }
    }
    Ok(conflicting)
}

/// Grades and scores: copied when absent, a conflict when present and different.
fn merge_annotations(
    tx: &rusqlite::Transaction<'_>,
    path: &Path,
    runs: &HashMap<i64, RunInfo>,
    problems: &ProblemMap,
    conflicting: &std::collections::HashSet<(i64, i64, u32)>,
    summary: &mut MergeSummary,
) -> Result<()> {
    // (kind, columns compared after the key, key column naming the annotator)
    let tables: [(&'static str, &str, &str); 2] = [
        (
            "grade",
            "verdict, correct, extracted, detail, created_at",
            "verifier",
        ),
        ("score", "logprob_sum, num_tokens, created_at", "scorer"),
    ];
    for (kind, columns, annotator) in tables {
        let table = format!("{kind}s");
        let compared = columns.split(", ").filter(|c| *c != "created_at").count();
        let mut select = tx
            .prepare(&format!(
                "SELECT run_id, problem_id, sample_index, {annotator}, {columns} FROM src.{table}"
            ))
            .at(path)?;
        let width = 4 + columns.split(", ").count();
        let rows: Vec<Vec<rusqlite::types::Value>> = select
            .query_map([], |r| (0..width).map(|i| r.get(i)).collect())
            .at(path)?
            .collect::<rusqlite::Result<_>>()
            .at(path)?;
        for row in rows {
            let (rusqlite::types::Value::Integer(run), rusqlite::types::Value::Integer(problem)) =
                (&row[0], &row[1])
            else {
                continue;
            };
            let (Some(run), Some((problem_id, benchmark, key))) =
                (runs.get(run), problems.get(problem))
            else {
                continue;
            };
            let rusqlite::types::Value::Integer(index) = row[2] else {
                continue;
            };
            let index = index as u32;
            if conflicting.contains(&(run.dest, *problem_id, index)) {
                summary.annotations_skipped += 1;
                continue;
            }
            let stored: Option<Vec<rusqlite::types::Value>> = tx
                .query_row(
                    &format!(
                        "SELECT {columns} FROM main.{table} WHERE run_id = ?1 AND problem_id = ?2 \
                         AND sample_index = ?3 AND {annotator} = ?4"
                    ),
                    params![run.dest, problem_id, index, row[3]],
                    |r| (0..compared).map(|i| r.get(i)).collect(),
                )
                .optional()
                .at(path)?;
            match stored {
                None => {
                    let placeholders: Vec<String> = (1..=width).map(|i| format!("?{i}")).collect();
                    let mut values = row.clone();
                    values[0] = rusqlite::types::Value::Integer(run.dest);
                    values[1] = rusqlite::types::Value::Integer(*problem_id);
                    // Only onto a completed sample of the destination (a failed one has
                    // no response to grade or score).
                    let written = tx
                        .execute(
                            &format!(
                                "INSERT INTO main.{table} (run_id, problem_id, sample_index, \
                                 {annotator}, {columns}) SELECT {} WHERE EXISTS (SELECT 1 FROM \
                                 main.samples WHERE run_id = ?1 AND problem_id = ?2 AND \
                                 sample_index = ?3 AND status = 'ok')",
                                placeholders.join(", ")
                            ),
                            rusqlite::params_from_iter(values),
                        )
                        .at(path)?;
                    match (written, kind) {
                        (0, _) => summary.annotations_skipped += 1,
                        (_, "grade") => summary.grades_added += 1,
                        _ => summary.scores_added += 1,
                    }
                }
                Some(mine) if mine[..] != row[4..4 + compared] => summary.conflict(MergeConflict {
                    kind,
                    model: Some(run.model.clone()),
                    benchmark: benchmark.clone(),
                    problem: key.clone(),
                    sample_index: Some(index),
                    detail: format!("the two stores disagree ({annotator} {:?})", row[3]),
                }),
                Some(_) => {}
            }
        }
    }
    Ok(())
}
