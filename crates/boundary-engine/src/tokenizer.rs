//! Tokenizers: byte-level BPE built from a GGUF file's own metadata (tokens, merges, token types,
//! the pre-tokenizer named by `tokenizer.ggml.pre`), or loaded from a Hugging Face
//! `tokenizer.json`. Both are run by the `tokenizers` crate; the engine never asks llama.cpp to
//! tokenize, so a GGUF model and the same model converted from safetensors tokenize alike.
//!
//! Encoding always recognises special-token text (`<|im_start|>` in a rendered chat prompt is one
//! token, as llama.cpp does with `parse_special`). Decoding goes through a per-token byte table
//! rather than the `tokenizers` decoder, so that text can be assembled incrementally while
//! sampling (stop strings) and a multi-byte character split across tokens comes out whole.

use std::path::{Path, PathBuf};

use tokenizers::decoders::DecoderWrapper;
use tokenizers::models::ModelWrapper;
use tokenizers::models::bpe::BPE;
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::pre_tokenizers::digits::Digits;
use tokenizers::pre_tokenizers::sequence::Sequence;
use tokenizers::pre_tokenizers::split::{Split, SplitPattern};
use tokenizers::{AddedToken, PreTokenizerWrapper, SplitDelimiterBehavior};

use crate::gguf::{GgufError, GgufFile};

/// What can go wrong building or running a tokenizer.
#[derive(Debug, thiserror::Error)]
pub enum TokenizerError {
    #[error(transparent)]
    Gguf(#[from] GgufError),
    #[error(
        "{path}: tokenizer model `{model}` is not supported; the embedded backend runs byte-level \
         BPE tokenizers (`gpt2` in GGUF), as used by Llama 3, Qwen2/2.5/3 and SmolLM2"
    )]
    UnsupportedModel { path: PathBuf, model: String },
    #[error(
        "{path}: pre-tokenizer `{pre}` (tokenizer.ggml.pre) is not supported; supported: {}",
        SUPPORTED_PRE_TOKENIZERS.join(", ")
    )]
    UnsupportedPreTokenizer { path: PathBuf, pre: String },
    #[error("{path}: {what}")]
    Invalid { path: PathBuf, what: String },
    #[error("cannot load tokenizer {path}: {message}")]
    Load { path: PathBuf, message: String },
    #[error("tokenizing failed: {0}")]
    Encode(String),
}

/// The `tokenizer.ggml.pre` values this module reproduces, grouped by splitting rule.
const SUPPORTED_PRE_TOKENIZERS: &[&str] = &[
    "gpt-2",
    "smollm",
    "starcoder",
    "refact",
    "llama3",
    "llama-v3",
    "llama-bpe",
    "qwen2",
    "deepseek-r1-qwen",
    "qwen35",
];

/// Llama 3's rule: case-insensitive contractions, digits in groups of up to three.
const LLAMA3_PATTERN: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
/// Qwen2's rule: as Llama 3's, but every digit is its own piece.
const QWEN2_PATTERN: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
/// Qwen3.5's rule: as Qwen2's, with combining marks kept inside words.
const QWEN35_PATTERN: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+|\p{N}| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

/// GGUF token types (`tokenizer.ggml.token_type`).
const TOKEN_TYPE_CONTROL: i64 = 3;
const TOKEN_TYPE_USER_DEFINED: i64 = 4;

/// Token texts that end a generation in the model families the engine supports, beyond the
/// declared EOS (chat models declare one end token but emit another at the end of a turn;
/// llama.cpp keeps the same list).
const END_OF_GENERATION_TEXTS: &[&str] = &[
    "<|eot_id|>",
    "<|eom_id|>",
    "<|im_end|>",
    "<|endoftext|>",
    "<|end_of_text|>",
    "<|end|>",
    "<end_of_turn>",
];

/// Special tokens and how prompts use them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecialTokens {
    pub bos: Option<u32>,
    pub eos: Option<u32>,
    /// Whether a prompt starts with BOS (prepended unless the prompt text already begins with it).
    pub add_bos: bool,
    /// Tokens that end a generation: EOS, end-of-turn tokens and end-of-text tokens.
    pub end_of_generation: Vec<u32>,
}

/// A tokenizer plus the byte each token contributes to text.
pub struct Tokenizer {
    inner: tokenizers::Tokenizer,
    token_bytes: Vec<Box<[u8]>>,
    special: SpecialTokens,
    /// Text of each special (control) token, for chat templates.
    bos_text: Option<String>,
    eos_text: Option<String>,
}

impl std::fmt::Debug for Tokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokenizer")
            .field("vocab_size", &self.token_bytes.len())
            .field("special", &self.special)
            .finish()
    }
}

impl Tokenizer {
    /// Rebuilds the tokenizer from a GGUF file's `tokenizer.ggml.*` metadata.
    pub fn from_gguf(gguf: &GgufFile) -> Result<Self, TokenizerError> {
        let path = gguf.path();
        let model = gguf.str("tokenizer.ggml.model")?;
        if model != "gpt2" {
            return Err(TokenizerError::UnsupportedModel {
                path: path.to_owned(),
                model: model.to_owned(),
            });
        }
        let pre = gguf
            .optional_str("tokenizer.ggml.pre")?
            .unwrap_or("default");
        let rule = PreTokenizerRule::from_gguf_name(pre).ok_or_else(|| {
            TokenizerError::UnsupportedPreTokenizer {
                path: path.to_owned(),
                pre: pre.to_owned(),
            }
        })?;
        let tokens = gguf.str_array("tokenizer.ggml.tokens")?;
        let token_types = gguf
            .optional_int_array("tokenizer.ggml.token_type")?
            .unwrap_or_else(|| vec![1; tokens.len()]);
        if token_types.len() != tokens.len() {
            return Err(invalid(
                path,
                format!(
                    "tokenizer.ggml.token_type has {} entries for {} tokens",
                    token_types.len(),
                    tokens.len()
                ),
            ));
        }
        let merges = gguf
            .str_array("tokenizer.ggml.merges")?
            .into_iter()
            .enumerate()
            .map(|(i, merge)| {
                merge
                    .split_once(' ')
                    .map(|(a, b)| (a.to_owned(), b.to_owned()))
                    .ok_or_else(|| {
                        invalid(
                            path,
                            format!("tokenizer.ggml.merges[{i}] = {merge:?} is not two tokens"),
                        )
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;

        let vocab: tokenizers::models::bpe::Vocab = tokens
            .iter()
            .enumerate()
            .map(|(id, text)| ((*text).to_owned(), id as u32))
            .collect();
        let bpe = BPE::builder()
            .vocab_and_merges(vocab, merges)
            .ignore_merges(rule.ignores_merges())
            .build()
            .map_err(|e| invalid(path, format!("building the BPE model: {e}")))?;
        let mut inner = tokenizers::Tokenizer::new(bpe);
        inner.with_pre_tokenizer(Some(rule.pre_tokenizer()));
        inner.with_decoder(Some(tokenizers::decoders::byte_level::ByteLevel::default()));
        let added: Vec<AddedToken> = tokens
            .iter()
            .zip(&token_types)
            .filter(|&(_, &ty)| ty == TOKEN_TYPE_CONTROL || ty == TOKEN_TYPE_USER_DEFINED)
            .map(|(text, &ty)| {
                AddedToken::from((*text).to_owned(), ty == TOKEN_TYPE_CONTROL).normalized(false)
            })
            .collect();
        inner
            .add_special_tokens(added)
            .map_err(|e| invalid(path, format!("adding special tokens: {e}")))?;

        let is_added = |ty: i64| ty == TOKEN_TYPE_CONTROL || ty == TOKEN_TYPE_USER_DEFINED;
        let token_bytes = tokens
            .iter()
            .zip(&token_types)
            .map(|(text, &ty)| token_bytes(text, is_added(ty)))
            .collect();

        let id = |key: &str| -> Result<Option<u32>, TokenizerError> {
            match gguf.optional_int(key)? {
                Some(id) if (0..tokens.len() as i64).contains(&id) => Ok(Some(id as u32)),
                // llama.cpp writes -1 (or u32::MAX) for "no such token".
                Some(-1) | Some(0xFFFF_FFFF) | None => Ok(None),
                Some(id) => Err(invalid(
                    path,
                    format!(
                        "{key} = {id} is not a token id (vocabulary has {} tokens)",
                        tokens.len()
                    ),
                )),
            }
        };
        let bos = id("tokenizer.ggml.bos_token_id")?;
        let eos = id("tokenizer.ggml.eos_token_id")?;
        let add_bos = gguf
            .optional_bool("tokenizer.ggml.add_bos_token")?
            .unwrap_or(rule.adds_bos_by_default());
        let mut end_of_generation: Vec<u32> = [
            eos,
            id("tokenizer.ggml.eot_token_id")?,
            id("tokenizer.ggml.eom_token_id")?,
        ]
        .into_iter()
        .flatten()
        .collect();
        end_of_generation.extend(
            tokens
                .iter()
                .zip(&token_types)
                .enumerate()
                .filter(|(_, (text, ty))| {
                    **ty == TOKEN_TYPE_CONTROL && END_OF_GENERATION_TEXTS.contains(text)
                })
                .map(|(id, _)| id as u32),
        );
        let text_of = |id: Option<u32>| id.map(|id| tokens[id as usize].to_owned());
        Ok(Self::assemble(
            inner,
            token_bytes,
            bos,
            eos,
            add_bos,
            end_of_generation,
            text_of(bos),
            text_of(eos),
        ))
    }

    /// Loads a Hugging Face tokenizer directory: `tokenizer.json`, plus `tokenizer_config.json`
    /// (BOS/EOS, add_bos) and `generation_config.json` (extra end-of-generation ids) when present.
    pub fn from_hf_dir(dir: &Path) -> Result<Self, TokenizerError> {
        let path = dir.join("tokenizer.json");
        let inner = tokenizers::Tokenizer::from_file(&path).map_err(|e| TokenizerError::Load {
            path: path.clone(),
            message: e.to_string(),
        })?;
        if !matches!(inner.get_model(), ModelWrapper::BPE(_))
            || !matches!(inner.get_decoder(), Some(DecoderWrapper::ByteLevel(_)))
        {
            return Err(TokenizerError::UnsupportedModel {
                path,
                model: "not byte-level BPE".to_owned(),
            });
        }
        let vocab_size = inner.get_vocab_size(true);
        let added = inner.get_added_tokens_decoder();
        let token_bytes = (0..vocab_size as u32)
            .map(|id| match (added.get(&id), inner.id_to_token(id)) {
                (Some(token), _) => token_bytes(&token.content, true),
                (None, Some(text)) => token_bytes(&text, false),
                (None, None) => Box::default(),
            })
            .collect();

        let config = HfTokenizerConfig::read(dir)?;
        let token_id = |text: &Option<String>| text.as_deref().and_then(|t| inner.token_to_id(t));
        let bos = token_id(&config.bos_token);
        let eos = token_id(&config.eos_token);
        let mut end_of_generation: Vec<u32> = eos.into_iter().collect();
        end_of_generation.extend(read_generation_eos(dir)?);
        end_of_generation.extend(
            added
                .iter()
                .filter(|(_, token)| {
                    token.special && END_OF_GENERATION_TEXTS.contains(&token.content.as_str())
                })
                .map(|(&id, _)| id),
        );
        let add_bos = config.add_bos_token.unwrap_or(false);
        Ok(Self::assemble(
            inner,
            token_bytes,
            bos,
            eos,
            add_bos,
            end_of_generation,
            config.bos_token,
            config.eos_token,
        ))
    }

    #[allow(clippy::too_many_arguments)]
    fn assemble(
        inner: tokenizers::Tokenizer,
        token_bytes: Vec<Box<[u8]>>,
        bos: Option<u32>,
        eos: Option<u32>,
        add_bos: bool,
        mut end_of_generation: Vec<u32>,
        bos_text: Option<String>,
        eos_text: Option<String>,
    ) -> Self {
        end_of_generation.sort_unstable();
        end_of_generation.dedup();
        Self {
            inner,
            token_bytes,
            special: SpecialTokens {
                bos,
                eos,
                add_bos: add_bos && bos.is_some(),
                end_of_generation,
            },
            bos_text,
            eos_text,
        }
    }

    pub fn special_tokens(&self) -> &SpecialTokens {
        &self.special
    }

    pub fn bos_text(&self) -> Option<&str> {
        self.bos_text.as_deref()
    }

    pub fn eos_text(&self) -> Option<&str> {
        self.eos_text.as_deref()
    }

    /// Number of token ids (including added tokens).
    pub fn vocab_size(&self) -> usize {
        self.token_bytes.len()
    }

    /// Token ids of `text`, special-token text included, without BOS.
    pub fn encode(&self, text: &str) -> Result<Vec<u32>, TokenizerError> {
        self.inner
            .encode_fast(text, false)
            .map(|encoding| encoding.get_ids().to_vec())
            .map_err(|e| TokenizerError::Encode(e.to_string()))
    }

    /// Token ids of a prompt: BOS first when the model wants it and the text does not already
    /// start with it (chat templates often write the BOS text themselves).
    pub fn encode_prompt(&self, text: &str) -> Result<Vec<u32>, TokenizerError> {
        let mut ids = self.encode(text)?;
        if let (true, Some(bos)) = (self.special.add_bos, self.special.bos)
            && ids.first() != Some(&bos)
        {
            ids.insert(0, bos);
        }
        Ok(ids)
    }

    /// The bytes token `id` adds to the text (empty for an unknown id).
    pub fn token_bytes(&self, id: u32) -> &[u8] {
        self.token_bytes.get(id as usize).map_or(&[], |b| b)
    }

    /// Text of `ids`, special tokens written out; invalid UTF-8 becomes U+FFFD.
    pub fn decode(&self, ids: &[u32]) -> String {
        let bytes: Vec<u8> = ids
            .iter()
            .flat_map(|&id| self.token_bytes(id).iter().copied())
            .collect();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// Saves the tokenizer as a Hugging Face `tokenizer.json`.
    pub fn save_tokenizer_json(&self, path: &Path) -> Result<(), TokenizerError> {
        self.inner
            .save(path, true)
            .map_err(|e| TokenizerError::Load {
                path: path.to_owned(),
                message: e.to_string(),
            })
    }
}

fn invalid(path: &Path, what: String) -> TokenizerError {
    TokenizerError::Invalid {
        path: path.to_owned(),
        what,
    }
}

/// How a pre-tokenizer family splits text into words before BPE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PreTokenizerRule {
    Gpt2,
    /// Every digit alone, then GPT-2's rule (SmolLM, StarCoder).
    DigitsThenGpt2,
    Llama3,
    Qwen2,
    Qwen35,
}

impl PreTokenizerRule {
    fn from_gguf_name(name: &str) -> Option<Self> {
        Some(match name {
            "gpt-2" => Self::Gpt2,
            "smollm" | "starcoder" | "refact" => Self::DigitsThenGpt2,
            "llama3" | "llama-v3" | "llama-bpe" => Self::Llama3,
            "qwen2" | "deepseek-r1-qwen" => Self::Qwen2,
            "qwen35" => Self::Qwen35,
            _ => return None,
        })
    }

    /// Llama 3 looks a whole word up in the vocabulary before merging (`ignore_merges`).
    fn ignores_merges(self) -> bool {
        self == Self::Llama3
    }

    /// Llama 3 prompts start with BOS unless the GGUF says otherwise.
    fn adds_bos_by_default(self) -> bool {
        self == Self::Llama3
    }

    fn pre_tokenizer(self) -> PreTokenizerWrapper {
        let byte_level_regex = ByteLevel::new(false, true, true);
        let byte_level_plain = ByteLevel::new(false, true, false);
        let split = |pattern: &str| {
            // The patterns are constants checked by this module's tests.
            Split::new(
                SplitPattern::Regex(pattern.to_owned()),
                SplitDelimiterBehavior::Isolated,
                false,
            )
            .map(PreTokenizerWrapper::from)
        };
        let then_bytes = |pattern: &str| {
            split(pattern).map(|split| Sequence::new(vec![split, byte_level_plain.into()]).into())
        };
        let built = match self {
            Self::Gpt2 => Ok(byte_level_regex.into()),
            Self::DigitsThenGpt2 => {
                Ok(Sequence::new(vec![Digits::new(true).into(), byte_level_regex.into()]).into())
            }
            Self::Llama3 => then_bytes(LLAMA3_PATTERN),
            Self::Qwen2 => then_bytes(QWEN2_PATTERN),
            Self::Qwen35 => then_bytes(QWEN35_PATTERN),
        };
        built.unwrap_or_else(|e| {
            unreachable!("constant pre-tokenizer pattern failed to compile: {e}")
        })
    }
}

/// The bytes a token stands for. Vocabulary entries of byte-level BPE spell bytes with
/// printable stand-in characters (GPT-2's table); added tokens are plain text.
fn token_bytes(text: &str, is_added: bool) -> Box<[u8]> {
    if is_added {
        return text.as_bytes().into();
    }
    text.chars()
        .map(byte_of_char)
        .collect::<Option<Vec<u8>>>()
        .unwrap_or_else(|| text.as_bytes().to_vec())
        .into()
}

/// GPT-2's byte-to-character table, inverted: printable Latin-1 bytes stand for themselves,
/// the other 68 bytes are shifted to U+0100 onwards in byte order.
const CHAR_TO_BYTE: [Option<u8>; 0x144] = {
    const fn printable(b: usize) -> bool {
        (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF)
    }
    let mut table = [None; 0x144];
    let mut shifted = 0x100;
    let mut byte = 0;
    while byte < 256 {
        if printable(byte) {
            table[byte] = Some(byte as u8);
        } else {
            table[shifted] = Some(byte as u8);
            shifted += 1;
        }
        byte += 1;
    }
    table
};

fn byte_of_char(c: char) -> Option<u8> {
    CHAR_TO_BYTE.get(c as usize).copied().flatten()
}

#[derive(Debug, Default, serde::Deserialize)]
struct HfTokenizerConfig {
    #[serde(default, deserialize_with = "token_text")]
    bos_token: Option<String>,
    #[serde(default, deserialize_with = "token_text")]
    eos_token: Option<String>,
    add_bos_token: Option<bool>,
    chat_template: Option<serde_json::Value>,
}

/// `bos_token` is either a string or an `AddedToken` object with a `content` field.
fn token_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    use serde::Deserialize;
    Ok(match Option::<serde_json::Value>::deserialize(d)? {
        Some(serde_json::Value::String(s)) => Some(s),
        Some(serde_json::Value::Object(map)) => map
            .get("content")
            .and_then(|c| c.as_str())
            .map(str::to_owned),
        _ => None,
    })
}

impl HfTokenizerConfig {
    fn read(dir: &Path) -> Result<Self, TokenizerError> {
        let path = dir.join("tokenizer_config.json");
        match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| invalid(&path, e.to_string())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(TokenizerError::Load {
                path,
                message: e.to_string(),
            }),
        }
    }
}

/// The chat template of a Hugging Face directory: `chat_template` in `tokenizer_config.json`
/// (a string, or a list of named templates of which `default` is used), or `chat_template.jinja`.
pub fn hf_chat_template(dir: &Path) -> Result<Option<String>, TokenizerError> {
    let jinja = dir.join("chat_template.jinja");
    if jinja.exists() {
        return std::fs::read_to_string(&jinja)
            .map(Some)
            .map_err(|e| TokenizerError::Load {
                path: jinja,
                message: e.to_string(),
            });
    }
    let path = dir.join("tokenizer_config.json");
    Ok(match HfTokenizerConfig::read(dir)?.chat_template {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(template)) => Some(template),
        Some(serde_json::Value::Array(named)) => named
            .iter()
            .find(|t| t.get("name").and_then(|n| n.as_str()) == Some("default"))
            .and_then(|t| t.get("template"))
            .and_then(|t| t.as_str())
            .map(str::to_owned),
        Some(_) => {
            return Err(invalid(
                &path,
                "chat_template is neither a string nor a list of named templates".to_owned(),
            ));
        }
    })
}

/// `eos_token_id` of `generation_config.json` (a number or a list), if the file exists.
fn read_generation_eos(dir: &Path) -> Result<Vec<u32>, TokenizerError> {
    let path = dir.join("generation_config.json");
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(TokenizerError::Load {
                path,
                message: e.to_string(),
            });
        }
    };
    let config: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| invalid(&path, e.to_string()))?;
    let ids = match config.get("eos_token_id") {
        Some(serde_json::Value::Array(ids)) => ids.iter().filter_map(|v| v.as_u64()).collect(),
        Some(id) => id.as_u64().into_iter().collect(),
        None => Vec::new(),
    };
    Ok(ids
        .into_iter()
        .filter_map(|id| u32::try_from(id).ok())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_table_inverts_gpt2() {
        assert_eq!(byte_of_char('a'), Some(b'a'));
        // Space is byte 0x20, the 33rd non-printable byte: U+0100 + 32 = 'Ġ'.
        assert_eq!(byte_of_char('Ġ'), Some(b' '));
        assert_eq!(byte_of_char('Ċ'), Some(b'\n'));
        assert_eq!(byte_of_char('\u{100}'), Some(0));
        assert_eq!(byte_of_char('ÿ'), Some(0xFF));
        assert_eq!(byte_of_char('\u{144}'), None);
        let all: std::collections::BTreeSet<u8> =
            ('\u{21}'..='\u{143}').filter_map(byte_of_char).collect();
        assert_eq!(all.len(), 256);
    }

    #[test]
    fn every_rule_compiles() {
        for name in SUPPORTED_PRE_TOKENIZERS {
            let rule = PreTokenizerRule::from_gguf_name(name).unwrap();
            let _ = rule.pre_tokenizer();
        }
        assert_eq!(PreTokenizerRule::from_gguf_name("default"), None);
    }
}
