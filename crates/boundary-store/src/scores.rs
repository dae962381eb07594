//! Reading scores back: the log-probabilities scorer models attached to samples (for the
//! perplexity analysis), and what a scoring stage still has to do after a crash.

use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use crate::error::{Result, SqliteContext};
use crate::store::Store;

/// The log-probability of a sample's response under one scorer, as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredScore {
    pub problem: String,
    pub sample_index: u32,
    /// Natural log, summed over the response's tokens.
    pub logprob_sum: f64,
    pub num_tokens: u32,
}

impl Store {
    /// The scorers that scored samples of a run, sorted by name.
    pub fn scorers(&self, run_id: i64) -> Result<Vec<String>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT DISTINCT scorer FROM scores WHERE run_id = ?1 ORDER BY scorer")
            .at(&self.path)?;
        let rows = stmt.query_map([run_id], |r| r.get(0)).at(&self.path)?;
        rows.collect::<Result<_, _>>().at(&self.path)
    }

    /// The scores of a run's samples under `scorer`, in the order the problems were
    /// stored, then by sample index.
    pub fn scores(&self, run_id: i64, scorer: &str) -> Result<Vec<StoredScore>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT p.key, sc.sample_index, sc.logprob_sum, sc.num_tokens
                 FROM scores sc JOIN problems p ON p.id = sc.problem_id
                 WHERE sc.run_id = ?1 AND sc.scorer = ?2
                 ORDER BY sc.problem_id, sc.sample_index",
            )
            .at(&self.path)?;
        let rows = stmt
            .query_map(params![run_id, scorer], |r| {
                Ok(StoredScore {
                    problem: r.get(0)?,
                    sample_index: r.get(1)?,
                    logprob_sum: r.get(2)?,
                    num_tokens: r.get(3)?,
                })
            })
            .at(&self.path)?;
        rows.collect::<Result<_, _>>().at(&self.path)
    }

    /// Of a problem's first `first` completed samples in a run (by sample index; all of
    /// them when `None`), the indices of those without a score from `scorer`: what a
    /// resumed scoring stage still has to score.
    pub fn unscored(
        &self,
        run_id: i64,
        problem: &str,
        scorer: &str,
        first: Option<u32>,
    ) -> Result<Vec<u32>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT s.sample_index,
                   EXISTS (SELECT 1 FROM scores sc WHERE sc.run_id = s.run_id
                     AND sc.problem_id = s.problem_id AND sc.sample_index = s.sample_index
                     AND sc.scorer = ?3)
                 FROM samples s JOIN problems p ON p.id = s.problem_id
                 JOIN runs r ON r.id = s.run_id AND r.benchmark = p.benchmark
                 WHERE s.run_id = ?1 AND p.key = ?2 AND s.status = 'ok'
                 ORDER BY s.sample_index
                 LIMIT ?4",
            )
            .at(&self.path)?;
        // SQLite reads a negative LIMIT as no limit.
        let limit = first.map_or(-1, i64::from);
        let rows = stmt
            .query_map(params![run_id, problem, scorer, limit], |r| {
                Ok((r.get::<_, u32>(0)?, r.get::<_, bool>(1)?))
            })
            .at(&self.path)?;
        let mut missing = Vec::new();
        for row in rows {
            let (index, scored) = row.at(&self.path)?;
            if !scored {
                missing.push(index);
            }
        }
        Ok(missing)
    }

    /// The exact prompt a run sent for a problem, when it was stored.
    pub fn prompt(&self, run_id: i64, problem: &str) -> Result<Option<String>> {
        self.conn
            .prepare_cached(
                "SELECT pr.prompt FROM prompts pr JOIN problems p ON p.id = pr.problem_id
                 JOIN runs r ON r.id = pr.run_id AND r.benchmark = p.benchmark
                 WHERE pr.run_id = ?1 AND p.key = ?2",
            )
            .at(&self.path)?
            .query_row(params![run_id, problem], |r| r.get(0))
            .optional()
            .at(&self.path)
    }

    /// The response of a completed sample; `None` when the sample is missing or failed.
    pub fn response(
        &self,
        run_id: i64,
        problem: &str,
        sample_index: u32,
    ) -> Result<Option<String>> {
        self.conn
            .prepare_cached(
                "SELECT s.response FROM samples s JOIN problems p ON p.id = s.problem_id
                 JOIN runs r ON r.id = s.run_id AND r.benchmark = p.benchmark
                 WHERE s.run_id = ?1 AND p.key = ?2 AND s.sample_index = ?3 AND s.status = 'ok'",
            )
            .at(&self.path)?
            .query_row(params![run_id, problem, sample_index], |r| r.get(0))
            .optional()
            .at(&self.path)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::{NewSample, NewScore, RunSpec, SampleOutcome, Store};

    fn sample(problem: &str, index: u32, outcome: SampleOutcome) -> NewSample {
        NewSample {
            problem: problem.into(),
            sample_index: index,
            outcome,
            finish_reason: None,
            prompt_tokens: None,
            completion_tokens: None,
        }
    }

    fn ok(problem: &str, index: u32) -> NewSample {
        let response = format!("response {problem}/{index}");
        sample(problem, index, SampleOutcome::Ok { response })
    }

    fn score(problem: &str, index: u32, scorer: &str, logprob_sum: f64) -> NewScore {
        NewScore {
            problem: problem.into(),
            sample_index: index,
            scorer: scorer.into(),
            logprob_sum,
            num_tokens: 4,
        }
    }

    /// A run with problems `b` (samples 0..5, sample 1 failed) and `a` (samples 0..3),
    /// stored in that order, and its prompts.
    fn store() -> (tempfile::TempDir, Store, i64) {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path().join("run.db")).unwrap();
        let run = store
            .ensure_run(&RunSpec {
                model: "rl".into(),
                benchmark: "gsm8k".into(),
                source: "test".into(),
                sampling: json!({}),
                seed: None,
            })
            .unwrap();
        let mut w = store.writer().unwrap();
        for i in 0..5 {
            let s = if i == 1 {
                sample(
                    "b",
                    i,
                    SampleOutcome::Failed {
                        error: "503".into(),
                    },
                )
            } else {
                ok("b", i)
            };
            w.put_sample(run.id, &s).unwrap();
        }
        for i in 0..3 {
            w.put_sample(run.id, &ok("a", i)).unwrap();
        }
        w.set_prompt(run.id, "b", "Question b?").unwrap();
        w.commit().unwrap();
        (dir, store, run.id)
    }

    #[test]
    fn unscored_counts_the_first_completed_samples_and_skips_scored_ones() {
        let (_dir, mut store, run) = store();
        // The first three completed samples of `b` are 0, 2 and 3 (1 failed).
        assert_eq!(
            store.unscored(run, "b", "base", Some(3)).unwrap(),
            [0, 2, 3]
        );
        assert_eq!(
            store.unscored(run, "b", "base", None).unwrap(),
            [0, 2, 3, 4]
        );
        assert_eq!(
            store.unscored(run, "b", "base", Some(0)).unwrap(),
            [0u32; 0]
        );
        assert_eq!(
            store.unscored(run, "unknown", "base", None).unwrap(),
            [0u32; 0]
        );

        let mut w = store.writer().unwrap();
        w.put_score(run, &score("b", 2, "base", -8.0)).unwrap();
        w.put_score(run, &score("a", 0, "rl", -2.0)).unwrap();
        w.commit().unwrap();
        assert_eq!(store.unscored(run, "b", "base", Some(3)).unwrap(), [0, 3]);
        // Another scorer's scores do not count.
        assert_eq!(store.unscored(run, "a", "base", None).unwrap(), [0, 1, 2]);
        assert_eq!(store.unscored(run, "a", "rl", None).unwrap(), [1, 2]);
    }

    #[test]
    fn scores_read_back_per_scorer_in_stored_order() {
        let (_dir, mut store, run) = store();
        assert!(store.scorers(run).unwrap().is_empty());
        assert!(store.scores(run, "base").unwrap().is_empty());
        let mut w = store.writer().unwrap();
        w.put_score(run, &score("a", 1, "base", -1.0)).unwrap();
        w.put_score(run, &score("b", 4, "base", -8.0)).unwrap();
        w.put_score(run, &score("b", 0, "base", -4.0)).unwrap();
        w.put_score(run, &score("b", 0, "rl", -6.0)).unwrap();
        w.commit().unwrap();

        assert_eq!(store.scorers(run).unwrap(), ["base", "rl"]);
        let base = store.scores(run, "base").unwrap();
        let keys: Vec<(&str, u32)> = base
            .iter()
            .map(|s| (s.problem.as_str(), s.sample_index))
            .collect();
        assert_eq!(keys, [("b", 0), ("b", 4), ("a", 1)]);
        assert_eq!(base[0].logprob_sum, -4.0);
        assert_eq!(base[0].num_tokens, 4);
        assert_eq!(store.scores(run, "rl").unwrap().len(), 1);
    }

    #[test]
    fn prompts_and_responses_read_back() {
        let (_dir, store, run) = store();
        assert_eq!(
            store.prompt(run, "b").unwrap().as_deref(),
            Some("Question b?")
        );
        assert_eq!(store.prompt(run, "a").unwrap(), None);
        assert_eq!(
            store.response(run, "b", 2).unwrap().as_deref(),
            Some("response b/2")
        );
        assert_eq!(store.response(run, "b", 1).unwrap(), None, "failed");
        assert_eq!(store.response(run, "b", 9).unwrap(), None, "never sampled");
    }
}
