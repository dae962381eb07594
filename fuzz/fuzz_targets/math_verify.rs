//! Fuzzes `boundary_math::verify`: the input is a gold answer and a response separated by
//! the first newline. A panic is a crash. When `BOUNDARY_FUZZ_MAX_MS` is set, a call
//! slower than that many milliseconds is reported as a crash too, so that the fuzzer
//! saves inputs that break the time bound (run without sanitizers for that).
#![no_main]

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use boundary_math::{MathConfig, Outcome, verify};
use libfuzzer_sys::fuzz_target;

fn time_limit() -> Option<Duration> {
    static LIMIT: OnceLock<Option<Duration>> = OnceLock::new();
    *LIMIT.get_or_init(|| {
        std::env::var("BOUNDARY_FUZZ_MAX_MS")
            .ok()
            .and_then(|ms| ms.parse().ok())
            .map(Duration::from_millis)
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (gold, response) = text.split_once('\n').unwrap_or((text, text));
    let config = MathConfig::default();
    let timed = || {
        let start = Instant::now();
        let verdict = verify(gold, response, &config);
        (verdict, start.elapsed())
    };
    let (verdict, mut elapsed) = timed();
    if verdict.outcome == Outcome::Correct {
        assert!(
            verdict.extracted.is_some(),
            "a correct verdict names the answer it graded"
        );
    }
    if let Some(limit) = time_limit() {
        // On a shared machine a single slow call may be preemption: retry before failing.
        for _ in 0..2 {
            if elapsed > limit {
                elapsed = elapsed.min(timed().1);
            }
        }
        assert!(
            elapsed <= limit,
            "verify took {elapsed:?} (limit {limit:?})"
        );
    }
});
