"""Summarises scripts/bench/engine.sh's results.jsonl as a Markdown table: the median of each
measurement per engine, the ratio Boundary / llama.cpp of the medians, and the ratio within
each round (the engines alternate, so a round's pair saw the same machine)."""

import json
import statistics
import sys
from collections import defaultdict

rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
by = defaultdict(list)
for r in rows:
    mode = r["mode"]
    if mode == "batched-64" and r.get("generated_tokens", 0) > 64 * 512:
        mode = "batched-64 x 1024 (memory)"
    if mode in ("sequential", "gsm8k-30x16"):  # the latter: results from before GSM8K_PROBLEMS
        mode = "gsm8k"
    if mode == "score" and r.get("weights") == "stored":
        mode = "score, stored weights"
    by[(mode, r["engine"])].append(r)

order = ["single", "batched-16", "batched-64", "prefill", "score", "batched-64 x 1024 (memory)", "gsm8k"]
print("| measurement | Boundary | llama.cpp | ratio | per round |")
print("|---|---|---|---|---|")
for mode in order:
    ours = by.get((mode, "boundary"), [])
    theirs = by.get((mode, "llama.cpp"), []) + by.get((mode, "llama-cpp-python"), [])
    if not ours or not theirs:
        continue
    if mode == "batched-64 x 1024 (memory)":
        a, b = ours[0]["peak_rss_mib"], theirs[0]["peak_rss_mib"]
        print(f"| {mode}: peak RSS MiB | {a} | {b} | {a / b:.2f} | |")
        continue
    if mode == "gsm8k":
        a, b = ours[0]["wall_seconds"], theirs[0]["wall_seconds"]
        print(f"| gsm8k {theirs[0]['problems']} x {theirs[0]['n']}: wall seconds | {a:.0f} ({ours[0]['tokens_per_second']:.0f} tok/s) "
              f"| {b:.0f} ({theirs[0]['tokens_per_second']:.0f} tok/s) | {b / a:.2f}x faster | |")
        continue
    a = statistics.median(r["tokens_per_second"] for r in ours)
    b = statistics.median(r["tokens_per_second"] for r in theirs)
    spread = lambda rs: f"{min(r['tokens_per_second'] for r in rs):.0f}-{max(r['tokens_per_second'] for r in rs):.0f}"
    rounds = ", ".join(f"{x['tokens_per_second'] / y['tokens_per_second']:.2f}" for x, y in zip(ours, theirs))
    print(f"| {mode}: tokens/s (median, range) | {a:.0f} ({spread(ours)}) | {b:.0f} ({spread(theirs)}) | {a / b:.2f} | {rounds} |")
single = by.get(("single", "llama.cpp"))
if single:
    base = statistics.median(r["tokens_per_second"] for r in single)
    for n in (16, 64):
        ours = by.get((f"batched-{n}", "boundary"))
        if ours:
            a = statistics.median(r["tokens_per_second"] for r in ours)
            print(f"| batched-{n} vs llama.cpp single-stream | {a:.0f} | {base:.0f} | {a / base:.2f} | |")
# The scoring target is llama.cpp's prompt processing (last position's logits only),
# which does less work than scoring (logits and log-softmax at every position). Boundary's
# scoring rounds alternate with llama.cpp's prompt processing, so rounds pair up.
theirs = by.get(("prefill", "llama.cpp"))
for mode in ("score", "score, stored weights"):
    ours = by.get((mode, "boundary"))
    if ours and theirs:
        a = statistics.median(r["tokens_per_second"] for r in ours)
        b = statistics.median(r["tokens_per_second"] for r in theirs)
        rounds = ", ".join(f"{x['tokens_per_second'] / y['tokens_per_second']:.2f}" for x, y in zip(ours, theirs))
        print(f"| {mode} vs llama.cpp prompt processing | {a:.0f} | {b:.0f} | {a / b:.2f} | {rounds} |")
