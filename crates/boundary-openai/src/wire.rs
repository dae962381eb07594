//! The OpenAI wire format as servers actually speak it: responses of `/v1/completions`,
//! `/v1/chat/completions` and `/v1/models`, read tolerantly (servers add and omit fields)
//! and then checked strictly where a mistake would corrupt a sample.

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::Value;

/// Body of a `/v1/completions` or `/v1/chat/completions` response.
#[derive(Debug, Clone, Deserialize)]
pub struct GenerationResponse {
    pub choices: Vec<Choice>,
    #[serde(default)]
    pub usage: Option<Usage>,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
pub struct Usage {
    #[serde(default)]
    pub prompt_tokens: Option<u64>,
    #[serde(default)]
    pub completion_tokens: Option<u64>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Choice {
    /// Position among the `n` choices asked for. Every known server sends it; a choice
    /// without one is taken to be at its position in the list.
    #[serde(default)]
    pub index: Option<u32>,
    /// `/v1/completions`.
    #[serde(default)]
    pub text: Option<String>,
    /// `/v1/chat/completions`.
    #[serde(default)]
    pub message: Option<ChatMessage>,
    #[serde(default)]
    pub finish_reason: Option<String>,
    #[serde(default)]
    pub logprobs: Option<Logprobs>,
    /// vLLM with `return_token_ids: true`: the generated token ids.
    #[serde(default)]
    pub token_ids: Option<Vec<u64>>,
    /// vLLM with `prompt_logprobs: k`: per prompt position, the prompt token (and the top
    /// k) keyed by token id. The first position has none.
    #[serde(default)]
    pub prompt_logprobs: Option<Vec<Option<HashMap<String, PromptLogprob>>>>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ChatMessage {
    #[serde(default)]
    pub content: Option<String>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct PromptLogprob {
    pub logprob: f64,
    #[serde(default)]
    pub decoded_token: Option<String>,
}

/// Per-token log-probabilities in either of the two shapes servers use.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum Logprobs {
    /// The legacy completions shape (OpenAI, vLLM, llama-cpp-python): parallel arrays.
    Legacy {
        tokens: Vec<String>,
        token_logprobs: Vec<Option<f64>>,
        #[serde(default)]
        text_offset: Option<Vec<i64>>,
    },
    /// The chat shape, which llama.cpp's server also uses on `/v1/completions`.
    Content { content: Vec<TokenLogprob> },
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct TokenLogprob {
    pub token: String,
    #[serde(default)]
    pub logprob: Option<f64>,
    /// llama.cpp's server with `post_sampling_probs: true` sends the token's probability
    /// under the truncated, tempered distribution it sampled from, in place of `logprob`.
    #[serde(default)]
    pub prob: Option<f64>,
    #[serde(default)]
    pub bytes: Option<Vec<u8>>,
}

impl Logprobs {
    /// Number of tokens covered.
    pub fn len(&self) -> usize {
        match self {
            Self::Legacy { tokens, .. } => tokens.len(),
            Self::Content { content } => content.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether every entry is a post-sampling probability (llama.cpp's server with
    /// `post_sampling_probs`) rather than a log-probability.
    pub fn are_post_sampling(&self) -> bool {
        match self {
            Self::Legacy { .. } => false,
            Self::Content { content } => {
                !content.is_empty()
                    && content
                        .iter()
                        .all(|t| t.prob.is_some() && t.logprob.is_none())
            }
        }
    }

    /// `(token text, log-probability)` per position, in order.
    pub fn entries(&self) -> Vec<(&str, Option<f64>)> {
        match self {
            Self::Legacy {
                tokens,
                token_logprobs,
                ..
            } => tokens
                .iter()
                .enumerate()
                .map(|(i, t)| (t.as_str(), token_logprobs.get(i).copied().flatten()))
                .collect(),
            Self::Content { content } => content
                .iter()
                .map(|t| (t.token.as_str(), t.logprob))
                .collect(),
        }
    }
}

impl Choice {
    /// The generated text: `text` on completions, `message.content` on chat (a chat
    /// message whose content is null, as with tool calls, is empty text).
    pub fn generated_text(&self) -> Option<&str> {
        match (&self.text, &self.message) {
            (Some(text), _) => Some(text),
            (None, Some(message)) => Some(message.content.as_deref().unwrap_or("")),
            (None, None) => None,
        }
    }
}

/// Body of `GET /v1/models`.
#[derive(Debug, Clone, Deserialize)]
pub struct ModelList {
    pub data: Vec<ModelCard>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ModelCard {
    pub id: String,
    #[serde(default)]
    pub owned_by: Option<String>,
    /// vLLM (and SGLang): the context length the server was started with.
    #[serde(default)]
    pub max_model_len: Option<u64>,
    /// SGLang and some proxies.
    #[serde(default)]
    pub context_length: Option<u64>,
    /// llama.cpp's server: `n_ctx` is the context per slot (total / `--parallel`).
    #[serde(default)]
    pub meta: Option<Value>,
}

impl ModelCard {
    /// The context length the card reports and which field said so.
    pub fn context_length(&self) -> Option<(u64, &'static str)> {
        if let Some(len) = self.max_model_len {
            return Some((len, "max_model_len"));
        }
        if let Some(len) = self.context_length {
            return Some((len, "context_length"));
        }
        self.meta
            .as_ref()
            .and_then(|m| m.get("n_ctx"))
            .and_then(Value::as_u64)
            .map(|len| (len, "meta.n_ctx"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_and_content_logprobs_both_parse() {
        let legacy: Logprobs = serde_json::from_str(
            r#"{"tokens": ["The", " cat"], "token_logprobs": [null, -1.5],
                "top_logprobs": [null, {" cat": -1.5}], "text_offset": [0, 3]}"#,
        )
        .unwrap();
        assert_eq!(legacy.entries(), vec![("The", None), (" cat", Some(-1.5))]);
        let content: Logprobs = serde_json::from_str(
            r#"{"content": [{"id": 5, "token": "Hi", "bytes": [72, 105], "logprob": -0.25,
                "top_logprobs": []}]}"#,
        )
        .unwrap();
        assert_eq!(content.entries(), vec![("Hi", Some(-0.25))]);
        // llama.cpp's server with `post_sampling_probs`: a probability, not the model's
        // log-probability, so the entry has none.
        let post_sampling: Logprobs = serde_json::from_str(
            r#"{"content": [{"id": 5, "token": "Hi", "bytes": [72, 105], "prob": 0.75,
                "top_probs": [{"id": 5, "token": "Hi", "bytes": [72, 105], "prob": 0.75}]}]}"#,
        )
        .unwrap();
        assert_eq!(post_sampling.entries(), vec![("Hi", None)]);
        assert!(post_sampling.are_post_sampling());
        assert!(!content.are_post_sampling() && !legacy.are_post_sampling());
    }

    #[test]
    fn context_length_sources() {
        let vllm: ModelCard = serde_json::from_str(
            r#"{"id": "Qwen/Qwen2.5-7B", "object": "model", "owned_by": "vllm", "max_model_len": 32768}"#,
        )
        .unwrap();
        assert_eq!(vllm.context_length(), Some((32768, "max_model_len")));
        let llama: ModelCard = serde_json::from_str(
            r#"{"id": "m.gguf", "object": "model", "owned_by": "llamacpp",
                "meta": {"vocab_type": 2, "n_ctx": 1024, "n_ctx_train": 8192}}"#,
        )
        .unwrap();
        assert_eq!(llama.context_length(), Some((1024, "meta.n_ctx")));
        let bare: ModelCard = serde_json::from_str(r#"{"id": "x", "permissions": []}"#).unwrap();
        assert_eq!(bare.context_length(), None);
    }

    #[test]
    fn chat_choice_with_null_content_is_empty_text() {
        let choice: Choice = serde_json::from_str(
            r#"{"index": 0, "message": {"role": "assistant", "content": null}, "finish_reason": "stop"}"#,
        )
        .unwrap();
        assert_eq!(choice.generated_text(), Some(""));
        let neither: Choice = serde_json::from_str(r#"{"index": 0}"#).unwrap();
        assert_eq!(neither.generated_text(), None);
    }
}
