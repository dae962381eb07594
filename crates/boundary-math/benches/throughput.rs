//! Throughput and per-pair latency of the math verifier on a JSONL file of pairs
//! (`gold`, `response`, optional `id`), single-threaded and in batch on 1..N cores.
//!
//! `cargo bench -p boundary-math --bench throughput -- PAIRS.jsonl [VERDICTS.jsonl]`
//!
//! The single-threaded passes call `verify` per pair (the gold is parsed every time, as
//! a reference implementation would); the batch pass calls `verify_batch`, which parses
//! each distinct gold once. Timings are wall-clock on this machine; compare them only
//! with numbers measured in the same run.

use std::io::Write;
use std::time::{Duration, Instant};

use boundary_math::{MathConfig, verify, verify_batch};
use serde_json::{Value, json};

/// Batch passes grade at least this many pairs, so each takes long enough to time.
const BATCH_PAIRS: usize = 50_000;
/// Measured single-threaded passes over the pairs.
const PASSES: usize = 5;
/// Rounds over the thread counts in the batch measurement; the best round counts.
const BATCH_ROUNDS: usize = 3;

fn percentile(sorted: &[Duration], fraction: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * fraction).round() as usize;
    sorted[index].as_secs_f64() * 1e6
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let arguments: Vec<String> = std::env::args()
        .skip(1)
        .filter(|argument| argument != "--bench")
        .collect();
    let Some(pairs_path) = arguments.first() else {
        eprintln!("usage: throughput PAIRS.jsonl [VERDICTS.jsonl]");
        std::process::exit(2);
    };
    let mut pairs = Vec::new();
    // cargo bench runs this in the crate's directory: give absolute paths.
    let text = std::fs::read_to_string(pairs_path)
        .map_err(|error| format!("cannot read {pairs_path}: {error}"))?;
    for (number, line) in text.lines().enumerate() {
        let value: Value = serde_json::from_str(line)
            .map_err(|error| format!("{pairs_path}:{}: {error}", number + 1))?;
        let field = |name: &str| value[name].as_str().map(str::to_string);
        let (Some(gold), Some(response)) = (field("gold"), field("response")) else {
            return Err(format!(
                "{pairs_path}:{}: needs string fields gold and response",
                number + 1
            )
            .into());
        };
        pairs.push((
            field("id").unwrap_or_else(|| (number + 1).to_string()),
            gold,
            response,
        ));
    }
    let config = MathConfig::default();

    // Warm-up pass (page faults, allocator), then PASSES measured single-threaded passes.
    // On a shared machine a pass can be preempted; each pair's latency is its median
    // over the passes and the throughput is that of the median pass.
    for (_, gold, response) in &pairs {
        std::hint::black_box(verify(gold, response, &config));
    }
    let mut per_pair: Vec<Vec<Duration>> = vec![Vec::with_capacity(PASSES); pairs.len()];
    let mut pass_times = Vec::with_capacity(PASSES);
    let mut verdicts = Vec::new();
    for _ in 0..PASSES {
        verdicts.clear();
        let started = Instant::now();
        for ((_, gold, response), times) in pairs.iter().zip(per_pair.iter_mut()) {
            let start = Instant::now();
            let verdict = verify(gold, response, &config);
            times.push(start.elapsed());
            verdicts.push(verdict);
        }
        pass_times.push(started.elapsed());
    }
    let median = |values: &mut Vec<Duration>| {
        values.sort();
        values[values.len() / 2]
    };
    let latencies: Vec<Duration> = per_pair.iter_mut().map(median).collect();
    let total = median(&mut pass_times);
    if let Some(path) = arguments.get(1) {
        let file =
            std::fs::File::create(path).map_err(|error| format!("cannot write {path}: {error}"))?;
        let mut out = std::io::BufWriter::new(file);
        for ((id, _, _), (verdict, latency)) in pairs.iter().zip(verdicts.iter().zip(&latencies)) {
            let record = json!({
                "id": id,
                "correct": verdict.is_correct(),
                "verdict": verdict.outcome.name(),
                "rule": verdict.rule.name(),
                "extracted": verdict.extracted,
                "reason": verdict.reason,
                "seconds": latency.as_secs_f64(),
            });
            writeln!(out, "{record}")?;
        }
    }
    let mut sorted = latencies.clone();
    sorted.sort();
    let single = json!({
        "pairs": pairs.len(),
        "seconds": total.as_secs_f64(),
        "pairs_per_second": pairs.len() as f64 / total.as_secs_f64(),
        "p50_us": percentile(&sorted, 0.5),
        "p90_us": percentile(&sorted, 0.9),
        "p99_us": percentile(&sorted, 0.99),
        "max_us": percentile(&sorted, 1.0),
    });
    println!("single_thread {single}");

    let repeat = BATCH_PAIRS.div_ceil(pairs.len().max(1));
    let batch: Vec<(&str, &str)> = (0..repeat)
        .flat_map(|_| {
            pairs
                .iter()
                .map(|(_, gold, response)| (gold.as_str(), response.as_str()))
        })
        .collect();
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let pools = (1..=cores)
        .map(|threads| rayon::ThreadPoolBuilder::new().num_threads(threads).build())
        .collect::<Result<Vec<_>, _>>()?;
    let mut best = vec![f64::INFINITY; cores];
    for _ in 0..BATCH_ROUNDS {
        for (index, pool) in pools.iter().enumerate() {
            let start = Instant::now();
            std::hint::black_box(pool.install(|| verify_batch(&batch, &config)));
            best[index] = best[index].min(start.elapsed().as_secs_f64());
        }
    }
    for (index, seconds) in best.iter().enumerate() {
        let line = json!({"threads": index + 1, "pairs": batch.len(), "seconds": seconds, "pairs_per_second": batch.len() as f64 / seconds});
        println!("batch {line}");
    }
    Ok(())
}
