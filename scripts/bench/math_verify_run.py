#!/usr/bin/env python3
"""Grades benchmark pairs with Hugging Face's math-verify, for comparison only.

math-verify can hang on some inputs despite its own timeouts (a SIGALRM cannot
interrupt one huge big-integer operation), so it runs in a worker process that is
killed and restarted when one pair takes longer than --kill-after seconds. The time of
each pair is measured inside the worker (parse of gold and response, then verify), so
process communication is not counted.

Usage: math_verify_run.py PAIRS.jsonl VERDICTS.jsonl [--kill-after 30]
Run it with the interpreter of the venv made by scripts/setup/math-verify.sh.
"""
import argparse
import json
import multiprocessing as mp
import time


def worker(connection):
    from math_verify import parse, verify

    while True:
        job = connection.recv()
        if job is None:
            return
        gold, response = job
        start = time.perf_counter()
        error = None
        try:
            gold_parsed = parse(f"${gold}$")
            response_parsed = parse(response)
            correct = bool(verify(gold_parsed, response_parsed))
            extracted = str(response_parsed[-1]) if response_parsed else None
        except Exception as exception:  # math-verify raises on some inputs
            correct, extracted, error = False, None, repr(exception)[:200]
        connection.send((correct, extracted, error, time.perf_counter() - start))


def start_worker():
    parent, child = mp.Pipe()
    process = mp.Process(target=worker, args=(child,), daemon=True)
    process.start()
    return process, parent


def main():
    arguments = argparse.ArgumentParser()
    arguments.add_argument("pairs")
    arguments.add_argument("verdicts")
    arguments.add_argument("--kill-after", type=float, default=30.0)
    options = arguments.parse_args()
    pairs = [json.loads(line) for line in open(options.pairs)]
    process, connection = start_worker()
    # Warm up the lazy imports (sympy, antlr) outside the measurement.
    connection.send(("1", "$1$"))
    connection.recv()
    killed = 0
    with open(options.verdicts, "w") as out:
        for pair in pairs:
            connection.send((pair["gold"], pair["response"]))
            if connection.poll(options.kill_after):
                correct, extracted, error, seconds = connection.recv()
                record = dict(id=pair["id"], correct=correct, extracted=extracted, error=error, seconds=seconds)
            else:
                process.kill()
                process.join()
                killed += 1
                process, connection = start_worker()
                connection.send(("1", "$1$"))
                connection.recv()
                record = dict(id=pair["id"], correct=False, extracted=None, error="killed", seconds=options.kill_after)
            out.write(json.dumps(record) + "\n")
    connection.send(None)
    process.join(timeout=5)
    print(f"math-verify graded {len(pairs)} pairs, {killed} killed after {options.kill_after} s")


if __name__ == "__main__":
    main()
