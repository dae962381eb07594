//! The safetensors path: SmolLM2's GGUF exported to an f32 safetensors directory (config,
//! tokenizer.json, tokenizer_config.json) loads back and computes the same logits.

mod common;

use std::path::Path;

use boundary_engine::{
    Model, ModelFormat, ModelOptions, RenderOptions, Weights, all_logits, export_safetensors,
};
use common::{reference_texts, smollm2, smollm2_path};
use serde_json::json;

fn gguf_files_in(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|path| path.extension().is_some_and(|x| x == "gguf"))
        .map(|path| path.display().to_string())
        .collect()
}

fn max_abs_diff(a: &[Vec<f32>], b: &[Vec<f32>]) -> f32 {
    a.iter()
        .flatten()
        .zip(b.iter().flatten())
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

fn argmax(row: &[f32]) -> usize {
    row.iter()
        .enumerate()
        .fold(
            (0, f32::NEG_INFINITY),
            |b, (i, &l)| if l > b.1 { (i, l) } else { b },
        )
        .0
}

#[test]
fn exported_safetensors_directory_computes_the_gguf_logits() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("SmolLM2-135M-Instruct-f32");
    export_safetensors(&smollm2_path(), &dir).unwrap();
    for file in [
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "tokenizer_config.json",
        "generation_config.json",
    ] {
        assert!(dir.join(file).is_file(), "{file} missing");
    }
    let options = ModelOptions {
        conversion_dir: Some(temp.path().to_owned()),
        ..common::options()
    };
    let from_dir = Model::load(&dir, &options).unwrap();
    assert_eq!(from_dir.info().format, ModelFormat::Safetensors);
    assert_eq!(from_dir.info().architecture, smollm2().info().architecture);
    assert!(
        !from_dir.info().f32_weights,
        "already f32: nothing to expand"
    );
    // Against the same weights expanded to f32 while loading the GGUF: identical computation,
    // so the conversion (names, shapes, Llama's query/key row order) must reproduce it exactly.
    let expanded = Model::load(
        &smollm2_path(),
        &ModelOptions {
            weights: Weights::F32,
            ..options.clone()
        },
    )
    .unwrap();
    assert!(expanded.info().f32_weights);
    assert!(!smollm2().info().f32_weights);
    // The converted and the expanded GGUF are deleted once loaded.
    assert_eq!(gguf_files_in(temp.path()), Vec::<String>::new());

    // tokenizer.json and tokenizer_config.json carry the same tokenizer, specials and template.
    let gguf_tokenizer = smollm2().tokenizer();
    assert_eq!(
        from_dir.tokenizer().special_tokens(),
        gguf_tokenizer.special_tokens()
    );
    for text in reference_texts().iter().take(200) {
        assert_eq!(
            from_dir.tokenizer().encode(text).unwrap(),
            gguf_tokenizer.encode(text).unwrap(),
            "{text:?}"
        );
    }
    let messages = [json!({"role": "user", "content": "Hi"})];
    assert_eq!(
        from_dir
            .render_chat(&messages, &RenderOptions::default())
            .unwrap(),
        smollm2()
            .render_chat(&messages, &RenderOptions::default())
            .unwrap()
    );

    let prompts = [
        "<|im_start|>user\nWhat is 7 times 8?<|im_end|>\n<|im_start|>assistant\n",
        "The derivative of $x^3$ is $3x^2$, so the slope at $x = 2$ is",
    ];
    for prompt in prompts {
        let tokens = gguf_tokenizer.encode(prompt).unwrap();
        let ours = all_logits(&from_dir, &tokens).unwrap();
        let reference = all_logits(&expanded, &tokens).unwrap();
        let diff = max_abs_diff(&ours, &reference);
        assert!(diff < 1e-3, "{prompt:?}: max logit difference {diff}");

        // Against the Q4_1 original, the only difference is that llama.cpp rounds activations
        // to 8 bits when it multiplies them with quantized weights.
        let quantized = all_logits(smollm2(), &tokens).unwrap();
        let same_top1 = ours
            .iter()
            .zip(&quantized)
            .filter(|(a, b)| argmax(a) == argmax(b))
            .count();
        eprintln!(
            "{prompt:?}: f32 vs Q4_1 max |logit diff| {:.3}, top-1 identical {same_top1}/{}",
            max_abs_diff(&ours, &quantized),
            ours.len()
        );
        assert!(
            same_top1 * 10 >= ours.len() * 9,
            "{same_top1}/{}",
            ours.len()
        );
    }
}
