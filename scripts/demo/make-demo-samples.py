"""Generate the demo samples in examples/demo/ with a real model.

SmolLM2-135M-Instruct (Q4_1 GGUF) answers the first 10 GSM8K test problems, 8 samples
each, at two temperatures that the demo treats as two "models". It runs through
llama-cpp-python (llama.cpp), one sample at a time, so it needs no part of Boundary.

Grading here is deliberately simple and named for what it is (verifier
`last-number`): the answer is the content of the last \\boxed{} or else the last
number in the response, compared numerically with the gold answer after `####`.

Usage: python make-demo-samples.py MODEL.gguf GSM8K_TEST.jsonl OUT.jsonl
(re-running appends only the (model, problem) pairs OUT does not hold yet)
"""

import json
import os
import re
import sys

from llama_cpp import Llama

PROBLEMS = 10
SAMPLES = 8
SETTINGS = [("smollm2-135m-t0.3", 0.3), ("smollm2-135m-t1.0", 1.0)]
INSTRUCTION = "Please reason step by step, and put your final answer within \\boxed{}."
NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?")


def extract(response):
    boxed = re.findall(r"\\boxed\{([^{}]*)\}", response)
    text = boxed[-1] if boxed else response
    numbers = NUMBER.findall(text)
    return numbers[-1].replace(",", "") if numbers else None


def same_number(a, b):
    try:
        return a is not None and abs(float(a) - float(b)) < 1e-9
    except ValueError:
        return False


def main(model_path, gsm8k_path, out_path):
    llm = Llama(model_path=model_path, n_ctx=1024, n_threads=1, verbose=False)
    problems = [json.loads(line) for line in open(gsm8k_path)][:PROBLEMS]
    done = set()
    if os.path.exists(out_path):
        lines = [json.loads(line) for line in open(out_path)]
        per_pair = {}
        for line in lines:
            per_pair.setdefault((line["model"], line["problem_id"]), []).append(line)
        done = {pair for pair, samples in per_pair.items() if len(samples) == SAMPLES}
        with open(out_path, "w") as out:  # drop a pair a kill left half written
            for pair in sorted(done):
                for line in per_pair[pair]:
                    out.write(json.dumps(line) + "\n")
    with open(out_path, "a") as out:
        for model, temperature in SETTINGS:
            for problem in problems:
                if (model, str(problem["idx"])) in done:
                    continue
                gold = problem["answer"].split("####")[-1].strip().replace(",", "")
                messages = [{"role": "user", "content": problem["question"] + "\n" + INSTRUCTION}]
                for index in range(SAMPLES):
                    seed = 1000 * problem["idx"] + index
                    result = llm.create_chat_completion(
                        messages=messages, temperature=temperature, top_p=0.95,
                        max_tokens=256, seed=seed)
                    choice = result["choices"][0]
                    response = choice["message"]["content"]
                    extracted = extract(response)
                    out.write(json.dumps({
                        "model": model, "benchmark": "gsm8k-first10",
                        "problem_id": str(problem["idx"]), "sample_index": index,
                        "response": response, "gold": gold,
                        "prompt": json.dumps(messages),
                        "finish_reason": choice["finish_reason"],
                        "num_tokens": result["usage"]["completion_tokens"],
                        "correct": same_number(extracted, gold), "extracted": extracted,
                        "verifier": "last-number", "source": "llama-cpp-python",
                        # `seed` in the import format is the run's seed; this per-sample
                        # seed rule goes with the other settings instead.
                        "sampling": {"temperature": temperature, "top_p": 0.95, "max_tokens": 256,
                                     "seed_rule": "1000 * GSM8K idx + sample_index"},
                    }) + "\n")
                out.flush()
                print(model, problem["idx"], flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
