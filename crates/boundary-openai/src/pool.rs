//! The endpoints of a run and who gets the next request: the least loaded endpoint that is
//! up and has room, with endpoints that keep failing taken out and probed back in.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::Notify;

use crate::capabilities::{Capabilities, RequestPlan};
use crate::endpoint::{BaseUrl, EndpointConfig};
use crate::health::{Health, HealthPolicy, HealthState, Transition};
use crate::transport::{RequestError, Transport};

/// An endpoint with what the start-up probe found out about it.
#[derive(Debug)]
pub struct Endpoint {
    pub config: EndpointConfig,
    pub capabilities: Capabilities,
    /// How requests to it are shaped (`n` per request, token counting).
    pub plan: RequestPlan,
}

/// The request sent to a taken-out endpoint to see whether it works again: a one-token
/// generation, so a server that lists models but fails to generate stays out.
#[derive(Clone, Debug)]
pub struct RecoveryProbe {
    pub route: &'static str,
    pub body: Value,
    pub timeout: Duration,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("no endpoint has worked for {} s:{}", waited.as_secs(), render_down(endpoints))]
pub struct NoEndpointUp {
    pub waited: Duration,
    /// Each endpoint with its last error.
    pub endpoints: Vec<(String, String)>,
}

fn render_down(endpoints: &[(String, String)]) -> String {
    endpoints
        .iter()
        .map(|(url, error)| format!("\n  {url}: {error}"))
        .collect()
}

/// What became of a request sent through a [`Lease`].
#[derive(Debug, Clone, Copy)]
pub enum LeaseOutcome<'a> {
    Success,
    Busy,
    Failure(&'a RequestError),
    /// The request was wrong, not the endpoint (a 400): health is unchanged.
    Neutral,
}

/// Where one endpoint stands, for progress displays and the summary.
#[derive(Debug, Clone, PartialEq)]
pub struct EndpointStatus {
    pub url: String,
    pub up: bool,
    pub in_flight: usize,
    pub limit: usize,
    pub requests_ok: u64,
    pub requests_failed: u64,
    pub last_error: Option<String>,
}

struct Slot {
    health: Health,
    in_flight: usize,
    requests_ok: u64,
    requests_failed: u64,
    last_error: Option<String>,
}

struct Inner {
    endpoints: Vec<Arc<Endpoint>>,
    slots: Mutex<State>,
    changed: Notify,
    policy: HealthPolicy,
    transport: Transport,
    probe: RecoveryProbe,
}

struct State {
    slots: Vec<Slot>,
    /// Where the next tie-break starts, so equally loaded endpoints take turns.
    cursor: usize,
    /// Since when no endpoint has been up (`None` while one is).
    all_down_since: Option<Instant>,
}

/// Shared by every task of a run; cheap to clone.
#[derive(Clone)]
pub struct EndpointPool {
    inner: Arc<Inner>,
}

impl EndpointPool {
    pub fn new(
        endpoints: Vec<Endpoint>,
        policy: HealthPolicy,
        transport: Transport,
        probe: RecoveryProbe,
    ) -> Self {
        let slots = endpoints
            .iter()
            .map(|e| Slot {
                health: Health::new(e.config.max_in_flight),
                in_flight: 0,
                requests_ok: 0,
                requests_failed: 0,
                last_error: None,
            })
            .collect();
        Self {
            inner: Arc::new(Inner {
                endpoints: endpoints.into_iter().map(Arc::new).collect(),
                slots: Mutex::new(State {
                    slots,
                    cursor: 0,
                    all_down_since: None,
                }),
                changed: Notify::new(),
                policy,
                transport,
                probe,
            }),
        }
    }

    pub fn endpoints(&self) -> &[Arc<Endpoint>] {
        &self.inner.endpoints
    }

    pub fn transport(&self) -> &Transport {
        &self.inner.transport
    }

    /// Waits for an endpoint that is up and has room, and reserves one request on it.
    ///
    /// Cancel-safe: dropping the future reserves nothing. Fails only when no endpoint has
    /// been up for [`HealthPolicy::give_up_after`].
    pub async fn acquire(&self) -> Result<Lease, NoEndpointUp> {
        loop {
            let changed = self.inner.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            {
                let mut state = self.inner.lock();
                if let Some(index) = pick(&state) {
                    state.slots[index].in_flight += 1;
                    state.cursor = (index + 1) % state.slots.len();
                    return Ok(Lease {
                        pool: self.clone(),
                        index,
                    });
                }
                if let Some(since) = state.all_down_since
                    && since.elapsed() >= self.inner.policy.give_up_after
                {
                    return Err(NoEndpointUp {
                        waited: since.elapsed(),
                        endpoints: self
                            .inner
                            .endpoints
                            .iter()
                            .zip(&state.slots)
                            .map(|(e, s)| {
                                (
                                    e.config.url.to_string(),
                                    s.last_error.clone().unwrap_or_else(|| "no error".into()),
                                )
                            })
                            .collect(),
                    });
                }
            }
            // The timer re-checks the give-up deadline while nothing changes.
            tokio::select! {
                () = &mut changed => {}
                () = tokio::time::sleep(Duration::from_millis(500)) => {}
            }
        }
    }

    pub fn status(&self) -> Vec<EndpointStatus> {
        let state = self.inner.lock();
        self.inner
            .endpoints
            .iter()
            .zip(&state.slots)
            .map(|(e, s)| EndpointStatus {
                url: e.config.url.to_string(),
                up: s.health.is_up(),
                in_flight: s.in_flight,
                limit: s.health.limit(),
                requests_ok: s.requests_ok,
                requests_failed: s.requests_failed,
                last_error: s.last_error.clone(),
            })
            .collect()
    }

    fn report(&self, index: usize, outcome: LeaseOutcome<'_>) {
        let transition = {
            let mut state = self.inner.lock();
            let slot = &mut state.slots[index];
            let transition = match outcome {
                LeaseOutcome::Success => {
                    slot.requests_ok += 1;
                    slot.health.on_success();
                    Transition::None
                }
                LeaseOutcome::Busy => {
                    slot.requests_failed += 1;
                    slot.health.on_busy();
                    Transition::None
                }
                LeaseOutcome::Neutral => {
                    slot.requests_failed += 1;
                    Transition::None
                }
                LeaseOutcome::Failure(error) => {
                    slot.requests_failed += 1;
                    let text = error.to_string();
                    let transition =
                        slot.health
                            .on_failure(&text, Instant::now(), &self.inner.policy);
                    slot.last_error = Some(text);
                    transition
                }
            };
            if transition == Transition::TakenOut && !state.slots.iter().any(|s| s.health.is_up()) {
                state.all_down_since = Some(Instant::now());
            }
            transition
        };
        if transition == Transition::TakenOut {
            let url = &self.inner.endpoints[index].config.url;
            tracing::warn!("taking {url} out of rotation after repeated failures; probing it");
            self.spawn_prober(index);
        }
        self.inner.changed.notify_waiters();
    }

    fn release(&self, index: usize) {
        self.inner.lock().slots[index].in_flight -= 1;
        self.inner.changed.notify_waiters();
    }

    /// Probes a taken-out endpoint until it answers, then puts it back.
    fn spawn_prober(&self, index: usize) {
        let pool = self.clone();
        tokio::spawn(async move {
            loop {
                let wait = match &pool.inner.lock().slots[index].health.state() {
                    HealthState::Down { next_probe, .. } => {
                        next_probe.saturating_duration_since(Instant::now())
                    }
                    HealthState::Up => return,
                };
                tokio::time::sleep(wait).await;
                let endpoint = &pool.inner.endpoints[index];
                let probe = &pool.inner.probe;
                let result: Result<Value, RequestError> = pool
                    .inner
                    .transport
                    .post_with_timeout(&endpoint.config, probe.route, &probe.body, probe.timeout)
                    .await;
                let transition = {
                    let mut state = pool.inner.lock();
                    let outcome = result.map(|_| ()).map_err(|e| e.to_string());
                    let slot = &mut state.slots[index];
                    if let Err(error) = &outcome {
                        slot.last_error = Some(error.clone());
                    }
                    let transition =
                        slot.health
                            .on_probe(outcome, Instant::now(), &pool.inner.policy);
                    if transition == Transition::BroughtBack {
                        state.all_down_since = None;
                    }
                    transition
                };
                if transition == Transition::BroughtBack {
                    tracing::info!("{} answers again; back in rotation", endpoint.config.url);
                    pool.inner.changed.notify_waiters();
                    return;
                }
            }
        });
    }
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves counters that are still meaningful.
        self.slots
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The least loaded endpoint (in-flight relative to its current limit) that is up and has
/// room; ties go to the first at or after the cursor.
fn pick(state: &State) -> Option<usize> {
    let count = state.slots.len();
    let mut best: Option<(usize, usize, usize)> = None;
    for offset in 0..count {
        let index = (state.cursor + offset) % count;
        let slot = &state.slots[index];
        let limit = slot.health.limit();
        if !slot.health.is_up() || slot.in_flight >= limit {
            continue;
        }
        let better = match best {
            None => true,
            // in_flight / limit < best_in_flight / best_limit, without division.
            Some((_, in_flight, best_limit)) => slot.in_flight * best_limit < in_flight * limit,
        };
        if better {
            best = Some((index, slot.in_flight, limit));
        }
    }
    best.map(|(index, _, _)| index)
}

/// One reserved request slot on one endpoint; released when dropped.
pub struct Lease {
    pool: EndpointPool,
    index: usize,
}

impl Lease {
    pub fn endpoint(&self) -> &Arc<Endpoint> {
        &self.pool.inner.endpoints[self.index]
    }

    pub fn url(&self) -> &BaseUrl {
        &self.endpoint().config.url
    }

    pub fn transport(&self) -> &Transport {
        &self.pool.inner.transport
    }

    /// Records how the request went (health, limits, counters) and releases the slot.
    pub fn finish(self, outcome: LeaseOutcome<'_>) {
        self.pool.report(self.index, outcome);
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.pool.release(self.index);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(limits: &[usize], policy: HealthPolicy) -> EndpointPool {
        let endpoints = limits
            .iter()
            .enumerate()
            .map(|(i, &limit)| Endpoint {
                // Port 9 (discard) on loopback: nothing listens, probes fail fast.
                config: EndpointConfig::parse(&format!("http://127.0.0.1:9/e{i}/v1"), limit)
                    .unwrap(),
                capabilities: Capabilities::assumed(),
                plan: Capabilities::assumed().request_plan(16),
            })
            .collect();
        let retry = crate::retry::RetryPolicy::default();
        EndpointPool::new(
            endpoints,
            policy,
            Transport::new(&retry).unwrap(),
            RecoveryProbe {
                route: "completions",
                body: serde_json::json!({}),
                timeout: Duration::from_millis(200),
            },
        )
    }

    #[tokio::test]
    async fn requests_spread_to_the_least_loaded_endpoint() {
        let pool = pool(&[2, 4], HealthPolicy::default());
        let mut leases = Vec::new();
        for _ in 0..6 {
            leases.push(pool.acquire().await.unwrap());
        }
        let status = pool.status();
        assert_eq!(status[0].in_flight, 2);
        assert_eq!(status[1].in_flight, 4);
        // Full: the next acquire waits until a lease is released.
        let waiting = tokio::time::timeout(Duration::from_millis(50), pool.acquire()).await;
        assert!(waiting.is_err(), "no room anywhere, acquire must wait");
        let released = leases.remove(0);
        let freed = released.index;
        drop(released);
        let next = tokio::time::timeout(Duration::from_secs(1), pool.acquire())
            .await
            .expect("a released slot is handed out")
            .unwrap();
        assert_eq!(next.index, freed);
    }

    #[tokio::test]
    async fn failing_endpoints_are_taken_out_and_the_run_gives_up_when_none_is_left() {
        let policy = HealthPolicy {
            eject_after: 2,
            first_probe_after: Duration::from_millis(20),
            max_probe_interval: Duration::from_millis(50),
            give_up_after: Duration::from_millis(300),
        };
        let pool = pool(&[4, 4], policy);
        let error = RequestError::Connect {
            detail: "connection refused".into(),
        };
        for _ in 0..4 {
            let lease = pool.acquire().await.unwrap();
            lease.finish(LeaseOutcome::Failure(&error));
        }
        let status = pool.status();
        assert!(status.iter().all(|s| !s.up), "{status:?}");
        let started = Instant::now();
        let err = pool.acquire().await.err().expect("nothing is up");
        assert!(started.elapsed() >= Duration::from_millis(250));
        assert_eq!(err.endpoints.len(), 2);
        let text = err.to_string();
        assert!(text.contains("http://127.0.0.1:9/e0/v1"), "{text}");
        assert!(
            text.contains("cannot connect"),
            "probes record their errors: {text}"
        );
    }
}
