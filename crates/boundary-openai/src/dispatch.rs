//! Driving a queue of jobs through the endpoint pool: as many requests in flight as the
//! endpoints allow, each answer read by its job, failures retried with backoff until the
//! budget is spent, and every result handed to the sink as soon as it exists.
//!
//! Sampling and scoring are both such jobs ([`Job`]); this module is the one place that
//! knows about leases, retries, `Retry-After` and stopping.

use std::collections::VecDeque;
use std::sync::Arc;

use rand::SeedableRng;
use rand::rngs::SmallRng;
use serde_json::{Map, Value};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::pool::{Endpoint, EndpointPool, Lease, LeaseOutcome, NoEndpointUp};
use crate::progress::Progress;
use crate::retry::RetryPolicy;
use crate::transport::{Disposition, RequestError};
use crate::wire::GenerationResponse;

/// A unit of work that takes one or more requests.
pub(crate) trait Job: Sized + Send + Sync + 'static {
    /// What the sink receives.
    type Delivery: Send + 'static;

    /// The part of this job one request to `endpoint` carries, and the rest (queued again).
    fn split(self, endpoint: &Endpoint) -> (Self, Option<Self>);

    /// The route and body of the request.
    fn request(&self, endpoint: &Endpoint) -> (&'static str, Map<String, Value>);

    /// Reads an answer into deliveries, and what of the job is still to do. No delivery
    /// and nothing done is a failure of the request.
    fn read(
        &self,
        response: &GenerationResponse,
        endpoint: &Endpoint,
    ) -> Result<(Vec<Self::Delivery>, Option<Self>), RequestError>;

    /// Deliveries for a job that failed for good.
    fn fail(&self, error: &str, attempts: u32) -> Vec<Self::Delivery>;

    /// Counts a delivery in the live counters.
    fn account(delivery: &Self::Delivery, progress: &Progress);
}

/// How a run is asked to stop. `graceful`: send nothing new, wait for requests in flight
/// (their results are still delivered). `abort`: drop requests in flight too.
#[derive(Clone, Debug, Default)]
pub struct StopSignal {
    pub graceful: CancellationToken,
    pub abort: CancellationToken,
}

impl StopSignal {
    pub fn is_stopping(&self) -> bool {
        self.graceful.is_cancelled() || self.abort.is_cancelled()
    }

    /// Completes when either kind of stop was asked for.
    pub async fn stopping(&self) {
        tokio::select! {
            () = self.graceful.cancelled() => {}
            () = self.abort.cancelled() => {}
        }
    }
}

/// How a run ended without error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunEnd {
    /// Every job was delivered (completed or failed).
    Complete,
    /// Stopped on request; undelivered work is still missing.
    Stopped,
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    NoEndpointUp(#[from] NoEndpointUp),
    #[error("{url} refused the run: {error}")]
    EndpointRefused { url: String, error: RequestError },
    #[error("the sink stopped accepting results")]
    SinkClosed,
}

/// A job with the failures it has seen so far.
struct Queued<J> {
    job: J,
    failed_attempts: u32,
    last_error: Option<String>,
}

impl<J> Queued<J> {
    fn fresh(job: J) -> Self {
        Self {
            job,
            failed_attempts: 0,
            last_error: None,
        }
    }
}

enum TaskResult<J> {
    Done,
    Requeue(Queued<J>),
    Fatal(RunError),
}

struct Context<J: Job> {
    retry: RetryPolicy,
    sink: mpsc::Sender<J::Delivery>,
    progress: Arc<Progress>,
    stop: StopSignal,
}

/// Runs every job to a delivery (or until stopped).
pub(crate) async fn run<J: Job>(
    pool: &EndpointPool,
    jobs: Vec<J>,
    retry: RetryPolicy,
    sink: mpsc::Sender<J::Delivery>,
    progress: Arc<Progress>,
    stop: StopSignal,
) -> Result<RunEnd, RunError> {
    // A child token, so that a fatal error stops this run's tasks without cancelling the
    // caller's token.
    let stop = StopSignal {
        graceful: stop.graceful.child_token(),
        abort: stop.abort.clone(),
    };
    let context = Arc::new(Context::<J> {
        retry,
        sink,
        progress,
        stop: stop.clone(),
    });
    let mut queue: VecDeque<Queued<J>> = jobs.into_iter().map(Queued::fresh).collect();
    let mut tasks: JoinSet<TaskResult<J>> = JoinSet::new();
    let mut fatal: Option<RunError> = None;

    while fatal.is_none() && !stop.is_stopping() {
        if queue.is_empty() {
            tokio::select! {
                biased;
                () = stop.stopping() => break,
                joined = tasks.join_next() => match joined {
                    None => break,
                    Some(joined) => absorb(joined, &mut queue, &mut fatal),
                },
            }
            continue;
        }
        tokio::select! {
            biased;
            () = stop.stopping() => break,
            Some(joined) = tasks.join_next(), if !tasks.is_empty() => {
                absorb(joined, &mut queue, &mut fatal);
            }
            lease = pool.acquire() => match lease {
                Ok(lease) => {
                    let Some(queued) = queue.pop_front() else { continue };
                    let (job, rest) = queued.job.split(lease.endpoint());
                    if let Some(rest) = rest {
                        queue.push_front(Queued::fresh(rest));
                    }
                    let queued = Queued { job, ..queued };
                    tasks.spawn(attempt(lease, queued, context.clone()));
                }
                Err(error) => fatal = Some(error.into()),
            },
        }
    }

    // Requests in flight still deliver, unless the caller aborts; jobs waiting to be
    // retried give up at once.
    if fatal.is_some() {
        stop.graceful.cancel();
    }
    loop {
        tokio::select! {
            biased;
            () = stop.abort.cancelled() => {
                tasks.abort_all();
                while tasks.join_next().await.is_some() {}
                break;
            }
            joined = tasks.join_next() => match joined {
                None => break,
                Some(joined) => absorb(joined, &mut queue, &mut fatal),
            },
        }
    }
    match fatal {
        Some(error) => Err(error),
        None if stop.is_stopping() => Ok(RunEnd::Stopped),
        None => Ok(RunEnd::Complete),
    }
}

fn absorb<J>(
    joined: Result<TaskResult<J>, tokio::task::JoinError>,
    queue: &mut VecDeque<Queued<J>>,
    fatal: &mut Option<RunError>,
) {
    match joined {
        Ok(TaskResult::Done) => {}
        Ok(TaskResult::Requeue(queued)) => queue.push_front(queued),
        Ok(TaskResult::Fatal(error)) => {
            fatal.get_or_insert(error);
        }
        Err(join_error) if join_error.is_panic() => {
            std::panic::resume_unwind(join_error.into_panic())
        }
        // Aborted on request: its work stays missing.
        Err(_) => {}
    }
}

/// One request for `queued`, and what follows from its answer.
async fn attempt<J: Job>(
    lease: Lease,
    mut queued: Queued<J>,
    context: Arc<Context<J>>,
) -> TaskResult<J> {
    let endpoint = lease.endpoint().clone();
    let (route, body) = queued.job.request(&endpoint);
    context.progress.request_sent();
    let response = tokio::select! {
        response = lease.transport().post::<_, GenerationResponse>(&endpoint.config, route, &body) => response,
        () = context.stop.abort.cancelled() => return TaskResult::Done,
    };
    let url = endpoint.config.url.to_string();
    let read = response.and_then(|r| queued.job.read(&r, &endpoint));
    let error = match read {
        Ok((deliveries, rest)) if !deliveries.is_empty() => {
            lease.finish(LeaseOutcome::Success);
            for delivery in deliveries {
                J::account(&delivery, &context.progress);
                if context.sink.send(delivery).await.is_err() {
                    return TaskResult::Fatal(RunError::SinkClosed);
                }
            }
            // A partial answer is progress, not a failure: the rest starts a fresh budget.
            return match rest {
                Some(rest) => {
                    context.progress.short_response();
                    TaskResult::Requeue(Queued::fresh(rest))
                }
                None => TaskResult::Done,
            };
        }
        Ok(_) => RequestError::Malformed {
            detail: "the response has no usable choice".into(),
        },
        Err(error) => error,
    };

    let disposition = error.disposition();
    match disposition {
        Disposition::Fatal => {
            lease.finish(LeaseOutcome::Neutral);
            return TaskResult::Fatal(RunError::EndpointRefused { url, error });
        }
        Disposition::RejectRequest => lease.finish(LeaseOutcome::Neutral),
        Disposition::RetryBusy => lease.finish(LeaseOutcome::Busy),
        Disposition::RetryUnhealthy => lease.finish(LeaseOutcome::Failure(&error)),
    }
    queued.failed_attempts += 1;
    queued.last_error = Some(format!("{url}: {error}"));
    if disposition == Disposition::RejectRequest
        || queued.failed_attempts >= context.retry.max_attempts
    {
        let error = queued.last_error.as_deref().unwrap_or("unknown error");
        for delivery in queued.job.fail(error, queued.failed_attempts) {
            J::account(&delivery, &context.progress);
            if context.sink.send(delivery).await.is_err() {
                return TaskResult::Fatal(RunError::SinkClosed);
            }
        }
        return TaskResult::Done;
    }
    context.progress.retry();
    let backoff = context.retry.backoff(
        queued.failed_attempts,
        error.retry_after(),
        &mut SmallRng::from_os_rng(),
    );
    tokio::select! {
        () = tokio::time::sleep(backoff) => TaskResult::Requeue(queued),
        // Stopping: the work stays missing for the next run.
        () = context.stop.stopping() => TaskResult::Done,
    }
}
