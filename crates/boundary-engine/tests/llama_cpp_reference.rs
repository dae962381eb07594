//! The engine against llama.cpp (llama-cpp-python 0.3.36, built with the same CPU kernels as
//! the engine's llama.cpp): tokenization of adversarial strings and every MATH500 problem and
//! solution, logits at every position of a set of prompts, perplexity of MATH500 solutions,
//! chat rendering, and the same for tiny Qwen2, Qwen3 and Llama 3 models. Reference data:
//! `scripts/setup/engine-test-data.sh`.

mod common;

use boundary_engine::{
    Model, ModelOptions, RenderOptions, ScoreConfig, ScoreRequest, Tokenizer, Weights, all_logits,
    gguf::GgufFile, score,
};
use common::{ids, reference, reference_texts, smollm2, smollm2_path, test_data_dir};

/// Compares a tokenizer with llama.cpp's ids for every reference text.
fn assert_tokenizes_like_llama_cpp(
    tokenizer: &Tokenizer,
    reference: &serde_json::Value,
    texts: &[String],
) {
    let expected = reference["tokenization"].as_array().expect("tokenization");
    assert_eq!(expected.len(), texts.len());
    let mismatches: Vec<String> = texts
        .iter()
        .zip(expected)
        .enumerate()
        .filter_map(|(i, (text, expected))| {
            let ours = tokenizer.encode(text).expect("encode");
            let theirs = ids(expected);
            (ours != theirs).then(|| {
                let at = ours.iter().zip(&theirs).take_while(|(a, b)| a == b).count();
                format!(
                    "text {i} {:?}: first difference at token {at}: ours {:?} llama.cpp {:?}",
                    text.chars().take(60).collect::<String>(),
                    &ours[at..(at + 5).min(ours.len())],
                    &theirs[at..(at + 5).min(theirs.len())]
                )
            })
        })
        .collect();
    assert!(
        mismatches.is_empty(),
        "{} of {} texts tokenize differently:\n{}",
        mismatches.len(),
        texts.len(),
        mismatches.join("\n")
    );
}

#[test]
fn smollm2_tokenizes_every_text_like_llama_cpp() {
    let texts = reference_texts();
    // Adversarial strings plus 500 problems and 500 solutions.
    assert!(texts.len() > 1000);
    assert_tokenizes_like_llama_cpp(smollm2().tokenizer(), &reference("smollm2"), &texts);
}

#[test]
fn other_pre_tokenizers_tokenize_like_llama_cpp() {
    let texts = reference_texts();
    for name in ["tiny-qwen2", "tiny-llama3"] {
        let gguf = GgufFile::open(&test_data_dir().join(format!("{name}.gguf"))).unwrap();
        let tokenizer = Tokenizer::from_gguf(&gguf).unwrap();
        assert_tokenizes_like_llama_cpp(&tokenizer, &reference(name), &texts);
    }
}

/// How far our logits are from llama.cpp's at every position of the reference prompts.
struct LogitAgreement {
    positions: usize,
    same_top1: usize,
    max_abs_diff: f32,
    max_logsumexp_diff: f64,
}

/// Both sides' CPU kernels, for failure messages: logits are bit-identical only when llama.cpp
/// was built for the same instruction set on both sides (a `-C target-cpu=native` build of ours
/// on an AVX-512 machine is not).
fn kernels(reference: &serde_json::Value) -> String {
    // SAFETY: llama.cpp returns a pointer to a static NUL-terminated string.
    let ours = unsafe { std::ffi::CStr::from_ptr(llama_cpp_sys_2::llama_print_system_info()) };
    format!(
        "llama.cpp built for\n  ours:      {}\n  reference: {}",
        ours.to_string_lossy().trim(),
        reference["system_info"]
            .as_str()
            .unwrap_or("(not recorded)")
    )
}

fn compare_logits(model: &Model, reference: &serde_json::Value) -> LogitAgreement {
    let mut agreement = LogitAgreement {
        positions: 0,
        same_top1: 0,
        max_abs_diff: 0.0,
        max_logsumexp_diff: 0.0,
    };
    for prompt in reference["logits"].as_array().expect("logits") {
        let tokens = ids(&prompt["tokens"]);
        // llama.cpp tokenized the prompt; our tokenizer must agree (checked above), and the
        // logits comparison uses llama.cpp's ids so it tests the forward pass alone.
        let rows = all_logits(model, &tokens).expect("logits");
        for (row, position) in rows
            .iter()
            .zip(prompt["positions"].as_array().expect("positions"))
        {
            let top = position["top"].as_array().expect("top");
            let their_top1 = top[0][0].as_u64().unwrap() as usize;
            let our_top1 = row
                .iter()
                .enumerate()
                .fold((0, f32::NEG_INFINITY), |best, (i, &l)| {
                    if l > best.1 { (i, l) } else { best }
                })
                .0;
            agreement.positions += 1;
            agreement.same_top1 += usize::from(our_top1 == their_top1);
            for entry in top {
                let id = entry[0].as_u64().unwrap() as usize;
                let theirs = entry[1].as_f64().unwrap() as f32;
                agreement.max_abs_diff = agreement.max_abs_diff.max((row[id] - theirs).abs());
            }
            let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
            let lse = max
                + row
                    .iter()
                    .map(|&l| (l as f64 - max).exp())
                    .sum::<f64>()
                    .ln();
            let their_lse = position["logsumexp"].as_f64().unwrap();
            agreement.max_logsumexp_diff =
                agreement.max_logsumexp_diff.max((lse - their_lse).abs());
        }
    }
    agreement
}

#[test]
fn smollm2_logits_agree_with_llama_cpp() {
    let expected = reference("smollm2");
    let agreement = compare_logits(smollm2(), &expected);
    let top1 = agreement.same_top1 as f64 / agreement.positions as f64;
    eprintln!(
        "SmolLM2: {} positions, top-1 identical at {:.2}%, max |logit diff| {:.4}, max |logsumexp diff| {:.4}",
        agreement.positions,
        100.0 * top1,
        agreement.max_abs_diff,
        agreement.max_logsumexp_diff
    );
    assert!(agreement.positions > 1000, "{}", agreement.positions);
    // The issue asks for top-1 agreement >= 99%. Measured: 100%, logits bit-identical. The
    // reference llama.cpp must be built with our CPU kernels (AVX2 without AVX-512, what
    // llama-cpp-sys-2's GGML_NATIVE=OFF build compiles; scripts/setup/engine-test-data.sh):
    // pip's default build compiles for the local CPU, and on an AVX-512 machine the same
    // llama.cpp code agreed with ours at only 97.3% of positions, logits up to 1.15 apart, as
    // SmolLM2 Q4_1 amplifies the kernels' different rounding (docs/benchmarks/engine.md).
    assert!(
        top1 >= 0.99,
        "top-1 agreement {top1}; {}",
        kernels(&expected)
    );
    assert!(
        agreement.max_abs_diff < 1e-3,
        "max logit difference {}; {}",
        agreement.max_abs_diff,
        kernels(&expected)
    );
}

#[test]
fn tiny_qwen_and_llama3_logits_agree_with_llama_cpp() {
    for name in ["tiny-qwen2", "tiny-qwen3", "tiny-llama3"] {
        let model = Model::load(
            &test_data_dir().join(format!("{name}.gguf")),
            &common::options(),
        )
        .unwrap();
        let expected = reference(name);
        let agreement = compare_logits(&model, &expected);
        eprintln!(
            "{name}: {} positions, top-1 identical {} , max |logit diff| {:.2e}",
            agreement.positions, agreement.same_top1, agreement.max_abs_diff
        );
        assert_eq!(agreement.same_top1, agreement.positions, "{name}");
        // Same kernels on both sides (see above): measured bit-identical for all three. (Against
        // an AVX-512 build of llama.cpp they were 8.5e-4, 3.8e-4 and 1.7e-2 apart.)
        assert!(
            agreement.max_abs_diff < 1e-3,
            "{name}: {}; {}",
            agreement.max_abs_diff,
            kernels(&expected)
        );
    }
}

#[test]
fn math500_perplexity_within_one_percent_of_llama_cpp() {
    assert_math500_perplexity_near_llama_cpp(smollm2());
}

/// Scoring with the weights expanded to f32 (what `boundary score` does with small models)
/// stays as close: the weights are the same values, only activations are no longer rounded.
#[test]
fn math500_perplexity_with_f32_weights_within_one_percent_of_llama_cpp() {
    let options = ModelOptions {
        weights: Weights::F32,
        ..common::options()
    };
    let model = Model::load(&smollm2_path(), &options).unwrap();
    assert!(model.info().f32_weights);
    assert_math500_perplexity_near_llama_cpp(&model);
}

fn assert_math500_perplexity_near_llama_cpp(model: &Model) {
    // The setup script computes llama.cpp's reference for the first 40 (`--ppl-count 500` there
    // gives all of MATH500; raise COUNT with it); 40 keep setup and test short.
    const COUNT: usize = 40;
    let reference = reference("smollm2");
    let expected = &reference["perplexity"].as_array().expect("perplexity")[..COUNT];
    let math500: Vec<serde_json::Value> = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/math500.jsonl"
    ))
    .unwrap()
    .lines()
    .take(COUNT)
    .map(|l| serde_json::from_str(l).unwrap())
    .collect();
    let requests: Vec<ScoreRequest> = math500
        .iter()
        .map(|item| ScoreRequest {
            prompt: model
                .tokenizer()
                .encode(item["problem"].as_str().unwrap())
                .unwrap(),
            continuation: model
                .tokenizer()
                .encode(item["solution"].as_str().unwrap())
                .unwrap(),
        })
        .collect();
    let mut sums = vec![0.0; COUNT];
    let mut counts = vec![0usize; COUNT];
    score(model, &requests, &ScoreConfig::default(), |i, s, _| {
        sums[i] = s.logprob_sum();
        counts[i] = s.token_logprobs.len();
        Ok::<_, std::convert::Infallible>(())
    })
    .unwrap();
    let mut our_total = 0.0;
    let mut their_total = 0.0;
    let mut tokens = 0;
    let mut worst_per_token = 0.0f64;
    for (i, item) in expected.iter().enumerate() {
        assert_eq!(
            counts[i] as u64,
            item["continuation_tokens"].as_u64().unwrap(),
            "solution {i}"
        );
        let theirs = item["logprob_sum"].as_f64().unwrap();
        worst_per_token = worst_per_token.max((sums[i] - theirs).abs() / counts[i] as f64);
        our_total += sums[i];
        their_total += theirs;
        tokens += counts[i];
    }
    let ours = (-our_total / tokens as f64).exp();
    let theirs = (-their_total / tokens as f64).exp();
    eprintln!(
        "MATH500 solutions 0..{COUNT}: perplexity ours {ours:.4}, llama.cpp {theirs:.4}; \
         largest mean |log-prob difference| of one solution {worst_per_token:.4} nats/token"
    );
    assert!(
        (ours / theirs - 1.0).abs() < 0.01,
        "ours {ours} llama.cpp {theirs}"
    );
}

#[test]
fn chat_prompts_render_like_llama_cpp_python() {
    let model = smollm2();
    for case in reference("smollm2")["chat"].as_array().expect("chat") {
        let messages = case["messages"].as_array().unwrap();
        let ours = model
            .render_chat(messages, &RenderOptions::default())
            .unwrap();
        assert_eq!(ours, case["rendered"].as_str().unwrap());
    }
}
