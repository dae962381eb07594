//! The model architectures the engine runs, and how their Hugging Face names map to GGUF's.
//! Import (safetensors to GGUF) and export (GGUF to safetensors) share these tables, so the
//! two directions cannot drift apart.

use std::fmt;

/// A supported decoder-only architecture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Architecture {
    /// Llama 2/3.x, SmolLM/SmolLM2, TinyLlama, Mistral without sliding window.
    Llama,
    /// Qwen2 and Qwen2.5: biases on the q/k/v projections.
    Qwen2,
    /// Qwen3 (dense): per-head RMS norms on queries and keys, no biases.
    Qwen3,
}

/// Names accepted in error messages and docs.
pub const SUPPORTED: &str =
    "llama (Llama 2/3.x, SmolLM2), qwen2 (Qwen2/Qwen2.5), qwen3 (Qwen3 dense)";

impl Architecture {
    /// From GGUF's `general.architecture`.
    pub fn from_gguf(name: &str) -> Option<Self> {
        match name {
            "llama" => Some(Self::Llama),
            "qwen2" => Some(Self::Qwen2),
            "qwen3" => Some(Self::Qwen3),
            _ => None,
        }
    }

    /// From a Hugging Face `config.json`'s `model_type`.
    pub fn from_hf_model_type(name: &str) -> Option<Self> {
        match name {
            "llama" => Some(Self::Llama),
            "qwen2" => Some(Self::Qwen2),
            "qwen3" => Some(Self::Qwen3),
            _ => None,
        }
    }

    pub fn gguf_name(self) -> &'static str {
        match self {
            Self::Llama => "llama",
            Self::Qwen2 => "qwen2",
            Self::Qwen3 => "qwen3",
        }
    }

    pub fn hf_model_type(self) -> &'static str {
        self.gguf_name()
    }

    pub fn hf_class(self) -> &'static str {
        match self {
            Self::Llama => "LlamaForCausalLM",
            Self::Qwen2 => "Qwen2ForCausalLM",
            Self::Qwen3 => "Qwen3ForCausalLM",
        }
    }

    /// llama.cpp rotates Llama's queries and keys in adjacent pairs, while Hugging Face's Llama
    /// checkpoints rotate the two halves of each head; converting permutes their rows. Qwen
    /// uses the halves convention in both.
    pub fn permutes_query_key_rows(self) -> bool {
        self == Self::Llama
    }

    pub fn has_qkv_bias(self) -> bool {
        self == Self::Qwen2
    }

    pub fn has_qk_norm(self) -> bool {
        self == Self::Qwen3
    }
}

impl fmt::Display for Architecture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.gguf_name())
    }
}

/// Which tensor of a transformer block, under both naming schemes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockTensor {
    pub hf: &'static str,
    pub gguf: &'static str,
}

/// Per-block tensors: `model.layers.{i}.{hf}` <-> `blk.{i}.{gguf}`.
pub const BLOCK_TENSORS: &[BlockTensor] = &[
    BlockTensor {
        hf: "input_layernorm.weight",
        gguf: "attn_norm.weight",
    },
    BlockTensor {
        hf: "self_attn.q_proj.weight",
        gguf: "attn_q.weight",
    },
    BlockTensor {
        hf: "self_attn.k_proj.weight",
        gguf: "attn_k.weight",
    },
    BlockTensor {
        hf: "self_attn.v_proj.weight",
        gguf: "attn_v.weight",
    },
    BlockTensor {
        hf: "self_attn.q_proj.bias",
        gguf: "attn_q.bias",
    },
    BlockTensor {
        hf: "self_attn.k_proj.bias",
        gguf: "attn_k.bias",
    },
    BlockTensor {
        hf: "self_attn.v_proj.bias",
        gguf: "attn_v.bias",
    },
    BlockTensor {
        hf: "self_attn.q_norm.weight",
        gguf: "attn_q_norm.weight",
    },
    BlockTensor {
        hf: "self_attn.k_norm.weight",
        gguf: "attn_k_norm.weight",
    },
    BlockTensor {
        hf: "self_attn.o_proj.weight",
        gguf: "attn_output.weight",
    },
    BlockTensor {
        hf: "post_attention_layernorm.weight",
        gguf: "ffn_norm.weight",
    },
    BlockTensor {
        hf: "mlp.gate_proj.weight",
        gguf: "ffn_gate.weight",
    },
    BlockTensor {
        hf: "mlp.up_proj.weight",
        gguf: "ffn_up.weight",
    },
    BlockTensor {
        hf: "mlp.down_proj.weight",
        gguf: "ffn_down.weight",
    },
];

/// Tensors outside the blocks.
pub const GLOBAL_TENSORS: &[BlockTensor] = &[
    BlockTensor {
        hf: "model.embed_tokens.weight",
        gguf: "token_embd.weight",
    },
    BlockTensor {
        hf: "model.norm.weight",
        gguf: "output_norm.weight",
    },
    BlockTensor {
        hf: "lm_head.weight",
        gguf: "output.weight",
    },
];

/// The GGUF name of a Hugging Face tensor, or `None` for tensors GGUF does not store
/// (rotary caches) or that no supported architecture has.
pub fn gguf_tensor_name(hf_name: &str) -> Option<String> {
    if let Some(global) = GLOBAL_TENSORS.iter().find(|t| t.hf == hf_name) {
        return Some(global.gguf.to_owned());
    }
    let rest = hf_name.strip_prefix("model.layers.")?;
    let (block, tensor) = rest.split_once('.')?;
    let block: u32 = block.parse().ok()?;
    BLOCK_TENSORS
        .iter()
        .find(|t| t.hf == tensor)
        .map(|t| format!("blk.{block}.{}", t.gguf))
}

/// The Hugging Face name of a GGUF tensor (the inverse of [`gguf_tensor_name`]).
pub fn hf_tensor_name(gguf_name: &str) -> Option<String> {
    if let Some(global) = GLOBAL_TENSORS.iter().find(|t| t.gguf == gguf_name) {
        return Some(global.hf.to_owned());
    }
    let rest = gguf_name.strip_prefix("blk.")?;
    let (block, tensor) = rest.split_once('.')?;
    let block: u32 = block.parse().ok()?;
    BLOCK_TENSORS
        .iter()
        .find(|t| t.gguf == tensor)
        .map(|t| format!("model.layers.{block}.{}", t.hf))
}

/// Whether a tensor is a query or key projection (weight or bias) whose rows the Llama
/// convention change permutes, and with how many heads.
pub fn rotary_heads(gguf_name: &str, n_head: u32, n_head_kv: u32) -> Option<u32> {
    let tensor = gguf_name.strip_prefix("blk.")?.split_once('.')?.1;
    match tensor {
        "attn_q.weight" | "attn_q.bias" => Some(n_head),
        "attn_k.weight" | "attn_k.bias" => Some(n_head_kv),
        _ => None,
    }
}

/// Reorders the rows of a query/key projection from the halves convention (Hugging Face) to
/// the pairs convention (llama.cpp's Llama): within each head, row `j` of the first half and row
/// `j` of the second half become rows `2j` and `2j + 1`. `row_bytes` is one row's size.
pub fn halves_to_pairs(data: &[u8], heads: usize, row_bytes: usize) -> Vec<u8> {
    permute_rows(data, heads, row_bytes, |j, half, head_dim| {
        (2 * j + half, half * head_dim / 2 + j)
    })
}

/// The inverse of [`halves_to_pairs`].
pub fn pairs_to_halves(data: &[u8], heads: usize, row_bytes: usize) -> Vec<u8> {
    permute_rows(data, heads, row_bytes, |j, half, head_dim| {
        (half * head_dim / 2 + j, 2 * j + half)
    })
}

/// Within each head, copies row `src` to row `dst` for `(dst, src) = map(j, half, head_dim)`.
fn permute_rows(
    data: &[u8],
    heads: usize,
    row_bytes: usize,
    map: impl Fn(usize, usize, usize) -> (usize, usize),
) -> Vec<u8> {
    let head_dim = data.len() / row_bytes / heads;
    let mut out = vec![0u8; data.len()];
    for head in 0..heads {
        for j in 0..head_dim / 2 {
            for half in 0..2 {
                let (dst, src) = map(j, half, head_dim);
                let (dst, src) = (head * head_dim + dst, head * head_dim + src);
                out[dst * row_bytes..(dst + 1) * row_bytes]
                    .copy_from_slice(&data[src * row_bytes..(src + 1) * row_bytes]);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_map_both_ways() {
        for hf in [
            "model.embed_tokens.weight",
            "lm_head.weight",
            "model.layers.0.self_attn.q_proj.weight",
            "model.layers.27.mlp.down_proj.weight",
            "model.layers.3.self_attn.k_norm.weight",
            "model.layers.1.self_attn.v_proj.bias",
        ] {
            let gguf = gguf_tensor_name(hf).unwrap();
            assert_eq!(hf_tensor_name(&gguf).as_deref(), Some(hf), "{gguf}");
        }
        assert_eq!(
            gguf_tensor_name("model.layers.0.self_attn.rotary_emb.inv_freq"),
            None
        );
        assert_eq!(
            gguf_tensor_name("model.layers.12.self_attn.o_proj.weight").as_deref(),
            Some("blk.12.attn_output.weight")
        );
    }

    #[test]
    fn permutation_interleaves_halves_and_inverts() {
        // Two heads of dimension 4, one byte per row: rows are [h0: a b c d, h1: e f g h].
        let data = b"abcdefgh";
        let pairs = halves_to_pairs(data, 2, 1);
        assert_eq!(&pairs, b"acbdegfh");
        assert_eq!(&pairs_to_halves(&pairs, 2, 1), data);
    }
}
