"""Foundation benchmarks: pass@k curves with bootstrap CIs, and importing samples.

Runs Boundary and a Python reference on the same inputs, in one go, and prints a
markdown table for BENCHMARKS.md. Usage (from the repository root, after
`cargo build --release -p boundary` and scripts/setup/analysis.sh):

    ~/.cache/boundary/venv-analysis/bin/python scripts/bench/foundation.py

References:
- pass@k: NumPy, the paper's product form 1 - prod(1 - k / arange(n - c + 1, n + 1))
  per problem and k, then a bootstrap over problems (1,000 resamples, vectorised).
- import: Python's sqlite3 `executemany` of the same rows into an equivalent table, in
  one transaction (the usual hand-rolled way to put samples into SQLite).
"""

import json
import os
import random
import sqlite3
import subprocess
import tempfile
import time

import numpy as np

BOUNDARY = os.environ.get("BOUNDARY", "target/release/boundary")
REPEATS = 3


def best_of(fn, repeats=REPEATS):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def passk_reference(counts, ks, resamples=1000, seed=0):
    values = np.empty((len(counts), len(ks)))
    for row, (n, c) in enumerate(counts):
        for col, k in enumerate(ks):
            values[row, col] = 1.0 if n - c < k else 1.0 - np.prod(1.0 - k / np.arange(n - c + 1, n + 1))
    estimate = values.mean(axis=0)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(counts), size=(resamples, len(counts)))
    boot = values[idx].mean(axis=1)
    return estimate, np.percentile(boot, [2.5, 97.5], axis=0)


def main():
    rng = random.Random(0)
    work = tempfile.mkdtemp(prefix="boundary-bench-")
    rows = []

    # 500 problems x n = 1024, per-problem accuracy spread over [0, 1].
    counts = [(1024, int(1024 * rng.random() ** 3)) for _ in range(500)]
    counts_path = os.path.join(work, "counts.jsonl")
    with open(counts_path, "w") as f:
        for i, (n, c) in enumerate(counts):
            f.write(json.dumps({"id": f"p{i}", "n": n, "c": c}) + "\n")
    ks = [2**i for i in range(11)]
    cmd = [BOUNDARY, "passk", "--counts", counts_path, "--bootstrap", "1000", "--seed", "0", "--json"]
    ours = best_of(lambda: subprocess.run(cmd, check=True, capture_output=True))
    ref = best_of(lambda: passk_reference(counts, ks))
    out = json.loads(subprocess.run(cmd, check=True, capture_output=True).stdout)
    estimate, _ = passk_reference(counts, ks)
    worst = max(abs(p["pass_at_k"] - e) / e for p, e in zip(out["curve"], estimate) if e > 0)
    rows.append(("pass@k curve, 500 problems x n=1024, k=1..1024 (11 points), 1,000 bootstrap resamples",
                 " ".join(cmd[1:]).replace(counts_path, "counts.jsonl"), ours, ref,
                 f"max relative difference of the curves {worst:.1e}"))

    # Every k from 1 to 1024 (what the paper's pass@k.py computes).
    all_ks = ",".join(str(k) for k in range(1, 1025))
    cmd_all = [BOUNDARY, "passk", "--counts", counts_path, "--k", all_ks, "--bootstrap", "1000", "--json"]
    ours_all = best_of(lambda: subprocess.run(cmd_all, check=True, capture_output=True))
    ref_all = best_of(lambda: passk_reference(counts, list(range(1, 1025))), repeats=1)
    rows.append(("pass@k at every k = 1..1024, 500 problems x n=1024, 1,000 resamples",
                 "passk --counts counts.jsonl --k 1,2,...,1024 --bootstrap 1000 --json", ours_all, ref_all, ""))

    # 1,000,000 short samples: 2 models x 1,000 problems x 500 samples.
    samples_path = os.path.join(work, "samples.jsonl")
    with open(samples_path, "w") as f:
        for model in ("base", "rl"):
            for p in range(1000):
                for i in range(500):
                    f.write(json.dumps({"model": model, "benchmark": "bench", "problem_id": str(p),
                                        "sample_index": i, "response": f"The answer is {rng.randint(0, 99)}.",
                                        "correct": rng.random() < 0.3}) + "\n")

    def import_ours():
        db = os.path.join(work, "ours.db")
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(db + suffix):
                os.remove(db + suffix)
        subprocess.run([BOUNDARY, "import", "--store", db, "--input", samples_path, "--quiet"], check=True)

    def import_reference():
        db = os.path.join(work, "ref.db")
        if os.path.exists(db):
            os.remove(db)
        con = sqlite3.connect(db)
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("CREATE TABLE samples (model TEXT, benchmark TEXT, problem_id TEXT, sample_index INTEGER,"
                    " response TEXT, correct INTEGER, PRIMARY KEY (model, benchmark, problem_id, sample_index))")
        with open(samples_path) as f:
            rows_in = ((r["model"], r["benchmark"], r["problem_id"], r["sample_index"], r["response"], r["correct"])
                       for r in map(json.loads, f))
            con.executemany("INSERT OR IGNORE INTO samples VALUES (?, ?, ?, ?, ?, ?)", rows_in)
        con.commit()
        con.close()

    ours_import = best_of(import_ours, repeats=2)
    ref_import = best_of(import_reference, repeats=2)
    rows.append(("import 1,000,000 short samples (with grades) into a new store",
                 "import --store run.db --input samples.jsonl", ours_import, ref_import,
                 "Boundary also validates every field and writes runs, problems and grades"))

    print("| what | command | Boundary (s) | reference (s) | reference / Boundary | note |")
    print("|---|---|---|---|---|---|")
    for what, command, a, b, note in rows:
        print(f"| {what} | `boundary {command}` | {a:.3f} | {b:.3f} | {b / a:.1f}x | {note} |")


if __name__ == "__main__":
    main()
