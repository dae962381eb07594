#!/usr/bin/env python3
"""Side-by-side report of Boundary's math verifier and math-verify on labelled pairs.

Usage: math_compare_report.py PAIRS.jsonl BOUNDARY.jsonl MATHVERIFY.jsonl BOUNDARY_BENCH.txt
Writes Markdown to stdout: accuracy against the labels (overall, per category, false
positives and negatives), speed of both single-threaded on the same pairs, batch scaling
of Boundary, and every pair on which the two disagree with who is right.
"""
import json
import statistics
import sys
from collections import defaultdict


# Categories made by math_pairs.py from MATH500's reference solutions.
MATH500_SOLUTIONS = ("math500_reference", "math500_swapped")


def load(path):
    return [json.loads(line) for line in open(path)]


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[round((len(ordered) - 1) * fraction)]


def short(text, limit=60):
    if text is None:
        return "—"
    text = " ".join(str(text).split())
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return "`" + text.replace("|", "\\|").replace("`", "'") + "`"


def main():
    pairs_path, ours_path, theirs_path, bench_path = sys.argv[1:5]
    pairs = load(pairs_path)
    ours = {record["id"]: record for record in load(ours_path)}
    theirs = {record["id"]: record for record in load(theirs_path)}
    bench = {}
    batches = []
    for line in open(bench_path):
        kind, _, payload = line.partition(" ")
        if kind == "single_thread":
            bench = json.loads(payload)
        elif kind == "batch":
            batches.append(json.loads(payload))

    tally = defaultdict(lambda: {"n": 0, "ours": 0, "theirs": 0})
    errors = {"ours": {"fp": 0, "fn": 0}, "theirs": {"fp": 0, "fn": 0}}
    disagreements = []
    for pair in pairs:
        expected = pair["expected"] == "correct"
        mine, other = ours[pair["id"]], theirs[pair["id"]]
        for name, record in (("ours", mine), ("theirs", other)):
            predicted = bool(record["correct"])
            for key in (pair["category"], "all"):
                tally[key][name] += predicted == expected
            if predicted and not expected:
                errors[name]["fp"] += 1
            if expected and not predicted:
                errors[name]["fn"] += 1
        for key in (pair["category"], "all"):
            tally[key]["n"] += 1
        if bool(mine["correct"]) != bool(other["correct"]):
            right = "Boundary" if bool(mine["correct"]) == expected else "math-verify"
            disagreements.append((pair, mine, other, right))

    out = []
    n = tally["all"]["n"]
    out.append("### Accuracy against the labels\n")
    out.append("| category | pairs | Boundary | math-verify |")
    out.append("|---|---:|---:|---:|")
    for category in sorted(key for key in tally if key != "all"):
        row = tally[category]
        out.append(f"| {category} | {row['n']} | {row['ours']} | {row['theirs']} |")
    row = tally["all"]
    out.append(f"| **all** | **{n}** | **{row['ours']} ({100 * row['ours'] / n:.1f} %)** | "
               f"**{row['theirs']} ({100 * row['theirs'] / n:.1f} %)** |")
    out.append("")
    out.append("| errors | Boundary | math-verify |")
    out.append("|---|---:|---:|")
    out.append(f"| false positives (wrong answer graded correct) | {errors['ours']['fp']} | {errors['theirs']['fp']} |")
    out.append(f"| false negatives (right answer graded wrong) | {errors['ours']['fn']} | {errors['theirs']['fn']} |")
    out.append("")

    their_seconds = [theirs[pair["id"]]["seconds"] for pair in pairs]
    our_seconds = [ours[pair["id"]]["seconds"] for pair in pairs]
    # Boundary's throughput is the wall clock of its median pass (preemption included);
    # math-verify's is its one pass. Latencies: Boundary per-pair medians of 5 passes.
    our_rate = bench["pairs_per_second"]
    their_rate = len(pairs) / sum(their_seconds)
    killed = sum(1 for record in theirs.values() if record.get("error") == "killed")
    out.append("### Speed, single thread, same pairs\n")
    out.append("| | Boundary | math-verify | ratio |")
    out.append("|---|---:|---:|---:|")
    out.append(f"| pairs / second (wall clock) | {our_rate:,.0f} | {their_rate:,.1f} | {our_rate / their_rate:,.0f}× |")
    for label, fraction in (("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("max", 1.0)):
        mine, other = percentile(our_seconds, fraction), percentile(their_seconds, fraction)
        out.append(f"| {label} latency | {mine * 1e6:,.1f} µs | {other * 1e3:,.2f} ms | {other / mine:,.0f}× |")
    out.append(f"| pairs killed after the 30 s limit | 0 | {killed} | |")
    out.append("")
    # The same comparison on short answers and on long chain-of-thought responses.
    groups = {
        "labelled set (short responses)": [p for p in pairs if p["category"] not in MATH500_SOLUTIONS],
        "MATH500 solutions (long responses)": [p for p in pairs if p["category"] in MATH500_SOLUTIONS],
    }
    out.append("| subset | pairs | Boundary mean / pair | math-verify mean / pair | ratio | Boundary p99 | math-verify p99 |")
    out.append("|---|---:|---:|---:|---:|---:|---:|")
    for name, members in groups.items():
        if not members:
            continue
        mine = [ours[p["id"]]["seconds"] for p in members]
        other = [theirs[p["id"]]["seconds"] for p in members]
        mine_mean, other_mean = statistics.mean(mine), statistics.mean(other)
        out.append(f"| {name} | {len(members)} | {mine_mean * 1e6:,.1f} µs | {other_mean * 1e3:,.1f} ms | "
                   f"{other_mean / mine_mean:,.0f}× | {percentile(mine, 0.99) * 1e6:,.1f} µs | "
                   f"{percentile(other, 0.99) * 1e3:,.1f} ms |")
    out.append("")
    if batches:
        base = batches[0]["pairs_per_second"]
        out.append("### Boundary batch API (`verify_batch`, rayon) scaling\n")
        out.append("| threads | pairs | pairs / second | speed-up |")
        out.append("|---:|---:|---:|---:|")
        for batch in batches:
            out.append(f"| {batch['threads']} | {batch['pairs']:,} | {batch['pairs_per_second']:,.0f} | "
                       f"{batch['pairs_per_second'] / base:.2f}× |")
        out.append("")

    out.append(f"### Every disagreement ({len(disagreements)} pairs)\n")
    wins = sum(1 for *_, right in disagreements if right == "Boundary")
    out.append(f"Boundary is right on {wins}, math-verify on {len(disagreements) - wins}.\n")
    out.append("| id | gold | Boundary extracted | math-verify extracted | label | Boundary | math-verify | right |")
    out.append("|---|---|---|---|---|---|---|---|")
    for pair, mine, other, right in disagreements:
        ours_verdict = f"{mine['verdict']} ({mine['rule']})"
        their_verdict = "correct" if other["correct"] else ("error: " + other["error"][:40] if other.get("error") else "incorrect")
        out.append(f"| {pair['id']} | {short(pair['gold'], 40)} | {short(mine['extracted'], 40)} | "
                   f"{short(other['extracted'], 40)} | {pair['expected']} | {ours_verdict} | {their_verdict} | {right} |")
    print("\n".join(out))


if __name__ == "__main__":
    main()
