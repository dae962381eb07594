#!/usr/bin/env python3
"""Tune the lab's task so the base lands where pass@1 and pass@n are both informative.

Stage 1 scores a grid of task constants by the exact success probabilities of the
pretraining mixture itself (a perfect imitator of its data), with the stratified test
split the lab uses: `cargo run --release -p boundary-lab --example tune_task`.
Stage 2 pretrains a real base for the best few candidates (`boundary lab --base-only`)
and measures its pass@1 and pass@n on the test set, since a trained model only
approximates its data. The chosen constants go into the profiles
(crates/boundary-lab/src/profiles/*.toml) by hand, with the table this prints.

Usage: scripts/lab/tune.py [--profile quick|default] [--candidates 4] [--out DIR]
"""

import argparse
import csv
import io
import json
import subprocess
import sys
from pathlib import Path

PASS1_BAND = (0.05, 0.40)
PASSN_BAND = (0.55, 0.95)
TARGET = (0.20, 0.75)  # the middle of the bands


def stage1(repo: Path) -> list[dict]:
    out = subprocess.run(
        ["cargo", "run", "--release", "-q", "-p", "boundary-lab", "--example", "tune_task"],
        cwd=repo, check=True, capture_output=True, text=True,
    ).stdout
    return list(csv.DictReader(io.StringIO(out)))


def distance(row: dict) -> float:
    return abs(float(row["test_pass1"]) - TARGET[0]) + abs(float(row["test_pass256"]) - TARGET[1])


def pick(rows: list[dict], count: int) -> list[dict]:
    """The closest candidates to the band centres, at most one per (modulus, ops, limits)."""
    seen, picked = set(), []
    for row in sorted(rows, key=distance):
        key = (row["modulus"], row["ops"], row["min_limit"], row["max_limit"])
        if key in seen:
            continue
        seen.add(key)
        picked.append(row)
        if len(picked) == count:
            break
    return picked


OPS = {
    "+3+7*2*3": (["+3", "+7", "*2", "*3"], ["+3", "+7"], ["*2", "+3"], "*5"),
    "+1+5*2*3": (["+1", "+5", "*2", "*3"], ["+1", "+5"], ["*2", "+1"], "*5"),
    "+2+9*3": (["+2", "+9", "*3"], ["+2", "+9"], ["*3", "+2"], "*2"),
}


def override(row: dict) -> str:
    base, adder, doubler, teacher = OPS[row["ops"]]
    q = lambda ops: "[" + ", ".join(f'"{o}"' for o in ops) + "]"
    return f"""[task]
modulus = {row['modulus']}
base_ops = {q(base)}
teacher_op = "{teacher}"
min_limit = {row['min_limit']}
max_limit = {row['max_limit']}
step_noise = {row['noise']}

[[task.strategies]]
name = "adder"
kind = "shortest"
ops = {q(adder)}
weight = {row['adder']}

[[task.strategies]]
name = "doubler"
kind = "shortest"
ops = {q(doubler)}
weight = {row['doubler']}

[[task.strategies]]
name = "walker"
kind = "random_walk"
ops = {q(base)}
weight = {row['walker']}
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="default")
    parser.add_argument("--candidates", type=int, default=4)
    parser.add_argument("--out", default="target/lab-tune")
    args = parser.parse_args()
    repo = Path(__file__).resolve().parents[2]
    out = (repo / args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)

    rows = stage1(repo)
    in_band = [r for r in rows
               if PASS1_BAND[0] <= float(r["test_pass1"]) <= PASS1_BAND[1]
               and PASSN_BAND[0] <= float(r["test_pass256"]) <= PASSN_BAND[1]]
    print(f"stage 1: {len(in_band)} of {len(rows)} candidates in band for an ideal imitator", file=sys.stderr)
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "boundary"], cwd=repo, check=True)
    binary = repo / "target" / "release" / "boundary"

    print("| modulus | ops | limits | weights (adder/doubler/walker) | noise | ideal pass@1 | ideal pass@256 | trained pass@1 | trained pass@n |")
    print("|---|---|---|---|---|---|---|---|---|")
    for i, row in enumerate(pick(in_band, args.candidates)):
        cand = out / f"candidate-{i}"
        cand.mkdir(exist_ok=True)
        (cand / "override.toml").write_text(override(row))
        subprocess.run([str(binary), "lab", "--profile", args.profile, "--config", str(cand / "override.toml"),
                        "--base-only", "--out", str(cand)], check=True)
        base = json.loads((cand / "base.json").read_text())["base"]
        print(f"| {row['modulus']} | {row['ops']} | {row['min_limit']}-{row['max_limit']} | "
              f"{row['adder']}/{row['doubler']}/{row['walker']} | {row['noise']} | {float(row['test_pass1']):.3f} | "
              f"{float(row['test_pass256']):.3f} | {base['pass_at_1']:.3f} | {base['pass_at_n']:.3f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
