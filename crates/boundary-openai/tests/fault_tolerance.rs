//! Sampling through a proxy that injects every kind of fault at 20%: the run must end with
//! exactly n samples per problem, no index delivered twice, no two samples sharing a seed,
//! and every kind of fault really injected.

use std::collections::{BTreeMap, HashSet};
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use boundary_openai::{
    ConnectOptions, EndpointConfig, HealthPolicy, Progress, RetryPolicy, RunEnd, SampleOutcome,
    SampleRecord, SamplerConfig, SeedPolicy, StopSignal, connect, sample,
};
use boundary_sample::{PromptInput, SamplingParams, WorkItem};
use boundary_testserver::{ALL_FAULTS, FaultPlan, FaultProxy, InstantConfig, InstantServer};
use serde_json::Map;
use tokio::sync::mpsc;

fn loopback() -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, 0))
}

fn params(max_tokens: u32) -> SamplingParams {
    SamplingParams {
        temperature: 0.6,
        top_p: 0.95,
        top_k: None,
        min_p: None,
        max_tokens,
        stop: vec![],
        seed: 0,
        extra: Map::new(),
    }
}

fn fast_retries(max_attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        initial_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(50),
        max_retry_after: Duration::from_millis(50),
        request_timeout: Duration::from_millis(800),
        connect_timeout: Duration::from_secs(2),
    }
}

fn fast_health() -> HealthPolicy {
    HealthPolicy {
        eject_after: 8,
        first_probe_after: Duration::from_millis(20),
        max_probe_interval: Duration::from_millis(200),
        give_up_after: Duration::from_secs(30),
    }
}

fn problems(count: usize) -> Vec<(String, PromptInput)> {
    (0..count)
        .map(|i| {
            (
                format!("p{i}"),
                PromptInput::Text(format!("Question {i}: what is {i} plus {i}? Answer:")),
            )
        })
        .collect()
}

fn work(problems: &[(String, PromptInput)], n: u32) -> Vec<WorkItem> {
    problems
        .iter()
        .map(|(id, input)| WorkItem {
            problem: id.clone(),
            input: input.clone(),
            indices: (0..n).collect(),
        })
        .collect()
}

async fn run(
    endpoints: Vec<String>,
    problems: &[(String, PromptInput)],
    n: u32,
    chunk_size: u32,
    retry: RetryPolicy,
) -> (RunEnd, Vec<SampleRecord>, Arc<Progress>) {
    let options = ConnectOptions {
        model: "test-model".into(),
        chunk_size,
        retry: retry.clone(),
        health: fast_health(),
    };
    let configs = endpoints
        .iter()
        .map(|url| EndpointConfig::parse(url, 8).unwrap())
        .collect();
    let (pool, _reports) = connect(configs, &problems[0].1, &params(16), &options)
        .await
        .unwrap();
    let work = work(problems, n);
    let (sender, mut receiver) = mpsc::channel(256);
    let collector = tokio::spawn(async move {
        let mut records = Vec::new();
        while let Some(record) = receiver.recv().await {
            records.push(record);
        }
        records
    });
    let progress = Arc::new(Progress::default());
    let config = SamplerConfig {
        model: "test-model".into(),
        params: params(16),
        logprobs: None,
        chunk_size,
        seeds: SeedPolicy::Derived { run_seed: 7 },
        retry,
    };
    let end = sample(
        &pool,
        config,
        work,
        sender,
        progress.clone(),
        StopSignal::default(),
    )
    .await
    .unwrap();
    (end, collector.await.unwrap(), progress)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_percent_faults_still_give_exactly_n_distinct_samples_per_problem() {
    let server = InstantServer::start(loopback(), InstantConfig::default())
        .await
        .unwrap();
    let upstream = format!("http://{}", server.handle.addr());
    let plan = FaultPlan::uniform(0.2, Duration::from_secs(3), 11);
    let proxy = FaultProxy::start(loopback(), &upstream, plan)
        .await
        .unwrap();

    let problems = problems(40);
    let n = 24;
    let (end, records, progress) =
        run(vec![proxy.base_url()], &problems, n, 8, fast_retries(40)).await;
    assert_eq!(end, RunEnd::Complete);

    let mut by_problem: BTreeMap<String, Vec<&SampleRecord>> = BTreeMap::new();
    for record in &records {
        by_problem
            .entry(record.problem.id.clone())
            .or_default()
            .push(record);
    }
    assert_eq!(by_problem.len(), problems.len());
    for (id, records) in &by_problem {
        let mut indices: Vec<u32> = records.iter().map(|r| r.sample_index).collect();
        indices.sort_unstable();
        assert_eq!(
            indices,
            (0..n).collect::<Vec<_>>(),
            "{id}: each index exactly once"
        );
        let texts: HashSet<&str> = records
            .iter()
            .map(|r| match &r.outcome {
                SampleOutcome::Completed(c) => c.text.as_str(),
                SampleOutcome::Failed { error, .. } => panic!("{id}: failed sample: {error}"),
            })
            .collect();
        // The instant server's text is a function of (prompt, seed): a reused seed would
        // show up as a duplicate.
        assert_eq!(texts.len(), n as usize, "{id}: duplicate samples");
    }
    for fault in ALL_FAULTS {
        assert!(proxy.counts.get(fault) > 0, "{fault:?} was never injected");
    }
    let snapshot = progress.snapshot();
    assert_eq!(snapshot.samples_ok, u64::from(n) * problems.len() as u64);
    assert!(snapshot.retries > 0);
    assert!(
        snapshot.short_responses > 0,
        "fewer-choices faults were re-asked"
    );
    assert!(
        snapshot.tokens > 0,
        "the instant server returns token ids, so tokens are counted"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spent_retry_budget_stores_failures_without_leaking_the_key() {
    let key_dir = tempfile::tempdir().unwrap();
    let key_path = key_dir.path().join("key");
    std::fs::write(&key_path, "sk-boundary-test-secret\n").unwrap();
    let key = Arc::new(boundary_openai::ApiKey::from_file(&key_path).unwrap());

    let server = InstantServer::start(
        loopback(),
        InstantConfig {
            api_key: Some("sk-boundary-test-secret".into()),
            ..InstantConfig::default()
        },
    )
    .await
    .unwrap();
    let upstream = format!("http://{}", server.handle.addr());
    // Every generation fails with a 500 whose body echoes the Authorization header.
    let plan = FaultPlan {
        rates: vec![(boundary_testserver::Fault::ServerError, 1.0)],
        ..FaultPlan::none()
    };
    let proxy = FaultProxy::start(loopback(), &upstream, plan)
        .await
        .unwrap();
    let problems = problems(3);
    let options = ConnectOptions {
        model: "test-model".into(),
        chunk_size: 4,
        retry: fast_retries(3),
        health: HealthPolicy {
            eject_after: 1_000,
            ..fast_health()
        },
    };
    let config = EndpointConfig::parse(&proxy.base_url(), 4)
        .unwrap()
        .with_api_key(Some(key));
    // The probe's test request fails the same way and says so, without the key.
    let error = connect(vec![config.clone()], &problems[0].1, &params(8), &options)
        .await
        .err()
        .expect("every generation fails");
    let message = error.to_string();
    assert!(message.contains("HTTP 500"), "{message}");
    assert!(message.contains("Bearer ***"), "{message}");
    assert!(!message.contains("sk-boundary-test-secret"), "{message}");
    drop(proxy);

    // Now the probe's two test requests (n=2, then n=4) pass and every sampling request
    // fails: each sample is delivered as failed after 3 tries, its error saying why,
    // without the key.
    let plan = FaultPlan {
        rates: vec![(boundary_testserver::Fault::ServerError, 1.0)],
        pass_first: 2,
        ..FaultPlan::none()
    };
    let proxy = FaultProxy::start(loopback(), &upstream, plan)
        .await
        .unwrap();
    let config = EndpointConfig {
        url: boundary_openai::BaseUrl::parse(&proxy.base_url()).unwrap(),
        ..config
    };
    let (pool, _) = connect(vec![config], &problems[0].1, &params(8), &options)
        .await
        .unwrap();
    let (sender, mut receiver) = mpsc::channel(64);
    let sampler = SamplerConfig {
        model: "test-model".into(),
        params: params(8),
        logprobs: None,
        chunk_size: 4,
        seeds: SeedPolicy::Derived { run_seed: 0 },
        retry: fast_retries(3),
    };
    let work = work(&problems, 4);
    let progress = Arc::new(Progress::default());
    let end = sample(
        &pool,
        sampler,
        work,
        sender,
        progress.clone(),
        StopSignal::default(),
    )
    .await
    .unwrap();
    assert_eq!(end, RunEnd::Complete);
    let mut failures = 0;
    while let Some(record) = receiver.recv().await {
        match record.outcome {
            SampleOutcome::Failed { error, attempts } => {
                assert_eq!(attempts, 3);
                assert!(error.contains("HTTP 500"), "{error}");
                assert!(error.contains("Bearer ***"), "{error}");
                assert!(!error.contains("sk-boundary-test-secret"), "{error}");
                failures += 1;
            }
            SampleOutcome::Completed(c) => panic!("unexpected sample {c:?}"),
        }
    }
    assert_eq!(failures, 12);
    assert_eq!(progress.snapshot().samples_failed, 12);
    assert_eq!(
        proxy.counts.get(boundary_testserver::Fault::ServerError),
        9,
        "3 chunks x 3 tries"
    );
}
