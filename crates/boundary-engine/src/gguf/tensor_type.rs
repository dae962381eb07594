//! Tensor element types (ggml types), described by the linked ggml itself so that block sizes
//! and dequantization always match the kernels that run the model.

use std::ffi::CStr;
use std::fmt;

/// A ggml tensor type that the linked ggml knows (F32, F16, BF16, Q4_0, Q4_1, Q8_0, K-quants, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TensorType(u32);

impl TensorType {
    pub const F32: Self = Self(llama_cpp_sys_2::GGML_TYPE_F32);
    pub const F16: Self = Self(llama_cpp_sys_2::GGML_TYPE_F16);
    pub const BF16: Self = Self(llama_cpp_sys_2::GGML_TYPE_BF16);
    pub const Q4_1: Self = Self(llama_cpp_sys_2::GGML_TYPE_Q4_1);
    pub const Q5_1: Self = Self(llama_cpp_sys_2::GGML_TYPE_Q5_1);
    pub const Q8_0: Self = Self(llama_cpp_sys_2::GGML_TYPE_Q8_0);
    pub const Q5_K: Self = Self(llama_cpp_sys_2::GGML_TYPE_Q5_K);

    /// The type with this GGUF/ggml id, if the linked ggml can handle it. Ids of removed types
    /// (e.g. Q4_2) and ids beyond this ggml's range give `None`.
    pub fn from_id(id: u32) -> Option<Self> {
        if id >= llama_cpp_sys_2::GGML_TYPE_COUNT {
            return None;
        }
        // SAFETY: ggml_get_type_traits indexes a static table of GGML_TYPE_COUNT entries; the id
        // was bounds-checked above.
        let traits = unsafe { &*llama_cpp_sys_2::ggml_get_type_traits(id) };
        let removed = traits.type_name.is_null() || traits.blck_size <= 0 || traits.type_size == 0;
        (!removed).then_some(Self(id))
    }

    pub fn id(self) -> u32 {
        self.0
    }

    fn traits(self) -> &'static llama_cpp_sys_2::ggml_type_traits {
        // SAFETY: `self.0` was validated by `from_id` (or is one of the constants above).
        unsafe { &*llama_cpp_sys_2::ggml_get_type_traits(self.0) }
    }

    /// ggml's name for the type ("q4_1", "f32", ...).
    pub fn name(self) -> &'static str {
        // SAFETY: `from_id` rejected types without a name; ggml's names are static C strings.
        unsafe { CStr::from_ptr(self.traits().type_name) }
            .to_str()
            .unwrap_or("?")
    }

    /// Elements per block (1 for plain float types).
    pub fn block_size(self) -> u64 {
        self.traits().blck_size.unsigned_abs()
    }

    /// Bytes per block.
    pub fn block_bytes(self) -> u64 {
        self.traits().type_size as u64
    }

    /// Bytes taken by `elements` values, or `None` when `elements` is not a whole number of
    /// blocks (such a tensor is corrupt).
    pub fn bytes_for(self, elements: u64) -> Option<u64> {
        let block = self.block_size();
        elements
            .is_multiple_of(block)
            .then(|| elements / block * self.block_bytes())
    }

    /// The elements that `bytes` whole blocks of this type hold (a partial block counts none).
    pub fn elements_in(self, bytes: u64) -> u64 {
        bytes / self.block_bytes() * self.block_size()
    }

    /// Whether ggml can convert this type to f32 (every weight type can; index types cannot).
    pub fn can_dequantize(self) -> bool {
        self == Self::F32 || self.traits().to_float.is_some()
    }

    /// Converts `data` (exactly `out.len()` elements of this type) to f32.
    ///
    /// Returns `false` when the type has no conversion or the sizes do not match.
    pub fn dequantize(self, data: &[u8], out: &mut [f32]) -> bool {
        if self == Self::F32 {
            // ggml has no conversion for the type it converts to: copy.
            if data.len() != out.len() * 4 {
                return false;
            }
            for (value, bytes) in out.iter_mut().zip(data.chunks_exact(4)) {
                *value = f32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
            }
            return true;
        }
        let Some(to_float) = self.traits().to_float else {
            return false;
        };
        if self.bytes_for(out.len() as u64) != Some(data.len() as u64) {
            return false;
        }
        let Ok(n) = i64::try_from(out.len()) else {
            return false;
        };
        // SAFETY: ggml reads exactly bytes_for(n) == data.len() bytes and writes n floats.
        unsafe { to_float(data.as_ptr().cast(), out.as_mut_ptr(), n) };
        true
    }
}

impl fmt::Display for TensorType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name().to_uppercase())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_and_removed_ids() {
        assert_eq!(TensorType::from_id(3).map(|t| t.name()), Some("q4_1"));
        assert_eq!(TensorType::from_id(8).map(|t| t.block_bytes()), Some(34));
        // Q4_2 was removed from ggml; unknown ids are rejected too.
        assert_eq!(TensorType::from_id(4), None);
        assert_eq!(TensorType::from_id(10_000), None);
    }

    #[test]
    fn byte_sizes_need_whole_blocks() {
        let q8 = TensorType::from_id(8).unwrap();
        assert_eq!(q8.bytes_for(64), Some(68));
        assert_eq!(q8.bytes_for(33), None);
        assert_eq!(TensorType::F32.bytes_for(3), Some(12));
    }

    #[test]
    fn dequantizes_f16() {
        let halves: Vec<u8> = [1.5f32, -2.0, 0.25]
            .iter()
            .flat_map(|&v| half::f16::from_f32(v).to_le_bytes())
            .collect();
        let mut out = [0.0f32; 3];
        assert!(TensorType::F16.dequantize(&halves, &mut out));
        assert_eq!(out, [1.5, -2.0, 0.25]);
        assert!(!TensorType::F16.dequantize(&halves[..4], &mut out));
        let floats: Vec<u8> = [1.5f32, -2.0, 0.25]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let mut out = [0.0f32; 3];
        assert!(TensorType::F32.dequantize(&floats, &mut out));
        assert_eq!(out, [1.5, -2.0, 0.25]);
        assert!(!TensorType::F32.dequantize(&floats[..8], &mut out));
    }
}
