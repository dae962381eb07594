//! A GGUF model with its weights expanded to f32, for scoring.
//!
//! On x86, llama.cpp multiplies a long batch of positions with f32 weights through tiled
//! kernels (llamafile's tinyBLAS), but with Q4_1 weights one row-by-position dot product at a
//! time, after rounding the activations to 8 bits. Scoring runs nothing but long batches, so
//! the same weights in f32 score faster: SmolLM2-135M Q4_1 scored 1.4x faster on the 2-core
//! development machine (`docs/benchmarks/engine.md`). The f32 values are exactly the weights
//! ggml dequantizes; only the activations' 8-bit rounding is gone, which moves
//! log-probabilities slightly, towards unrounded arithmetic.
//!
//! Not every type gains: Q4_0, Q5_0 and Q8_0 have tiled kernels, and Q2_K, Q3_K, Q4_K and
//! Q6_K fast dot products, all faster than f32 there. [`faster_in_f32`] names the types
//! measured slower (`scripts/bench/scoring_weights.sh`).
//!
//! The cost is 4 bytes per weight, in a temporary file and in memory, against about 0.6 for
//! Q4_1; and decoding a few sequences, which is bound by memory bandwidth, gets slower, so
//! sampling keeps the stored weights.

use std::path::Path;

use tempfile::TempPath;

use crate::gguf::{GgufError, GgufFile, GgufWriter, MetadataValue, TensorData, TensorType};

/// llama.cpp's `LLAMA_FTYPE_ALL_F32`, for `general.file_type`.
const FILE_TYPE_ALL_F32: u32 = 0;

/// Whether the model has weights in another type that can be expanded to f32.
pub(crate) fn has_expandable(gguf: &GgufFile) -> bool {
    gguf.tensors().iter().any(|t| expandable(t.tensor_type))
}

/// Bytes of tensor data in the model once every expandable weight is f32.
pub(crate) fn expanded_bytes(gguf: &GgufFile) -> u64 {
    gguf.tensors()
        .iter()
        .map(|t| {
            if expandable(t.tensor_type) {
                t.element_count() * 4
            } else {
                t.tensor_type.bytes_for(t.element_count()).unwrap_or(0)
            }
        })
        .sum()
}

/// Whether most of the model's weights (by count) are of a type that scores faster expanded to
/// f32 with this build's kernels: measured on x86-64 with AVX2 only, so elsewhere never.
pub(crate) fn faster_in_f32(gguf: &GgufFile) -> bool {
    const SLOWER_THAN_F32: [TensorType; 3] = [TensorType::Q4_1, TensorType::Q5_1, TensorType::Q5_K];
    if !cfg!(target_arch = "x86_64") {
        return false;
    }
    let (slower, all) = gguf.tensors().iter().fold((0, 0), |(slower, all), t| {
        let count = t.element_count();
        let slow = SLOWER_THAN_F32.contains(&t.tensor_type);
        (slower + if slow { count } else { 0 }, all + count)
    });
    slower * 2 > all
}

fn expandable(tensor_type: TensorType) -> bool {
    tensor_type != TensorType::F32 && tensor_type.can_dequantize()
}

/// Writes `gguf` to a temporary file in `dir` with every expandable weight in f32; the file is
/// deleted when the returned path drops (llama.cpp's mapping of it stays valid).
pub(crate) fn write_temp(gguf: &GgufFile, dir: &Path) -> Result<TempPath, GgufError> {
    let io = |e: std::io::Error| GgufError::Write {
        path: dir.to_owned(),
        what: e.to_string(),
    };
    std::fs::create_dir_all(dir).map_err(io)?;
    let temp = tempfile::Builder::new()
        .prefix("boundary-f32-")
        .suffix(".gguf")
        .tempfile_in(dir)
        .map_err(io)?
        .into_temp_path();
    write(gguf, &temp)?;
    Ok(temp)
}

/// Writes `gguf` to `out` with every expandable weight in f32.
fn write(gguf: &GgufFile, out: &Path) -> Result<(), GgufError> {
    let mut writer = GgufWriter::new();
    for (key, value) in gguf.metadata() {
        // The copy is laid out with the writer's own alignment.
        if key != "general.alignment" {
            writer.set(key, value.clone());
        }
    }
    writer.set("general.file_type", MetadataValue::U32(FILE_TYPE_ALL_F32));
    for info in gguf.tensors() {
        let bytes = gguf.tensor_bytes(info)?;
        let (tensor_type, data) = if expandable(info.tensor_type) {
            let from = info.tensor_type;
            (TensorType::F32, TensorData::ExpandedToF32 { from, bytes })
        } else {
            (info.tensor_type, TensorData::Borrowed(bytes))
        };
        writer
            .add_tensor(&info.name, &info.dims, tensor_type, data)
            .map_err(|what| GgufError::Write {
                path: out.to_owned(),
                what,
            })?;
    }
    writer.write(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A GGUF file with one tensor of each (type, rows of 32 weights); Q4_1 blocks of zero
    /// bytes, Q8_0 blocks of scale 1.0 and weights 0..32.
    fn model(dir: &Path, tensors: &[(TensorType, u64)]) -> GgufFile {
        let mut writer = GgufWriter::new();
        writer.set("general.architecture", "llama");
        let data: Vec<Vec<u8>> = tensors
            .iter()
            .map(|&(tensor_type, rows)| {
                let block: Vec<u8> = if tensor_type == TensorType::Q8_0 {
                    [0x00, 0x3c].into_iter().chain(0..32).collect()
                } else {
                    vec![0; tensor_type.block_bytes() as usize]
                };
                block.repeat((rows * 32 / tensor_type.block_size()) as usize)
            })
            .collect();
        for (i, (&(tensor_type, rows), bytes)) in tensors.iter().zip(&data).enumerate() {
            let data = TensorData::Borrowed(bytes);
            writer
                .add_tensor(&format!("t{i}"), &[32, rows], tensor_type, data)
                .unwrap();
        }
        let path = dir.join(format!("model-{}.gguf", tensors.len()));
        writer.write(&path).unwrap();
        GgufFile::open(&path).unwrap()
    }

    #[test]
    fn only_models_mostly_of_slower_types_are_faster_in_f32() {
        let dir = tempfile::tempdir().unwrap();
        let q4_1_mostly = model(dir.path(), &[(TensorType::Q4_1, 3), (TensorType::Q8_0, 2)]);
        assert_eq!(faster_in_f32(&q4_1_mostly), cfg!(target_arch = "x86_64"));
        let q8_0_mostly = model(
            dir.path(),
            &[
                (TensorType::Q4_1, 1),
                (TensorType::Q8_0, 2),
                (TensorType::F32, 1),
            ],
        );
        assert!(!faster_in_f32(&q8_0_mostly));
        assert!(has_expandable(&q8_0_mostly));
        assert_eq!(expanded_bytes(&q8_0_mostly), 4 * 32 * 4);
    }

    #[test]
    fn the_expanded_copy_holds_the_dequantized_weights() {
        let dir = tempfile::tempdir().unwrap();
        let source = model(dir.path(), &[(TensorType::Q4_1, 3), (TensorType::Q8_0, 2)]);
        let temp = write_temp(&source, dir.path()).unwrap();
        let copy = GgufFile::open(&temp).unwrap();
        assert_eq!(copy.optional_int("general.file_type").unwrap(), Some(0));
        assert!(!has_expandable(&copy));
        let q8_0 = copy.tensor("t1").unwrap();
        assert_eq!(
            (q8_0.tensor_type, &q8_0.dims[..]),
            (TensorType::F32, &[32, 2][..])
        );
        let expected: Vec<u8> = (0..2)
            .flat_map(|_| (0..32).flat_map(|q| (q as f32).to_le_bytes()))
            .collect();
        assert!(copy.tensor_bytes(q8_0).unwrap() == expected);
        let q4_1 = copy.tensor("t0").unwrap();
        assert_eq!(copy.tensor_bytes(q4_1).unwrap(), vec![0; 3 * 32 * 4]);
        // Deleted when the path drops.
        let path = temp.to_path_buf();
        drop(temp);
        assert!(!path.exists());
    }
}
