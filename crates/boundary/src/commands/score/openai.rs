//! `boundary score --endpoint URL ...`: scoring through OpenAI-compatible servers, with
//! `echo` + `logprobs` or vLLM's `prompt_logprobs`. Every endpoint is checked at start:
//! it must offer one of the two, and its scores must agree with the log-probabilities it
//! reports while generating the same tokens (misaligned servers are refused).

use std::sync::Arc;

use anyhow::bail;
use boundary_openai::{
    ConnectOptions, Progress, RunEnd, ScoreItem, ScoreOutcome, ScoreRecord, connect_for_scoring,
    score,
};
use tokio::sync::mpsc;

use super::{OrderedWriter, ScoreArgs, Scored, read_pairs};
use crate::cli::GlobalArgs;
use crate::endpoints::{runtime, stop_on_ctrl_c};
use crate::output;

pub fn run(args: ScoreArgs, global: &GlobalArgs) -> anyhow::Result<()> {
    let mut pairs = read_pairs(&args.input)?;
    let items: Vec<ScoreItem> = pairs
        .iter()
        .enumerate()
        .map(|(index, p)| ScoreItem {
            index,
            prompt: p.prompt.clone(),
            response: p.response.clone(),
        })
        .collect();
    let endpoints = args.endpoints.configs()?;
    let options = ConnectOptions {
        model: args.model.clone(),
        chunk_size: 1,
        retry: args.endpoints.retry_policy()?,
        health: args.endpoints.health_policy()?,
    };
    let mut writer = OrderedWriter::new(args.output.as_deref(), &mut pairs)?;
    let total = items.len();
    let end = runtime()?.block_on(async {
        let (pool, scorer, reports) = connect_for_scoring(endpoints, &items, &options).await?;
        if !global.quiet {
            for report in &reports {
                eprintln!("{report}");
            }
        }
        let stop = stop_on_ctrl_c(global.quiet);
        let progress = Arc::new(Progress::default());
        let (sender, mut receiver) = mpsc::channel::<ScoreRecord>(1024);
        let scoring = tokio::spawn({
            let progress = progress.clone();
            async move { score(&pool, scorer, items, sender, progress, stop).await }
        });
        let counter = output::counter(global.quiet, "scored");
        while let Some(record) = receiver.recv().await {
            let scored = match record.outcome {
                ScoreOutcome::Scored(s) => Scored::Score {
                    logprob_sum: s.logprob_sum,
                    num_tokens: s.num_tokens,
                },
                ScoreOutcome::Failed { error } => Scored::Error(error),
            };
            writer.put(record.index, scored)?;
            counter.inc(1);
        }
        counter.finish_and_clear();
        Ok::<_, anyhow::Error>(scoring.await??)
    })?;
    let failed = writer.failed;
    let written = writer.finish()?;
    if end == RunEnd::Stopped {
        bail!("stopped after {written} of {total} lines; nothing after them was written");
    }
    if failed > 0 {
        bail!("{failed} of {total} lines could not be scored; their output lines carry `error`");
    }
    Ok(())
}
