//! The resume plan: which samples a run still needs, computed from the store.

use boundary_store::{Run, RunSpec, Store, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::prompt::{PromptInput, PromptRecord};

/// Sampling settings shared by every backend. `extra` carries backend-specific
/// fields through unchanged (vLLM's `repetition_penalty`, `chat_template_kwargs`, ...).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SamplingParams {
    pub temperature: f64,
    pub top_p: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_k: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_p: Option<f64>,
    pub max_tokens: u32,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stop: Vec<String>,
    /// The run's seed; each sample's own seed is derived from it (see [`sample_seed`]).
    pub seed: u64,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub extra: Map<String, Value>,
}

/// The seed of one sample, derived from the run seed, the problem and the sample
/// index. Because it does not depend on batching, chunking or which samples a
/// resumed run still needs, a sample comes out the same however the run was split.
pub fn sample_seed(run_seed: u64, problem: &str, sample_index: u32) -> u64 {
    let mut h = Sha256::new();
    h.update(run_seed.to_le_bytes());
    h.update((problem.len() as u64).to_le_bytes());
    h.update(problem.as_bytes());
    h.update(sample_index.to_le_bytes());
    let digest = h.finalize();
    u64::from_le_bytes(digest[..8].try_into().expect("sha256 has 32 bytes"))
}

/// One of N deterministic parts of a run, split by problem: shard `index` of `count`
/// takes the problems whose id hashes to it, so shards never overlap and their union
/// is the whole run, whatever order the prompts come in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

#[derive(Debug, Error, PartialEq)]
#[error("invalid shard {0:?}: write it as i/N with 0 <= i < N, for example 0/4")]
pub struct ShardError(String);

impl std::str::FromStr for Shard {
    type Err = ShardError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parse = || -> Option<Shard> {
            let (i, n) = s.split_once('/')?;
            let (index, count) = (i.trim().parse().ok()?, n.trim().parse().ok()?);
            (index < count).then_some(Shard { index, count })
        };
        parse().ok_or_else(|| ShardError(s.to_owned()))
    }
}

impl Shard {
    pub fn contains(&self, problem: &str) -> bool {
        let digest = Sha256::digest(problem.as_bytes());
        let h = u64::from_le_bytes(digest[..8].try_into().expect("sha256 has 32 bytes"));
        h % u64::from(self.count) == u64::from(self.index)
    }
}

/// The samples one problem still needs.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkItem {
    pub problem: String,
    pub input: PromptInput,
    /// Sample indices without a completed sample (never made, or failed before).
    pub indices: Vec<u32>,
}

/// What a run still needs, and what it already has.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub run: Run,
    pub items: Vec<WorkItem>,
    /// Problems in the run (after sharding).
    pub problems: usize,
    /// Samples asked for: problems × n.
    pub requested: u64,
    /// Samples already completed in the store (a resumed run skips them).
    pub completed: u64,
}

impl Plan {
    /// Samples still to generate.
    pub fn missing(&self) -> u64 {
        self.requested - self.completed
    }
}

/// Records the run, its problems (with gold answers) and prompts in the store, and
/// returns the samples still missing for `n` samples per problem.
pub fn plan(
    store: &mut Store,
    spec: &RunSpec,
    prompts: &[PromptRecord],
    n: u32,
    shard: Option<Shard>,
) -> Result<Plan, StoreError> {
    let selected: Vec<&PromptRecord> = prompts
        .iter()
        .filter(|p| shard.is_none_or(|s| s.contains(&p.id)))
        .collect();
    let mut writer = store.writer()?;
    let run = writer.ensure_run(spec)?;
    for p in &selected {
        writer.ensure_problem(
            &spec.benchmark,
            &p.id,
            p.gold.as_deref(),
            p.metadata.as_ref(),
        )?;
        writer.set_prompt(run.id, &p.id, &p.input.stored_form())?;
    }
    writer.commit()?;

    let mut items = Vec::new();
    let mut completed = 0;
    for p in &selected {
        let indices = store.missing_indices(run.id, &p.id, n)?;
        completed += u64::from(n) - indices.len() as u64;
        if !indices.is_empty() {
            items.push(WorkItem {
                problem: p.id.clone(),
                input: p.input.clone(),
                indices,
            });
        }
    }
    Ok(Plan {
        run,
        items,
        problems: selected.len(),
        requested: selected.len() as u64 * u64::from(n),
        completed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_seeds_are_stable_and_distinct() {
        assert_eq!(sample_seed(0, "p1", 3), sample_seed(0, "p1", 3));
        let seeds: std::collections::HashSet<u64> =
            (0..1000).map(|i| sample_seed(7, "p", i)).collect();
        assert_eq!(seeds.len(), 1000);
        assert_ne!(sample_seed(0, "p1", 0), sample_seed(1, "p1", 0));
        // The length prefix keeps ("ab", 1) and ("a", ...) style collisions apart.
        assert_ne!(sample_seed(0, "p1", 0), sample_seed(0, "p10", 0));
        // A frozen value: changing the derivation would silently change every run.
        assert_eq!(sample_seed(0, "p1", 0), 0x69ee_164b_8f12_f266);
    }

    #[test]
    fn shards_partition_problems() {
        let shards: Vec<Shard> = (0..4).map(|i| format!("{i}/4").parse().unwrap()).collect();
        for p in 0..500 {
            let id = format!("problem-{p}");
            assert_eq!(shards.iter().filter(|s| s.contains(&id)).count(), 1);
        }
        let sizes: Vec<usize> = shards
            .iter()
            .map(|s| {
                (0..500)
                    .filter(|p| s.contains(&format!("problem-{p}")))
                    .count()
            })
            .collect();
        assert!(sizes.iter().all(|&n| (90..=160).contains(&n)), "{sizes:?}");
        assert!("4/4".parse::<Shard>().is_err());
        assert!("1-4".parse::<Shard>().is_err());
    }
}
