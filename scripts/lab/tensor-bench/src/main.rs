//! Measures candidate Rust tensor crates at the size of the lab's model.
//!
//! At d_model 64-128, batch 256 and ~24 positions, per-operation overhead
//! (dispatch, allocation, autodiff bookkeeping) matters as much as FLOPs, so
//! the choice is made on measured numbers, not reputation. For each backend it
//! times: one tiny op (pure overhead), one element-wise op and one matmul at
//! activation size, a full training step (forward + backward of a 4-layer
//! pre-norm transformer and its cross-entropy loss), and one decode step of
//! 256 sequences attending to a 24-entry cache. The model is the lab's
//! architecture: gain-free RMSNorm, learned positions by lookup, ReLU MLP,
//! output tied to the token embedding.
//!
//! Run: `cargo run --release -- [--threads 2]` from this directory; the
//! results go into docs/benchmarks/lab.md.

use std::time::Instant;

const BATCH: usize = 256;
const SEQ: usize = 24;
const VOCAB: usize = 48;
const LAYERS: usize = 4;
const HEADS: usize = 4;

/// Median of `reps` timed calls after `warm` untimed ones, in microseconds.
fn time_us(warm: usize, reps: usize, mut f: impl FnMut()) -> f64 {
    for _ in 0..warm {
        f();
    }
    let mut samples: Vec<f64> = (0..reps)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[reps / 2]
}

struct Row {
    backend: &'static str,
    d_model: usize,
    tiny_op_us: f64,
    elementwise_us: f64,
    matmul_us: f64,
    train_step_ms: f64,
    decode_step_ms: f64,
}

mod candle_impl {
    use super::*;
    use candle_core::{D, DType, Device, Tensor, Var};

    struct Layer {
        norm1: Var,
        wq: Var,
        wk: Var,
        wv: Var,
        wo: Var,
        norm2: Var,
        w1: Var,
        w2: Var,
    }

    /// RMSNorm without a gain: the next matmul absorbs any per-feature scale,
    /// and candle reduces a broadcast gain's gradient on a slow strided path.
    fn rms(x: &Tensor, _g: &Tensor) -> Tensor {
        let ms = x.sqr().unwrap().mean_keepdim(D::Minus1).unwrap();
        x.broadcast_div(&(ms + 1e-5).unwrap().sqrt().unwrap()).unwrap()
    }

    fn heads(x: &Tensor, b: usize, t: usize, d: usize) -> Tensor {
        x.reshape((b, t, HEADS, d / HEADS))
            .unwrap()
            .transpose(1, 2)
            .unwrap()
            .contiguous()
            .unwrap()
    }

    /// `broadcast_attention`: scores and mixing by element-wise products and
    /// sums instead of B·H tiny batched matmuls.
    pub fn run(d: usize, broadcast_attention: bool) -> Row {
        let dev = Device::Cpu;
        let rand = |shape: (usize, usize)| {
            Var::from_tensor(&(Tensor::randn(0f32, 1., shape, &dev).unwrap() * (1.0 / (shape.0 as f64).sqrt())).unwrap()).unwrap()
        };
        let emb = rand((VOCAB, d));
        let pos = rand((SEQ, d));
        let layers: Vec<Layer> = (0..LAYERS)
            .map(|_| Layer {
                norm1: Var::ones(d, DType::F32, &dev).unwrap(),
                wq: rand((d, d)),
                wk: rand((d, d)),
                wv: rand((d, d)),
                wo: rand((d, d)),
                norm2: Var::ones(d, DType::F32, &dev).unwrap(),
                w1: rand((d, 4 * d)),
                w2: rand((4 * d, d)),
            })
            .collect();
        let ids: Vec<u32> = (0..BATCH * SEQ).map(|i| (i * 7 % VOCAB) as u32).collect();
        let ids = Tensor::from_vec(ids, BATCH * SEQ, &dev).unwrap();
        let pos_ids: Vec<u32> = (0..BATCH * SEQ).map(|i| (i % SEQ) as u32).collect();
        let pos_ids = Tensor::from_vec(pos_ids, BATCH * SEQ, &dev).unwrap();
        let mask: Vec<f32> = (0..SEQ * SEQ)
            .map(|i| if i % SEQ > i / SEQ { f32::NEG_INFINITY } else { 0.0 })
            .collect();
        let mask = Tensor::from_vec(mask, (SEQ, SEQ), &dev).unwrap();
        let scale = 1.0 / ((d / HEADS) as f64).sqrt();

        let train_step = || {
            let (b, t) = (BATCH, SEQ);
            // Positions by lookup, not broadcast: the backward is a scatter, not a strided reduce.
            let mut x = (emb.embedding(&ids).unwrap() + pos.embedding(&pos_ids).unwrap())
                .unwrap()
                .reshape((b, t, d))
                .unwrap();
            for l in &layers {
                let h = rms(&x, l.norm1.as_tensor()).reshape((b * t, d)).unwrap();
                let q = heads(&h.matmul(&l.wq).unwrap(), b, t, d);
                let k = heads(&h.matmul(&l.wk).unwrap(), b, t, d);
                let v = heads(&h.matmul(&l.wv).unwrap(), b, t, d);
                let scores = if broadcast_attention {
                    // [B,H,T,1,hd] * [B,H,1,T,hd] summed over hd → [B,H,T,T]
                    q.unsqueeze(3).unwrap().broadcast_mul(&k.unsqueeze(2).unwrap()).unwrap().sum(4).unwrap()
                } else {
                    q.matmul(&k.t().unwrap()).unwrap()
                };
                let att = (scores * scale).unwrap().broadcast_add(&mask).unwrap();
                let att = candle_nn::ops::softmax(&att, D::Minus1).unwrap();
                let mixed = if broadcast_attention {
                    // [B,H,T,T,1] * [B,H,1,T,hd] summed over keys → [B,H,T,hd]
                    att.unsqueeze(4).unwrap().broadcast_mul(&v.unsqueeze(2).unwrap()).unwrap().sum(3).unwrap()
                } else {
                    att.matmul(&v).unwrap()
                };
                let o = mixed.transpose(1, 2).unwrap().reshape((b * t, d)).unwrap();
                x = (x + o.matmul(&l.wo).unwrap().reshape((b, t, d)).unwrap()).unwrap();
                let h = rms(&x, l.norm2.as_tensor()).reshape((b * t, d)).unwrap();
                let m = h.matmul(&l.w1).unwrap().relu().unwrap().matmul(&l.w2).unwrap();
                x = (x + m.reshape((b, t, d)).unwrap()).unwrap();
            }
            let logits = x.reshape((b * t, d)).unwrap().matmul(&emb.t().unwrap()).unwrap();
            let loss = candle_nn::loss::cross_entropy(&logits, &ids).unwrap();
            let grads = loss.backward().unwrap();
            assert!(grads.get(&emb).is_some());
        };

        // Decode: one new position for every sequence, attending to a cache of SEQ entries.
        let cache_k: Vec<Tensor> = (0..LAYERS)
            .map(|_| Tensor::randn(0f32, 1., (BATCH, HEADS, SEQ, d / HEADS), &dev).unwrap())
            .collect();
        let step_ids = Tensor::from_vec((0..BATCH as u32).map(|i| i % VOCAB as u32).collect::<Vec<_>>(), BATCH, &dev).unwrap();
        let decode_step = || {
            let b = BATCH;
            let mut x = emb.embedding(&step_ids).unwrap();
            for (l, cache) in layers.iter().zip(&cache_k) {
                let h = rms(&x, l.norm1.as_tensor());
                let q = h.matmul(&l.wq).unwrap().reshape((b, HEADS, 1, d / HEADS)).unwrap();
                let k = h.matmul(&l.wk).unwrap().reshape((b, HEADS, 1, d / HEADS)).unwrap();
                let v = h.matmul(&l.wv).unwrap().reshape((b, HEADS, 1, d / HEADS)).unwrap();
                let keys = Tensor::cat(&[cache, &k], 2).unwrap();
                let vals = Tensor::cat(&[cache, &v], 2).unwrap();
                let att = (q.matmul(&keys.t().unwrap()).unwrap() * scale).unwrap();
                let att = candle_nn::ops::softmax_last_dim(&att).unwrap();
                let o = att.matmul(&vals).unwrap().reshape((b, d)).unwrap();
                x = (x + o.matmul(&l.wo).unwrap()).unwrap();
                let h = rms(&x, l.norm2.as_tensor());
                x = (x + h.matmul(&l.w1).unwrap().relu().unwrap().matmul(&l.w2).unwrap()).unwrap();
            }
            let logits = x.matmul(&emb.t().unwrap()).unwrap();
            assert_eq!(logits.dims(), &[BATCH, VOCAB]);
        };

        let tiny_a = Tensor::ones(4, DType::F32, &dev).unwrap();
        let big_a = Tensor::randn(0f32, 1., (BATCH * SEQ, d), &dev).unwrap();
        let w = Tensor::randn(0f32, 1., (d, 4 * d), &dev).unwrap();
        Row {
            backend: if broadcast_attention { "candle 0.11, broadcast attention" } else { "candle 0.11" },
            d_model: d,
            tiny_op_us: time_us(1000, 20000, || drop((&tiny_a + &tiny_a).unwrap())),
            elementwise_us: time_us(20, 400, || drop((&big_a * &big_a).unwrap())),
            matmul_us: time_us(10, 100, || drop(big_a.matmul(&w).unwrap())),
            train_step_ms: time_us(2, 15, train_step) / 1e3,
            decode_step_ms: time_us(5, 50, decode_step) / 1e3,
        }
    }
}

mod burn_impl {
    use super::*;
    use burn::tensor::activation::{relu, softmax};
    use burn::tensor::{Device, Distribution, Int, Tensor};

    struct Layer {
        norm1: Tensor<1>,
        wq: Tensor<2>,
        wk: Tensor<2>,
        wv: Tensor<2>,
        wo: Tensor<2>,
        norm2: Tensor<1>,
        w1: Tensor<2>,
        w2: Tensor<2>,
    }

    fn rms<const R: usize>(x: Tensor<R>, _g: &Tensor<1>) -> Tensor<R> {
        let ms = x.clone().square().mean_dim(R - 1);
        x / (ms + 1e-5).sqrt()
    }

    fn heads(x: Tensor<2>, b: usize, t: usize, d: usize) -> Tensor<4> {
        x.reshape([b, t, HEADS, d / HEADS]).swap_dims(1, 2)
    }

    pub fn run(name: &'static str, base: Device, d: usize) -> Row {
        let dev = base.clone().autodiff();
        let rand = |r: usize, c: usize| {
            Tensor::<2>::random([r, c], Distribution::Normal(0.0, 1.0 / (r as f64).sqrt()), &dev).require_grad()
        };
        let emb = rand(VOCAB, d);
        let pos = rand(SEQ, d);
        let layers: Vec<Layer> = (0..LAYERS)
            .map(|_| Layer {
                norm1: Tensor::<1>::ones([d], &dev).require_grad(),
                wq: rand(d, d),
                wk: rand(d, d),
                wv: rand(d, d),
                wo: rand(d, d),
                norm2: Tensor::<1>::ones([d], &dev).require_grad(),
                w1: rand(d, 4 * d),
                w2: rand(4 * d, d),
            })
            .collect();
        let ids: Vec<i64> = (0..BATCH * SEQ).map(|i| (i * 7 % VOCAB) as i64).collect();
        let ids = Tensor::<1, Int>::from_data(ids.as_slice(), &dev);
        let pos_ids: Vec<i64> = (0..BATCH * SEQ).map(|i| (i % SEQ) as i64).collect();
        let pos_ids = Tensor::<1, Int>::from_data(pos_ids.as_slice(), &dev);
        let mask: Vec<f32> = (0..SEQ * SEQ)
            .map(|i| if i % SEQ > i / SEQ { -1e9 } else { 0.0 })
            .collect();
        let mask = Tensor::<1>::from_data(mask.as_slice(), &dev).reshape([1, 1, SEQ, SEQ]);
        let scale = 1.0 / ((d / HEADS) as f64).sqrt();

        let train_step = || {
            let (b, t) = (BATCH, SEQ);
            let mut x: Tensor<3> = (emb.clone().select(0, ids.clone()) + pos.clone().select(0, pos_ids.clone())).reshape([b, t, d]);
            for l in &layers {
                let h: Tensor<2> = rms(x.clone(), &l.norm1).reshape([b * t, d]);
                let q = heads(h.clone().matmul(l.wq.clone()), b, t, d);
                let k = heads(h.clone().matmul(l.wk.clone()), b, t, d);
                let v = heads(h.matmul(l.wv.clone()), b, t, d);
                let att = q.matmul(k.swap_dims(2, 3)) * scale + mask.clone();
                let att = softmax(att, 3);
                let o: Tensor<2> = att.matmul(v).swap_dims(1, 2).reshape([b * t, d]);
                x = x + o.matmul(l.wo.clone()).reshape([b, t, d]);
                let h: Tensor<2> = rms(x.clone(), &l.norm2).reshape([b * t, d]);
                let m = relu(h.matmul(l.w1.clone())).matmul(l.w2.clone());
                x = x + m.reshape([b, t, d]);
            }
            let logits: Tensor<2> = x.reshape([b * t, d]).matmul(emb.clone().transpose());
            let logp = burn::tensor::activation::log_softmax(logits, 1);
            let picked = logp.gather(1, ids.clone().reshape([b * t, 1]));
            let loss = picked.mean().neg();
            let grads = loss.backward();
            assert!(emb.grad(&grads).is_some());
        };

        // Decode runs without autodiff, as sampling would.
        let plain = |t: &Tensor<2>| t.clone().inner();
        let wts: Vec<[Tensor<2>; 6]> = layers
            .iter()
            .map(|l| [plain(&l.wq), plain(&l.wk), plain(&l.wv), plain(&l.wo), plain(&l.w1), plain(&l.w2)])
            .collect();
        let g: Vec<Tensor<1>> = layers.iter().map(|l| l.norm1.clone().inner()).collect();
        let emb_plain = plain(&emb);
        let cache: Vec<Tensor<4>> = (0..LAYERS)
            .map(|_| Tensor::<4>::random([BATCH, HEADS, SEQ, d / HEADS], Distribution::Normal(0.0, 1.0), &base))
            .collect();
        let step_ids = Tensor::<1, Int>::from_data((0..BATCH as i64).map(|i| i % VOCAB as i64).collect::<Vec<_>>().as_slice(), &base);
        let decode_step = || {
            let b = BATCH;
            let mut x = emb_plain.clone().select(0, step_ids.clone());
            for ((w, c), gain) in wts.iter().zip(&cache).zip(&g) {
                let h = rms(x.clone(), gain);
                let q: Tensor<4> = h.clone().matmul(w[0].clone()).reshape([b, HEADS, 1, d / HEADS]);
                let k: Tensor<4> = h.clone().matmul(w[1].clone()).reshape([b, HEADS, 1, d / HEADS]);
                let v: Tensor<4> = h.matmul(w[2].clone()).reshape([b, HEADS, 1, d / HEADS]);
                let keys = Tensor::cat(vec![c.clone(), k], 2);
                let vals = Tensor::cat(vec![c.clone(), v], 2);
                let att = softmax(q.matmul(keys.swap_dims(2, 3)) * scale, 3);
                let o: Tensor<2> = att.matmul(vals).reshape([b, d]);
                x = x + o.matmul(w[3].clone());
                let h = rms(x.clone(), gain);
                x = x + relu(h.matmul(w[4].clone())).matmul(w[5].clone());
            }
            let logits = x.matmul(emb_plain.clone().transpose());
            assert_eq!(logits.dims(), [BATCH, VOCAB]);
        };

        let tiny_a = Tensor::<1>::ones([4], &base);
        let big_a = Tensor::<2>::random([BATCH * SEQ, d], Distribution::Normal(0.0, 1.0), &base);
        let w = Tensor::<2>::random([d, 4 * d], Distribution::Normal(0.0, 1.0), &base);
        // Burn may execute lazily; reading one value back forces the work to finish.
        let sync = |t: Tensor<2>| drop(t.slice([0..1, 0..1]).into_data());
        Row {
            backend: name,
            d_model: d,
            tiny_op_us: time_us(1000, 20000, || drop((tiny_a.clone() + tiny_a.clone()).into_data())),
            elementwise_us: time_us(20, 400, || sync(big_a.clone() * big_a.clone())),
            matmul_us: time_us(10, 100, || sync(big_a.clone().matmul(w.clone()))),
            train_step_ms: time_us(2, 15, train_step) / 1e3,
            decode_step_ms: time_us(5, 50, decode_step) / 1e3,
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let threads = args
        .iter()
        .position(|a| a == "--threads")
        .and_then(|i| args.get(i + 1))
        .map_or(2, |t| t.parse().expect("--threads takes a number"));
    // Every candidate reads RAYON_NUM_THREADS for its pool size.
    // SAFETY: set before any thread pool exists; nothing else runs yet.
    unsafe { std::env::set_var("RAYON_NUM_THREADS", threads.to_string()) };

    let sizes: Vec<usize> = args
        .iter()
        .position(|a| a == "--d")
        .and_then(|i| args.get(i + 1))
        .map_or(vec![64, 128], |d| vec![d.parse().expect("--d takes a number")]);
    let mut rows = Vec::new();
    for d in sizes {
        let only = args.iter().position(|a| a == "--only").and_then(|i| args.get(i + 1)).cloned();
        let wants = |name: &str| only.as_deref().is_none_or(|o| o == name);
        if wants("candle") {
            rows.push(candle_impl::run(d, false));
            rows.push(candle_impl::run(d, true));
        }
        if wants("flex") {
            rows.push(burn_impl::run("burn 0.22 flex", burn::tensor::Device::flex(), d));
        }
        if wants("ndarray") {
            #[allow(deprecated)]
            rows.push(burn_impl::run("burn 0.22 ndarray", burn::tensor::Device::ndarray(), d));
        }
    }
    println!("threads = {threads}, batch = {BATCH}, seq = {SEQ}, layers = {LAYERS}, heads = {HEADS}, vocab = {VOCAB}");
    println!("| backend | d_model | tiny op (us) | elementwise [6144,d] (us) | matmul [6144,d]x[d,4d] (us) | train step fwd+bwd (ms) | decode step, 256 seqs (ms) |");
    println!("|---|---|---|---|---|---|---|");
    for r in rows {
        println!(
            "| {} | {} | {:.2} | {:.1} | {:.1} | {:.1} | {:.2} |",
            r.backend, r.d_model, r.tiny_op_us, r.elementwise_us, r.matmul_us, r.train_step_ms, r.decode_step_ms
        );
    }
}
