//! `boundary sample --endpoint`, `boundary merge`: the real binary against the instant
//! test server, alone or behind the fault-injecting proxy. Resume and top-up, 20% faults,
//! SIGKILL at random moments, Ctrl-C, spent retry budgets, keys that must not leak, bad
//! configuration, changed settings, prompts that do not fit, shards and merging.

mod common;

use std::collections::{BTreeMap, HashSet};
use std::net::{Ipv4Addr, SocketAddr};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use boundary_testserver::{Fault, FaultPlan, FaultProxy, InstantConfig, InstantServer};
use common::TestDir;
use rand::{Rng, SeedableRng};
use serde_json::Value;

fn loopback() -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, 0))
}

/// Test servers run on their own runtime while the binary runs as a child process.
struct Servers {
    runtime: tokio::runtime::Runtime,
}

impl Servers {
    fn new() -> Self {
        Self {
            runtime: tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap(),
        }
    }

    fn instant(&self, config: InstantConfig) -> InstantServer {
        self.runtime
            .block_on(InstantServer::start(loopback(), config))
            .unwrap()
    }

    fn proxy(&self, upstream: &InstantServer, plan: FaultPlan) -> FaultProxy {
        let upstream = format!("http://{}", upstream.handle.addr());
        self.runtime
            .block_on(FaultProxy::start(loopback(), &upstream, plan))
            .unwrap()
    }
}

fn prompts(t: &TestDir, name: &str, count: usize) {
    let lines: String = (0..count)
        .map(|i| format!("{{\"id\": \"q{i}\", \"prompt\": \"Question {i}: what is {i} plus {i}?\", \"answer\": \"{}\"}}\n", 2 * i))
        .collect();
    t.write(name, &lines);
}

fn sample_args<'a>(url: &'a str, store: &'a str, n: &'a str) -> Vec<&'a str> {
    vec![
        "sample",
        "--endpoint",
        url,
        "--model",
        "test-model",
        "--prompts",
        "p.jsonl",
        "--n",
        n,
        "--max-tokens",
        "16",
        "--store",
        store,
    ]
}

/// The samples of a store, per problem: index → (status, response).
fn samples(t: &TestDir, store: &str) -> BTreeMap<String, BTreeMap<u32, (String, Option<String>)>> {
    let out = t.ok(&["export", "--store", store, "--format", "jsonl"]);
    let mut by_problem: BTreeMap<String, BTreeMap<u32, (String, Option<String>)>> = BTreeMap::new();
    for line in out.lines() {
        let row: Value = serde_json::from_str(line).unwrap();
        let index = row["sample_index"].as_u64().unwrap() as u32;
        let previous = by_problem
            .entry(row["problem_id"].as_str().unwrap().to_owned())
            .or_default()
            .insert(
                index,
                (
                    row["status"].as_str().unwrap().to_owned(),
                    row["response"].as_str().map(str::to_owned),
                ),
            );
        assert!(previous.is_none(), "sample {index} stored twice: {line}");
    }
    by_problem
}

/// Every problem has exactly samples 0..n, all completed, with distinct responses (the
/// instant server's text is a function of prompt and seed: a reused seed repeats one).
fn assert_exactly_n_distinct(t: &TestDir, store: &str, problems: usize, n: u32) {
    let all = samples(t, store);
    assert_eq!(all.len(), problems, "problems in {store}");
    for (problem, by_index) in &all {
        let indices: Vec<u32> = by_index.keys().copied().collect();
        assert_eq!(indices, (0..n).collect::<Vec<_>>(), "{problem}");
        let responses: HashSet<&str> = by_index
            .values()
            .map(|(status, response)| {
                assert_eq!(status, "ok", "{problem}");
                response.as_deref().unwrap()
            })
            .collect();
        assert_eq!(responses.len(), n as usize, "{problem}: duplicate samples");
    }
}

fn summary(stdout: &str) -> Value {
    serde_json::from_str(stdout).unwrap()
}

/// `127.0.0.1:PORT` for every loopback port, so snapshots do not depend on free ports.
fn mask_ports(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("127.0.0.1:") {
        let (before, after) = rest.split_at(at + "127.0.0.1:".len());
        out.push_str(before);
        let digits = after.chars().take_while(char::is_ascii_digit).count();
        out.push_str(if digits > 0 { "PORT" } else { "" });
        rest = &after[digits..];
    }
    out.push_str(rest);
    out
}

#[test]
fn resume_tops_up_and_never_regenerates() {
    let servers = Servers::new();
    let server = servers.instant(InstantConfig::default());
    let url = server.base_url();
    let t = TestDir::new();
    prompts(&t, "p.jsonl", 6);
    let first = summary(&t.ok(&[&sample_args(&url, "run.db", "8")[..], &["--json"]].concat()));
    assert_eq!(
        (first["written"].as_u64(), first["missing"].as_u64()),
        (Some(48), Some(0))
    );
    let before = samples(&t, "run.db");
    // The same command again: nothing to do, nothing asked of the server.
    let requests = server
        .stats
        .generation_requests
        .load(std::sync::atomic::Ordering::Relaxed);
    let again = summary(&t.ok(&[&sample_args(&url, "run.db", "8")[..], &["--json"]].concat()));
    assert_eq!(again["written"].as_u64(), Some(0));
    assert_eq!(
        server
            .stats
            .generation_requests
            .load(std::sync::atomic::Ordering::Relaxed),
        requests
    );
    // Raising n tops up; the first 8 stay as they were.
    let topped = summary(&t.ok(&[&sample_args(&url, "run.db", "20")[..], &["--json"]].concat()));
    assert_eq!(topped["written"].as_u64(), Some(72));
    assert_exactly_n_distinct(&t, "run.db", 6, 20);
    let after = samples(&t, "run.db");
    for (problem, by_index) in &before {
        for (index, sample) in by_index {
            assert_eq!(&after[problem][index], sample, "{problem}/{index} changed");
        }
    }
}

#[test]
fn twenty_percent_faults_end_with_exactly_n_per_problem() {
    let servers = Servers::new();
    let server = servers.instant(InstantConfig::default());
    let proxy = servers.proxy(&server, FaultPlan::uniform(0.2, Duration::from_secs(3), 5));
    let url = proxy.base_url();
    let t = TestDir::new();
    prompts(&t, "p.jsonl", 30);
    let mut args = sample_args(&url, "run.db", "16");
    args.extend([
        "--chunk-size",
        "4",
        "--request-timeout",
        "0.5",
        "--retries",
        "30",
        "--json",
    ]);
    let result = summary(&t.ok(&args));
    assert_eq!(result["missing"].as_u64(), Some(0), "{result}");
    assert!(result["retries"].as_u64().unwrap() > 0);
    assert_exactly_n_distinct(&t, "run.db", 30, 16);
    for fault in [
        Fault::ServerError,
        Fault::Stall,
        Fault::DropMidBody,
        Fault::TruncatedJson,
        Fault::FewerChoices,
    ] {
        assert!(proxy.counts.get(fault) > 0, "{fault:?} never happened");
    }
}

#[test]
fn sigkill_at_random_moments_then_rerun_ends_with_exactly_n() {
    const TRIALS: usize = 12;
    let servers = Servers::new();
    let server = servers.instant(InstantConfig {
        latency: Duration::from_millis(15),
        ..InstantConfig::default()
    });
    let proxy = servers.proxy(&server, FaultPlan::uniform(0.2, Duration::from_secs(2), 9));
    let url = proxy.base_url();
    let mut rng = rand::rngs::StdRng::seed_from_u64(42);
    let mut interrupted = 0;
    for trial in 0..TRIALS {
        let t = TestDir::new();
        prompts(&t, "p.jsonl", 40);
        let mut args = sample_args(&url, "run.db", "12");
        args.extend([
            "--chunk-size",
            "4",
            "--max-in-flight",
            "4",
            "--request-timeout",
            "0.5",
            "--retries",
            "30",
            "--quiet",
        ]);
        let mut child = Command::new(env!("CARGO_BIN_EXE_boundary"))
            .args(&args)
            .current_dir(t.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(rng.random_range(50..1500)));
        if child.try_wait().unwrap().is_none() {
            interrupted += 1;
        }
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        t.ok(&args);
        assert_exactly_n_distinct(&t, "run.db", 40, 12);
        let runs: Value =
            serde_json::from_str(&t.ok(&["runs", "--store", "run.db", "--json"])).unwrap();
        assert_eq!(
            runs["runs"].as_array().unwrap().len(),
            1,
            "trial {trial}: one run"
        );
    }
    assert!(
        interrupted >= TRIALS / 2,
        "only {interrupted} kills landed mid-run"
    );
}

#[test]
fn ctrl_c_stops_cleanly_and_a_rerun_finishes() {
    let servers = Servers::new();
    let server = servers.instant(InstantConfig {
        latency: Duration::from_millis(50),
        ..InstantConfig::default()
    });
    let url = server.base_url();
    let t = TestDir::new();
    prompts(&t, "p.jsonl", 40);
    let mut args = sample_args(&url, "run.db", "8");
    args.extend(["--chunk-size", "2", "--max-in-flight", "2", "--json"]);
    let child = Command::new(env!("CARGO_BIN_EXE_boundary"))
        .args(&args)
        .current_dir(t.dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // After the start-up checks (40 prompts counted at 50 ms each, 2 at a time), while
    // sampling (160 requests of 50 ms, 2 at a time).
    std::thread::sleep(Duration::from_millis(2500));
    let interrupted = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(interrupted.success());
    let output = child.wait_with_output().unwrap();
    assert!(
        !output.status.success(),
        "a stopped run says so in its exit status"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("run the same command again to resume"),
        "{stderr}"
    );
    let stopped = summary(&String::from_utf8_lossy(&output.stdout));
    assert_eq!(stopped["stopped"], Value::Bool(true));
    let missing = stopped["missing"].as_u64().unwrap();
    assert!(missing > 0 && missing < 320, "{stopped}");
    // Requests in flight at the signal were awaited: what the summary counts is stored.
    assert_eq!(stopped["completed"].as_u64().unwrap() + missing, 320);
    t.ok(&args);
    assert_exactly_n_distinct(&t, "run.db", 40, 8);
}

#[test]
fn spent_retries_store_failures_that_a_rerun_completes_and_keys_never_leak() {
    const KEY: &str = "sk-boundary-cli-secret-7f3a";
    let servers = Servers::new();
    let server = servers.instant(InstantConfig {
        api_key: Some(KEY.into()),
        ..InstantConfig::default()
    });
    // The probe's two test requests pass (the short prompts fit the context by their length,
    // so the context check sends none); then every generation fails with a 500 whose body
    // echoes the Authorization header. Two problems, one request each, two attempts: four
    // failures in a row, fewer than take an endpoint out of rotation (five), so the retry
    // budget is what ends them (the endpoint-down path has its own test below).
    let proxy = servers.proxy(
        &server,
        FaultPlan {
            rates: vec![(Fault::ServerError, 1.0)],
            pass_first: 2,
            ..FaultPlan::none()
        },
    );
    let t = TestDir::new();
    t.write("key", &format!("{KEY}\n"));
    prompts(&t, "p.jsonl", 2);
    let url = proxy.base_url();
    let mut args = sample_args(&url, "run.db", "4");
    args.extend([
        "--retries",
        "2",
        "--api-key-file",
        "key",
        "--chunk-size",
        "4",
        "--json",
    ]);
    let output = t.run(&args);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let result = summary(&String::from_utf8_lossy(&output.stdout));
    assert_eq!(result["missing"].as_u64(), Some(8));
    assert_eq!(result["written_failed"].as_u64(), Some(8));
    let errors = result["errors"].to_string();
    assert!(
        errors.contains("HTTP 500") && errors.contains("Bearer ***"),
        "{errors}"
    );
    let all = samples(&t, "run.db");
    for by_index in all.values() {
        assert!(by_index.values().all(|(status, _)| status == "failed"));
    }
    // The failed samples are retried by the next run, here straight to the server.
    let direct = server.base_url();
    let mut args = sample_args(&direct, "run.db", "4");
    args.extend(["--api-key-file", "key", "--quiet"]);
    t.ok(&args);
    assert_exactly_n_distinct(&t, "run.db", 2, 4);
    // The key is nowhere: not in the store (main file and WAL), not in any output.
    for entry in std::fs::read_dir(t.dir.path()).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().is_some_and(|n| n == "key") {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        let found = bytes.windows(KEY.len()).any(|w| w == KEY.as_bytes());
        assert!(!found, "the key leaked into {}", path.display());
    }
    let both = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!both.contains(KEY));
}

#[test]
fn when_no_server_works_the_run_stops_after_waiting_and_resumes_later() {
    let servers = Servers::new();
    let server = servers.instant(InstantConfig::default());
    // Only the probe's test request passes (chunks of 2 need no larger `n` tested, and the
    // short prompts fit the context by their length); every later request fails.
    let proxy = servers.proxy(
        &server,
        FaultPlan {
            rates: vec![(Fault::ServerError, 1.0)],
            pass_first: 1,
            ..FaultPlan::none()
        },
    );
    let t = TestDir::new();
    prompts(&t, "p.jsonl", 8);
    let url = proxy.base_url();
    let mut args = sample_args(&url, "run.db", "4");
    args.extend([
        "--retries",
        "50",
        "--wait-for-servers",
        "1",
        "--chunk-size",
        "2",
    ]);
    let started = Instant::now();
    let stderr = t.fails(&args);
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
    assert!(
        stderr.contains("no endpoint has worked for 1 s"),
        "{stderr}"
    );
    assert!(stderr.contains(&format!("{url}: HTTP 500")), "{stderr}");
    // Nothing was stored as failed: the samples are simply still missing.
    let stored = samples(&t, "run.db");
    assert!(stored.values().all(|s| s.is_empty()), "{stored:?}");
    let direct = server.base_url();
    t.ok(&[&sample_args(&direct, "run.db", "4")[..], &["--quiet"]].concat());
    assert_exactly_n_distinct(&t, "run.db", 8, 4);
}

#[test]
fn bad_configuration_fails_within_seconds_naming_the_endpoint() {
    let servers = Servers::new();
    let server = servers.instant(InstantConfig::default());
    let t = TestDir::new();
    prompts(&t, "p.jsonl", 2);
    let port = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dead = format!("http://127.0.0.1:{port}/v1");
    let url = server.base_url();
    let cases: Vec<(&str, Vec<String>)> = vec![
        (
            "unreachable",
            sample_args(&dead, "run.db", "2")
                .iter()
                .map(|s| s.to_string())
                .collect(),
        ),
        (
            "wrong_model",
            sample_args(&url, "run.db", "2")
                .iter()
                .map(|s| {
                    if *s == "test-model" {
                        "Qwen/Qwen2.5-7B".to_owned()
                    } else {
                        s.to_string()
                    }
                })
                .collect(),
        ),
        (
            "not_a_url",
            sample_args("localhost:8000", "run.db", "2")
                .iter()
                .map(|s| s.to_string())
                .collect(),
        ),
    ];
    for (name, args) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let started = Instant::now();
        let stderr = t.fails(&args);
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{name} took {:?}",
            started.elapsed()
        );
        let stderr = stderr
            .replace(&format!(":{port}"), ":PORT")
            .replace(&format!(":{}", server.handle.addr().port()), ":PORT");
        insta::assert_snapshot!(format!("bad_config_{name}"), stderr);
    }
}

#[test]
fn changed_settings_are_refused_unless_a_new_run_is_asked_for() {
    let servers = Servers::new();
    let server = servers.instant(InstantConfig::default());
    let url = server.base_url();
    let t = TestDir::new();
    prompts(&t, "p.jsonl", 2);
    t.ok(&[&sample_args(&url, "run.db", "2")[..], &["--quiet"]].concat());
    let changed = [
        &sample_args(&url, "run.db", "2")[..],
        &["--temperature", "0.9", "--top-k", "20"],
    ]
    .concat();
    insta::assert_snapshot!(t.fails(&changed));
    t.ok(&[&changed[..], &["--new-run", "--quiet"]].concat());
    let runs: Value =
        serde_json::from_str(&t.ok(&["runs", "--store", "run.db", "--json"])).unwrap();
    assert_eq!(runs["runs"].as_array().unwrap().len(), 2);
}

#[test]
fn prompts_that_do_not_fit_are_reported_up_front() {
    let servers = Servers::new();
    let server = servers.instant(InstantConfig {
        max_model_len: 40,
        ..InstantConfig::default()
    });
    let url = server.base_url();
    let t = TestDir::new();
    let long = "word ".repeat(30);
    t.write(
        "p.jsonl",
        &format!("{{\"id\": \"short\", \"prompt\": \"Hi\"}}\n{{\"id\": \"long\", \"prompt\": \"{long}\"}}\n{{\"id\": \"huge\", \"prompt\": \"{long}{long}\"}}\n"),
    );
    insta::assert_snapshot!(mask_ports(&t.fails(&sample_args(&url, "run.db", "2"))));
    assert!(
        samples(&t, "run.db").is_empty(),
        "refused before sampling anything"
    );
    let skipped = summary(
        &t.ok(&[
            &sample_args(&url, "run.db", "2")[..],
            &["--skip-unfit", "--json"],
        ]
        .concat()),
    );
    assert_eq!(
        skipped["skipped_unfit"],
        serde_json::json!(["long", "huge"])
    );
    let all = samples(&t, "run.db");
    assert_eq!(all.keys().collect::<Vec<_>>(), vec!["short"]);
}

#[test]
fn shards_merge_into_the_whole_run_and_conflicts_are_reported() {
    let servers = Servers::new();
    let server = servers.instant(InstantConfig::default());
    let url = server.base_url();
    let t = TestDir::new();
    prompts(&t, "p.jsonl", 20);
    for shard in ["0/3", "1/3", "2/3"] {
        let store = format!("shard{}.db", &shard[..1]);
        t.ok(&[
            &sample_args(&url, &store, "5")[..],
            &["--shard", shard, "--quiet"],
        ]
        .concat());
    }
    let sizes: Vec<usize> = (0..3)
        .map(|i| samples(&t, &format!("shard{i}.db")).len())
        .collect();
    assert_eq!(
        sizes.iter().sum::<usize>(),
        20,
        "shards partition the problems: {sizes:?}"
    );
    t.ok(&[
        "merge",
        "--into",
        "all.db",
        "shard0.db",
        "shard1.db",
        "shard2.db",
    ]);
    assert_exactly_n_distinct(&t, "all.db", 20, 5);
    // The merged store is the same run a single machine would have made.
    t.ok(&[&sample_args(&url, "single.db", "5")[..], &["--quiet"]].concat());
    assert_eq!(samples(&t, "all.db"), samples(&t, "single.db"));
    let merged: Value =
        serde_json::from_str(&t.ok(&["runs", "--store", "all.db", "--json"])).unwrap();
    assert_eq!(merged["runs"].as_array().unwrap().len(), 1);

    // Unseeded samples of the same run differ between two stores: merging them conflicts.
    for store in ["a.db", "b.db"] {
        t.ok(&[
            &sample_args(&url, store, "3")[..],
            &["--unseeded", "--shard", "0/3", "--quiet"],
        ]
        .concat());
    }
    let stderr = t.fails(&["merge", "--into", "a.db", "b.db"]);
    assert!(stderr.contains("conflict (sample)"), "{stderr}");
    assert!(
        stderr.contains("the values already in a.db were kept"),
        "{stderr}"
    );
}
