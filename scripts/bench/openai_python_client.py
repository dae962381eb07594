"""Reference load generator: Python's `openai` AsyncOpenAI client driving an
OpenAI-compatible server, with the same workload as Boundary's `openai_load` example
(one request per chunk of `n` samples, a bounded number in flight). Prints one JSON line.

Used by scripts/bench/openai_client_throughput.sh; run with the venv
~/.cache/boundary/venv-openaibench (scripts/bench/openai_venv.sh).
"""

import argparse
import asyncio
import json
import time

import httpx
import openai


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--model", default="test-model")
    parser.add_argument("--problems", type=int, default=1000)
    parser.add_argument("--n", type=int, default=16)
    parser.add_argument("--chunk-size", type=int, default=16)
    parser.add_argument("--max-in-flight", type=int, default=64)
    parser.add_argument("--max-tokens", type=int, default=32)
    parser.add_argument("--prompt", default="Question {i}: what is {i} plus {i}? Answer:")
    parser.add_argument("--extra-body", default="{}")
    args = parser.parse_args()
    extra_body = json.loads(args.extra_body)

    # Connection limits sized to the concurrency, so the pool is not the bottleneck.
    limits = httpx.Limits(
        max_connections=args.max_in_flight, max_keepalive_connections=args.max_in_flight
    )
    client = openai.AsyncOpenAI(
        base_url=args.endpoint,
        api_key="unused",
        max_retries=0,
        timeout=600,
        http_client=httpx.AsyncClient(limits=limits, timeout=600),
    )
    semaphore = asyncio.Semaphore(args.max_in_flight)
    counts = {"requests": 0, "samples": 0, "tokens": 0}

    async def one(problem: int, first: int, n: int) -> None:
        async with semaphore:
            response = await client.completions.create(
                model=args.model,
                prompt=args.prompt.replace("{i}", str(problem)),
                n=n,
                max_tokens=args.max_tokens,
                temperature=0.6,
                top_p=0.95,
                seed=problem * 100003 + first,
                extra_body=extra_body,
            )
            counts["requests"] += 1
            counts["samples"] += len(response.choices)
            if response.usage is not None:
                counts["tokens"] += response.usage.completion_tokens

    jobs = [
        one(problem, first, min(args.chunk_size, args.n - first))
        for problem in range(args.problems)
        for first in range(0, args.n, args.chunk_size)
    ]
    started = time.perf_counter()
    await asyncio.gather(*jobs)
    seconds = time.perf_counter() - started
    await client.close()
    print(
        json.dumps(
            {
                "client": "python-openai",
                "openai_version": openai.__version__,
                "seconds": seconds,
                **counts,
                "requests_per_s": counts["requests"] / seconds,
                "samples_per_s": counts["samples"] / seconds,
                "tokens_per_s": counts["tokens"] / seconds,
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
