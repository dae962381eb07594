//! `boundary score --endpoint URL ...`: scoring through OpenAI-compatible servers, with
//! `echo` + `logprobs` or vLLM's `prompt_logprobs`. Every endpoint is checked at start:
//! it must offer one of the two, and its scores must agree with the log-probabilities it
//! reports while generating the same tokens (misaligned servers are refused).

use std::sync::Arc;

use boundary_openai::{
    ConnectOptions, EndpointConfig, EndpointPool, Progress, RunEnd, ScoreItem, ScoreOutcome,
    ScoreRecord, ScorerConfig, StopSignal, connect_for_scoring, score,
};
use boundary_sample::PromptInput;
use tokio::sync::mpsc;

use super::{ScorePair, Scored, Scorer};
use crate::endpoints::{Runtime, runtime, stop_on_ctrl_c};

/// Why a chat prompt cannot be scored on a server.
const CHAT_ON_SERVER: &str = "a chat prompt (messages) cannot be scored through an \
    OpenAI-compatible server: the completions endpoint that echoes log-probabilities takes one \
    text, and the server's chat template is not known here; score with an embedded scorer (a \
    GGUF file), which renders the messages with its own chat template";

/// Servers to score on, connected (and checked) on the first call to [`Scorer::score`],
/// with the prompts of that call.
pub struct ServerScorer {
    runtime: Runtime,
    endpoints: Vec<EndpointConfig>,
    options: ConnectOptions,
    quiet: bool,
    connected: Option<(EndpointPool, ScorerConfig, StopSignal)>,
}

impl ServerScorer {
    pub fn new(
        endpoints: Vec<EndpointConfig>,
        options: ConnectOptions,
        quiet: bool,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            runtime: runtime()?,
            endpoints,
            options,
            quiet,
            connected: None,
        })
    }
}

impl Scorer for ServerScorer {
    fn score(
        &mut self,
        pairs: &[ScorePair],
        on_scored: &mut dyn FnMut(usize, Scored) -> anyhow::Result<()>,
    ) -> anyhow::Result<RunEnd> {
        let mut items = Vec::new();
        for (index, pair) in pairs.iter().enumerate() {
            match &pair.prompt {
                PromptInput::Text(prompt) => items.push(ScoreItem {
                    index,
                    prompt: prompt.clone(),
                    response: pair.response.clone(),
                }),
                PromptInput::Chat(_) => on_scored(index, Scored::Error(CHAT_ON_SERVER.into()))?,
            }
        }
        if items.is_empty() {
            return Ok(RunEnd::Complete);
        }
        let Self {
            runtime,
            endpoints,
            options,
            quiet,
            connected,
        } = self;
        runtime.block_on(async {
            let (pool, config, stop) = match connected {
                Some(connected) => connected,
                None => {
                    let (pool, config, reports) =
                        connect_for_scoring(endpoints.clone(), &items, options).await?;
                    if !*quiet {
                        for report in &reports {
                            eprintln!("{report}");
                        }
                    }
                    connected.insert((pool, config, stop_on_ctrl_c(*quiet)))
                }
            };
            let progress = Arc::new(Progress::default());
            let (sender, mut receiver) = mpsc::channel::<ScoreRecord>(1024);
            let scoring = {
                let (pool, config, stop) = (&*pool, config.clone(), stop.clone());
                async move { score(pool, config, items, sender, progress, stop).await }
            };
            // The receiver moves in, so that a failing handler closes the channel and the
            // scoring stops instead of waiting for room in it.
            let receiving = async move {
                while let Some(record) = receiver.recv().await {
                    let scored = match record.outcome {
                        ScoreOutcome::Scored(s) => Scored::Score {
                            logprob_sum: s.logprob_sum,
                            num_tokens: s.num_tokens,
                        },
                        ScoreOutcome::Failed { error } => Scored::Error(error),
                    };
                    on_scored(record.index, scored)?;
                }
                Ok::<_, anyhow::Error>(())
            };
            let (end, received) = tokio::join!(scoring, receiving);
            received?;
            Ok(end?)
        })
    }
}
