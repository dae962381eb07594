//! The [`Store`]: opening, migrating and querying a run store.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use boundary_core::ProblemCounts;
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::{Result, SqliteContext, StoreError};
use crate::schema::{APPLICATION_ID, LATEST_VERSION, MIGRATIONS};
use crate::writer::Writer;

/// A run store: one SQLite file holding runs, problems, samples, grades and scores.
///
/// The store is the truth of an experiment: every sample is written the moment it
/// exists, writes are idempotent per (run, problem, sample index), and every later
/// stage (grading, analysis, reports) re-runs from the store alone.
pub struct Store {
    pub(crate) conn: Connection,
    pub(crate) path: PathBuf,
}

/// What identifies a run: the same model, benchmark and settings resume the same run;
/// anything different is a different run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunSpec {
    /// Display name of the model (a label: two sampling settings of one checkpoint
    /// are two "models").
    pub model: String,
    pub benchmark: String,
    /// Who makes the samples: `import`, `embedded`, `openai`, `lab`, ...
    pub source: String,
    /// Every setting that shapes the samples (temperature, top-p, max tokens,
    /// template, model path, ...), as a JSON object.
    pub sampling: Value,
    pub seed: Option<u64>,
}

/// A run as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Run {
    pub id: i64,
    pub model: String,
    pub benchmark: String,
    pub source: String,
    pub sampling: Value,
    pub seed: Option<u64>,
    pub config_hash: String,
    pub created_at: String,
}

/// Per-problem counts of a run under one verifier, plus what they leave out.
#[derive(Debug, Clone, PartialEq)]
pub struct RunCounts {
    pub run: Run,
    /// The verifier whose grades were counted; `None` when the run has no grades.
    pub verifier: Option<String>,
    /// Problems with at least one graded completed sample.
    pub problems: Vec<ProblemCounts>,
    /// Samples whose generation failed (never counted as incorrect).
    pub failed_samples: u64,
    /// Completed samples without a grade from `verifier`.
    pub ungraded_samples: u64,
}

/// Sample totals of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SampleStats {
    /// Problems with at least one sample (completed or failed).
    pub problems: usize,
    pub completed: u64,
    pub failed: u64,
}

/// A completed sample that has no grade yet from some verifier.
#[derive(Debug, Clone, PartialEq)]
pub struct UngradedSample {
    pub problem: String,
    pub sample_index: u32,
    pub response: String,
    pub gold: Option<String>,
    pub metadata: Option<Value>,
    /// Where this sample stands in the run, to ask for the page after it.
    pub cursor: SampleCursor,
}

/// A position in a run's samples (see [`Store::ungraded`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SampleCursor {
    problem_row: i64,
    sample_index: u32,
}

impl Store {
    /// Opens the store at `path`, creating it (and migrating it to the latest schema)
    /// when needed.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        Self::open_with(path.as_ref(), true)
    }

    /// Opens an existing store; a missing file is an error rather than a new, empty store
    /// (a typo in a path should not silently analyse nothing).
    pub fn open_existing(path: impl AsRef<Path>) -> Result<Self> {
        Self::open_with(path.as_ref(), false)
    }

    fn open_with(path: &Path, create: bool) -> Result<Self> {
        if !create && !path.exists() {
            return Err(StoreError::Missing(path.to_owned()));
        }
        let flags = if create {
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE
        } else {
            OpenFlags::SQLITE_OPEN_READ_WRITE
        };
        let conn =
            Connection::open_with_flags(path, flags | OpenFlags::SQLITE_OPEN_NO_MUTEX).at(path)?;
        let mut store = Self {
            conn,
            path: path.to_owned(),
        };
        store.configure()?;
        store.migrate()?;
        Ok(store)
    }

    fn not_a_store(&self, reason: impl Into<String>) -> StoreError {
        StoreError::NotAStore {
            path: self.path.clone(),
            reason: reason.into(),
        }
    }

    fn configure(&mut self) -> Result<()> {
        // The first read of the header is where SQLite notices a file that is not a
        // database at all; say so in words a user understands.
        let application_id: i32 = self
            .conn
            .query_row("PRAGMA application_id", [], |r| r.get(0))
            .map_err(|e| self.not_a_store(format!("SQLite cannot read it: {e}")))?;
        let has_tables: bool = self
            .conn
            .query_row("SELECT count(*) > 0 FROM sqlite_schema", [], |r| r.get(0))
            .at(&self.path)?;
        if has_tables && application_id != APPLICATION_ID {
            return Err(self.not_a_store("it is an SQLite database of another application"));
        }
        self.conn
            .busy_timeout(Duration::from_secs(30))
            .at(&self.path)?;
        // WAL: readers never block the writer, and a killed writer loses at most its
        // uncommitted transaction. NORMAL sync is durable across process crashes (an
        // OS crash may lose the last commits, never corrupt the file).
        self.conn
            .pragma_update(None, "journal_mode", "WAL")
            .at(&self.path)?;
        self.conn
            .pragma_update(None, "synchronous", "NORMAL")
            .at(&self.path)?;
        self.conn
            .pragma_update(None, "foreign_keys", "ON")
            .at(&self.path)?;
        // 64 MiB of page cache (the default is 2 MiB): large imports and gradings then
        // stop spilling half-built B-tree pages to the WAL mid-transaction.
        self.conn
            .pragma_update(None, "cache_size", -65_536)
            .at(&self.path)?;
        Ok(())
    }

    fn migrate(&mut self) -> Result<()> {
        let version: i32 = self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .at(&self.path)?;
        if version > LATEST_VERSION {
            return Err(StoreError::TooNew {
                path: self.path.clone(),
                found: version,
                supported: LATEST_VERSION,
            });
        }
        if version == LATEST_VERSION {
            return Ok(());
        }
        let tx = self.conn.transaction().at(&self.path)?;
        for migration in &MIGRATIONS[version as usize..] {
            tx.execute_batch(migration).at(&self.path)?;
        }
        tx.pragma_update(None, "application_id", APPLICATION_ID)
            .at(&self.path)?;
        tx.pragma_update(None, "user_version", LATEST_VERSION)
            .at(&self.path)?;
        tx.commit().at(&self.path)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The schema version of the open store.
    pub fn schema_version(&self) -> Result<i32> {
        self.conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .at(&self.path)
    }

    /// Starts a transaction; nothing it writes is visible, or survives a crash, until
    /// [`Writer::commit`].
    pub fn writer(&mut self) -> Result<Writer<'_>> {
        Writer::begin(self)
    }

    /// Gets the run with this spec, creating it on first use.
    pub fn ensure_run(&mut self, spec: &RunSpec) -> Result<Run> {
        let mut writer = self.writer()?;
        let run = writer.ensure_run(spec)?;
        writer.commit()?;
        Ok(run)
    }

    /// All runs, in creation order.
    pub fn runs(&self) -> Result<Vec<Run>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT id, model, benchmark, source, sampling, seed, config_hash, created_at \
                 FROM runs ORDER BY id",
            )
            .at(&self.path)?;
        let rows = stmt.query_map([], run_from_row).at(&self.path)?;
        rows.collect::<Result<Vec<_>, _>>().at(&self.path)
    }

    /// The run with this id.
    pub fn run(&self, id: i64) -> Result<Run> {
        self.conn
            .query_row(
                "SELECT id, model, benchmark, source, sampling, seed, config_hash, created_at \
                 FROM runs WHERE id = ?1",
                [id],
                run_from_row,
            )
            .optional()
            .at(&self.path)?
            .ok_or(StoreError::NoSuchRun(id))
    }

    /// The verifiers that have graded samples of a run, sorted.
    pub fn verifiers(&self, run_id: i64) -> Result<Vec<String>> {
        let mut stmt = self
            .conn
            .prepare("SELECT DISTINCT verifier FROM grades WHERE run_id = ?1 ORDER BY verifier")
            .at(&self.path)?;
        let rows = stmt.query_map([run_id], |r| r.get(0)).at(&self.path)?;
        rows.collect::<Result<Vec<String>, _>>().at(&self.path)
    }

    /// The verifier to read a run's grades from: the one asked for, or the only one
    /// there is; several without a choice is an error that lists them.
    pub fn resolve_verifier(&self, run: &Run, wanted: Option<&str>) -> Result<Option<String>> {
        if let Some(v) = wanted {
            return Ok(Some(v.to_owned()));
        }
        let mut available = self.verifiers(run.id)?;
        match available.len() {
            0 => Ok(None),
            1 => Ok(available.pop()),
            _ => Err(StoreError::AmbiguousVerifier {
                run: run.id,
                model: run.model.clone(),
                benchmark: run.benchmark.clone(),
                available: available.join(", "),
            }),
        }
    }

    /// Per-problem (n, c) of a run: n counts completed samples graded by the
    /// verifier, c the correct ones. Failed and ungraded samples are counted apart.
    pub fn counts(&self, run: &Run, verifier: Option<&str>) -> Result<RunCounts> {
        let verifier = self.resolve_verifier(run, verifier)?;
        let mut problems = Vec::new();
        if let Some(v) = &verifier {
            let mut stmt = self
                .conn
                .prepare(
                    "SELECT p.key, count(*), sum(g.correct)
                     FROM samples s
                     JOIN problems p ON p.id = s.problem_id
                     JOIN grades g ON g.run_id = s.run_id AND g.problem_id = s.problem_id
                                  AND g.sample_index = s.sample_index AND g.verifier = ?2
                     WHERE s.run_id = ?1 AND s.status = 'ok'
                     GROUP BY s.problem_id
                     ORDER BY p.key",
                )
                .at(&self.path)?;
            let rows = stmt
                .query_map(params![run.id, v], |r| {
                    Ok(ProblemCounts::new(
                        r.get::<_, String>(0)?,
                        r.get::<_, i64>(1)? as u64,
                        r.get::<_, i64>(2)? as u64,
                    ))
                })
                .at(&self.path)?;
            problems = rows.collect::<Result<_, _>>().at(&self.path)?;
        }
        let stats = self.sample_stats(run.id)?;
        let graded: u64 = problems.iter().map(|p| p.n).sum();
        Ok(RunCounts {
            run: run.clone(),
            verifier,
            problems,
            failed_samples: stats.failed,
            ungraded_samples: stats.completed - graded,
        })
    }

    /// How many problems and samples a run has, by status.
    pub fn sample_stats(&self, run_id: i64) -> Result<SampleStats> {
        self.conn
            .query_row(
                "SELECT count(DISTINCT problem_id), coalesce(sum(status = 'ok'), 0), \
                 coalesce(sum(status = 'failed'), 0) FROM samples WHERE run_id = ?1",
                [run_id],
                |r| {
                    Ok(SampleStats {
                        problems: r.get::<_, i64>(0)? as usize,
                        completed: r.get::<_, i64>(1)? as u64,
                        failed: r.get::<_, i64>(2)? as u64,
                    })
                },
            )
            .at(&self.path)
    }

    /// Indices in `0..n` of a problem that still lack a completed sample in the run
    /// (never sampled, or failed): what a resumed run must generate.
    pub fn missing_indices(&self, run_id: i64, problem: &str, n: u32) -> Result<Vec<u32>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT s.sample_index FROM samples s JOIN problems p ON p.id = s.problem_id
                 JOIN runs r ON r.id = s.run_id AND r.benchmark = p.benchmark
                 WHERE s.run_id = ?1 AND p.key = ?2 AND s.status = 'ok' AND s.sample_index < ?3",
            )
            .at(&self.path)?;
        let done: std::collections::HashSet<u32> = stmt
            .query_map(params![run_id, problem, n], |r| r.get(0))
            .at(&self.path)?
            .collect::<Result<_, _>>()
            .at(&self.path)?;
        Ok((0..n).filter(|i| !done.contains(i)).collect())
    }

    /// Up to `limit` completed samples of a run that have no grade from `verifier`,
    /// with the gold answer and metadata of their problem, after `after` (in the order
    /// problems were stored, then sample index). Grading a run a page at a time keeps
    /// memory flat however many samples it holds; passing the last sample's
    /// [`UngradedSample::cursor`] moves on even past samples left ungraded on purpose.
    pub fn ungraded(
        &self,
        run_id: i64,
        verifier: &str,
        after: Option<SampleCursor>,
        limit: usize,
    ) -> Result<Vec<UngradedSample>> {
        let after = after.unwrap_or(SampleCursor {
            problem_row: -1,
            sample_index: 0,
        });
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT p.key, s.sample_index, s.response, p.gold, p.metadata, s.problem_id
                 FROM samples s JOIN problems p ON p.id = s.problem_id
                 WHERE s.run_id = ?1 AND s.status = 'ok'
                   AND (s.problem_id, s.sample_index) > (?3, ?4)
                   AND NOT EXISTS (
                     SELECT 1 FROM grades g WHERE g.run_id = s.run_id
                       AND g.problem_id = s.problem_id AND g.sample_index = s.sample_index
                       AND g.verifier = ?2)
                 ORDER BY s.problem_id, s.sample_index
                 LIMIT ?5",
            )
            .at(&self.path)?;
        let rows = stmt
            .query_map(
                params![
                    run_id,
                    verifier,
                    after.problem_row,
                    after.sample_index,
                    limit as i64
                ],
                |r| {
                    let metadata: Option<String> = r.get(4)?;
                    let sample_index = r.get(1)?;
                    Ok(UngradedSample {
                        problem: r.get(0)?,
                        sample_index,
                        response: r.get(2)?,
                        gold: r.get(3)?,
                        metadata: metadata.and_then(|m| serde_json::from_str(&m).ok()),
                        cursor: SampleCursor {
                            problem_row: r.get(5)?,
                            sample_index,
                        },
                    })
                },
            )
            .at(&self.path)?;
        rows.collect::<Result<_, _>>().at(&self.path)
    }

    /// Counts of rows per table, for summaries and tests.
    pub fn table_counts(&self) -> Result<HashMap<&'static str, u64>> {
        let mut counts = HashMap::new();
        for table in ["runs", "problems", "prompts", "samples", "grades", "scores"] {
            let n: i64 = self
                .conn
                .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
                .at(&self.path)?;
            counts.insert(table, n as u64);
        }
        Ok(counts)
    }

    /// Runs SQLite's full consistency check; `Ok(())` when it reports "ok".
    pub fn integrity_check(&self) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare("PRAGMA integrity_check").at(&self.path)?;
        let rows = stmt.query_map([], |r| r.get(0)).at(&self.path)?;
        rows.collect::<Result<Vec<String>, _>>().at(&self.path)
    }
}

pub(crate) fn run_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Run> {
    let sampling: String = r.get(4)?;
    Ok(Run {
        id: r.get(0)?,
        model: r.get(1)?,
        benchmark: r.get(2)?,
        source: r.get(3)?,
        sampling: serde_json::from_str(&sampling).unwrap_or(Value::String(sampling)),
        seed: r.get::<_, Option<i64>>(5)?.map(|s| s as u64),
        config_hash: r.get(6)?,
        created_at: r.get(7)?,
    })
}

impl RunSpec {
    /// sha256 over the canonical JSON of (source, sampling, seed), so that the key
    /// order of the settings does not change a run's identity.
    pub fn config_hash(&self) -> Result<String> {
        if !self.sampling.is_object() {
            return Err(StoreError::SamplingNotObject(self.sampling.to_string()));
        }
        let identity = serde_json::json!({
            "source": self.source,
            "sampling": self.sampling,
            "seed": self.seed,
        });
        let digest = Sha256::digest(canonical_json(&identity).as_bytes());
        Ok(digest.iter().map(|b| format!("{b:02x}")).collect())
    }
}

/// JSON text with object keys sorted at every level. serde_json keeps insertion
/// order when any crate in the build enables its `preserve_order` feature, so the
/// order is imposed here rather than assumed.
pub fn canonical_json(value: &Value) -> String {
    fn sorted(value: &Value) -> Value {
        match value {
            Value::Object(map) => {
                let mut entries: Vec<_> = map.iter().collect();
                entries.sort_by(|a, b| a.0.cmp(b.0));
                Value::Object(
                    entries
                        .into_iter()
                        .map(|(k, v)| (k.clone(), sorted(v)))
                        .collect(),
                )
            }
            Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
            other => other.clone(),
        }
    }
    sorted(value).to_string()
}
