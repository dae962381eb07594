//! Batched sampling on the real SmolLM2 model: determinism, independence from batching and
//! resume, one prefill per prompt, stop conditions, and errors for prompts that cannot fit.

mod common;

use std::collections::BTreeMap;
use std::convert::Infallible;

use boundary_engine::{
    Completion, EngineError, FinishReason, GenerateError, GenerationConfig, GenerationEvent,
    GenerationRequest, GenerationStats, RenderOptions, SampleSpec, SamplingParams, generate,
};
use boundary_sample::sample_seed;
use common::smollm2;
use serde_json::json;

fn chat_prompt(question: &str) -> Vec<u32> {
    let model = smollm2();
    let text = model
        .render_chat(
            &[json!({"role": "user", "content": question})],
            &RenderOptions::default(),
        )
        .unwrap();
    model.tokenizer().encode_prompt(&text).unwrap()
}

fn request(
    problem: &str,
    question: &str,
    indices: impl IntoIterator<Item = u32>,
) -> GenerationRequest {
    GenerationRequest {
        prompt: chat_prompt(question),
        samples: indices
            .into_iter()
            .map(|index| SampleSpec {
                index,
                seed: sample_seed(0, problem, index),
            })
            .collect(),
    }
}

fn params(max_tokens: usize) -> SamplingParams {
    SamplingParams {
        temperature: 0.8,
        top_p: 0.95,
        max_tokens,
        ..SamplingParams::default()
    }
}

/// Runs generation and returns completions keyed by (request, sample index), plus stats.
fn run(
    requests: &[GenerationRequest],
    params: &SamplingParams,
    max_sequences: usize,
) -> (BTreeMap<(usize, u32), Completion>, GenerationStats) {
    let config = GenerationConfig {
        max_sequences,
        ..GenerationConfig::default()
    };
    let mut completions = BTreeMap::new();
    let stats = generate(smollm2(), requests, params, &config, |event| {
        if let GenerationEvent::Completed(c) = event {
            assert!(
                completions.insert((c.request, c.sample_index), c).is_none(),
                "duplicate sample"
            );
        }
        Ok::<_, Infallible>(())
    })
    .unwrap();
    (completions, stats)
}

#[test]
fn samples_do_not_depend_on_batching_or_resume() {
    let requests = [
        request("q/0", "What is 12 times 7?", 0..4),
        request("q/1", "Name a prime number larger than 20.", 0..3),
    ];
    let p = params(24);
    let (batched, stats) = run(&requests, &p, 8);
    assert_eq!(batched.len(), 7);
    assert_eq!(stats.sequence_slots, 7);
    // Same run again: identical.
    let (again, _) = run(&requests, &p, 8);
    assert_eq!(batched, again);
    // One sequence at a time: every sample decodes alone, yet comes out the same.
    let (alone, _) = run(&requests, &p, 1);
    assert_eq!(batched, alone);
    // A resumed run asks only for the missing samples and gets the same ones.
    let resumed_requests = [
        request("q/0", "What is 12 times 7?", [1, 3]),
        request("q/1", "Name a prime number larger than 20.", [2]),
    ];
    let (resumed, _) = run(&resumed_requests, &p, 8);
    for ((r, index), completion) in &resumed {
        assert_eq!(
            completion.token_ids,
            batched[&(*r, *index)].token_ids,
            "request {r} sample {index}"
        );
    }
    // Different samples of one prompt differ (the streams are independent).
    let distinct: std::collections::BTreeSet<&Vec<u32>> =
        batched.values().map(|c| &c.token_ids).collect();
    assert!(distinct.len() >= 5, "{distinct:?}");
}

#[test]
fn samples_moved_to_close_gaps_in_the_batch_come_out_the_same() {
    // Stopping at the first full stop ends samples at different steps with nothing left to
    // admit: later samples move down into the sequences the earlier ones freed (llama.cpp
    // decodes only consecutive sequences in one pass) and go on decoding there.
    let requests = [
        request("m/0", "Write two sentences about the sea.", 0..4),
        request("m/1", "Write two sentences about the moon.", 0..4),
    ];
    let p = SamplingParams {
        stop: vec![".".to_owned()],
        ..params(40)
    };
    let (batched, stats) = run(&requests, &p, 8);
    assert!(stats.moved_sequences > 0, "{stats:?}");
    let (alone, alone_stats) = run(&requests, &p, 1);
    assert_eq!(alone_stats.moved_sequences, 0);
    assert_eq!(batched, alone);
}

#[test]
fn one_prefill_serves_all_samples_of_a_prompt() {
    let requests = [request("p", "Count from one to five.", 0..6)];
    let prompt_len = requests[0].prompt.len() as u64;
    let (completions, stats) = run(&requests, &params(8), 16);
    assert_eq!(completions.len(), 6);
    assert_eq!(stats.prompt_tokens, prompt_len);
    // Fewer slots than samples: later samples fork from a running sibling, still one prefill.
    let (_, stats) = run(&requests, &params(8), 2);
    assert_eq!(stats.prompt_tokens, prompt_len);
}

#[test]
fn ignore_eos_makes_every_sample_max_tokens_long() {
    let requests = [request("e", "Say hi.", 0..5)];
    let p = SamplingParams {
        ignore_eos: true,
        ..params(40)
    };
    let (completions, stats) = run(&requests, &p, 8);
    for completion in completions.values() {
        assert_eq!(completion.token_ids.len(), 40);
        assert_eq!(completion.finish_reason, FinishReason::Length);
    }
    assert_eq!(stats.generated_tokens, 200);
    // All five decode together; each one's first token comes from the prompt's prefill.
    assert_eq!((stats.decoded_tokens, stats.decode_steps), (195, 39));
    assert_eq!(stats.mean_batch(), 5.0);
}

#[test]
fn stops_at_end_of_generation_strings_and_tokens() {
    let model = smollm2();
    let end_of_turn = model.tokenizer().encode("<|im_end|>").unwrap();
    assert_eq!(end_of_turn.len(), 1);
    // Greedy answers to a short question end with <|im_end|>, which is not in the text.
    let greedy = SamplingParams {
        temperature: 0.0,
        ..params(200)
    };
    let (completions, _) = run(
        &[request(
            "s",
            "What is the capital of France? Answer in one word.",
            [0],
        )],
        &greedy,
        4,
    );
    let answer = &completions[&(0, 0)];
    assert_eq!(answer.finish_reason, FinishReason::EndOfGeneration);
    assert_eq!(answer.token_ids.last(), Some(&end_of_turn[0]));
    assert!(!answer.text.contains("<|im_end|>"));
    assert!(answer.text.contains("Paris"), "{:?}", answer.text);

    // A stop string cuts the text before it.
    let stop_at_paris = SamplingParams {
        stop: vec!["aris".to_owned()],
        ..greedy.clone()
    };
    let (completions, _) = run(
        &[request(
            "s",
            "What is the capital of France? Answer in one word.",
            [0],
        )],
        &stop_at_paris,
        4,
    );
    let cut = &completions[&(0, 0)];
    assert_eq!(
        cut.finish_reason,
        FinishReason::StopString("aris".to_owned())
    );
    assert!(
        answer.text.starts_with(&cut.text) && cut.text.ends_with('P'),
        "{:?}",
        cut.text
    );

    // A stop token ends the sample on that token.
    let first = answer.token_ids[0];
    let stop_token = SamplingParams {
        stop_token_ids: vec![first],
        ..greedy
    };
    let (completions, _) = run(
        &[request(
            "s",
            "What is the capital of France? Answer in one word.",
            [0],
        )],
        &stop_token,
        4,
    );
    let stopped = &completions[&(0, 0)];
    assert_eq!(stopped.finish_reason, FinishReason::StopToken(first));
    assert_eq!(stopped.token_ids, [first]);
    assert_eq!(stopped.text, "");
}

#[test]
fn finished_samples_are_reported_as_they_finish() {
    // Many short samples through few slots: completions arrive between decode steps, and the
    // number decoding at once never exceeds the slots.
    let requests = [request("f", "Write a short poem about the sea.", 0..10)];
    let mut events = Vec::new();
    let config = GenerationConfig {
        max_sequences: 3,
        ..GenerationConfig::default()
    };
    generate(smollm2(), &requests, &params(30), &config, |event| {
        events.push(match event {
            GenerationEvent::Completed(c) => format!("done {}", c.sample_index),
            GenerationEvent::Progress(stats) => {
                assert!(stats.active_sequences <= 3);
                "step".to_owned()
            }
        });
        Ok::<_, Infallible>(())
    })
    .unwrap();
    let first_done = events.iter().position(|e| e.starts_with("done")).unwrap();
    let last_step = events.iter().rposition(|e| e == "step").unwrap();
    assert!(
        first_done < last_step,
        "samples were held back until the end: {events:?}"
    );
    assert_eq!(events.iter().filter(|e| e.starts_with("done")).count(), 10);
}

#[test]
fn handler_errors_stop_the_run() {
    let requests = [request("h", "Hello", 0..4)];
    let err = generate(
        smollm2(),
        &requests,
        &params(8),
        &GenerationConfig::default(),
        |event| match event {
            GenerationEvent::Completed(_) => Err("disk full"),
            GenerationEvent::Progress(_) => Ok(()),
        },
    )
    .unwrap_err();
    assert!(matches!(err, GenerateError::Handler("disk full")), "{err}");
}

#[test]
fn prompts_that_cannot_fit_are_rejected_up_front() {
    let context = smollm2().info().context_length;
    let long = GenerationRequest {
        prompt: vec![100; context - 10],
        samples: vec![SampleSpec { index: 0, seed: 1 }],
    };
    let err = generate(
        smollm2(),
        &[request("a", "hi", [0]), long],
        &params(20),
        &GenerationConfig::default(),
        |_| Ok::<_, Infallible>(()),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            GenerateError::Engine(EngineError::ContextOverflow { request: 1, .. })
        ),
        "{err}"
    );
    let empty = GenerationRequest {
        prompt: Vec::new(),
        samples: vec![SampleSpec { index: 0, seed: 1 }],
    };
    let err = generate(
        smollm2(),
        &[empty],
        &params(20),
        &GenerationConfig::default(),
        |_| Ok::<_, Infallible>(()),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            GenerateError::Engine(EngineError::EmptyPrompt { request: 0 })
        ),
        "{err}"
    );
    let tiny_budget = GenerationConfig {
        kv_budget_bytes: 1024,
        ..GenerationConfig::default()
    };
    let err = generate(
        smollm2(),
        &[request("a", "hi", [0])],
        &params(20),
        &tiny_budget,
        |_| Ok::<_, Infallible>(()),
    )
    .unwrap_err();
    assert!(
        matches!(err, GenerateError::Engine(EngineError::KvBudget { .. })),
        "{err}"
    );
}
