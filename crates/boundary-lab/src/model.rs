//! The lab's model: a small decoder-only transformer on candle.
//!
//! Pre-norm blocks (RMSNorm → causal multi-head attention → residual,
//! RMSNorm → ReLU MLP → residual), learned absolute positions, a final
//! RMSNorm and an output layer tied to the token embedding. Three choices
//! follow from measuring candle's CPU backend at this size (see
//! docs/benchmarks/lab.md): the norms have no gain (the next matmul can
//! absorb one, and candle reduces a broadcast gain's gradient on a slow
//! strided path), positions are looked up rather than broadcast-added (the
//! backward is a scatter instead of that same reduction), and the MLP uses
//! ReLU (tanh-GELU spent ~15% of a training step in `tanhf`/`powf`). Sequences are
//! short (≤ 32 tokens) and every prompt has the same length, so there is no
//! padding on the left and the causal mask alone is enough; right padding
//! only ever sits *after* the positions a loss reads.
//!
//! Two forward paths share the weights: [`Transformer::hidden`] runs whole
//! sequences with autodiff (training, scoring), and
//! [`Transformer::prefill`] / [`Transformer::decode`] run generation with a
//! key/value cache, so each new token costs one position, not the prefix.

use std::collections::HashMap;
use std::path::Path;

use candle_core::{D, DType, Device, Tensor, Var};
use rand::Rng;
use rand_distr::{Distribution, Normal};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Shape of a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelConfig {
    pub vocab_size: usize,
    pub max_seq_len: usize,
    pub d_model: usize,
    pub layers: usize,
    pub heads: usize,
    pub d_ff: usize,
}

impl ModelConfig {
    fn head_dim(&self) -> usize {
        self.d_model / self.heads
    }
}

#[derive(Debug, Error)]
pub enum ModelError {
    #[error(transparent)]
    Tensor(#[from] candle_core::Error),
    #[error("checkpoint {path}: {message}")]
    Checkpoint { path: String, message: String },
}

pub type Result<T> = std::result::Result<T, ModelError>;

const NORM_EPS: f64 = 1e-5;

/// One transformer block's weights.
#[derive(Clone)]
struct Block {
    /// Query, key and value projections side by side: `[d, 3d]`.
    qkv: Var,
    attn_out: Var,
    mlp_in: Var,
    mlp_out: Var,
}

/// A decoder-only transformer with trainable weights.
#[derive(Clone)]
pub struct Transformer {
    config: ModelConfig,
    token_embedding: Var,
    position_embedding: Var,
    blocks: Vec<Block>,
    /// Extra named weights carried in the same checkpoint (a critic's value head).
    extra: Vec<(String, Var)>,
    /// `[max_seq_len, max_seq_len]` additive causal mask (0 or −∞).
    causal_mask: Tensor,
}

/// Per-layer keys and values of the sequences being generated: `[B, H, t, hd]`.
pub struct KvCache {
    layers: Vec<(Tensor, Tensor)>,
    len: usize,
}

impl KvCache {
    /// Positions cached so far.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Keeps only the sequences at `rows` (in that order), so finished
    /// sequences stop costing compute.
    pub fn retain(&mut self, rows: &Tensor) -> Result<()> {
        for (k, v) in &mut self.layers {
            *k = k.index_select(rows, 0)?;
            *v = v.index_select(rows, 0)?;
        }
        Ok(())
    }
}

/// RMSNorm over the last dimension, without a learned gain.
fn rms_norm(x: &Tensor) -> Result<Tensor> {
    let mean_square = x.sqr()?.mean_keepdim(D::Minus1)?;
    Ok(x.broadcast_div(&(mean_square + NORM_EPS)?.sqrt()?)?)
}

fn normal_var(rng: &mut impl Rng, shape: &[usize], std: f64) -> Result<Var> {
    let count: usize = shape.iter().product();
    // A normal distribution with positive finite std always constructs.
    let dist =
        Normal::new(0.0f32, std as f32).map_err(|e| candle_core::Error::Msg(e.to_string()))?;
    let data: Vec<f32> = (0..count).map(|_| dist.sample(rng)).collect();
    Ok(Var::from_tensor(&Tensor::from_vec(
        data,
        shape,
        &Device::Cpu,
    )?)?)
}

impl Transformer {
    /// A freshly initialised model (GPT-2 style: embeddings N(0, 0.02),
    /// projections N(0, 1/fan_in), residual outputs further scaled by
    /// 1/√(2·layers) so the residual stream does not grow with depth).
    pub fn new(config: ModelConfig, rng: &mut impl Rng) -> Result<Self> {
        let d = config.d_model;
        let residual = 1.0 / (2.0 * config.layers as f64).sqrt();
        let token_embedding = normal_var(rng, &[config.vocab_size, d], 0.02)?;
        let position_embedding = normal_var(rng, &[config.max_seq_len, d], 0.02)?;
        let mut blocks = Vec::with_capacity(config.layers);
        for _ in 0..config.layers {
            blocks.push(Block {
                qkv: normal_var(rng, &[d, 3 * d], 1.0 / (d as f64).sqrt())?,
                attn_out: normal_var(rng, &[d, d], residual / (d as f64).sqrt())?,
                mlp_in: normal_var(rng, &[d, config.d_ff], 1.0 / (d as f64).sqrt())?,
                mlp_out: normal_var(
                    rng,
                    &[config.d_ff, d],
                    residual / (config.d_ff as f64).sqrt(),
                )?,
            });
        }
        Ok(Self {
            config,
            token_embedding,
            position_embedding,
            blocks,
            extra: Vec::new(),
            causal_mask: causal_mask(config.max_seq_len)?,
        })
    }

    pub fn config(&self) -> ModelConfig {
        self.config
    }

    /// Adds a named trainable weight saved with the model (e.g. a value head).
    pub fn add_extra(&mut self, name: &str, var: Var) {
        self.extra.push((name.to_string(), var));
    }

    pub fn extra(&self, name: &str) -> Option<&Var> {
        self.extra.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// Every weight with its checkpoint name.
    pub fn named_vars(&self) -> Vec<(String, Var)> {
        let mut out = vec![
            ("token_embedding".to_string(), self.token_embedding.clone()),
            (
                "position_embedding".to_string(),
                self.position_embedding.clone(),
            ),
        ];
        for (i, b) in self.blocks.iter().enumerate() {
            for (name, var) in [
                ("qkv", &b.qkv),
                ("attn_out", &b.attn_out),
                ("mlp_in", &b.mlp_in),
                ("mlp_out", &b.mlp_out),
            ] {
                out.push((format!("blocks.{i}.{name}"), var.clone()));
            }
        }
        out.extend(self.extra.iter().cloned());
        out
    }

    pub fn vars(&self) -> Vec<Var> {
        self.named_vars().into_iter().map(|(_, v)| v).collect()
    }

    pub fn parameter_count(&self) -> usize {
        self.vars().iter().map(|v| v.elem_count()).sum()
    }

    /// An independent copy: training one never moves the other.
    pub fn deep_copy(&self) -> Result<Self> {
        let mut copy = self.clone();
        let fresh = |v: &Var| -> Result<Var> { Ok(Var::from_tensor(&v.as_tensor().copy()?)?) };
        copy.token_embedding = fresh(&self.token_embedding)?;
        copy.position_embedding = fresh(&self.position_embedding)?;
        for (dst, src) in copy.blocks.iter_mut().zip(&self.blocks) {
            dst.qkv = fresh(&src.qkv)?;
            dst.attn_out = fresh(&src.attn_out)?;
            dst.mlp_in = fresh(&src.mlp_in)?;
            dst.mlp_out = fresh(&src.mlp_out)?;
        }
        for (dst, src) in copy.extra.iter_mut().zip(&self.extra) {
            dst.1 = fresh(&src.1)?;
        }
        Ok(copy)
    }

    /// Writes every weight to a safetensors file.
    pub fn save(&self, path: &Path) -> Result<()> {
        let tensors: HashMap<String, Tensor> = self
            .named_vars()
            .into_iter()
            .map(|(name, var)| (name, var.as_tensor().clone()))
            .collect();
        candle_core::safetensors::save(&tensors, path).map_err(|e| ModelError::Checkpoint {
            path: path.display().to_string(),
            message: e.to_string(),
        })
    }

    /// Replaces every weight (extras included) with the tensors of a
    /// safetensors file written by [`Transformer::save`] for the same shape.
    pub fn load_weights(&mut self, path: &Path) -> Result<()> {
        let shown = path.display().to_string();
        let tensors = candle_core::safetensors::load(path, &Device::Cpu).map_err(|e| {
            ModelError::Checkpoint {
                path: shown.clone(),
                message: e.to_string(),
            }
        })?;
        for (name, var) in self.named_vars() {
            let tensor = tensors.get(&name).ok_or_else(|| ModelError::Checkpoint {
                path: shown.clone(),
                message: format!("missing weight `{name}`"),
            })?;
            if tensor.dims() != var.dims() {
                return Err(ModelError::Checkpoint {
                    path: shown,
                    message: format!(
                        "weight `{name}` has shape {:?}, the model expects {:?} (was it saved with another config?)",
                        tensor.dims(),
                        var.dims()
                    ),
                });
            }
            var.set(&tensor.to_dtype(DType::F32)?)?;
        }
        Ok(())
    }

    /// Final hidden states `[B, T, d]` for whole sequences `[B, T]` (u32),
    /// with autodiff through every weight.
    pub fn hidden(&self, tokens: &Tensor) -> Result<Tensor> {
        Ok(self.run_sequences(tokens, true)?.0)
    }

    /// Runs the prompts `[B, T0]` (all the same length) and returns the logits
    /// of their last position `[B, V]` and the cache to continue from.
    pub fn prefill(&self, prompts: &Tensor) -> Result<(Tensor, KvCache)> {
        let (hidden, layers) = self.run_sequences(prompts, false)?;
        let t = hidden.dim(1)?;
        let last = hidden.narrow(1, t - 1, 1)?.squeeze(1)?;
        Ok((self.logits(&last)?, KvCache { layers, len: t }))
    }

    /// Whole sequences through every block: final hidden states and each
    /// layer's keys and values. `differentiable` picks candle's composed
    /// softmax (which has a backward pass) over its fused one (which does not).
    fn run_sequences(
        &self,
        tokens: &Tensor,
        differentiable: bool,
    ) -> Result<(Tensor, Vec<(Tensor, Tensor)>)> {
        let (b, t) = tokens.dims2()?;
        let (d, heads, hd) = (
            self.config.d_model,
            self.config.heads,
            self.config.head_dim(),
        );
        let scale = 1.0 / (hd as f64).sqrt();
        let positions: Vec<u32> = (0..b * t).map(|i| (i % t) as u32).collect();
        let positions = Tensor::from_vec(positions, b * t, &Device::Cpu)?;
        let mut x = (self
            .token_embedding
            .as_tensor()
            .embedding(&tokens.flatten_all()?)?
            + self.position_embedding.as_tensor().embedding(&positions)?)?
        .reshape((b, t, d))?;
        let mask = self.causal_mask.narrow(0, 0, t)?.narrow(1, 0, t)?;
        let mut layers = Vec::with_capacity(self.blocks.len());
        for block in &self.blocks {
            let h = rms_norm(&x)?.reshape((b * t, d))?;
            // [B, T, 3, H, hd] → [3, B, H, T, hd]
            let qkv = h
                .matmul(block.qkv.as_tensor())?
                .reshape((b, t, 3, heads, hd))?
                .permute((2, 0, 3, 1, 4))?
                .contiguous()?;
            let (q, k, v) = (qkv.get(0)?, qkv.get(1)?, qkv.get(2)?);
            let scores = (q.matmul(&k.t()?)? * scale)?.broadcast_add(&mask)?;
            let weights = if differentiable {
                candle_nn::ops::softmax(&scores, D::Minus1)?
            } else {
                candle_nn::ops::softmax_last_dim(&scores)?
            };
            let attended = weights.matmul(&v)?.transpose(1, 2)?.reshape((b * t, d))?;
            x = (x + attended
                .matmul(block.attn_out.as_tensor())?
                .reshape((b, t, d))?)?;
            x = (&x
                + self
                    .mlp(block, &x.reshape((b * t, d))?)?
                    .reshape((b, t, d))?)?;
            layers.push((k, v));
        }
        Ok((rms_norm(&x)?, layers))
    }

    fn mlp(&self, block: &Block, x: &Tensor) -> Result<Tensor> {
        let h = rms_norm(x)?;
        Ok(h.matmul(block.mlp_in.as_tensor())?
            .relu()?
            .matmul(block.mlp_out.as_tensor())?)
    }

    /// Next-token logits `[..., V]` from hidden states `[..., d]`.
    pub fn logits(&self, hidden: &Tensor) -> Result<Tensor> {
        Ok(hidden.broadcast_matmul(&self.token_embedding.as_tensor().t()?)?)
    }

    /// Feeds one token per sequence `[B]` at position `cache.len()` and returns
    /// the next-token logits `[B, V]`.
    pub fn decode(&self, tokens: &Tensor, cache: &mut KvCache) -> Result<Tensor> {
        let b = tokens.dims1()?;
        let (d, heads, hd) = (
            self.config.d_model,
            self.config.heads,
            self.config.head_dim(),
        );
        let scale = 1.0 / (hd as f64).sqrt();
        let position = self.position_embedding.as_tensor().get(cache.len)?;
        let mut x = self
            .token_embedding
            .as_tensor()
            .embedding(tokens)?
            .broadcast_add(&position)?;
        for (block, (k_cache, v_cache)) in self.blocks.iter().zip(&mut cache.layers) {
            let h = rms_norm(&x)?;
            // [B, 3d] → [3, B, H, 1, hd]
            let qkv = h
                .matmul(block.qkv.as_tensor())?
                .reshape((b, 3, heads, 1, hd))?
                .transpose(0, 1)?
                .contiguous()?;
            let (q, k, v) = (qkv.get(0)?, qkv.get(1)?, qkv.get(2)?);
            *k_cache = Tensor::cat(&[&*k_cache, &k], 2)?;
            *v_cache = Tensor::cat(&[&*v_cache, &v], 2)?;
            // One query per sequence: element-wise products beat B·H tiny matmuls.
            let scores = (q.broadcast_mul(k_cache)?.sum(D::Minus1)? * scale)?; // [B, H, t]
            let weights = candle_nn::ops::softmax_last_dim(&scores)?;
            let attended = weights
                .unsqueeze(D::Minus1)?
                .broadcast_mul(v_cache)?
                .sum(2)?; // [B, H, hd]
            x = (x + attended
                .reshape((b, d))?
                .matmul(block.attn_out.as_tensor())?)?;
            x = (&x + self.mlp(block, &x)?)?;
        }
        cache.len += 1;
        self.logits(&rms_norm(&x)?)
    }
}

fn causal_mask(len: usize) -> Result<Tensor> {
    let data: Vec<f32> = (0..len * len)
        .map(|i| {
            if i % len > i / len {
                f32::NEG_INFINITY
            } else {
                0.0
            }
        })
        .collect();
    Ok(Tensor::from_vec(data, (len, len), &Device::Cpu)?)
}

/// Log-probabilities `[B, T]` of `targets` under `logits` `[B, T, V]`.
pub fn token_log_probs(logits: &Tensor, targets: &Tensor) -> Result<Tensor> {
    let log_probs = candle_nn::ops::log_softmax(logits, D::Minus1)?;
    Ok(log_probs
        .gather(&targets.unsqueeze(D::Minus1)?, D::Minus1)?
        .squeeze(D::Minus1)?)
}

/// Entropy of each position's next-token distribution, `[B, T]`.
pub fn token_entropy(logits: &Tensor) -> Result<Tensor> {
    let log_probs = candle_nn::ops::log_softmax(logits, D::Minus1)?;
    Ok((log_probs.exp()? * &log_probs)?.sum(D::Minus1)?.neg()?)
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;

    fn tiny() -> Transformer {
        let config = ModelConfig {
            vocab_size: 13,
            max_seq_len: 10,
            d_model: 16,
            layers: 2,
            heads: 4,
            d_ff: 32,
        };
        Transformer::new(config, &mut ChaCha8Rng::seed_from_u64(3)).unwrap()
    }

    fn tokens(rows: &[&[u32]]) -> Tensor {
        let t = rows[0].len();
        let flat: Vec<u32> = rows.iter().flat_map(|r| r.iter().copied()).collect();
        Tensor::from_vec(flat, (rows.len(), t), &Device::Cpu).unwrap()
    }

    fn max_abs_diff(a: &Tensor, b: &Tensor) -> f32 {
        (a - b)
            .unwrap()
            .abs()
            .unwrap()
            .flatten_all()
            .unwrap()
            .max(0)
            .unwrap()
            .to_scalar()
            .unwrap()
    }

    #[test]
    fn attention_is_causal() {
        let model = tiny();
        let a = model.hidden(&tokens(&[&[1, 2, 3, 4, 5, 6]])).unwrap();
        let b = model.hidden(&tokens(&[&[1, 2, 3, 4, 9, 12]])).unwrap();
        // Positions before the change are identical; the changed ones differ.
        assert_eq!(
            max_abs_diff(&a.narrow(1, 0, 4).unwrap(), &b.narrow(1, 0, 4).unwrap()),
            0.0
        );
        assert!(max_abs_diff(&a.narrow(1, 4, 2).unwrap(), &b.narrow(1, 4, 2).unwrap()) > 1e-4);
    }

    #[test]
    fn cached_decoding_matches_full_recomputation() {
        let model = tiny();
        let seq: [&[u32]; 2] = [&[1, 5, 7, 2, 9, 4, 3], &[1, 6, 8, 2, 11, 10, 12]];
        let full = model.logits(&model.hidden(&tokens(&seq)).unwrap()).unwrap(); // [2, 7, V]
        let prompt = tokens(&[&seq[0][..4], &seq[1][..4]]);
        let (first, mut cache) = model.prefill(&prompt).unwrap();
        assert!(max_abs_diff(&first, &full.get_on_dim(1, 3).unwrap()) < 1e-5);
        for (pos, (&a, &b)) in seq[0].iter().zip(seq[1]).enumerate().skip(4) {
            let next = Tensor::new(&[a, b], &Device::Cpu).unwrap();
            let logits = model.decode(&next, &mut cache).unwrap();
            if pos < 6 {
                let want = full.get_on_dim(1, pos).unwrap();
                assert!(max_abs_diff(&logits, &want) < 1e-5, "position {pos}");
            }
        }
        assert_eq!(cache.len(), 7);
        // Dropping a row keeps the other row's continuation intact.
        let mut cache = model.prefill(&prompt).unwrap().1;
        cache
            .retain(&Tensor::new(&[1u32], &Device::Cpu).unwrap())
            .unwrap();
        let logits = model
            .decode(
                &Tensor::new(&[seq[1][4]], &Device::Cpu).unwrap(),
                &mut cache,
            )
            .unwrap();
        assert!(
            max_abs_diff(
                &logits.get(0).unwrap(),
                &full.get(1).unwrap().get(4).unwrap()
            ) < 1e-5
        );
    }

    #[test]
    fn checkpoints_round_trip_and_copies_are_independent() {
        let model = tiny();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.safetensors");
        model.save(&path).unwrap();
        let mut other =
            Transformer::new(model.config(), &mut ChaCha8Rng::seed_from_u64(99)).unwrap();
        other.load_weights(&path).unwrap();
        let input = tokens(&[&[1, 2, 3]]);
        assert_eq!(
            max_abs_diff(
                &model.hidden(&input).unwrap(),
                &other.hidden(&input).unwrap()
            ),
            0.0
        );

        let copy = model.deep_copy().unwrap();
        let first = copy.vars()[0].clone();
        first.set(&first.as_tensor().zeros_like().unwrap()).unwrap();
        assert!(
            max_abs_diff(
                &model.hidden(&input).unwrap(),
                &copy.hidden(&input).unwrap()
            ) > 1e-4
        );

        let mut wrong = Transformer::new(
            ModelConfig {
                d_model: 8,
                heads: 2,
                ..model.config()
            },
            &mut ChaCha8Rng::seed_from_u64(1),
        )
        .unwrap();
        let err = wrong.load_weights(&path).unwrap_err().to_string();
        assert!(err.contains("has shape"), "{err}");
    }

    #[test]
    fn log_probs_and_entropy_match_definitions() {
        // Uniform logits over 4 tokens: log p = −ln 4, entropy ln 4.
        let logits = Tensor::zeros((1, 2, 4), DType::F32, &Device::Cpu).unwrap();
        let lp = token_log_probs(&logits, &tokens(&[&[0, 3]])).unwrap();
        let h = token_entropy(&logits).unwrap();
        for v in lp.flatten_all().unwrap().to_vec1::<f32>().unwrap() {
            assert!((v + 4f32.ln()).abs() < 1e-6);
        }
        for v in h.flatten_all().unwrap().to_vec1::<f32>().unwrap() {
            assert!((v - 4f32.ln()).abs() < 1e-6);
        }
    }
}
