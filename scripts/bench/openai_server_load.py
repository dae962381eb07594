"""Hand-tuned load generator for a real OpenAI-compatible server: the reference that
Boundary's `boundary sample --endpoint` is compared with in
scripts/bench/openai_server_throughput.sh.

It is as lean as a client can be: raw `/v1/completions` requests through one pooled
httpx client, no retries, no store, no parsing beyond counting choices. Given
several `--chunk-size`/`--max-in-flight` values it measures every combination
(the hand tuning) and prints one JSON line per combination.

Prompts come from a JSON Lines file with `id` and `prompt`, the same file Boundary
reads, so both clients send the same work.
"""

import argparse
import asyncio
import itertools
import json
import time

import httpx


async def measure(args, prompts, chunk_size: int, max_in_flight: int) -> dict:
    limits = httpx.Limits(max_connections=max_in_flight, max_keepalive_connections=max_in_flight)
    semaphore = asyncio.Semaphore(max_in_flight)
    counts = {"requests": 0, "samples": 0, "truncated": 0}
    extra_body = json.loads(args.extra_body)

    async with httpx.AsyncClient(base_url=args.endpoint, limits=limits, timeout=600) as client:

        async def one(problem: int, prompt: str, first: int, n: int) -> None:
            body = {
                "model": args.model,
                "prompt": prompt,
                "n": n,
                "max_tokens": args.max_tokens,
                "temperature": args.temperature,
                "top_p": args.top_p,
                "seed": problem * 100003 + first,
                **extra_body,
            }
            async with semaphore:
                response = await client.post("/completions", json=body)
                response.raise_for_status()
                choices = response.json()["choices"]
            counts["requests"] += 1
            counts["samples"] += len(choices)
            counts["truncated"] += sum(c.get("finish_reason") == "length" for c in choices)

        jobs = [
            one(problem, prompt, first, min(chunk_size, args.n - first))
            for problem, prompt in enumerate(prompts)
            for first in range(0, args.n, chunk_size)
        ]
        started = time.perf_counter()
        await asyncio.gather(*jobs)
        seconds = time.perf_counter() - started

    return {
        "client": "load-generator",
        "chunk_size": chunk_size,
        "max_in_flight": max_in_flight,
        "seconds": seconds,
        **counts,
        "samples_per_s": counts["samples"] / seconds,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint", required=True, help="base URL ending in /v1")
    parser.add_argument("--model", required=True)
    parser.add_argument("--prompts", required=True, help="JSON Lines with id and prompt")
    parser.add_argument("--n", type=int, required=True)
    parser.add_argument("--max-tokens", type=int, required=True)
    parser.add_argument("--temperature", type=float, default=0.6)
    parser.add_argument("--top-p", type=float, default=0.95)
    parser.add_argument("--chunk-size", type=int, nargs="+", required=True)
    parser.add_argument("--max-in-flight", type=int, nargs="+", required=True)
    parser.add_argument("--extra-body", default="{}")
    args = parser.parse_args()

    with open(args.prompts, encoding="utf-8") as lines:
        prompts = [json.loads(line)["prompt"] for line in lines if line.strip()]
    for chunk_size, max_in_flight in itertools.product(args.chunk_size, args.max_in_flight):
        print(json.dumps(await measure(args, prompts, chunk_size, max_in_flight)), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
