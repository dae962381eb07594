//! What is asked of a server: the JSON body a prompt (raw text or chat messages) and the
//! run's sampling settings become, and the checks on those settings.

use boundary_sample::{PromptInput, SamplingParams};
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
    "top_k",
    "min_p",
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

/// The route a prompt goes to: raw text to completions, chat messages to chat.
pub fn route_of(input: &PromptInput) -> Route {
    match input {
        PromptInput::Text(_) => Route::Completions,
        PromptInput::Chat(_) => Route::Chat,
    }
}

fn insert_prompt(input: &PromptInput, body: &mut Map<String, Value>) {
    match input {
        PromptInput::Text(text) => body.insert("prompt".into(), Value::String(text.clone())),
        PromptInput::Chat(messages) => body.insert(
            "messages".into(),
            Value::Array(
                messages
                    .iter()
                    .map(|m| json!({"role": m.role, "content": m.content}))
                    .collect(),
            ),
        ),
    };
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

/// Checks settings before anything is sent: a mistake here would otherwise fail every
/// request, or silently change what the run means.
pub fn validate(params: &SamplingParams, logprobs: Option<u32>) -> Result<(), ParamsError> {
    if !(params.temperature.is_finite() && params.temperature >= 0.0) {
        return Err(ParamsError::Temperature(params.temperature));
    }
    if !(params.top_p > 0.0 && params.top_p <= 1.0) {
        return Err(ParamsError::TopP(params.top_p));
    }
    if params.max_tokens == 0 {
        return Err(ParamsError::MaxTokens);
    }
    if let Some(k) = logprobs
        && k > 20
    {
        return Err(ParamsError::Logprobs(k));
    }
    if let Some(field) = params
        .extra
        .keys()
        .find(|k| RESERVED_FIELDS.contains(&k.as_str()))
    {
        return Err(ParamsError::ReservedField {
            field: field.clone(),
        });
    }
    Ok(())
}

/// Sampling fields a server fills in from its own defaults when a request leaves them out,
/// and the values that switch each one off. Boundary sends them where the run leaves a field
/// unset, so that samples follow the run's recorded settings and nothing else: a run's
/// identity holds those settings, not whatever the server would have added.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NeutralDefaults {
    /// A server whose defaults are not known: only the run's own fields are sent (the
    /// OpenAI API itself refuses fields it does not know).
    Unknown,
    /// vLLM and SGLang take an unset `top_k`, `min_p` or `repetition_penalty` from the
    /// model's `generation_config.json` (Qwen2.5-7B-Instruct's: top_k 20, repetition
    /// penalty 1.05), so two models of one comparison would be sampled differently.
    GenerationConfig,
    /// llama.cpp's server defaults to top_k 40 and min_p 0.05; llama-cpp-python's server
    /// to those and a repeat penalty of 1.1. Both read top_k 0 as off (the latter refuses -1).
    LlamaCpp,
}

impl NeutralDefaults {
    /// The fields sent when the run leaves them unset, with the value that switches each off.
    pub fn fields(self) -> Vec<(&'static str, Value)> {
        match self {
            Self::Unknown => vec![],
            Self::GenerationConfig => vec![
                ("top_k", json!(-1)),
                ("min_p", json!(0.0)),
                ("repetition_penalty", json!(1.0)),
            ],
            Self::LlamaCpp => vec![
                ("top_k", json!(0)),
                ("min_p", json!(0.0)),
                ("repeat_penalty", json!(1.0)),
            ],
        }
    }
}

/// Options of one generation request that vary between requests of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestShape {
    /// Top log-probabilities per generated token the user asked for.
    pub logprobs: Option<u32>,
    pub n: u32,
    pub seed: Option<u64>,
    /// Ask for `token_ids` (vLLM), to count tokens per choice.
    pub token_ids: bool,
    /// Per-token entries to ask for when the user asked for no log-probabilities, to count
    /// tokens per choice.
    pub counting_entries: CountingEntries,
    /// What the endpoint's server would add to fields the run leaves unset.
    pub neutral: NeutralDefaults,
}

/// Per-token entries a request asks for only to count each choice's tokens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CountingEntries {
    /// None: tokens are counted from token ids or `usage`.
    None,
    /// Log-probabilities, the top one per token.
    Logprobs,
    /// llama.cpp's server's post-sampling probabilities (`post_sampling_probs`): one entry
    /// per token as well, without normalising the whole vocabulary at every token (4 % of
    /// its decoding time at n = 64, docs/benchmarks/openai.md).
    PostSamplingProbs,
}

/// The JSON body of a generation request.
pub fn generation_body(
    model: &str,
    input: &PromptInput,
    params: &SamplingParams,
    shape: RequestShape,
) -> Map<String, Value> {
    let mut body = params.extra.clone();
    body.insert("model".into(), json!(model));
    insert_prompt(input, &mut body);
    body.insert("n".into(), json!(shape.n));
    body.insert("max_tokens".into(), json!(params.max_tokens));
    body.insert("temperature".into(), json!(params.temperature));
    body.insert("top_p".into(), json!(params.top_p));
    body.insert("stream".into(), json!(false));
    if !params.stop.is_empty() {
        body.insert("stop".into(), json!(params.stop));
    }
    // Not OpenAI fields, but vLLM, SGLang and both llama.cpp servers take them as is.
    if let Some(top_k) = params.top_k {
        body.insert("top_k".into(), json!(top_k));
    }
    if let Some(min_p) = params.min_p {
        body.insert("min_p".into(), json!(min_p));
    }
    for (field, off) in shape.neutral.fields() {
        body.entry(field).or_insert(off);
    }
    if let Some(seed) = shape.seed {
        body.insert("seed".into(), json!(seed));
    }
    if shape.token_ids {
        body.insert("return_token_ids".into(), json!(true));
    }
    // The user's log-probabilities are the model's own: never replaced by post-sampling ones.
    let logprobs = match (shape.logprobs, shape.counting_entries) {
        (Some(k), _) => Some(k),
        (None, CountingEntries::None) => None,
        (None, CountingEntries::Logprobs) => Some(1),
        (None, CountingEntries::PostSamplingProbs) => {
            body.insert("post_sampling_probs".into(), json!(true));
            Some(1)
        }
    };
    if let Some(k) = logprobs {
        match route_of(input) {
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
    use boundary_sample::ChatMessage;

    fn params() -> SamplingParams {
        SamplingParams {
            temperature: 0.6,
            top_p: 0.95,
            top_k: None,
            min_p: None,
            max_tokens: 1024,
            stop: vec![],
            seed: 0,
            extra: Map::new(),
        }
    }

    fn shape(n: u32) -> RequestShape {
        RequestShape {
            logprobs: None,
            n,
            seed: None,
            token_ids: false,
            counting_entries: CountingEntries::None,
            neutral: NeutralDefaults::Unknown,
        }
    }

    #[test]
    fn completions_body() {
        let mut p = params();
        p.extra.insert("repetition_penalty".into(), json!(1.1));
        p.top_k = Some(20);
        p.stop = vec!["</answer>".into()];
        let body = generation_body(
            "Qwen/Qwen2.5-7B",
            &PromptInput::Text("2+2=".into()),
            &p,
            RequestShape {
                seed: Some(42),
                token_ids: true,
                ..shape(16)
            },
        );
        insta::assert_json_snapshot!(Value::Object(body), @r#"
        {
          "max_tokens": 1024,
          "model": "Qwen/Qwen2.5-7B",
          "n": 16,
          "prompt": "2+2=",
          "repetition_penalty": 1.1,
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
            &PromptInput::Chat(vec![ChatMessage {
                role: "user".into(),
                content: json!("hi"),
            }]),
            &params(),
            RequestShape {
                counting_entries: CountingEntries::Logprobs,
                ..shape(1)
            },
        );
        assert_eq!(body["logprobs"], json!(true));
        assert_eq!(body["top_logprobs"], json!(1));
        assert_eq!(body["messages"], json!([{"role": "user", "content": "hi"}]));
        assert!(!body.contains_key("seed"));
        assert!(!body.contains_key("prompt"));
    }

    #[test]
    fn post_sampling_probs_only_replace_logprobs_asked_for_counting() {
        let text = PromptInput::Text("2+2=".into());
        let body_for = |logprobs, counting_entries| {
            let shape = RequestShape {
                logprobs,
                counting_entries,
                ..shape(4)
            };
            let body = generation_body("m", &text, &params(), shape);
            (
                body.get("logprobs").cloned(),
                body.get("post_sampling_probs").cloned(),
            )
        };
        let post_sampling = CountingEntries::PostSamplingProbs;
        assert_eq!(
            body_for(None, post_sampling),
            (Some(json!(1)), Some(json!(true)))
        );
        // The user's log-probabilities are the model's own, kept as they are.
        assert_eq!(body_for(Some(2), post_sampling), (Some(json!(2)), None));
        assert_eq!(
            body_for(None, CountingEntries::Logprobs),
            (Some(json!(1)), None)
        );
        assert_eq!(body_for(None, CountingEntries::None), (None, None));
    }

    #[test]
    fn unset_sampling_fields_are_switched_off_where_the_server_would_fill_them() {
        let text = PromptInput::Text("2+2=".into());
        let body_for = |neutral, params: &SamplingParams| {
            let shape = RequestShape {
                neutral,
                ..shape(1)
            };
            let body = generation_body("m", &text, params, shape);
            ["top_k", "min_p", "repetition_penalty", "repeat_penalty"]
                .map(|field| body.get(field).cloned().unwrap_or(Value::Null))
        };
        let unset = params();
        assert_eq!(
            body_for(NeutralDefaults::Unknown, &unset),
            [Value::Null, Value::Null, Value::Null, Value::Null]
        );
        assert_eq!(
            body_for(NeutralDefaults::GenerationConfig, &unset),
            [json!(-1), json!(0.0), json!(1.0), Value::Null]
        );
        assert_eq!(
            body_for(NeutralDefaults::LlamaCpp, &unset),
            [json!(0), json!(0.0), Value::Null, json!(1.0)]
        );
        // What the run sets, by option or extra body field, is sent as set.
        let mut set = params();
        set.top_k = Some(20);
        set.min_p = Some(0.1);
        set.extra.insert("repetition_penalty".into(), json!(1.05));
        set.extra.insert("repeat_penalty".into(), json!(1.2));
        let as_set = [json!(20), json!(0.1), json!(1.05), json!(1.2)];
        assert_eq!(body_for(NeutralDefaults::GenerationConfig, &set), as_set);
        assert_eq!(body_for(NeutralDefaults::LlamaCpp, &set), as_set);
    }

    #[test]
    fn invalid_settings_are_rejected() {
        let mut p = params();
        p.extra.insert("n".into(), json!(4));
        assert_eq!(
            validate(&p, None),
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
            assert!(
                validate(&p, None).is_err(),
                "{temperature} {top_p} {max_tokens}"
            );
        }
        assert_eq!(
            validate(&params(), Some(21)),
            Err(ParamsError::Logprobs(21))
        );
        assert!(validate(&params(), Some(5)).is_ok());
    }
}
