//! What is asked of a server: the prompt (raw text or chat messages), the sampling settings,
//! and the JSON body they become.

use serde_json::{Map, Value, json};

/// Body fields Boundary sets itself; `--extra-body` may not override them, because the run's
/// identity, `n` accounting and seeds depend on them.
pub const RESERVED_FIELDS: &[&str] = &[
    "model",
    "prompt",
    "messages",
    "n",
    "seed",
    "max_tokens",
    "max_completion_tokens",
    "temperature",
    "top_p",
    "stop",
    "logprobs",
    "top_logprobs",
    "echo",
    "stream",
    "stream_options",
    "prompt_logprobs",
    "return_token_ids",
    "best_of",
];

/// The OpenAI route a prompt goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    /// `/v1/completions`: the prompt is sent verbatim (base models, no chat template).
    Completions,
    /// `/v1/chat/completions`: the server applies the model's chat template.
    Chat,
}

impl Route {
    pub fn path(self) -> &'static str {
        match self {
            Self::Completions => "completions",
            Self::Chat => "chat/completions",
        }
    }
}

/// One problem's prompt.
#[derive(Clone, Debug, PartialEq)]
pub enum Prompt {
    Text(String),
    /// OpenAI chat messages (`[{"role": "user", "content": "..."}]`), passed through as given.
    Messages(Vec<Value>),
}

impl Prompt {
    pub fn route(&self) -> Route {
        match self {
            Self::Text(_) => Route::Completions,
            Self::Messages(_) => Route::Chat,
        }
    }

    fn insert_into(&self, body: &mut Map<String, Value>) {
        match self {
            Self::Text(text) => body.insert("prompt".into(), Value::String(text.clone())),
            Self::Messages(messages) => {
                body.insert("messages".into(), Value::Array(messages.clone()))
            }
        };
    }
}

/// Why sampling settings were rejected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ParamsError {
    #[error(
        "extra body field `{field}` is set by Boundary itself; use the matching option instead"
    )]
    ReservedField { field: String },
    #[error("temperature must be a finite number >= 0, got {0}")]
    Temperature(f64),
    #[error("top_p must be in (0, 1], got {0}")]
    TopP(f64),
    #[error("max_tokens must be at least 1")]
    MaxTokens,
    #[error("logprobs must be at most 20 (the OpenAI limit), got {0}")]
    Logprobs(u32),
}

/// Sampling settings shared by every request of a run.
#[derive(Clone, Debug, PartialEq)]
pub struct SamplingParams {
    pub temperature: f64,
    pub top_p: f64,
    pub max_tokens: u32,
    pub stop: Vec<String>,
    /// Top log-probabilities per generated token, when wanted.
    pub logprobs: Option<u32>,
    /// Server-specific fields passed through as given (vLLM's `top_k`, `min_p`,
    /// `repetition_penalty`, `chat_template_kwargs`, ...).
    pub extra_body: Map<String, Value>,
}

impl SamplingParams {
    pub fn validate(&self) -> Result<(), ParamsError> {
        if !(self.temperature.is_finite() && self.temperature >= 0.0) {
            return Err(ParamsError::Temperature(self.temperature));
        }
        if !(self.top_p > 0.0 && self.top_p <= 1.0) {
            return Err(ParamsError::TopP(self.top_p));
        }
        if self.max_tokens == 0 {
            return Err(ParamsError::MaxTokens);
        }
        if let Some(k) = self.logprobs
            && k > 20
        {
            return Err(ParamsError::Logprobs(k));
        }
        if let Some(field) = self
            .extra_body
            .keys()
            .find(|k| RESERVED_FIELDS.contains(&k.as_str()))
        {
            return Err(ParamsError::ReservedField {
                field: field.clone(),
            });
        }
        Ok(())
    }
}

/// Options of one generation request that vary between requests of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestShape {
    pub n: u32,
    pub seed: Option<u64>,
    /// Ask for `token_ids` (vLLM), to count tokens per choice.
    pub token_ids: bool,
    /// Ask for log-probabilities even if the user did not, to count tokens per choice.
    pub logprobs_for_counting: bool,
}

/// The JSON body of a generation request.
pub fn generation_body(
    model: &str,
    prompt: &Prompt,
    params: &SamplingParams,
    shape: RequestShape,
) -> Map<String, Value> {
    let mut body = params.extra_body.clone();
    body.insert("model".into(), json!(model));
    prompt.insert_into(&mut body);
    body.insert("n".into(), json!(shape.n));
    body.insert("max_tokens".into(), json!(params.max_tokens));
    body.insert("temperature".into(), json!(params.temperature));
    body.insert("top_p".into(), json!(params.top_p));
    body.insert("stream".into(), json!(false));
    if !params.stop.is_empty() {
        body.insert("stop".into(), json!(params.stop));
    }
    if let Some(seed) = shape.seed {
        body.insert("seed".into(), json!(seed));
    }
    if shape.token_ids {
        body.insert("return_token_ids".into(), json!(true));
    }
    let logprobs = params.logprobs.or(shape.logprobs_for_counting.then_some(1));
    if let Some(k) = logprobs {
        match prompt.route() {
            Route::Completions => {
                body.insert("logprobs".into(), json!(k));
            }
            Route::Chat => {
                body.insert("logprobs".into(), json!(true));
                body.insert("top_logprobs".into(), json!(k));
            }
        }
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> SamplingParams {
        SamplingParams {
            temperature: 0.6,
            top_p: 0.95,
            max_tokens: 1024,
            stop: vec![],
            logprobs: None,
            extra_body: Map::new(),
        }
    }

    #[test]
    fn completions_body() {
        let mut p = params();
        p.extra_body.insert("top_k".into(), json!(20));
        p.stop = vec!["</answer>".into()];
        let body = generation_body(
            "Qwen/Qwen2.5-7B",
            &Prompt::Text("2+2=".into()),
            &p,
            RequestShape {
                n: 16,
                seed: Some(42),
                token_ids: true,
                logprobs_for_counting: false,
            },
        );
        insta::assert_json_snapshot!(Value::Object(body), @r#"
        {
          "max_tokens": 1024,
          "model": "Qwen/Qwen2.5-7B",
          "n": 16,
          "prompt": "2+2=",
          "return_token_ids": true,
          "seed": 42,
          "stop": [
            "</answer>"
          ],
          "stream": false,
          "temperature": 0.6,
          "top_k": 20,
          "top_p": 0.95
        }
        "#);
    }

    #[test]
    fn chat_body_uses_chat_logprobs() {
        let body = generation_body(
            "m",
            &Prompt::Messages(vec![json!({"role": "user", "content": "hi"})]),
            &params(),
            RequestShape {
                n: 1,
                seed: None,
                token_ids: false,
                logprobs_for_counting: true,
            },
        );
        assert_eq!(body["logprobs"], json!(true));
        assert_eq!(body["top_logprobs"], json!(0));
        assert_eq!(body["messages"][0]["content"], json!("hi"));
        assert!(!body.contains_key("seed"));
        assert!(!body.contains_key("prompt"));
    }

    #[test]
    fn invalid_settings_are_rejected() {
        let mut p = params();
        p.extra_body.insert("n".into(), json!(4));
        assert_eq!(
            p.validate(),
            Err(ParamsError::ReservedField { field: "n".into() })
        );
        for (temperature, top_p, max_tokens) in [
            (-0.1, 0.9, 10),
            (f64::NAN, 0.9, 10),
            (0.6, 0.0, 10),
            (0.6, 1.1, 10),
            (0.6, 0.9, 0),
        ] {
            let p = SamplingParams {
                temperature,
                top_p,
                max_tokens,
                ..params()
            };
            assert!(p.validate().is_err(), "{temperature} {top_p} {max_tokens}");
        }
        assert!(params().validate().is_ok());
    }
}
