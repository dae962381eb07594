//! Crash safety: `boundary import` killed with SIGKILL at random moments.
//!
//! After every kill the store must pass SQLite's integrity check and hold each
//! imported file either whole or not at all; re-running the same commands must end
//! with every sample present exactly once.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::TestDir;
use rand::{Rng, SeedableRng};

const KILLS: usize = 24;

fn samples(model: &str, count: u32) -> String {
    (0..count)
        .map(|i| {
            format!(
                "{{\"model\":\"{model}\",\"benchmark\":\"crash\",\"problem_id\":\"p{}\",\"sample_index\":{},\"response\":\"response {i} of {model}, long enough to fill some pages of the database\",\"correct\":{}}}\n",
                i / 64,
                i % 64,
                i % 3 == 0
            )
        })
        .collect()
}

/// Samples per model in the store, and the integrity check's verdict.
fn inspect(t: &TestDir) -> (Vec<(String, u64)>, bool) {
    if !t.path("run.db").exists() {
        return (Vec::new(), true);
    }
    let counts = t
        .samples_per_run("run.db")
        .unwrap_or_else(|stderr| panic!("{stderr}"));
    let check = Command::new("python3")
        .args(["-c", "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('PRAGMA integrity_check').fetchone()[0])"])
        .arg(t.path("run.db"))
        .output()
        .expect("python3 runs");
    (
        counts,
        String::from_utf8_lossy(&check.stdout).trim() == "ok",
    )
}

#[test]
fn sigkill_during_import_never_loses_or_duplicates() {
    let t = TestDir::new();
    let per_file = 20_000;
    let files = [
        ("a", t.write("a.jsonl", &samples("a", per_file))),
        ("b", t.write("b.jsonl", &samples("b", per_file))),
    ];
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    // How long one import takes here, to spread the kills over its whole duration. An
    // import that finishes before its kill shows the machine got faster: its time becomes
    // the new estimate, so that a load that eases cannot leave most kills too late.
    let started = Instant::now();
    t.ok(&[
        "import", "--store", "probe.db", "--input", "a.jsonl", "--quiet",
    ]);
    let mut full = started.elapsed();

    let mut interrupted = 0;
    for round in 0..KILLS {
        // Every round imports a file the store lacks, so that it has work to interrupt:
        // once both are in, the store starts again (a re-import would be a quick no-op).
        let (counts, _) = inspect(&t);
        let imported = |model: &str| counts.iter().any(|(m, n)| m == model && *n > 0);
        let lacking = [&files[round % 2], &files[(round + 1) % 2]]
            .into_iter()
            .find(|(model, _)| !imported(model));
        let (model, file) = match lacking {
            Some(pick) => pick,
            None => {
                for name in ["run.db", "run.db-wal", "run.db-shm"] {
                    let _ = std::fs::remove_file(t.path(name));
                }
                &files[round % 2]
            }
        };
        let spawned = Instant::now();
        let mut child = Command::new(env!("CARGO_BIN_EXE_boundary"))
            .args(["import", "--store", "run.db", "--input"])
            .arg(file)
            .arg("--quiet")
            .current_dir(t.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let kill_at = spawned + full.mul_f64(rng.random_range(0.0..1.2));
        let finished = loop {
            if child.try_wait().unwrap().is_some() {
                break true;
            }
            if Instant::now() >= kill_at {
                break false;
            }
            std::thread::sleep(Duration::from_millis(2));
        };
        if finished {
            full = spawned.elapsed();
        } else {
            child.kill().unwrap(); // SIGKILL on Unix
            if !child.wait().unwrap().success() {
                interrupted += 1;
            }
        }
        let (counts, intact) = inspect(&t);
        assert!(
            intact,
            "integrity check failed after kill {round} of {model}"
        );
        for (m, n) in counts {
            assert!(
                n == 0 || n == u64::from(per_file),
                "after kill {round}: {m} has {n} samples"
            );
        }
    }
    assert!(
        interrupted >= KILLS / 2,
        "only {interrupted} of {KILLS} imports were actually interrupted"
    );

    // Re-running the same commands completes the store, exactly once per sample.
    for (_, file) in &files {
        t.ok(&[
            "import",
            "--store",
            "run.db",
            "--input",
            file.to_str().unwrap(),
            "--quiet",
        ]);
        t.ok(&[
            "import",
            "--store",
            "run.db",
            "--input",
            file.to_str().unwrap(),
            "--quiet",
        ]);
    }
    let (mut counts, intact) = inspect(&t);
    assert!(intact);
    counts.sort();
    assert_eq!(
        counts,
        vec![
            ("a".to_string(), u64::from(per_file)),
            ("b".to_string(), u64::from(per_file))
        ]
    );
}
