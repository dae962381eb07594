//! The store sink: every finished sample goes to the store at once.
//!
//! One writer thread owns the [`Store`]; backends on any thread (or tokio task) send
//! samples through a cheap, clonable [`SinkHandle`]. The thread commits whatever has
//! arrived as one transaction (group commit), so a burst of samples costs one commit
//! while a lone sample is still committed the moment it arrives. A sample is durable
//! once its transaction commits: a killed process loses only samples still in flight.

use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::JoinHandle;

use boundary_store::{NewSample, SampleOutcome, SampleWrite, Store, StoreError};
use serde::Serialize;
use thiserror::Error;

/// What the sink wrote, by outcome.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SinkSummary {
    /// Completed samples written.
    pub completed: u64,
    /// Failed samples written (their errors are in the store).
    pub failed: u64,
    /// Samples the store already had (a duplicate delivery, harmless).
    pub duplicates: u64,
    /// Samples whose (problem, index) already held a different completed response.
    pub conflicts: u64,
}

/// The sink stopped (its store failed); the error comes back from [`StoreSink::finish`].
#[derive(Debug, Error)]
#[error("the store writer has stopped; no more samples can be written")]
pub struct SinkClosed;

/// A handle for sending samples to the writer thread.
#[derive(Clone)]
pub struct SinkHandle {
    tx: Sender<NewSample>,
}

impl SinkHandle {
    pub fn write(&self, sample: NewSample) -> Result<(), SinkClosed> {
        self.tx.send(sample).map_err(|_| SinkClosed)
    }
}

/// The writer thread and the handle that feeds it.
pub struct StoreSink {
    handle: SinkHandle,
    thread: JoinHandle<Result<SinkSummary, StoreError>>,
}

/// At most this many samples go into one transaction.
const MAX_GROUP: usize = 512;

impl StoreSink {
    /// Starts the writer thread for samples of run `run_id`.
    pub fn spawn(store: Store, run_id: i64) -> Self {
        let (tx, rx) = channel();
        let thread = std::thread::Builder::new()
            .name("boundary-store-writer".into())
            .spawn(move || write_loop(store, run_id, rx))
            .expect("spawning a thread succeeds");
        Self {
            handle: SinkHandle { tx },
            thread,
        }
    }

    pub fn handle(&self) -> SinkHandle {
        self.handle.clone()
    }

    /// Waits until every sample sent so far is committed (all handles must be
    /// dropped first) and returns what was written.
    pub fn finish(self) -> Result<SinkSummary, StoreError> {
        drop(self.handle);
        self.thread.join().expect("the store writer does not panic")
    }
}

fn write_loop(
    mut store: Store,
    run_id: i64,
    rx: Receiver<NewSample>,
) -> Result<SinkSummary, StoreError> {
    let mut summary = SinkSummary::default();
    let mut group = Vec::with_capacity(MAX_GROUP);
    while let Ok(first) = rx.recv() {
        group.push(first);
        while group.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(s) => group.push(s),
                Err(_) => break,
            }
        }
        let mut writer = store.writer()?;
        for sample in group.drain(..) {
            let failed = matches!(sample.outcome, SampleOutcome::Failed { .. });
            match writer.put_sample(run_id, &sample)? {
                SampleWrite::Inserted | SampleWrite::ReplacedFailed if failed => {
                    summary.failed += 1
                }
                SampleWrite::Inserted | SampleWrite::ReplacedFailed => summary.completed += 1,
                SampleWrite::Unchanged => summary.duplicates += 1,
                SampleWrite::Conflict => summary.conflicts += 1,
            }
        }
        writer.commit()?;
    }
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;
    use boundary_store::RunSpec;

    #[test]
    fn samples_from_many_threads_land_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.db");
        let mut store = Store::open(&path).unwrap();
        let run = store
            .ensure_run(&RunSpec {
                model: "m".into(),
                benchmark: "b".into(),
                source: "test".into(),
                sampling: serde_json::json!({}),
                seed: None,
            })
            .unwrap();
        let sink = StoreSink::spawn(store, run.id);
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let handle = sink.handle();
                std::thread::spawn(move || {
                    for i in 0..250u32 {
                        // every thread also re-sends thread 0's samples: duplicates
                        for owner in [t, 0] {
                            let outcome = if i % 50 == 0 {
                                SampleOutcome::Failed {
                                    error: "boom".into(),
                                }
                            } else {
                                SampleOutcome::Ok {
                                    response: format!("r{i}"),
                                }
                            };
                            handle
                                .write(NewSample {
                                    problem: format!("p{owner}"),
                                    sample_index: i,
                                    outcome,
                                    finish_reason: None,
                                    prompt_tokens: None,
                                    completion_tokens: None,
                                })
                                .unwrap();
                        }
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let summary = sink.finish().unwrap();
        assert_eq!(summary.completed + summary.failed, 1000);
        assert_eq!(summary.failed, 20);
        assert_eq!(summary.duplicates, 1000);
        let store = Store::open_existing(&path).unwrap();
        assert_eq!(store.table_counts().unwrap()["samples"], 1000);
    }
}
