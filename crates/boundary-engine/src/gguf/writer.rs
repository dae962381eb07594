//! Writing GGUF version 3 files. Tensor data is borrowed where it can be (straight from a
//! mapped safetensors or GGUF file), and weights expanded to f32 are converted a slice at a
//! time as they are written, so converting a model does not hold a second copy in memory.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use super::value::MetadataValue;
use super::{DEFAULT_ALIGNMENT, GgufError, MAGIC, TensorType};

/// A tensor's bytes, in the tensor's own type and ggml's row-major layout.
pub enum TensorData<'a> {
    Borrowed(&'a [u8]),
    Owned(Vec<u8>),
    /// Bytes of type `from`, written as f32 (the tensor's type must be f32).
    ExpandedToF32 {
        from: TensorType,
        bytes: &'a [u8],
    },
}

impl TensorData<'_> {
    /// The bytes this writes to the file.
    fn len(&self) -> u64 {
        match self {
            Self::Borrowed(bytes) => bytes.len() as u64,
            Self::Owned(bytes) => bytes.len() as u64,
            Self::ExpandedToF32 { from, bytes } => from.elements_in(bytes.len() as u64) * 4,
        }
    }
}

struct PendingTensor<'a> {
    name: String,
    dims: Vec<u64>,
    tensor_type: TensorType,
    data: TensorData<'a>,
}

/// Builds a GGUF file: metadata in insertion order, then tensors.
#[derive(Default)]
pub struct GgufWriter<'a> {
    metadata: Vec<(String, MetadataValue)>,
    tensors: Vec<PendingTensor<'a>>,
}

impl<'a> GgufWriter<'a> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets a metadata key (replacing an earlier value of the same key).
    pub fn set(&mut self, key: &str, value: impl Into<MetadataValue>) {
        let value = value.into();
        match self.metadata.iter_mut().find(|(k, _)| k == key) {
            Some((_, slot)) => *slot = value,
            None => self.metadata.push((key.to_owned(), value)),
        }
    }

    /// Adds a tensor. `dims` are in ggml order (contiguous dimension first).
    pub fn add_tensor(
        &mut self,
        name: &str,
        dims: &[u64],
        tensor_type: TensorType,
        data: TensorData<'a>,
    ) -> Result<(), String> {
        let elements: u64 = dims.iter().product();
        if let TensorData::ExpandedToF32 { from, bytes } = &data {
            let expected = from.bytes_for(elements);
            if tensor_type != TensorType::F32
                || !from.can_dequantize()
                || expected != Some(bytes.len() as u64)
            {
                return Err(format!(
                    "tensor `{name}` with dims {dims:?} cannot be expanded from {} bytes of type \
                     {from} ({expected:?} expected) to {tensor_type}",
                    bytes.len()
                ));
            }
        }
        let expected = tensor_type.bytes_for(elements);
        if expected != Some(data.len()) {
            return Err(format!(
                "tensor `{name}` with dims {dims:?} of type {tensor_type} needs {expected:?} bytes, got {}",
                data.len()
            ));
        }
        self.tensors.push(PendingTensor {
            name: name.to_owned(),
            dims: dims.to_vec(),
            tensor_type,
            data,
        });
        Ok(())
    }

    /// Writes the file.
    pub fn write(&self, path: &Path) -> Result<(), GgufError> {
        let io = |e: std::io::Error| GgufError::Write {
            path: path.to_owned(),
            what: e.to_string(),
        };
        let file = File::create(path).map_err(io)?;
        let mut out = CountingWriter {
            inner: BufWriter::with_capacity(1 << 20, file),
            written: 0,
        };
        self.write_to(&mut out).map_err(io)?;
        out.inner
            .into_inner()
            .map_err(|e| io(e.into_error()))?
            .sync_all()
            .map_err(io)
    }

    fn write_to<W: Write>(&self, out: &mut CountingWriter<W>) -> std::io::Result<()> {
        out.put(MAGIC)?;
        out.put(&3u32.to_le_bytes())?;
        out.put(&(self.tensors.len() as u64).to_le_bytes())?;
        out.put(&(self.metadata.len() as u64).to_le_bytes())?;
        for (key, value) in &self.metadata {
            out.string(key)?;
            out.put(&value.tag().to_le_bytes())?;
            out.value(value)?;
        }
        let mut offset = 0u64;
        for tensor in &self.tensors {
            out.string(&tensor.name)?;
            out.put(&(tensor.dims.len() as u32).to_le_bytes())?;
            for dim in &tensor.dims {
                out.put(&dim.to_le_bytes())?;
            }
            out.put(&tensor.tensor_type.id().to_le_bytes())?;
            out.put(&offset.to_le_bytes())?;
            offset = (offset + tensor.data.len()).next_multiple_of(DEFAULT_ALIGNMENT);
        }
        out.pad_to(DEFAULT_ALIGNMENT)?;
        for tensor in &self.tensors {
            match &tensor.data {
                TensorData::Borrowed(bytes) => out.put(bytes)?,
                TensorData::Owned(bytes) => out.put(bytes)?,
                TensorData::ExpandedToF32 { from, bytes } => out.expanded_to_f32(*from, bytes)?,
            }
            out.pad_to(DEFAULT_ALIGNMENT)?;
        }
        out.inner.flush()
    }
}

struct CountingWriter<W: Write> {
    inner: W,
    written: u64,
}

impl<W: Write> CountingWriter<W> {
    fn put(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.written += bytes.len() as u64;
        self.inner.write_all(bytes)
    }

    /// Writes `bytes` of type `from` as f32, a slice of about a million values at a time.
    fn expanded_to_f32(&mut self, from: TensorType, bytes: &[u8]) -> std::io::Result<()> {
        let blocks_per_slice = ((1 << 20) / from.block_size()).max(1);
        let slice_bytes = (blocks_per_slice * from.block_bytes()) as usize;
        let mut values = Vec::new();
        let mut le_bytes = Vec::new();
        for slice in bytes.chunks(slice_bytes) {
            let elements = from.elements_in(slice.len() as u64);
            values.resize(elements as usize, 0f32);
            if !from.dequantize(slice, &mut values) {
                return Err(std::io::Error::other(format!(
                    "{from} data of {} bytes cannot be converted to f32",
                    slice.len()
                )));
            }
            le_bytes.clear();
            le_bytes.extend(values.iter().flat_map(|v| v.to_le_bytes()));
            self.put(&le_bytes)?;
        }
        Ok(())
    }

    fn pad_to(&mut self, alignment: u64) -> std::io::Result<()> {
        let padding = self.written.next_multiple_of(alignment) - self.written;
        self.put(&vec![0; padding as usize])
    }

    fn string(&mut self, s: &str) -> std::io::Result<()> {
        self.put(&(s.len() as u64).to_le_bytes())?;
        self.put(s.as_bytes())
    }

    fn value(&mut self, value: &MetadataValue) -> std::io::Result<()> {
        match value {
            MetadataValue::U8(v) => self.put(&v.to_le_bytes()),
            MetadataValue::I8(v) => self.put(&v.to_le_bytes()),
            MetadataValue::U16(v) => self.put(&v.to_le_bytes()),
            MetadataValue::I16(v) => self.put(&v.to_le_bytes()),
            MetadataValue::U32(v) => self.put(&v.to_le_bytes()),
            MetadataValue::I32(v) => self.put(&v.to_le_bytes()),
            MetadataValue::U64(v) => self.put(&v.to_le_bytes()),
            MetadataValue::I64(v) => self.put(&v.to_le_bytes()),
            MetadataValue::F32(v) => self.put(&v.to_le_bytes()),
            MetadataValue::F64(v) => self.put(&v.to_le_bytes()),
            MetadataValue::Bool(v) => self.put(&[u8::from(*v)]),
            MetadataValue::String(s) => self.string(s),
            MetadataValue::Array(items) => {
                // An empty array has no item to take the type from; GGUF readers accept any.
                let item_tag = items.first().map_or(0, MetadataValue::tag);
                self.put(&item_tag.to_le_bytes())?;
                self.put(&(items.len() as u64).to_le_bytes())?;
                items.iter().try_for_each(|item| self.value(item))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::GgufFile;
    use super::*;

    #[test]
    fn round_trips_metadata_and_tensors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.gguf");
        let weights: Vec<u8> = (0..6).flat_map(|i| (i as f32).to_le_bytes()).collect();
        let mut writer = GgufWriter::new();
        writer.set("general.architecture", "llama");
        writer.set("llama.block_count", 2u32);
        writer.set("flag", true);
        writer.set(
            "tokens",
            MetadataValue::Array(vec!["a".into(), "b c".into()]),
        );
        writer
            .add_tensor(
                "w",
                &[3, 2],
                TensorType::F32,
                TensorData::Borrowed(&weights),
            )
            .unwrap();
        writer
            .add_tensor(
                "v",
                &[1],
                TensorType::F32,
                TensorData::Owned(7f32.to_le_bytes().to_vec()),
            )
            .unwrap();
        writer.write(&path).unwrap();

        let file = GgufFile::open(&path).unwrap();
        assert_eq!(file.str("general.architecture").unwrap(), "llama");
        assert_eq!(file.optional_int("llama.block_count").unwrap(), Some(2));
        assert_eq!(file.optional_bool("flag").unwrap(), Some(true));
        assert_eq!(file.str_array("tokens").unwrap(), ["a", "b c"]);
        let w = file.tensor("w").unwrap();
        assert_eq!(w.dims, [3, 2]);
        assert_eq!(file.tensor_bytes(w).unwrap(), &weights[..]);
        let v = file.tensor("v").unwrap();
        assert_eq!(file.tensor_bytes(v).unwrap(), 7f32.to_le_bytes());
    }

    #[test]
    fn rejects_wrong_data_size() {
        let mut writer = GgufWriter::new();
        let err = writer
            .add_tensor("w", &[3], TensorType::F32, TensorData::Owned(vec![0; 8]))
            .unwrap_err();
        assert!(err.contains("needs Some(12) bytes, got 8"), "{err}");
    }

    /// Q8_0 blocks: an f16 scale, then 32 signed bytes.
    fn q8_0_blocks(values: &[i8]) -> Vec<u8> {
        values
            .chunks(32)
            .flat_map(|block| {
                let scale_one = [0x00, 0x3c]; // 1.0 in f16
                scale_one.into_iter().chain(block.iter().map(|&q| q as u8))
            })
            .collect()
    }

    #[test]
    fn expands_quantized_data_to_f32_across_slices() {
        // One more than a slice of 2^20 values, so the conversion crosses a slice boundary.
        let values: Vec<i8> = (0..(1 << 20) + 3 * 32)
            .map(|i: i32| (i % 255 - 127) as i8)
            .collect();
        let q8_0 = TensorType::Q8_0;
        let bytes = q8_0_blocks(&values);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.gguf");
        let mut writer = GgufWriter::new();
        let dims = [32, values.len() as u64 / 32];
        writer
            .add_tensor(
                "w",
                &dims,
                TensorType::F32,
                TensorData::ExpandedToF32 {
                    from: q8_0,
                    bytes: &bytes,
                },
            )
            .unwrap();
        writer.write(&path).unwrap();

        let file = GgufFile::open(&path).unwrap();
        let w = file.tensor("w").unwrap();
        assert_eq!(w.tensor_type, TensorType::F32);
        let expected: Vec<u8> = values
            .iter()
            .flat_map(|&q| f32::from(q).to_le_bytes())
            .collect();
        assert!(file.tensor_bytes(w).unwrap() == expected);
    }

    #[test]
    fn expanding_needs_an_f32_tensor_and_whole_blocks() {
        let q8_0 = TensorType::Q8_0;
        let bytes = q8_0_blocks(&[1; 64]);
        let mut writer = GgufWriter::new();
        let expand = |bytes| TensorData::ExpandedToF32 { from: q8_0, bytes };
        let err = writer
            .add_tensor("w", &[64], TensorType::F16, expand(&bytes))
            .unwrap_err();
        assert!(err.contains("cannot be expanded"), "{err}");
        let err = writer
            .add_tensor("w", &[64], TensorType::F32, expand(&bytes[..40]))
            .unwrap_err();
        assert!(err.contains("cannot be expanded"), "{err}");
        writer
            .add_tensor("w", &[64], TensorType::F32, expand(&bytes))
            .unwrap();
    }
}
