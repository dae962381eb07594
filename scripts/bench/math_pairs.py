#!/usr/bin/env python3
"""Builds the labelled (gold, response) pairs for the math verifier benchmark.

Output (JSONL, one pair per line: id, category, gold, response, expected):
  * every case of the project's labelled set (crates/boundary-math/tests/data/labelled.jsonl);
  * for each MATH500 problem, its full reference solution against its answer (expected
    correct), and the same solution with the final boxed answer replaced by another
    problem's answer (expected incorrect) -- realistic long chain-of-thought responses.

Deterministic: the replacement answers come from a fixed-seed shuffle.
Usage: math_pairs.py OUTPUT.jsonl
"""
import json
import random
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "crates/boundary-math/tests/data"


def last_boxed_span(text):
    """(start, end) of the content of the last \\boxed{...} in text, brace-matched."""
    start = text.rfind("\\boxed{")
    if start < 0:
        return None
    depth, index = 0, start + len("\\boxed")
    while index < len(text):
        char = text[index]
        if char == "\\":
            index += 2
            continue
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return start + len("\\boxed{"), index
        index += 1
    return None


def plain(answer):
    """The answer without spacing, sizing, degree, percent, currency and unit text, so that
    a replacement answer that merely restates the gold (120 for 120^\\circ) is skipped."""
    core = re.sub(r"\\(?:text|mbox)\{[^}]*\}", "", answer)
    for noise in ("\\!", "\\left", "\\right", "^\\circ", "^{\\circ}", "\\%", "\\$", "\\,"):
        core = core.replace(noise, "")
    return "".join(core.split())


def main():
    output = Path(sys.argv[1])
    pairs = [json.loads(line) for line in (DATA / "labelled.jsonl").read_text().splitlines()]
    problems = [json.loads(line) for line in (DATA / "math500.jsonl").read_text().splitlines()]
    answers = [problem["answer"] for problem in problems]
    shuffled = answers[:]
    random.Random(20261125).shuffle(shuffled)
    for index, problem in enumerate(problems):
        gold, solution = problem["answer"], problem["solution"]
        pairs.append(dict(id=f"math500-{index:03d}-reference", category="math500_reference", gold=gold,
                          response=solution, expected="correct"))
        span = last_boxed_span(solution)
        if span is None:
            continue
        # Take the next shuffled answer that is textually different from the gold.
        offset = index
        while plain(shuffled[offset % len(shuffled)]) == plain(gold):
            offset += 1
        wrong = shuffled[offset % len(shuffled)]
        response = solution[: span[0]] + wrong + solution[span[1]:]
        pairs.append(dict(id=f"math500-{index:03d}-swapped", category="math500_swapped", gold=gold,
                          response=response, expected="incorrect"))
    with output.open("w") as handle:
        for pair in pairs:
            handle.write(json.dumps(pair, ensure_ascii=False) + "\n")
    print(f"wrote {len(pairs)} pairs to {output}", file=sys.stderr)


if __name__ == "__main__":
    main()
