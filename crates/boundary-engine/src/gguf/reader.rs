//! Reading GGUF files: header, metadata and tensor descriptors, with bounds checks on every
//! read so that a truncated or corrupt file is an error naming the byte offset, never a panic.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use memmap2::Mmap;

use super::value::{MetadataValue, tag};
use super::{DEFAULT_ALIGNMENT, GgufError, MAGIC, TensorType};

/// One tensor's descriptor: where its data lies and how to read it.
#[derive(Debug, Clone, PartialEq)]
pub struct TensorInfo {
    pub name: String,
    /// Dimensions in ggml order: `dims[0]` is the contiguous (row) dimension.
    pub dims: Vec<u64>,
    pub tensor_type: TensorType,
    /// Byte offset of the data, relative to the start of the data section.
    pub offset: u64,
}

impl TensorInfo {
    pub fn element_count(&self) -> u64 {
        self.dims.iter().product()
    }
}

/// An open GGUF file: its metadata, its tensor descriptors and a read-only map of its bytes.
pub struct GgufFile {
    path: PathBuf,
    version: u32,
    metadata: BTreeMap<String, MetadataValue>,
    tensors: Vec<TensorInfo>,
    data_start: u64,
    map: Mmap,
}

impl std::fmt::Debug for GgufFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GgufFile")
            .field("path", &self.path)
            .field("version", &self.version)
            .field("metadata_keys", &self.metadata.len())
            .field("tensors", &self.tensors.len())
            .finish()
    }
}

impl GgufFile {
    /// Opens and parses `path`. Tensor data is mapped, not read.
    pub fn open(path: &Path) -> Result<Self, GgufError> {
        let io = |source| GgufError::Io {
            path: path.to_owned(),
            source,
        };
        let file = File::open(path).map_err(io)?;
        // SAFETY: the map is read-only; Boundary never writes model files while reading them. A
        // file truncated by another process underneath us could fault, the same risk llama.cpp
        // itself takes by mapping models.
        let map = unsafe { Mmap::map(&file) }.map_err(io)?;
        let mut cursor = Cursor {
            bytes: &map,
            offset: 0,
            path,
        };
        if cursor.take(4, "the magic number")? != MAGIC {
            return Err(GgufError::NotGguf {
                path: path.to_owned(),
            });
        }
        let version = cursor.u32("the version")?;
        if !(2..=3).contains(&version) {
            return Err(GgufError::UnsupportedVersion {
                path: path.to_owned(),
                version,
            });
        }
        let tensor_count = cursor.u64("the tensor count")?;
        let metadata_count = cursor.u64("the metadata count")?;

        let mut metadata = BTreeMap::new();
        for _ in 0..metadata_count {
            let key = cursor.string("a metadata key")?;
            let value_tag = cursor.u32("a metadata value type")?;
            let value = cursor.value(value_tag, &key)?;
            metadata.insert(key, value);
        }

        let mut tensors = Vec::new();
        for _ in 0..tensor_count {
            tensors.push(cursor.tensor_info()?);
        }

        let alignment = match metadata.get("general.alignment") {
            None => DEFAULT_ALIGNMENT,
            Some(value) => value
                .as_i64()
                .and_then(|a| u64::try_from(a).ok())
                .filter(|a| a.is_power_of_two())
                .ok_or_else(|| GgufError::Corrupt {
                    path: path.to_owned(),
                    what: format!("general.alignment is {value:?}, not a power of two"),
                    offset: cursor.offset,
                })?,
        };
        let data_start = cursor.offset.next_multiple_of(alignment);

        let file = Self {
            path: path.to_owned(),
            version,
            metadata,
            tensors,
            data_start,
            map,
        };
        for tensor in &file.tensors {
            file.tensor_bytes(tensor)?;
        }
        Ok(file)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn version(&self) -> u32 {
        self.version
    }

    pub fn metadata(&self) -> &BTreeMap<String, MetadataValue> {
        &self.metadata
    }

    pub fn tensors(&self) -> &[TensorInfo] {
        &self.tensors
    }

    pub fn tensor(&self, name: &str) -> Result<&TensorInfo, GgufError> {
        self.tensors
            .iter()
            .find(|t| t.name == name)
            .ok_or_else(|| GgufError::MissingTensor {
                path: self.path.clone(),
                tensor: name.to_owned(),
            })
    }

    /// The raw bytes of a tensor (in its own type).
    pub fn tensor_bytes(&self, tensor: &TensorInfo) -> Result<&[u8], GgufError> {
        let corrupt = |what: String| GgufError::Corrupt {
            path: self.path.clone(),
            what,
            offset: self.data_start.saturating_add(tensor.offset),
        };
        let len = tensor
            .tensor_type
            .bytes_for(tensor.element_count())
            .ok_or_else(|| {
                corrupt(format!(
                    "tensor `{}` has {} elements, not a whole number of {} blocks",
                    tensor.name,
                    tensor.element_count(),
                    tensor.tensor_type
                ))
            })?;
        let start = self.data_start.checked_add(tensor.offset);
        let end = start.and_then(|s| s.checked_add(len));
        match (start, end) {
            (Some(start), Some(end)) if end <= self.map.len() as u64 => {
                Ok(&self.map[start as usize..end as usize])
            }
            _ => Err(GgufError::Truncated {
                path: self.path.clone(),
                what: format!("the data of tensor `{}` ({len} bytes)", tensor.name),
                offset: self.data_start.saturating_add(tensor.offset),
            }),
        }
    }

    /// A metadata value, if present.
    pub fn get(&self, key: &str) -> Option<&MetadataValue> {
        self.metadata.get(key)
    }

    fn require(&self, key: &str) -> Result<&MetadataValue, GgufError> {
        self.get(key).ok_or_else(|| GgufError::MissingKey {
            path: self.path.clone(),
            key: key.to_owned(),
        })
    }

    fn wrong_type(&self, key: &str, expected: &'static str, found: &MetadataValue) -> GgufError {
        GgufError::WrongType {
            path: self.path.clone(),
            key: key.to_owned(),
            expected,
            found: found.type_name(),
        }
    }

    pub fn str(&self, key: &str) -> Result<&str, GgufError> {
        let value = self.require(key)?;
        value
            .as_str()
            .ok_or_else(|| self.wrong_type(key, "a string", value))
    }

    pub fn optional_str(&self, key: &str) -> Result<Option<&str>, GgufError> {
        self.get(key)
            .map(|value| {
                value
                    .as_str()
                    .ok_or_else(|| self.wrong_type(key, "a string", value))
            })
            .transpose()
    }

    pub fn optional_int(&self, key: &str) -> Result<Option<i64>, GgufError> {
        self.get(key)
            .map(|value| {
                value
                    .as_i64()
                    .ok_or_else(|| self.wrong_type(key, "an integer", value))
            })
            .transpose()
    }

    pub fn optional_bool(&self, key: &str) -> Result<Option<bool>, GgufError> {
        self.get(key)
            .map(|value| {
                value
                    .as_bool()
                    .ok_or_else(|| self.wrong_type(key, "a bool", value))
            })
            .transpose()
    }

    pub fn optional_float(&self, key: &str) -> Result<Option<f64>, GgufError> {
        self.get(key)
            .map(|value| {
                value
                    .as_f64()
                    .ok_or_else(|| self.wrong_type(key, "a float", value))
            })
            .transpose()
    }

    /// An array of strings (token texts, merges).
    pub fn str_array(&self, key: &str) -> Result<Vec<&str>, GgufError> {
        let value = self.require(key)?;
        let items = value
            .as_array()
            .ok_or_else(|| self.wrong_type(key, "an array of strings", value))?;
        items
            .iter()
            .map(|item| {
                item.as_str()
                    .ok_or_else(|| self.wrong_type(key, "an array of strings", item))
            })
            .collect()
    }

    /// An array of integers (token types), if present.
    pub fn optional_int_array(&self, key: &str) -> Result<Option<Vec<i64>>, GgufError> {
        let Some(value) = self.get(key) else {
            return Ok(None);
        };
        let items = value
            .as_array()
            .ok_or_else(|| self.wrong_type(key, "an array of integers", value))?;
        items
            .iter()
            .map(|item| {
                item.as_i64()
                    .ok_or_else(|| self.wrong_type(key, "an array of integers", item))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }
}

/// A bounds-checked little-endian reader over the mapped file.
struct Cursor<'a> {
    bytes: &'a [u8],
    offset: u64,
    path: &'a Path,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, len: u64, what: &str) -> Result<&'a [u8], GgufError> {
        let start = self.offset;
        let end = start
            .checked_add(len)
            .filter(|&end| end <= self.bytes.len() as u64)
            .ok_or_else(|| GgufError::Truncated {
                path: self.path.to_owned(),
                what: what.to_owned(),
                offset: start,
            })?;
        self.offset = end;
        Ok(&self.bytes[start as usize..end as usize])
    }

    fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N], GgufError> {
        let bytes = self.take(N as u64, what)?;
        let mut out = [0; N];
        out.copy_from_slice(bytes);
        Ok(out)
    }

    fn u32(&mut self, what: &str) -> Result<u32, GgufError> {
        self.array(what).map(u32::from_le_bytes)
    }

    fn u64(&mut self, what: &str) -> Result<u64, GgufError> {
        self.array(what).map(u64::from_le_bytes)
    }

    fn string(&mut self, what: &str) -> Result<String, GgufError> {
        let at = self.offset;
        let len = self.u64(what)?;
        let bytes = self.take(len, what)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| GgufError::Corrupt {
            path: self.path.to_owned(),
            what: format!("{what} is not valid UTF-8"),
            offset: at,
        })
    }

    fn corrupt(&self, what: String) -> GgufError {
        GgufError::Corrupt {
            path: self.path.to_owned(),
            what,
            offset: self.offset,
        }
    }

    fn value(&mut self, value_tag: u32, key: &str) -> Result<MetadataValue, GgufError> {
        let what = format!("the value of `{key}`");
        Ok(match value_tag {
            tag::U8 => MetadataValue::U8(u8::from_le_bytes(self.array(&what)?)),
            tag::I8 => MetadataValue::I8(i8::from_le_bytes(self.array(&what)?)),
            tag::U16 => MetadataValue::U16(u16::from_le_bytes(self.array(&what)?)),
            tag::I16 => MetadataValue::I16(i16::from_le_bytes(self.array(&what)?)),
            tag::U32 => MetadataValue::U32(u32::from_le_bytes(self.array(&what)?)),
            tag::I32 => MetadataValue::I32(i32::from_le_bytes(self.array(&what)?)),
            tag::U64 => MetadataValue::U64(u64::from_le_bytes(self.array(&what)?)),
            tag::I64 => MetadataValue::I64(i64::from_le_bytes(self.array(&what)?)),
            tag::F32 => MetadataValue::F32(f32::from_le_bytes(self.array(&what)?)),
            tag::F64 => MetadataValue::F64(f64::from_le_bytes(self.array(&what)?)),
            tag::BOOL => match self.array::<1>(&what)? {
                [0] => MetadataValue::Bool(false),
                [1] => MetadataValue::Bool(true),
                [b] => return Err(self.corrupt(format!("{what} is a bool with byte value {b}"))),
            },
            tag::STRING => MetadataValue::String(self.string(&what)?),
            tag::ARRAY => {
                let item_tag = self.u32(&what)?;
                if item_tag == tag::ARRAY {
                    return Err(self.corrupt(format!("{what} is an array of arrays")));
                }
                let len = self.u64(&what)?;
                // Every item takes at least one byte, so a length beyond the remaining bytes
                // is corrupt; checking first avoids a huge allocation.
                if len > self.bytes.len() as u64 - self.offset {
                    return Err(GgufError::Truncated {
                        path: self.path.to_owned(),
                        what: format!("{what} ({len} items)"),
                        offset: self.offset,
                    });
                }
                let mut items = Vec::with_capacity(len as usize);
                for _ in 0..len {
                    items.push(self.value(item_tag, key)?);
                }
                MetadataValue::Array(items)
            }
            other => return Err(self.corrupt(format!("{what} has unknown value type {other}"))),
        })
    }

    fn tensor_info(&mut self) -> Result<TensorInfo, GgufError> {
        let name = self.string("a tensor name")?;
        let what = format!("the descriptor of tensor `{name}`");
        let n_dims = self.u32(&what)?;
        if n_dims > 4 {
            return Err(self.corrupt(format!("tensor `{name}` has {n_dims} dimensions (max 4)")));
        }
        let mut dims = Vec::with_capacity(n_dims as usize);
        for _ in 0..n_dims {
            dims.push(self.u64(&what)?);
        }
        if dims
            .iter()
            .try_fold(1u64, |acc, &d| acc.checked_mul(d))
            .is_none()
        {
            return Err(self.corrupt(format!(
                "tensor `{name}` has dimensions {dims:?} that overflow"
            )));
        }
        let type_id = self.u32(&what)?;
        let tensor_type =
            TensorType::from_id(type_id).ok_or_else(|| GgufError::UnknownTensorType {
                path: self.path.to_owned(),
                tensor: name.clone(),
                type_id,
            })?;
        let offset = self.u64(&what)?;
        Ok(TensorInfo {
            name,
            dims,
            tensor_type,
            offset,
        })
    }
}
