"""Reference log-probabilities of a response given its prompt, computed directly with
llama.cpp through llama-cpp-python's low-level API (no server): the text is tokenized as
the server tokenizes it, evaluated once with logits for every position, and each
response token's log-softmax is read from the row before it.

Usage: python reference_logprobs.py MODEL.gguf < pairs.jsonl > scores.jsonl
Each input line: {"prompt": ..., "response": ...}; each output line:
{"logprob_sum": ..., "num_tokens": ...}.
"""

import json
import sys

import numpy as np
from llama_cpp import Llama


def main() -> None:
    llm = Llama(model_path=sys.argv[1], logits_all=True, n_ctx=1024, n_threads=2, verbose=False)
    for line in sys.stdin:
        pair = json.loads(line)
        prompt, response = pair["prompt"].encode(), pair["response"].encode()
        tokens = llm.tokenize(prompt + response, add_bos=False, special=True)
        # The response's tokens are the shortest suffix whose bytes are the response.
        pieces = [llm.detokenize([t], special=True) for t in tokens]
        covered, start = b"", len(tokens)
        while covered != response:
            if start == 0 or len(covered) > len(response):
                raise SystemExit(f"the response does not start on a token boundary: {pair}")
            start -= 1
            covered = pieces[start] + covered
        llm.reset()
        llm.eval(tokens)
        logits = np.array(llm.scores[: len(tokens)], dtype=np.float64)
        rows = logits[start - 1 : len(tokens) - 1]
        log_softmax = rows - np.logaddexp.reduce(rows, axis=1, keepdims=True)
        picked = log_softmax[np.arange(len(rows)), tokens[start:]]
        print(json.dumps({"logprob_sum": float(picked.sum()), "num_tokens": len(rows)}))


if __name__ == "__main__":
    main()
