//! Worst-case latency of `verify` over a directory of inputs (a fuzz corpus): each file
//! is "gold<newline>response", timed as the minimum of three runs in an optimised,
//! uninstrumented build. Prints the distribution and the slowest inputs.
//!
//! `cargo bench -p boundary-math --bench worst_case -- CORPUS_DIR`

use std::time::{Duration, Instant};

use boundary_math::{MathConfig, verify};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let arguments: Vec<String> = std::env::args()
        .skip(1)
        .filter(|argument| argument != "--bench")
        .collect();
    let Some(directory) = arguments.first() else {
        eprintln!("usage: worst_case CORPUS_DIR");
        std::process::exit(2);
    };
    let config = MathConfig::default();
    let mut timings: Vec<(Duration, String)> = Vec::new();
    // cargo bench runs this in the crate's directory: give an absolute path.
    let entries = std::fs::read_dir(directory)
        .map_err(|error| format!("cannot read {directory}: {error}"))?;
    for entry in entries {
        let path = entry?.path();
        let bytes = std::fs::read(&path)?;
        let Ok(text) = std::str::from_utf8(&bytes) else {
            continue;
        };
        let (gold, response) = text.split_once('\n').unwrap_or((text, text));
        let fastest = (0..3)
            .map(|_| {
                let start = Instant::now();
                std::hint::black_box(verify(gold, response, &config));
                start.elapsed()
            })
            .min()
            .unwrap_or_default();
        timings.push((fastest, path.display().to_string()));
    }
    if timings.is_empty() {
        return Err(format!("no UTF-8 inputs in {directory}").into());
    }
    timings.sort();
    let at = |fraction: f64| timings[((timings.len() - 1) as f64 * fraction).round() as usize].0;
    println!(
        "inputs {} p50 {:?} p99 {:?} p99.9 {:?} max {:?}",
        timings.len(),
        at(0.5),
        at(0.99),
        at(0.999),
        at(1.0)
    );
    for (time, path) in timings.iter().rev().take(5) {
        println!("slowest {time:?} {path}");
    }
    Ok(())
}
