//! Supervised next-token training (pretraining the base, distilling the
//! teacher into the student) and the optimizer plumbing RL shares with it:
//! AdamW, global gradient-norm clipping, warm-up + cosine learning rates.

use candle_core::backprop::GradStore;
use candle_core::{DType, Device, Tensor, Var};
use candle_nn::{AdamW, Optimizer as _, ParamsAdamW};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::config::SftSpec;
use crate::model::{Result, Transformer, token_log_probs};
use crate::task::tokenizer::PAD;

/// AdamW over a set of weights with global gradient-norm clipping.
pub struct Optimizer {
    adamw: AdamW,
    vars: Vec<Var>,
    grad_clip: f64,
}

impl Optimizer {
    pub fn new(vars: Vec<Var>, lr: f64, weight_decay: f64, grad_clip: f64) -> Result<Self> {
        let params = ParamsAdamW {
            lr,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay,
        };
        Ok(Self {
            adamw: AdamW::new(vars.clone(), params)?,
            vars,
            grad_clip,
        })
    }

    pub fn set_lr(&mut self, lr: f64) {
        self.adamw.set_learning_rate(lr);
    }

    /// Backpropagates `loss`, clips the global gradient norm to `grad_clip`
    /// and takes one AdamW step. Returns the norm before clipping.
    pub fn step(&mut self, loss: &Tensor) -> Result<f32> {
        let mut grads = loss.backward()?;
        let norm = clip_grad_norm(&mut grads, &self.vars, self.grad_clip)?;
        self.adamw.step(&grads)?;
        Ok(norm)
    }
}

/// Scales all gradients so their joint L2 norm is at most `max_norm`
/// (nothing happens when it is already smaller). Returns the original norm.
pub fn clip_grad_norm(grads: &mut GradStore, vars: &[Var], max_norm: f64) -> Result<f32> {
    let mut total = 0f64;
    for var in vars {
        if let Some(g) = grads.get(var) {
            total += f64::from(g.sqr()?.sum_all()?.to_scalar::<f32>()?);
        }
    }
    let norm = total.sqrt();
    if norm > max_norm && max_norm > 0.0 {
        let scale = max_norm / (norm + 1e-6);
        for var in vars {
            if let Some(g) = grads.remove(var) {
                grads.insert(var, (g * scale)?);
            }
        }
    }
    Ok(norm as f32)
}

/// Linear warm-up to `lr`, then cosine decay to `lr * final_fraction` at `total` steps.
pub fn learning_rate(
    step: usize,
    total: usize,
    lr: f64,
    warmup: usize,
    final_fraction: f64,
) -> f64 {
    if step < warmup {
        return lr * (step + 1) as f64 / warmup as f64;
    }
    let span = total.saturating_sub(warmup).max(1);
    let progress = ((step - warmup) as f64 / span as f64).min(1.0);
    let cosine = 0.5 * (1.0 + (std::f64::consts::PI * progress).cos());
    lr * (final_fraction + (1.0 - final_fraction) * cosine)
}

/// Teacher-forcing tensors for whole sequences (prompt + response), right-padded:
/// inputs `[B, T−1]`, next-token targets `[B, T−1]` and a mask `[B, T−1]` that
/// is 1 exactly where the target is a response token.
pub struct TeacherForcing {
    pub inputs: Tensor,
    pub targets: Tensor,
    pub mask: Tensor,
    /// Number of response tokens (the mask's sum).
    pub tokens: usize,
}

impl TeacherForcing {
    pub fn new(sequences: &[Vec<u32>], prompt_len: usize) -> Result<Self> {
        let width = sequences
            .iter()
            .map(Vec::len)
            .max()
            .unwrap_or(prompt_len + 1)
            - 1;
        let b = sequences.len();
        let mut inputs = vec![PAD; b * width];
        let mut targets = vec![PAD; b * width];
        let mut mask = vec![0f32; b * width];
        let mut tokens = 0;
        for (row, seq) in sequences.iter().enumerate() {
            for t in 0..seq.len() - 1 {
                inputs[row * width + t] = seq[t];
                targets[row * width + t] = seq[t + 1];
                if t + 1 >= prompt_len {
                    mask[row * width + t] = 1.0;
                    tokens += 1;
                }
            }
        }
        let dev = &Device::Cpu;
        Ok(Self {
            inputs: Tensor::from_vec(inputs, (b, width), dev)?,
            targets: Tensor::from_vec(targets, (b, width), dev)?,
            mask: Tensor::from_vec(mask, (b, width), dev)?,
            tokens,
        })
    }

    /// Log-probabilities `[B, T−1]` of the targets under `model` (divided by
    /// `temperature` first, as when sampling), zero where the mask is 0.
    pub fn log_probs(&self, model: &Transformer, temperature: f64) -> Result<Tensor> {
        let logits = model.logits(&model.hidden(&self.inputs)?)?;
        let logits = if temperature == 1.0 {
            logits
        } else {
            (logits / temperature)?
        };
        Ok((token_log_probs(&logits, &self.targets)? * &self.mask)?)
    }
}

/// One point of a supervised training curve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SftPoint {
    pub step: usize,
    pub loss: f32,
    pub lr: f64,
    pub grad_norm: f32,
}

/// Trains `model` on sequences from `next_batch` for `spec.steps` steps,
/// minimising the mean negative log-likelihood of response tokens.
pub fn train_sft(
    model: &Transformer,
    spec: &SftSpec,
    prompt_len: usize,
    rng: &mut ChaCha8Rng,
    next_batch: &mut dyn FnMut(&mut ChaCha8Rng, usize) -> Vec<Vec<u32>>,
    on_step: &mut dyn FnMut(&SftPoint),
) -> Result<Vec<SftPoint>> {
    let mut optimizer = Optimizer::new(model.vars(), spec.lr, spec.weight_decay, spec.grad_clip)?;
    let mut curve = Vec::with_capacity(spec.steps);
    for step in 0..spec.steps {
        let lr = learning_rate(
            step,
            spec.steps,
            spec.lr,
            spec.warmup_steps,
            spec.final_lr_fraction,
        );
        optimizer.set_lr(lr);
        let batch = TeacherForcing::new(&next_batch(rng, spec.batch_size), prompt_len)?;
        let loss = (batch.log_probs(model, 1.0)?.sum_all()?.neg()? / batch.tokens.max(1) as f64)?;
        let grad_norm = optimizer.step(&loss)?;
        let point = SftPoint {
            step,
            loss: loss.to_dtype(DType::F32)?.to_scalar()?,
            lr,
            grad_norm,
        };
        on_step(&point);
        curve.push(point);
    }
    Ok(curve)
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;
    use crate::model::ModelConfig;

    #[test]
    fn schedule_warms_up_then_decays() {
        assert!((learning_rate(0, 100, 1.0, 10, 0.1) - 0.1).abs() < 1e-12);
        assert!((learning_rate(9, 100, 1.0, 10, 0.1) - 1.0).abs() < 1e-12);
        assert!((learning_rate(10, 100, 1.0, 10, 0.1) - 1.0).abs() < 1e-12);
        // Halfway through the decay: (0.1 + 0.9·0.5).
        assert!((learning_rate(55, 100, 1.0, 10, 0.1) - 0.55).abs() < 1e-12);
        assert!((learning_rate(100, 100, 1.0, 10, 0.1) - 0.1).abs() < 1e-12);
    }

    #[test]
    fn teacher_forcing_masks_exactly_the_response() {
        let tf = TeacherForcing::new(&[vec![1, 5, 6, 7, 3], vec![1, 5, 8]], 2).unwrap();
        assert_eq!(
            tf.inputs.to_vec2::<u32>().unwrap(),
            vec![vec![1, 5, 6, 7], vec![1, 5, 0, 0]]
        );
        assert_eq!(
            tf.targets.to_vec2::<u32>().unwrap(),
            vec![vec![5, 6, 7, 3], vec![5, 8, 0, 0]]
        );
        assert_eq!(
            tf.mask.to_vec2::<f32>().unwrap(),
            vec![vec![0.0, 1.0, 1.0, 1.0], vec![0.0, 1.0, 0.0, 0.0]]
        );
        assert_eq!(tf.tokens, 4);
    }

    #[test]
    fn clipping_caps_the_global_norm() {
        let a = Var::new(&[3f32, 0.0], &Device::Cpu).unwrap();
        let b = Var::new(&[4f32], &Device::Cpu).unwrap();
        // loss = 3·a0 + 4·b0 → gradient (3, 0) and (4): norm 5.
        let loss = ((a.as_tensor().get(0).unwrap() * 3.0).unwrap()
            + (b.as_tensor().get(0).unwrap() * 4.0).unwrap())
        .unwrap();
        let mut grads = loss.backward().unwrap();
        let vars = [a.clone(), b.clone()];
        let norm = clip_grad_norm(&mut grads, &vars, 1.0).unwrap();
        assert!((norm - 5.0).abs() < 1e-5);
        let ga = grads.get(&a).unwrap().to_vec1::<f32>().unwrap();
        let gb = grads.get(&b).unwrap().to_vec1::<f32>().unwrap();
        assert!((ga[0] - 0.6).abs() < 1e-5 && (gb[0] - 0.8).abs() < 1e-5);
    }

    #[test]
    fn training_memorises_a_fixed_sequence() {
        let config = ModelConfig {
            vocab_size: 10,
            max_seq_len: 8,
            d_model: 16,
            layers: 1,
            heads: 2,
            d_ff: 32,
        };
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let model = Transformer::new(config, &mut rng).unwrap();
        let spec = SftSpec {
            steps: 60,
            batch_size: 4,
            lr: 1e-2,
            warmup_steps: 5,
            final_lr_fraction: 0.1,
            weight_decay: 0.0,
            grad_clip: 1.0,
        };
        let mut steps_seen = 0;
        let curve = train_sft(
            &model,
            &spec,
            2,
            &mut rng,
            &mut |_, n| vec![vec![1, 2, 7, 4, 9, 3]; n],
            &mut |_| steps_seen += 1,
        )
        .unwrap();
        assert_eq!(steps_seen, 60);
        let first = curve[0].loss;
        let last = curve.last().unwrap().loss;
        // Uniform over 10 tokens starts near ln 10 ≈ 2.3; a memorised sequence ends near 0.
        assert!(first > 1.5 && last < 0.1, "{first} → {last}");
    }
}
