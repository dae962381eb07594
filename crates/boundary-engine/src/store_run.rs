//! Runs a `boundary-sample` plan (the samples a run still needs) on the embedded engine,
//! writing every finished sample to the store sink the moment it exists.
//!
//! Per-problem failures (a prompt longer than the model's context, a chat template that
//! rejects the messages) are written as failed samples and the run goes on; an engine
//! failure stops the run, and re-running the command resumes it.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use boundary_sample::{Plan, PromptInput, SamplingParams as SharedParams, SinkHandle, sample_seed};
use boundary_store::{NewSample, SampleOutcome};
use serde_json::Value as Json;

use crate::chat_template::RenderOptions;
use crate::generate::{
    GenerateError, GenerationConfig, GenerationEvent, GenerationRequest, GenerationStats,
    SampleSpec, check_prompt, generate,
};
use crate::sampling::{SamplingError, SamplingParams};
use crate::{EngineError, Model};

/// Where a run stands, for progress displays.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunProgress {
    pub problems_done: usize,
    pub problems_total: usize,
    pub samples_done: u64,
    pub samples_total: u64,
    pub generated_tokens: u64,
    pub elapsed: Duration,
}

/// What a finished run did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunSummary {
    pub completed: u64,
    /// Samples written as failed (their problems' prompts could not be run).
    pub failed: u64,
    /// The message of each failed problem, with how many samples failed with it.
    pub errors: BTreeMap<String, u64>,
    pub generation: GenerationStats,
}

/// Why a run stopped.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(
        "the store writer stopped, so samples can no longer be saved (its error follows when the run ends)"
    )]
    SinkClosed,
}

impl SamplingParams {
    /// The engine's settings for a run's shared settings. Extra fields understood (with vLLM's
    /// names): `ignore_eos`, `stop_token_ids`, `chat_template_kwargs` (read by [`run_plan`]);
    /// any other extra field is an error rather than silently ignored.
    pub fn from_shared(shared: &SharedParams) -> Result<Self, SamplingError> {
        let mut params = Self {
            temperature: shared.temperature as f32,
            top_p: shared.top_p as f32,
            top_k: shared.top_k.unwrap_or(0) as usize,
            min_p: shared.min_p.unwrap_or(0.0) as f32,
            max_tokens: shared.max_tokens as usize,
            stop: shared.stop.clone(),
            stop_token_ids: Vec::new(),
            ignore_eos: false,
        };
        for (key, value) in &shared.extra {
            match key.as_str() {
                "ignore_eos" => {
                    params.ignore_eos = value.as_bool().ok_or_else(|| {
                        SamplingError::Extra(key.clone(), "must be true or false".into())
                    })?;
                }
                "stop_token_ids" => {
                    params.stop_token_ids = value
                        .as_array()
                        .and_then(|ids| {
                            ids.iter()
                                .map(|id| id.as_u64().and_then(|id| u32::try_from(id).ok()))
                                .collect()
                        })
                        .ok_or_else(|| {
                            SamplingError::Extra(key.clone(), "must be a list of token ids".into())
                        })?;
                }
                "chat_template_kwargs" if value.is_object() => {}
                "chat_template_kwargs" => {
                    return Err(SamplingError::Extra(
                        key.clone(),
                        "must be an object".into(),
                    ));
                }
                _ => {
                    return Err(SamplingError::Extra(
                        key.clone(),
                        "is not supported by the embedded backend (it understands ignore_eos, stop_token_ids and chat_template_kwargs)".into(),
                    ));
                }
            }
        }
        params.validate()?;
        Ok(params)
    }
}

/// The prompt tokens of one problem.
pub fn prompt_tokens(
    model: &Model,
    input: &PromptInput,
    render: &RenderOptions,
) -> Result<Vec<u32>, EngineError> {
    let text = match input {
        PromptInput::Text(text) => text.clone(),
        PromptInput::Chat(messages) => {
            let messages: Vec<Json> = messages
                .iter()
                .map(|m| serde_json::json!({"role": m.role, "content": m.content}))
                .collect();
            model.render_chat(&messages, render)?
        }
    };
    Ok(model.tokenizer().encode_prompt(&text)?)
}

/// Generates every missing sample of `plan`, sending each to `sink` as it finishes and calling
/// `on_progress` after every decode step.
pub fn run_plan(
    model: &Model,
    plan: &Plan,
    shared: &SharedParams,
    config: &GenerationConfig,
    sink: &SinkHandle,
    mut on_progress: impl FnMut(&RunProgress),
) -> Result<RunSummary, RunError> {
    let params = SamplingParams::from_shared(shared).map_err(EngineError::from)?;
    let render = RenderOptions {
        add_generation_prompt: true,
        extra: shared
            .extra
            .get("chat_template_kwargs")
            .and_then(Json::as_object)
            .cloned()
            .unwrap_or_default(),
    };
    let started = Instant::now();
    let mut summary = RunSummary::default();
    let mut progress = RunProgress {
        problems_total: plan.items.len(),
        samples_total: plan.missing(),
        ..RunProgress::default()
    };

    // Problems whose prompt cannot run get failed samples; the others become requests.
    let mut requests = Vec::new();
    let mut problem_of_request = Vec::new();
    for item in &plan.items {
        let prompt = prompt_tokens(model, &item.input, &render).and_then(|prompt| {
            check_prompt(model, requests.len(), &prompt, params.max_tokens).map(|()| prompt)
        });
        match prompt {
            Ok(prompt) => {
                requests.push(GenerationRequest {
                    prompt,
                    samples: item
                        .indices
                        .iter()
                        .map(|&index| SampleSpec {
                            index,
                            seed: sample_seed(shared.seed, &item.problem, index),
                        })
                        .collect(),
                });
                problem_of_request.push(item);
            }
            Err(error) => {
                let message = problem_error(&error, &item.problem);
                for &index in &item.indices {
                    sink.write(NewSample {
                        problem: item.problem.clone(),
                        sample_index: index,
                        outcome: SampleOutcome::Failed {
                            error: message.clone(),
                        },
                        finish_reason: None,
                        prompt_tokens: None,
                        completion_tokens: None,
                    })
                    .map_err(|_| RunError::SinkClosed)?;
                    summary.failed += 1;
                    progress.samples_done += 1;
                }
                *summary.errors.entry(message.clone()).or_default() += item.indices.len() as u64;
                progress.problems_done += 1;
                tracing::warn!(problem = %item.problem, "{message}");
            }
        }
    }
    on_progress(&progress);

    let mut remaining: HashMap<usize, usize> = requests
        .iter()
        .enumerate()
        .map(|(i, r)| (i, r.samples.len()))
        .collect();
    let stats = generate(model, &requests, &params, config, |event| {
        match event {
            GenerationEvent::Completed(completion) => {
                let item = problem_of_request[completion.request];
                sink.write(NewSample {
                    problem: item.problem.clone(),
                    sample_index: completion.sample_index,
                    outcome: SampleOutcome::Ok {
                        response: completion.text,
                    },
                    finish_reason: Some(completion.finish_reason.openai_name().to_owned()),
                    prompt_tokens: u32::try_from(requests[completion.request].prompt.len()).ok(),
                    completion_tokens: u32::try_from(completion.token_ids.len()).ok(),
                })
                .map_err(|_| RunError::SinkClosed)?;
                summary.completed += 1;
                progress.samples_done += 1;
                if let Some(left) = remaining.get_mut(&completion.request) {
                    *left -= 1;
                    if *left == 0 {
                        progress.problems_done += 1;
                    }
                }
            }
            GenerationEvent::Progress(stats) => {
                progress.generated_tokens = stats.generated_tokens;
                progress.elapsed = started.elapsed();
                on_progress(&progress);
            }
        }
        Ok::<_, RunError>(())
    })
    .map_err(|e| match e {
        GenerateError::Engine(e) => RunError::Engine(e),
        GenerateError::Handler(e) => e,
    })?;
    progress.elapsed = started.elapsed();
    on_progress(&progress);
    summary.generation = stats;
    Ok(summary)
}

/// The message stored with a problem's failed samples.
fn problem_error(error: &EngineError, problem: &str) -> String {
    match error {
        // The generic message numbers requests; name the problem instead.
        EngineError::ContextOverflow {
            prompt_tokens,
            max_tokens,
            context,
            ..
        } => format!(
            "problem {problem}: the prompt has {prompt_tokens} tokens and up to {max_tokens} new \
             tokens were asked for, more than the model's context of {context} tokens"
        ),
        EngineError::EmptyPrompt { .. } => format!("problem {problem}: the prompt is empty"),
        other => format!("problem {problem}: {other}"),
    }
}
