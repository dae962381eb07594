//! Bad inputs get errors that say what is wrong, where, and what to do.

mod common;

use std::path::Path;

use boundary_engine::Model;
use boundary_engine::gguf::{GgufWriter, MetadataValue, TensorData, TensorType};
use common::smollm2_path;

/// The error message of loading `path`, with the temp directory replaced by `[TMP]`.
fn load_error(path: &Path, temp: &Path) -> String {
    let err = Model::load(path, &common::options()).expect_err("loading should fail");
    err.to_string()
        .replace(&temp.display().to_string(), "[TMP]")
}

/// A GGUF with SmolLM2's tokenizer metadata and one tiny tensor, with `overrides` applied.
fn write_gguf(path: &Path, overrides: &[(&str, MetadataValue)]) {
    let smol = boundary_engine::gguf::GgufFile::open(&smollm2_path()).unwrap();
    let mut writer = GgufWriter::new();
    for (key, value) in smol.metadata() {
        if key.starts_with("tokenizer.") || key.starts_with("general.") || key.starts_with("llama.")
        {
            writer.set(key, value.clone());
        }
    }
    for (key, value) in overrides {
        writer.set(key, value.clone());
    }
    writer
        .add_tensor(
            "token_embd.weight",
            &[2],
            TensorType::F32,
            TensorData::Owned(vec![0; 8]),
        )
        .unwrap();
    writer.write(path).unwrap();
}

#[test]
fn messages_for_bad_model_files() {
    let temp = tempfile::tempdir().unwrap();
    let t = temp.path();

    std::fs::create_dir(t.join("empty-dir")).unwrap();
    std::fs::write(t.join("notes.txt"), "hello").unwrap();
    let smol = std::fs::read(smollm2_path()).unwrap();
    std::fs::write(t.join("truncated.gguf"), &smol[..5000]).unwrap();
    write_gguf(
        &t.join("gemma.gguf"),
        &[("general.architecture", "gemma2".into())],
    );
    write_gguf(
        &t.join("falcon-pre.gguf"),
        &[("tokenizer.ggml.pre", "falcon".into())],
    );
    write_gguf(
        &t.join("spm.gguf"),
        &[("tokenizer.ggml.model", "llama".into())],
    );

    let messages: Vec<String> = [
        "missing.gguf",
        "empty-dir",
        "notes.txt",
        "truncated.gguf",
        "gemma.gguf",
        "falcon-pre.gguf",
        "spm.gguf",
    ]
    .iter()
    .map(|name| format!("{name}: {}", load_error(&t.join(name), t)))
    .collect();
    insta::assert_snapshot!(messages.join("\n"));
}

#[test]
fn unknown_tensor_type_is_named() {
    // A hand-made GGUF whose only tensor has type id 4 (Q4_2, removed from ggml long ago).
    let mut bytes = Vec::new();
    bytes.extend_from_slice(b"GGUF");
    bytes.extend_from_slice(&3u32.to_le_bytes());
    bytes.extend_from_slice(&1u64.to_le_bytes()); // tensors
    bytes.extend_from_slice(&0u64.to_le_bytes()); // metadata
    bytes.extend_from_slice(&(6u64).to_le_bytes());
    bytes.extend_from_slice(b"weight");
    bytes.extend_from_slice(&1u32.to_le_bytes());
    bytes.extend_from_slice(&32u64.to_le_bytes());
    bytes.extend_from_slice(&4u32.to_le_bytes());
    bytes.extend_from_slice(&0u64.to_le_bytes());
    let temp = tempfile::tempdir().unwrap();
    let path = temp.path().join("q4_2.gguf");
    std::fs::write(&path, bytes).unwrap();
    insta::assert_snapshot!(load_error(&path, temp.path()));
}

#[test]
fn messages_for_bad_safetensors_directories() {
    let temp = tempfile::tempdir().unwrap();
    let t = temp.path();
    let exported = t.join("smol");
    boundary_engine::export_safetensors(&smollm2_path(), &exported).unwrap();
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(exported.join("config.json")).unwrap())
            .unwrap();

    // A directory of another architecture: same files, another model_type.
    let gemma = t.join("gemma");
    std::fs::create_dir(&gemma).unwrap();
    for file in [
        "tokenizer.json",
        "tokenizer_config.json",
        "model.safetensors",
    ] {
        std::fs::hard_link(exported.join(file), gemma.join(file)).unwrap();
    }
    let mut gemma_config = config.clone();
    gemma_config["model_type"] = "gemma".into();
    std::fs::write(gemma.join("config.json"), gemma_config.to_string()).unwrap();

    // A config.json that is not JSON.
    let broken = t.join("broken");
    std::fs::create_dir(&broken).unwrap();
    for file in ["tokenizer.json", "tokenizer_config.json"] {
        std::fs::hard_link(exported.join(file), broken.join(file)).unwrap();
    }
    std::fs::write(broken.join("config.json"), "{\"model_type\": \"llama\",").unwrap();

    // Weights and config but no tokenizer.json.
    let no_tokenizer = t.join("no-tokenizer");
    std::fs::create_dir(&no_tokenizer).unwrap();
    std::fs::write(no_tokenizer.join("config.json"), config.to_string()).unwrap();
    std::fs::hard_link(
        exported.join("model.safetensors"),
        no_tokenizer.join("model.safetensors"),
    )
    .unwrap();

    // Config only.
    let no_weights = t.join("no-weights");
    std::fs::create_dir(&no_weights).unwrap();
    std::fs::write(no_weights.join("config.json"), config.to_string()).unwrap();

    let messages: Vec<String> = ["gemma", "broken", "no-tokenizer", "no-weights"]
        .iter()
        .map(|name| format!("{name}: {}", load_error(&t.join(name), t)))
        .collect();
    insta::assert_snapshot!(messages.join("\n"));
}

#[test]
fn no_room_for_the_f32_weights_says_what_to_do() {
    let temp = tempfile::tempdir().unwrap();
    // A file where the directory for the copy should be: nothing can be written under it.
    let blocked = temp.path().join("not-a-dir");
    std::fs::write(&blocked, "").unwrap();
    let options = boundary_engine::ModelOptions {
        weights: boundary_engine::Weights::F32,
        conversion_dir: Some(blocked.join("copies")),
        ..common::options()
    };
    let err = Model::load(&smollm2_path(), &options).expect_err("loading should fail");
    let message = err
        .to_string()
        .replace(&temp.path().display().to_string(), "[TMP]");
    insta::assert_snapshot!(message);
}
