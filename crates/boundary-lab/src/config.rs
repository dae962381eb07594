//! The lab's configuration: named profiles (`quick`, `default`, `large`)
//! embedded in the binary, optionally overridden by a user's TOML file.
//!
//! Profiles are fixed amounts of work, never scaled to the machine's speed,
//! so the same seed and thread count give the same report everywhere.
//! A user file may set any subset of keys; they replace the profile's values
//! key by key (tables merge, everything else is replaced whole).

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::rl::Algorithm;
use crate::rl::kl::KlEstimator;
use crate::rl::loss::Aggregation;
use crate::task::TaskSpec;
use crate::task::generator::SplitSpec;

/// A named, fixed amount of work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Profile {
    /// About two minutes on two cores; what the test suite runs end to end.
    Quick,
    /// The README's command: about fifteen minutes on two cores.
    Default,
    /// More problems, samples and steps, for machines with more cores.
    Large,
}

impl Profile {
    fn toml(self) -> &'static str {
        match self {
            Profile::Quick => include_str!("profiles/quick.toml"),
            Profile::Default => include_str!("profiles/default.toml"),
            Profile::Large => include_str!("profiles/large.toml"),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Profile::Quick => "quick",
            Profile::Default => "default",
            Profile::Large => "large",
        }
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Profile {
    type Err = ConfigError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "quick" => Ok(Profile::Quick),
            "default" => Ok(Profile::Default),
            "large" => Ok(Profile::Large),
            other => Err(ConfigError::UnknownProfile(other.to_string())),
        }
    }
}

/// The whole lab configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabConfig {
    /// Seed of every random choice (data, initialisation, sampling).
    pub seed: u64,
    /// Worker threads for tensor kernels. Results depend on it (float
    /// reductions split differently), so it is part of the config.
    pub threads: usize,
    pub task: TaskSpec,
    pub split: SplitSpec,
    pub model: ModelSpec,
    pub pretrain: SftSpec,
    pub distill: SftSpec,
    pub rl: RlSpec,
    pub eval: EvalSpec,
}

/// Size of the transformer (see [`crate::model`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    pub d_model: usize,
    pub layers: usize,
    pub heads: usize,
    pub d_ff: usize,
}

/// A supervised (next-token) training run: pretraining or distillation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SftSpec {
    pub steps: usize,
    /// Sequences per step.
    pub batch_size: usize,
    /// Peak learning rate (AdamW).
    pub lr: f64,
    /// Linear warm-up steps, then cosine decay to `lr * final_lr_fraction`.
    pub warmup_steps: usize,
    pub final_lr_fraction: f64,
    pub weight_decay: f64,
    pub grad_clip: f64,
}

/// Where the KL to the reference (base) model enters, if anywhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KlPlacement {
    /// No KL term (the paper's algorithm comparison).
    None,
    /// `-β·kl` added to each token's reward (REINFORCE++ / ReMax in verl).
    Reward,
    /// `+β·kl` added to the loss, with gradient (GRPO in verl).
    Loss,
}

/// KL regularisation toward the base model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KlSpec {
    pub placement: KlPlacement,
    pub coef: f64,
    pub estimator: KlEstimator,
}

/// Settings every RL algorithm shares, plus each algorithm's own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RlSpec {
    /// Which algorithms to train, in report order.
    pub algorithms: Vec<Algorithm>,
    /// Also train a GRPO model on coin-flip rewards: a control that must not improve.
    pub random_reward_control: bool,
    pub steps: usize,
    /// Prompts per step.
    pub prompts_per_step: usize,
    /// Responses per prompt (`n` in the paper).
    pub group_size: usize,
    /// Rollout temperature.
    pub temperature: f64,
    pub lr: f64,
    pub weight_decay: f64,
    pub grad_clip: f64,
    /// Optimizer steps per rollout batch (the batch is split this many ways).
    pub mini_batches: usize,
    /// Passes over each rollout batch.
    pub epochs: usize,
    pub clip_low: f64,
    pub clip_high: f64,
    /// Dual-clip bound `c` on the loss of negative-advantage tokens.
    pub clip_dual: f64,
    pub entropy_coef: f64,
    /// How per-token losses are averaged (verl's `loss_agg_mode`).
    pub loss_aggregation: Aggregation,
    /// KL settings for every algorithm except where an algorithm overrides them.
    pub kl: KlSpec,
    /// Held-out pass@1 for the training curves every this many steps (0: never).
    pub validation_every: usize,
    pub validation_samples: usize,
    /// Training prompts (the first of the RL prompt set) whose mean reward is measured
    /// before and after RL with the same random draws: a paired, low-noise answer to
    /// "did the training reward rise?", which single steps' batches are too small to give.
    pub probe_prompts: usize,
    /// Responses per probe prompt.
    pub probe_samples: usize,
    pub ppo: PpoSpec,
    pub grpo: GrpoSpec,
    pub reinforce_pp: ReinforcePpSpec,
    pub remax: RemaxSpec,
    pub dapo: DapoSpec,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PpoSpec {
    pub critic_lr: f64,
    pub value_clip: f64,
    pub gamma: f64,
    pub lambda: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrpoSpec {
    /// Divide by the group's standard deviation (false gives Dr. GRPO).
    pub norm_by_std: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReinforcePpSpec {
    /// Overrides `rl.kl` for REINFORCE++ when set.
    pub kl: Option<KlSpec>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemaxSpec {
    /// Overrides `rl.kl` for ReMax when set.
    pub kl: Option<KlSpec>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DapoSpec {
    pub clip_high: f64,
    /// Most rollout batches drawn per step while filling it with mixed groups.
    pub max_gen_batches: usize,
    /// Responses longer than `max_tokens - overlong_buffer` are penalised linearly.
    pub overlong_buffer: usize,
    pub overlong_factor: f64,
}

/// Evaluation of every model on the test set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvalSpec {
    /// Samples per test problem (`n`, the largest k).
    pub samples: usize,
    pub temperature: f64,
    pub top_p: f64,
    /// Sequences decoded together.
    pub batch_size: usize,
    /// Bootstrap resamples for confidence intervals.
    pub bootstrap: usize,
    /// Responses per test problem scored for the perplexity analysis.
    pub perplexity_samples: usize,
}

#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("unknown profile `{0}`: use quick, default or large")]
    UnknownProfile(String),
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("config file {path} is not valid TOML: {message}")]
    Syntax { path: String, message: String },
    #[error("{origin}: `{field}`: {message}")]
    Field {
        origin: String,
        field: String,
        message: String,
    },
    #[error("{origin}: {message}")]
    Invalid { origin: String, message: String },
}

impl LabConfig {
    /// The configuration of a profile.
    pub fn profile(profile: Profile) -> Result<Self, ConfigError> {
        let value: toml::Value =
            toml::from_str(profile.toml()).map_err(|e| ConfigError::Syntax {
                path: format!("<built-in profile {profile}>"),
                message: e.to_string(),
            })?;
        Self::from_value(value, &format!("built-in profile `{profile}`"))
    }

    /// A profile overridden by a TOML file's keys.
    pub fn load(profile: Profile, path: Option<&Path>) -> Result<Self, ConfigError> {
        let Some(path) = path else {
            return Self::profile(profile);
        };
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: shown.clone(),
            source,
        })?;
        Self::overridden(profile, &text, &shown)
    }

    /// A profile overridden by TOML text (`origin` names it in errors).
    pub fn overridden(profile: Profile, text: &str, origin: &str) -> Result<Self, ConfigError> {
        let user: toml::Value = toml::from_str(text).map_err(|e| ConfigError::Syntax {
            path: origin.to_string(),
            message: e.to_string(),
        })?;
        let mut base: toml::Value =
            toml::from_str(profile.toml()).map_err(|e| ConfigError::Syntax {
                path: format!("<built-in profile {profile}>"),
                message: e.to_string(),
            })?;
        merge(&mut base, user);
        Self::from_value(base, &format!("{origin} (over profile `{profile}`)"))
    }

    fn from_value(value: toml::Value, origin: &str) -> Result<Self, ConfigError> {
        let config: LabConfig =
            serde_path_to_error::deserialize(value).map_err(|e| ConfigError::Field {
                origin: origin.to_string(),
                field: e.path().to_string(),
                message: e.into_inner().to_string(),
            })?;
        config.validate().map_err(|message| ConfigError::Invalid {
            origin: origin.to_string(),
            message,
        })?;
        Ok(config)
    }

    /// Checks what the types alone cannot; task and split details are checked
    /// when the task is built.
    fn validate(&self) -> Result<(), String> {
        let positive = [
            ("threads", self.threads),
            ("model.d_model", self.model.d_model),
            ("model.layers", self.model.layers),
            ("model.heads", self.model.heads),
            ("model.d_ff", self.model.d_ff),
            ("pretrain.batch_size", self.pretrain.batch_size),
            ("distill.batch_size", self.distill.batch_size),
            ("rl.prompts_per_step", self.rl.prompts_per_step),
            ("rl.mini_batches", self.rl.mini_batches),
            ("rl.epochs", self.rl.epochs),
            ("rl.dapo.max_gen_batches", self.rl.dapo.max_gen_batches),
            ("eval.samples", self.eval.samples),
            ("eval.batch_size", self.eval.batch_size),
            ("split.test_problems", self.split.test_problems),
        ];
        if let Some((name, _)) = positive.iter().find(|(_, v)| *v == 0) {
            return Err(format!("`{name}` must be at least 1"));
        }
        if !self.model.d_model.is_multiple_of(self.model.heads) {
            return Err(format!(
                "model.d_model = {} must be a multiple of model.heads = {}",
                self.model.d_model, self.model.heads
            ));
        }
        if self.rl.group_size < 2 {
            return Err(
                "rl.group_size must be at least 2: group baselines need two responses per prompt"
                    .into(),
            );
        }
        if !self
            .rl
            .prompts_per_step
            .is_multiple_of(self.rl.mini_batches)
        {
            return Err(format!(
                "rl.prompts_per_step = {} must be a multiple of rl.mini_batches = {} (mini-batches hold whole groups)",
                self.rl.prompts_per_step, self.rl.mini_batches
            ));
        }
        let unit = |name: &str, x: f64| {
            if (0.0..=1.0).contains(&x) {
                Ok(())
            } else {
                Err(format!("`{name}` = {x} must be in [0, 1]"))
            }
        };
        unit("eval.top_p", self.eval.top_p)?;
        unit(
            "pretrain.final_lr_fraction",
            self.pretrain.final_lr_fraction,
        )?;
        unit("distill.final_lr_fraction", self.distill.final_lr_fraction)?;
        let non_negative = [
            ("pretrain.lr", self.pretrain.lr),
            ("distill.lr", self.distill.lr),
            ("rl.lr", self.rl.lr),
            ("rl.ppo.critic_lr", self.rl.ppo.critic_lr),
            ("rl.clip_low", self.rl.clip_low),
            ("rl.clip_high", self.rl.clip_high),
            ("rl.dapo.clip_high", self.rl.dapo.clip_high),
            ("rl.entropy_coef", self.rl.entropy_coef),
            ("rl.kl.coef", self.rl.kl.coef),
        ];
        if let Some((name, x)) = non_negative
            .iter()
            .find(|(_, x)| !(x.is_finite() && *x >= 0.0))
        {
            return Err(format!("`{name}` = {x} must be a non-negative number"));
        }
        if !(self.rl.temperature > 0.0 && self.eval.temperature > 0.0) {
            return Err("rl.temperature and eval.temperature must be positive".into());
        }
        if self.rl.clip_dual <= 1.0 {
            return Err(format!(
                "rl.clip_dual = {} must be greater than 1",
                self.rl.clip_dual
            ));
        }
        if self.rl.clip_low >= 1.0 {
            return Err(format!(
                "rl.clip_low = {} must be below 1",
                self.rl.clip_low
            ));
        }
        let mut seen = Vec::new();
        for a in &self.rl.algorithms {
            if seen.contains(a) {
                return Err(format!("rl.algorithms lists `{a}` twice"));
            }
            seen.push(*a);
        }
        Ok(())
    }
}

/// A stable fingerprint of the parts of a config that shape a phase's
/// result; a checkpoint made under another fingerprint is not resumed.
pub fn fingerprint(parts: &[serde_json::Value]) -> String {
    let text: Vec<String> = parts.iter().map(ToString::to_string).collect();
    format!("{:016x}", fnv1a(text.join("\n").as_bytes()))
}

/// 64-bit FNV-1a: a stable hash (std's hasher is randomised per process).
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// Overlays `user` on `base`: tables merge key by key, anything else replaces.
fn merge(base: &mut toml::Value, user: toml::Value) {
    match (base, user) {
        (toml::Value::Table(base), toml::Value::Table(user)) => {
            for (key, value) in user {
                match base.get_mut(&key) {
                    Some(existing) => merge(existing, value),
                    None => {
                        base.insert(key, value);
                    }
                }
            }
        }
        (base, user) => *base = user,
    }
}

/// Class shares as a map, for building the split spec in tests.
pub fn class_mix(pairs: &[(&str, f64)]) -> BTreeMap<String, f64> {
    pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_profile_parses_and_validates() {
        for profile in [Profile::Quick, Profile::Default, Profile::Large] {
            let config = LabConfig::profile(profile).unwrap_or_else(|e| panic!("{profile}: {e}"));
            crate::task::Task::new(config.task.clone()).unwrap();
        }
    }

    /// The documented example is the default profile, key for key, so the
    /// documentation cannot drift from what runs.
    #[test]
    fn the_documented_example_is_the_default_profile() {
        let example = include_str!("../../../examples/lab.toml");
        let config = LabConfig::overridden(Profile::Quick, example, "examples/lab.toml").unwrap();
        assert_eq!(config, LabConfig::profile(Profile::Default).unwrap());
    }

    #[test]
    fn a_user_file_overrides_single_keys() {
        let config =
            LabConfig::overridden(Profile::Quick, "seed = 99\n[rl]\nsteps = 3\n", "test.toml")
                .unwrap();
        let quick = LabConfig::profile(Profile::Quick).unwrap();
        assert_eq!(config.seed, 99);
        assert_eq!(config.rl.steps, 3);
        assert_eq!(config.rl.lr, quick.rl.lr);
        assert_eq!(config.task, quick.task);
    }

    #[test]
    fn errors_name_the_file_and_field() {
        let err =
            LabConfig::overridden(Profile::Quick, "[rl]\nstepz = 3\n", "my.toml").unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("my.toml") && text.contains("rl") && text.contains("stepz"),
            "{text}"
        );
        let err =
            LabConfig::overridden(Profile::Quick, "[rl]\nlr = \"fast\"\n", "my.toml").unwrap_err();
        assert!(err.to_string().contains("rl.lr"), "{err}");
        let err = LabConfig::overridden(Profile::Quick, "[rl\n", "my.toml").unwrap_err();
        assert!(matches!(err, ConfigError::Syntax { .. }), "{err}");
        let err =
            LabConfig::overridden(Profile::Quick, "[model]\nheads = 3\n", "my.toml").unwrap_err();
        assert!(err.to_string().contains("multiple of model.heads"), "{err}");
        let err = LabConfig::overridden(Profile::Quick, "[task]\nbase_ops = [\"-3\"]\n", "my.toml")
            .unwrap_err();
        assert!(err.to_string().contains("task.base_ops"), "{err}");
        assert!("huge".parse::<Profile>().is_err());
    }
}
