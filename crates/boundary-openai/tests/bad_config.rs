//! Misconfiguration is reported within seconds, naming the endpoint and the problem: an
//! unreachable URL, a wrong model name, a server that is not an OpenAI API, a missing key,
//! and settings the server rejects.

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use boundary_openai::{
    ApiKey, ConnectError, ConnectOptions, EndpointConfig, HealthPolicy, RetryPolicy, connect,
};
use boundary_sample::{PromptInput, SamplingParams};
use boundary_testserver::{InstantConfig, InstantServer};
use serde_json::{Map, json};

fn params() -> SamplingParams {
    SamplingParams {
        temperature: 0.6,
        top_p: 0.95,
        top_k: None,
        min_p: None,
        max_tokens: 16,
        stop: vec![],
        seed: 0,
        extra: Map::new(),
    }
}

fn options(model: &str) -> ConnectOptions {
    ConnectOptions {
        model: model.into(),
        chunk_size: 16,
        retry: RetryPolicy::default(),
        health: HealthPolicy::default(),
    }
}

/// Connects and returns the error message, checking it came within `limit`.
async fn connect_error(
    endpoints: &[EndpointConfig],
    model: &str,
    params: &SamplingParams,
) -> String {
    let started = Instant::now();
    let result = connect(
        endpoints.to_vec(),
        &PromptInput::Text("Hello".into()),
        params,
        &options(model),
    )
    .await;
    let elapsed = started.elapsed();
    let Err(error) = result else {
        panic!("connecting to {endpoints:?} should fail")
    };
    assert!(matches!(error, ConnectError::Probe(_)), "{error:?}");
    assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
    error.to_string()
}

fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Replaces loopback ports with PORT so snapshots are stable.
fn stable(text: &str, ports: &[u16]) -> String {
    ports
        .iter()
        .fold(text.to_owned(), |t, p| t.replace(&format!(":{p}"), ":PORT"))
}

async fn instant(config: InstantConfig) -> InstantServer {
    InstantServer::start(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), config)
        .await
        .unwrap()
}

#[tokio::test]
async fn unreachable_endpoint() {
    let port = free_port();
    let endpoint = EndpointConfig::parse(&format!("http://127.0.0.1:{port}/v1"), 8).unwrap();
    let message = connect_error(&[endpoint], "m", &params()).await;
    insta::assert_snapshot!(stable(&message, &[port]), @"http://127.0.0.1:PORT/v1: cannot connect (tcp connect error: Connection refused (os error 111)); is the server running and is the URL right?");
}

#[tokio::test]
async fn wrong_model_lists_what_is_served() {
    let server = instant(InstantConfig::default()).await;
    let port = server.handle.addr().port();
    let endpoint = EndpointConfig::parse(&server.base_url(), 8).unwrap();
    let message = connect_error(&[endpoint], "Qwen/Qwen2.5-7B", &params()).await;
    insta::assert_snapshot!(stable(&message, &[port]), @"http://127.0.0.1:PORT/v1: does not serve the model `Qwen/Qwen2.5-7B`; it serves: `test-model`");
}

#[tokio::test]
async fn a_url_without_v1_gets_a_hint() {
    let server = instant(InstantConfig::default()).await;
    let port = server.handle.addr().port();
    let endpoint = EndpointConfig::parse(&format!("http://127.0.0.1:{port}"), 8).unwrap();
    let message = connect_error(&[endpoint], "test-model", &params()).await;
    insta::assert_snapshot!(stable(&message, &[port]), @r#"http://127.0.0.1:PORT: not an OpenAI-compatible API: GET /models answered HTTP 404 (no route /models) (OpenAI-compatible servers mount their API under /v1: try http://127.0.0.1:PORT/v1)"#);
}

/// A real web server that is not an OpenAI API: Python's `http.server`, serving a
/// directory where `v1/models` is an HTML page.
struct StaticSite {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for StaticSite {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn static_site() -> StaticSite {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("v1")).unwrap();
    std::fs::write(
        dir.path().join("v1/models"),
        "<!doctype html><html><body>Welcome to nginx!</body></html>",
    )
    .unwrap();
    let port = free_port();
    let child = Command::new("python3")
        .args([
            "-m",
            "http.server",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
        ])
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3 is needed for this test");
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "python3 -m http.server did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    StaticSite {
        child,
        port,
        _dir: dir,
    }
}

#[tokio::test]
async fn a_web_server_that_is_not_an_openai_api() {
    let site = static_site();
    let endpoint = EndpointConfig::parse(&format!("http://127.0.0.1:{}/v1", site.port), 8).unwrap();
    let message = connect_error(&[endpoint], "m", &params()).await;
    insta::assert_snapshot!(stable(&message, &[site.port]), @r#"http://127.0.0.1:PORT/v1: not an OpenAI-compatible API: GET /models did not return JSON: expected value at line 1 column 1 (body starts with "<!doctype html><html><body>Welcome to nginx!</body></html>")"#);
}

#[tokio::test]
async fn missing_or_wrong_keys() {
    let server = instant(InstantConfig {
        api_key: Some("sk-right".into()),
        ..InstantConfig::default()
    })
    .await;
    let port = server.handle.addr().port();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("key");
    std::fs::write(&path, "sk-wrong").unwrap();
    let wrong = Arc::new(ApiKey::from_file(&path).unwrap());
    for key in [None, Some(wrong)] {
        let endpoint = EndpointConfig::parse(&server.base_url(), 8)
            .unwrap()
            .with_api_key(key);
        let message = connect_error(&[endpoint], "test-model", &params()).await;
        assert!(!message.contains("sk-wrong"));
        insta::allow_duplicates! {
            insta::assert_snapshot!(stable(&message, &[port]), @"http://127.0.0.1:PORT/v1: the server refused the credentials (HTTP 401); set the API key with --api-key-env VAR or --api-key-file PATH");
        }
    }
}

#[tokio::test]
async fn settings_the_server_rejects_fail_at_start() {
    let server = instant(InstantConfig::default()).await;
    let port = server.handle.addr().port();
    let endpoint = EndpointConfig::parse(&server.base_url(), 8).unwrap();
    let mut params = params();
    params.extra.insert("top_k".into(), json!("twenty"));
    let message = connect_error(&[endpoint], "test-model", &params).await;
    insta::assert_snapshot!(stable(&message, &[port]), @"http://127.0.0.1:PORT/v1: a one-token test request to POST /completions failed: HTTP 400: top_k must be an integer");
}

#[tokio::test]
async fn with_several_endpoints_each_failing_one_is_named() {
    let server = instant(InstantConfig::default()).await;
    let good = EndpointConfig::parse(&server.base_url(), 8).unwrap();
    let (first, second) = (free_port(), free_port());
    let bad: Vec<EndpointConfig> = [first, second]
        .iter()
        .map(|p| EndpointConfig::parse(&format!("http://127.0.0.1:{p}/v1"), 8).unwrap())
        .collect();
    let message = connect_error(
        &[bad[0].clone(), good, bad[1].clone()],
        "test-model",
        &params(),
    )
    .await;
    let lines: Vec<&str> = message.lines().collect();
    assert_eq!(lines.len(), 2, "{message}");
    for port in [first, second] {
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with(&format!("http://127.0.0.1:{port}/v1: cannot connect"))),
            "{message}"
        );
    }
}
