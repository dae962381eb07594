//! A loopback proxy that breaks responses on purpose, in front of a real server or the
//! instant one: 500s, 429s with `Retry-After`, stalls, connections dropped before or in
//! the middle of a body, truncated JSON, and fewer choices than asked for.
//!
//! Faults hit generation requests (`POST .../completions`) only: the point is to test how a
//! client survives them mid-run, and `GET /models` stays reliable so start-up succeeds.
//! Which request gets which fault is drawn from a seeded generator, so a failing test
//! replays the same sequence of faults (up to the order in which requests arrive).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use hyper::Response;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::Value;

use crate::body::{Part, ScriptedBody};
use crate::serve::{ReadRequest, Reply, ServerHandle, bytes_response, error_response, serve};

/// The kinds of fault the proxy injects.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Fault {
    ServerError,
    TooManyRequests,
    /// No response for [`FaultPlan::stall`] (longer than the client's timeout), then the
    /// real one.
    Stall,
    /// Half the body, a pause of [`FaultPlan::stall`], then the rest: a server that hangs
    /// mid-response.
    StallMidBody,
    /// The connection closes before any response.
    DropBeforeResponse,
    /// Half the body, then the connection closes.
    DropMidBody,
    /// A complete HTTP response whose JSON body is cut short.
    TruncatedJson,
    /// A valid response with some choices removed.
    FewerChoices,
}

pub const ALL_FAULTS: [Fault; 8] = [
    Fault::ServerError,
    Fault::TooManyRequests,
    Fault::Stall,
    Fault::StallMidBody,
    Fault::DropBeforeResponse,
    Fault::DropMidBody,
    Fault::TruncatedJson,
    Fault::FewerChoices,
];

/// How often each fault happens and how it behaves.
#[derive(Clone, Debug)]
pub struct FaultPlan {
    /// Probability per generation request of each fault; the rest pass through untouched.
    pub rates: Vec<(Fault, f64)>,
    pub stall: Duration,
    /// The `Retry-After` value sent with 429s (seconds).
    pub retry_after: u64,
    pub seed: u64,
    /// This many generation requests pass untouched before faults start (lets a client's
    /// start-up probe through).
    pub pass_first: u64,
}

impl FaultPlan {
    /// `total` spread evenly over every kind of fault.
    pub fn uniform(total: f64, stall: Duration, seed: u64) -> Self {
        let each = total / ALL_FAULTS.len() as f64;
        Self {
            rates: ALL_FAULTS.iter().map(|&f| (f, each)).collect(),
            stall,
            retry_after: 0,
            seed,
            pass_first: 0,
        }
    }

    /// No faults: a plain proxy.
    pub fn none() -> Self {
        Self {
            rates: Vec::new(),
            stall: Duration::ZERO,
            retry_after: 0,
            seed: 0,
            pass_first: 0,
        }
    }
}

/// How many faults of each kind were injected, and how many requests passed untouched.
#[derive(Debug, Default)]
pub struct FaultCounts {
    counts: Mutex<Vec<(Fault, u64)>>,
    pub passed: AtomicU64,
}

impl FaultCounts {
    pub fn get(&self, fault: Fault) -> u64 {
        self.lock()
            .iter()
            .find(|(f, _)| *f == fault)
            .map_or(0, |(_, c)| *c)
    }

    pub fn total(&self) -> u64 {
        self.lock().iter().map(|(_, c)| c).sum()
    }

    fn add(&self, fault: Fault) {
        let mut counts = self.lock();
        match counts.iter_mut().find(|(f, _)| *f == fault) {
            Some((_, c)) => *c += 1,
            None => counts.push((fault, 1)),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(Fault, u64)>> {
        self.counts.lock().unwrap_or_else(|p| p.into_inner())
    }
}

pub struct FaultProxy {
    pub handle: ServerHandle,
    pub counts: Arc<FaultCounts>,
}

struct Shared {
    upstream: String,
    plan: FaultPlan,
    rng: Mutex<ChaCha8Rng>,
    client: reqwest::Client,
    counts: Arc<FaultCounts>,
    generations: AtomicU64,
}

impl FaultProxy {
    /// Proxies to `upstream` (a base such as `http://127.0.0.1:8000`, without `/v1`).
    pub async fn start(addr: SocketAddr, upstream: &str, plan: FaultPlan) -> std::io::Result<Self> {
        let counts = Arc::new(FaultCounts::default());
        let shared = Arc::new(Shared {
            upstream: upstream.trim_end_matches('/').to_owned(),
            rng: Mutex::new(ChaCha8Rng::seed_from_u64(plan.seed)),
            plan,
            client: reqwest::Client::builder()
                .tcp_nodelay(true)
                .build()
                .map_err(std::io::Error::other)?,
            counts: counts.clone(),
            generations: AtomicU64::new(0),
        });
        let handle = serve(addr, move |request| {
            let shared = shared.clone();
            async move { proxy(&shared, request).await }
        })
        .await?;
        Ok(Self { handle, counts })
    }

    pub fn base_url(&self) -> String {
        self.handle.base_url()
    }
}

fn draw(shared: &Shared) -> (Option<Fault>, f64) {
    if shared.generations.fetch_add(1, Ordering::Relaxed) < shared.plan.pass_first {
        return (None, 0.0);
    }
    let mut rng = shared.rng.lock().unwrap_or_else(|p| p.into_inner());
    let roll: f64 = rng.random();
    let detail: f64 = rng.random();
    let mut acc = 0.0;
    for &(fault, rate) in &shared.plan.rates {
        acc += rate;
        if roll < acc {
            return (Some(fault), detail);
        }
    }
    (None, detail)
}

async fn proxy(shared: &Shared, request: ReadRequest) -> Reply {
    let is_generation =
        request.method == hyper::Method::POST && request.path.ends_with("completions");
    let (fault, detail) = if is_generation {
        draw(shared)
    } else {
        (None, 0.0)
    };
    match fault {
        Some(Fault::ServerError) => {
            shared.counts.add(Fault::ServerError);
            // Like a careless gateway, echo the request's credentials in the error body:
            // the client must keep them out of everything it stores or prints.
            let auth = request
                .headers
                .get(hyper::header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("none");
            return Some(error_response(
                500,
                &format!("injected internal server error (request Authorization: {auth})"),
            ));
        }
        Some(Fault::TooManyRequests) => {
            shared.counts.add(Fault::TooManyRequests);
            let mut response = error_response(429, "injected rate limit");
            response.headers_mut().insert(
                hyper::header::RETRY_AFTER,
                hyper::header::HeaderValue::from(shared.plan.retry_after),
            );
            return Some(response);
        }
        Some(Fault::DropBeforeResponse) => {
            shared.counts.add(Fault::DropBeforeResponse);
            return None;
        }
        Some(Fault::Stall) => {
            shared.counts.add(Fault::Stall);
            tokio::time::sleep(shared.plan.stall).await;
        }
        _ => {}
    }
    let (status, body) = match forward(shared, &request).await {
        Ok(answer) => answer,
        Err(error) => return Some(error_response(502, &format!("upstream failed: {error}"))),
    };
    if !(200..300).contains(&status) {
        return Some(bytes_response(status, body));
    }
    let half = body.len() / 2;
    match fault {
        Some(Fault::DropMidBody) => {
            shared.counts.add(Fault::DropMidBody);
            Some(Response::new(ScriptedBody::new(vec![
                Part::Data(body.slice(..half)),
                Part::Break,
            ])))
        }
        Some(Fault::StallMidBody) => {
            shared.counts.add(Fault::StallMidBody);
            Some(Response::new(ScriptedBody::new(vec![
                Part::Data(body.slice(..half)),
                Part::Pause(shared.plan.stall),
                Part::Data(body.slice(half..)),
            ])))
        }
        Some(Fault::TruncatedJson) => {
            shared.counts.add(Fault::TruncatedJson);
            let cut = ((body.len() as f64 * detail) as usize).min(body.len().saturating_sub(1));
            Some(bytes_response(200, body.slice(..cut)))
        }
        Some(Fault::FewerChoices) => match fewer_choices(&body, detail) {
            Some(thinned) => {
                shared.counts.add(Fault::FewerChoices);
                Some(bytes_response(200, thinned))
            }
            None => {
                shared.counts.passed.fetch_add(1, Ordering::Relaxed);
                Some(bytes_response(200, body))
            }
        },
        _ => {
            shared.counts.passed.fetch_add(1, Ordering::Relaxed);
            Some(bytes_response(200, body))
        }
    }
}

async fn forward(shared: &Shared, request: &ReadRequest) -> Result<(u16, Bytes), reqwest::Error> {
    let url = format!("{}{}", shared.upstream, request.path);
    let method = reqwest::Method::from_bytes(request.method.as_str().as_bytes())
        .unwrap_or(reqwest::Method::GET);
    let mut upstream = shared
        .client
        .request(method, url)
        .body(request.body.clone());
    for name in [hyper::header::AUTHORIZATION, hyper::header::CONTENT_TYPE] {
        if let Some(value) = request.headers.get(&name) {
            upstream = upstream.header(name.as_str(), value.as_bytes());
        }
    }
    let response = upstream.send().await?;
    let status = response.status().as_u16();
    Ok((status, response.bytes().await?))
}

/// Removes a random share of the choices (possibly all), keeping their `index` fields.
fn fewer_choices(body: &Bytes, detail: f64) -> Option<Bytes> {
    let mut value: Value = serde_json::from_slice(body).ok()?;
    let choices = value.get_mut("choices")?.as_array_mut()?;
    if choices.is_empty() {
        return None;
    }
    let keep = (choices.len() as f64 * detail) as usize;
    // Drop from the front half the time, so that a client sees gaps in the numbering too.
    if detail < 0.5 {
        choices.drain(..choices.len() - keep);
    } else {
        choices.truncate(keep);
    }
    Some(Bytes::from(value.to_string()))
}
