//! [`Writer`]: one transaction of idempotent writes.

use std::collections::HashMap;

use rusqlite::{OptionalExtension, Transaction, params};
use serde::Serialize;
use serde_json::Value;

use crate::error::{Result, SqliteContext, StoreError};
use crate::store::{Run, RunSpec, Store, canonical_json, run_from_row};

/// The outcome of generating one sample.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum SampleOutcome {
    /// The model's response text.
    Ok { response: String },
    /// Generation failed after every retry; the error says why. A failed sample is
    /// never graded and never counted as incorrect.
    Failed { error: String },
}

/// A sample to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSample {
    pub problem: String,
    pub sample_index: u32,
    pub outcome: SampleOutcome,
    /// `stop`, `length`, ... as the backend reported it.
    pub finish_reason: Option<String>,
    pub prompt_tokens: Option<u32>,
    pub completion_tokens: Option<u32>,
}

/// A grade to write (re-grading with the same verifier replaces the grade).
#[derive(Debug, Clone, PartialEq)]
pub struct NewGrade {
    pub problem: String,
    pub sample_index: u32,
    pub verifier: String,
    pub verdict: String,
    pub correct: bool,
    pub extracted: Option<String>,
    pub detail: Option<Value>,
}

/// A log-probability score of a sample's response under a scorer model.
#[derive(Debug, Clone, PartialEq)]
pub struct NewScore {
    pub problem: String,
    pub sample_index: u32,
    pub scorer: String,
    pub logprob_sum: f64,
    pub num_tokens: u32,
}

/// What writing a sample did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SampleWrite {
    /// A new sample.
    Inserted,
    /// The store already had this sample (or a completed one, when a failure
    /// arrives late): nothing changed.
    Unchanged,
    /// A completed sample replaced a failed one.
    ReplacedFailed,
    /// The store holds a *different* completed response for this (run, problem,
    /// index). It is kept; the caller decides how loudly to complain.
    Conflict,
}

/// A transaction on a [`Store`]. Dropping it without [`Writer::commit`] rolls back.
pub struct Writer<'a> {
    tx: Transaction<'a>,
    path: &'a std::path::Path,
    /// (benchmark, key) → problem id, for ids created or read in this transaction.
    problem_ids: HashMap<(String, String), i64>,
    /// run id → benchmark, to find problems by key.
    run_benchmarks: HashMap<i64, String>,
    /// The transaction's timestamp for `created_at`: read once, because evaluating
    /// SQLite's `strftime` per row is a measurable share of a large import.
    now: String,
}

impl<'a> Writer<'a> {
    pub(crate) fn begin(store: &'a mut Store) -> Result<Self> {
        let tx = store.conn.transaction().at(&store.path)?;
        let now = tx
            .query_row("SELECT strftime('%Y-%m-%dT%H:%M:%fZ', 'now')", [], |r| {
                r.get(0)
            })
            .at(&store.path)?;
        Ok(Self {
            tx,
            path: &store.path,
            problem_ids: HashMap::new(),
            run_benchmarks: HashMap::new(),
            now,
        })
    }

    pub fn commit(self) -> Result<()> {
        self.tx.commit().at(self.path)
    }

    /// Gets the run with this spec, creating it on first use.
    pub fn ensure_run(&mut self, spec: &RunSpec) -> Result<Run> {
        let hash = spec.config_hash()?;
        let select = "SELECT id, model, benchmark, source, sampling, seed, config_hash, created_at \
                      FROM runs WHERE model = ?1 AND benchmark = ?2 AND config_hash = ?3";
        let existing = self
            .tx
            .query_row(
                select,
                params![spec.model, spec.benchmark, hash],
                run_from_row,
            )
            .optional()
            .at(self.path)?;
        let run = match existing {
            Some(run) => run,
            None => {
                self.tx
                    .execute(
                        "INSERT INTO runs (model, benchmark, source, sampling, seed, config_hash) \
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                        params![
                            spec.model,
                            spec.benchmark,
                            spec.source,
                            canonical_json(&spec.sampling),
                            spec.seed.map(|s| s as i64),
                            hash
                        ],
                    )
                    .at(self.path)?;
                self.tx
                    .query_row(
                        select,
                        params![spec.model, spec.benchmark, hash],
                        run_from_row,
                    )
                    .at(self.path)?
            }
        };
        self.run_benchmarks.insert(run.id, run.benchmark.clone());
        Ok(run)
    }

    /// Records a problem of a benchmark, with its gold answer when known. A gold
    /// answer never changes silently: giving a different one is an error.
    pub fn ensure_problem(
        &mut self,
        benchmark: &str,
        key: &str,
        gold: Option<&str>,
        metadata: Option<&Value>,
    ) -> Result<i64> {
        let cache_key = (benchmark.to_owned(), key.to_owned());
        let id = match self.problem_ids.get(&cache_key) {
            Some(&id) if gold.is_none() && metadata.is_none() => return Ok(id),
            Some(&id) => id,
            None => {
                let mut insert = self
                    .tx
                    .prepare_cached(
                        "INSERT INTO problems (benchmark, key) VALUES (?1, ?2) \
                         ON CONFLICT (benchmark, key) DO NOTHING",
                    )
                    .at(self.path)?;
                insert.execute(params![benchmark, key]).at(self.path)?;
                let mut select = self
                    .tx
                    .prepare_cached("SELECT id FROM problems WHERE benchmark = ?1 AND key = ?2")
                    .at(self.path)?;
                let id = select
                    .query_row(params![benchmark, key], |r| r.get(0))
                    .at(self.path)?;
                self.problem_ids.insert(cache_key, id);
                id
            }
        };
        if let Some(gold) = gold {
            let stored: Option<String> = self
                .tx
                .prepare_cached("SELECT gold FROM problems WHERE id = ?1")
                .at(self.path)?
                .query_row([id], |r| r.get(0))
                .at(self.path)?;
            match stored {
                Some(stored) if stored != gold => {
                    return Err(StoreError::GoldConflict {
                        benchmark: benchmark.to_owned(),
                        problem: key.to_owned(),
                        stored,
                        given: gold.to_owned(),
                    });
                }
                Some(_) => {}
                None => {
                    self.tx
                        .prepare_cached("UPDATE problems SET gold = ?2 WHERE id = ?1")
                        .at(self.path)?
                        .execute(params![id, gold])
                        .at(self.path)?;
                }
            }
        }
        if let Some(metadata) = metadata {
            self.tx
                .prepare_cached("UPDATE problems SET metadata = ?2 WHERE id = ?1")
                .at(self.path)?
                .execute(params![id, canonical_json(metadata)])
                .at(self.path)?;
        }
        Ok(id)
    }

    fn run_benchmark(&mut self, run_id: i64) -> Result<String> {
        if let Some(b) = self.run_benchmarks.get(&run_id) {
            return Ok(b.clone());
        }
        let b: String = self
            .tx
            .query_row("SELECT benchmark FROM runs WHERE id = ?1", [run_id], |r| {
                r.get(0)
            })
            .optional()
            .at(self.path)?
            .ok_or(StoreError::NoSuchRun(run_id))?;
        self.run_benchmarks.insert(run_id, b.clone());
        Ok(b)
    }

    /// The id of a problem of the run's benchmark, recording the problem on first use.
    fn problem_id(&mut self, run_id: i64, problem: &str) -> Result<i64> {
        let benchmark = self.run_benchmark(run_id)?;
        self.ensure_problem(&benchmark, problem, None, None)
    }

    /// The id of a problem of the run's benchmark that a sample must already exist for.
    fn sampled_problem_id(&mut self, run_id: i64, problem: &str, sample_index: u32) -> Result<i64> {
        let benchmark = self.run_benchmark(run_id)?;
        if let Some(&id) = self
            .problem_ids
            .get(&(benchmark.clone(), problem.to_owned()))
        {
            return Ok(id);
        }
        let id: Option<i64> = self
            .tx
            .prepare_cached("SELECT id FROM problems WHERE benchmark = ?1 AND key = ?2")
            .at(self.path)?
            .query_row(params![benchmark, problem], |r| r.get(0))
            .optional()
            .at(self.path)?;
        let id = id.ok_or_else(|| self.no_such_sample(run_id, problem, sample_index))?;
        self.problem_ids.insert((benchmark, problem.to_owned()), id);
        Ok(id)
    }

    /// Stores the exact prompt a run sent for a problem (the first one wins).
    pub fn set_prompt(&mut self, run_id: i64, problem: &str, prompt: &str) -> Result<()> {
        let problem_id = self.problem_id(run_id, problem)?;
        self.tx
            .prepare_cached(
                "INSERT INTO prompts (run_id, problem_id, prompt) VALUES (?1, ?2, ?3) \
                 ON CONFLICT DO NOTHING",
            )
            .at(self.path)?
            .execute(params![run_id, problem_id, prompt])
            .at(self.path)?;
        Ok(())
    }

    /// Writes a sample idempotently: the same (run, problem, index) is stored once.
    pub fn put_sample(&mut self, run_id: i64, sample: &NewSample) -> Result<SampleWrite> {
        let problem_id = self.problem_id(run_id, &sample.problem)?;
        let (status, response, error) = match &sample.outcome {
            SampleOutcome::Ok { response } => ("ok", Some(response.as_str()), None),
            SampleOutcome::Failed { error } => ("failed", None, Some(error.as_str())),
        };
        // The INSERT and the UPDATE below bind the same columns in the same order.
        let row = params![
            run_id,
            problem_id,
            sample.sample_index,
            status,
            response,
            error,
            sample.finish_reason,
            sample.prompt_tokens,
            sample.completion_tokens,
            self.now
        ];
        let inserted = self
            .tx
            .prepare_cached(
                "INSERT INTO samples (run_id, problem_id, sample_index, status, response, error, \
                 finish_reason, prompt_tokens, completion_tokens, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) \
                 ON CONFLICT (run_id, problem_id, sample_index) DO NOTHING",
            )
            .at(self.path)?
            .execute(row)
            .at(self.path)?;
        if inserted == 1 {
            return Ok(SampleWrite::Inserted);
        }
        let (stored_status, stored_response): (String, Option<String>) = self
            .tx
            .prepare_cached(
                "SELECT status, response FROM samples \
                 WHERE run_id = ?1 AND problem_id = ?2 AND sample_index = ?3",
            )
            .at(self.path)?
            .query_row(params![run_id, problem_id, sample.sample_index], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .at(self.path)?;
        Ok(match (stored_status.as_str(), status) {
            ("ok", "ok") if stored_response.as_deref() == response => SampleWrite::Unchanged,
            ("ok", "ok") => SampleWrite::Conflict,
            ("ok", _) => SampleWrite::Unchanged,
            (_, _) => {
                // A failed sample is replaced by a completed one, or by the newest error.
                self.tx
                    .prepare_cached(
                        "UPDATE samples SET status = ?4, response = ?5, error = ?6, \
                         finish_reason = ?7, prompt_tokens = ?8, completion_tokens = ?9, \
                         created_at = ?10 \
                         WHERE run_id = ?1 AND problem_id = ?2 AND sample_index = ?3",
                    )
                    .at(self.path)?
                    .execute(row)
                    .at(self.path)?;
                if status == "ok" {
                    SampleWrite::ReplacedFailed
                } else {
                    SampleWrite::Unchanged
                }
            }
        })
    }

    fn no_such_sample(&self, run_id: i64, problem: &str, sample_index: u32) -> StoreError {
        let (model, benchmark) = self
            .tx
            .query_row(
                "SELECT model, benchmark FROM runs WHERE id = ?1",
                [run_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap_or_else(|_| ("?".into(), "?".into()));
        StoreError::NoSuchSample {
            run: run_id,
            model,
            benchmark,
            problem: problem.to_owned(),
            sample_index,
        }
    }

    /// Writes (or replaces) the grade of a completed sample by a verifier.
    pub fn put_grade(&mut self, run_id: i64, grade: &NewGrade) -> Result<()> {
        let problem_id = self.sampled_problem_id(run_id, &grade.problem, grade.sample_index)?;
        let written = self
            .tx
            .prepare_cached(
                "INSERT INTO grades (run_id, problem_id, sample_index, verifier, verdict, correct, \
                 extracted, detail, created_at) \
                 SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9 WHERE EXISTS (SELECT 1 FROM samples \
                 WHERE run_id = ?1 AND problem_id = ?2 AND sample_index = ?3 AND status = 'ok') \
                 ON CONFLICT (run_id, problem_id, sample_index, verifier) DO UPDATE SET \
                 verdict = excluded.verdict, correct = excluded.correct, \
                 extracted = excluded.extracted, detail = excluded.detail, \
                 created_at = excluded.created_at",
            )
            .at(self.path)?
            .execute(params![
                run_id,
                problem_id,
                grade.sample_index,
                grade.verifier,
                grade.verdict,
                grade.correct,
                grade.extracted,
                grade.detail.as_ref().map(canonical_json),
                self.now
            ])
            .at(self.path)?;
        if written == 0 {
            return Err(self.no_such_sample(run_id, &grade.problem, grade.sample_index));
        }
        Ok(())
    }

    /// Writes (or replaces) the score of a completed sample under a scorer.
    pub fn put_score(&mut self, run_id: i64, score: &NewScore) -> Result<()> {
        let problem_id = self.sampled_problem_id(run_id, &score.problem, score.sample_index)?;
        let written = self
            .tx
            .prepare_cached(
                "INSERT INTO scores (run_id, problem_id, sample_index, scorer, logprob_sum, \
                 num_tokens, created_at) \
                 SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7 WHERE EXISTS (SELECT 1 FROM samples \
                 WHERE run_id = ?1 AND problem_id = ?2 AND sample_index = ?3 AND status = 'ok') \
                 ON CONFLICT (run_id, problem_id, sample_index, scorer) DO UPDATE SET \
                 logprob_sum = excluded.logprob_sum, num_tokens = excluded.num_tokens, \
                 created_at = excluded.created_at",
            )
            .at(self.path)?
            .execute(params![
                run_id,
                problem_id,
                score.sample_index,
                score.scorer,
                score.logprob_sum,
                score.num_tokens,
                self.now
            ])
            .at(self.path)?;
        if written == 0 {
            return Err(self.no_such_sample(run_id, &score.problem, score.sample_index));
        }
        Ok(())
    }
}
