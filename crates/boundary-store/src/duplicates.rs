//! Exact duplicate responses within a problem: a sign that a server returned the same
//! sample twice (a reused seed, a cache), which would inflate pass@k.

use rusqlite::params;
use serde::Serialize;

use crate::error::{Result, SqliteContext};
use crate::store::Store;

/// A problem of a run whose completed samples repeat a response word for word.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DuplicateResponses {
    pub problem: String,
    /// Completed samples of the problem.
    pub samples: u64,
    /// Samples whose response equals an earlier one's (samples minus distinct responses).
    pub duplicates: u64,
}

impl Store {
    /// Problems of run `run_id` with exact duplicate responses, in problem order.
    pub fn duplicate_responses(&self, run_id: i64) -> Result<Vec<DuplicateResponses>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT p.key, count(*), count(*) - count(DISTINCT s.response) \
                 FROM samples s JOIN problems p ON p.id = s.problem_id \
                 WHERE s.run_id = ?1 AND s.status = 'ok' \
                 GROUP BY s.problem_id HAVING count(*) > count(DISTINCT s.response) \
                 ORDER BY p.key",
            )
            .at(&self.path)?;
        let rows = stmt
            .query_map(params![run_id], |r| {
                Ok(DuplicateResponses {
                    problem: r.get(0)?,
                    samples: r.get::<_, i64>(1)? as u64,
                    duplicates: r.get::<_, i64>(2)? as u64,
                })
            })
            .at(&self.path)?;
        rows.collect::<Result<_, _>>().at(&self.path)
    }
}
