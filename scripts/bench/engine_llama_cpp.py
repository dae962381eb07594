"""The llama.cpp side of the engine benchmark, through llama-cpp-python's low-level API
(llama.cpp's own batch decoding and its C sampler chain, so Python adds little per token).

Prints one JSON object per measurement, with the same fields as examples/engine_bench.rs:

  engine_llama_cpp.py MODEL single TOKENS        one sequence, EOS masked
  engine_llama_cpp.py MODEL batched N TOKENS     N sequences of one prompt in one batch (the
                                                 prompt prefilled once and its KV cache copied)
  engine_llama_cpp.py MODEL prefill TOKENS       prompt processing, logits of the last position
  engine_llama_cpp.py MODEL score TOKENS         logits at every position + log-softmax (numpy)
  engine_llama_cpp.py MODEL sequential PROMPTS.jsonl N MAX_TOKENS
                                                 the plain way: Llama.create_completion, one
                                                 sample after another

Settings: temperature 0.6, top-p 0.95, 2 threads (BOUNDARY_THREADS), flash attention off unless
BOUNDARY_FLASH_ATTENTION=1.
"""

import ctypes
import json
import os
import sys
import time

import numpy as np
import llama_cpp as lc

QUESTION = ("Janet\u2019s ducks lay 16 eggs per day. She eats three for breakfast every morning and bakes "
            "muffins for her friends every day with four. She sells the remainder at the farmers' market "
            "daily for $2 per fresh duck egg. How much in dollars does she make every day at the farmers' market?")
LONG_TEXT = ("The derivative measures how a function changes as its input changes. For a function f, the "
             "derivative at a point a is the limit of (f(a + h) - f(a)) / h as h approaches zero, when that "
             "limit exists. Geometrically it is the slope of the tangent line to the graph of f at a. ")
THREADS = int(os.environ.get("BOUNDARY_THREADS", "2"))
FLASH_ATTENTION = os.environ.get("BOUNDARY_FLASH_ATTENTION") == "1"


def peak_rss_mib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) // 1024
    return None


class Engine:
    def __init__(self, path, n_seq, n_ctx, n_batch=512):
        lc.llama_backend_init()
        mparams = lc.llama_model_default_params()
        self.model = lc.llama_model_load_from_file(path.encode(), mparams)
        self.vocab = lc.llama_model_get_vocab(self.model)
        self.n_vocab = lc.llama_vocab_n_tokens(self.vocab)
        cparams = lc.llama_context_default_params()
        cparams.n_ctx = n_ctx
        cparams.n_batch = n_batch
        cparams.n_ubatch = min(n_batch, 512)
        cparams.n_seq_max = n_seq
        cparams.n_threads = THREADS
        cparams.n_threads_batch = THREADS
        cparams.kv_unified = False
        cparams.flash_attn_type = (lc.LLAMA_FLASH_ATTN_TYPE_ENABLED if FLASH_ATTENTION
                                   else lc.LLAMA_FLASH_ATTN_TYPE_DISABLED)
        self.ctx = lc.llama_init_from_model(self.model, cparams)
        self.mem = lc.llama_get_memory(self.ctx)
        self.batch = lc.llama_batch_init(max(n_batch, n_seq), 0, 1)

    def tokenize(self, text):
        data = text.encode()
        buf = (lc.llama_token * (len(data) + 16))()
        n = lc.llama_tokenize(self.vocab, data, len(data), buf, len(buf), False, True)
        return list(buf[:n])

    def end_tokens(self):
        return [t for t in range(self.n_vocab) if lc.llama_vocab_is_eog(self.vocab, t)]

    def fill(self, entries):
        """entries: (token, pos, seq, logits)"""
        b = self.batch
        b.n_tokens = len(entries)
        for i, (tok, pos, seq, want) in enumerate(entries):
            b.token[i] = tok
            b.pos[i] = pos
            b.n_seq_id[i] = 1
            b.seq_id[i][0] = seq
            b.logits[i] = want

    def decode(self, entries):
        self.fill(entries)
        rc = lc.llama_decode(self.ctx, self.batch)
        if rc != 0:
            raise RuntimeError(f"llama_decode returned {rc}")

    def sampler(self, seed, banned):
        chain = lc.llama_sampler_chain_init(lc.llama_sampler_chain_default_params())
        bias = (lc.llama_logit_bias * len(banned))(*[lc.llama_logit_bias(t, float("-inf")) for t in banned])
        lc.llama_sampler_chain_add(chain, lc.llama_sampler_init_logit_bias(self.n_vocab, len(banned), bias))
        # vLLM's order: temperature first, then top-p (llama.cpp's default chain is the reverse).
        lc.llama_sampler_chain_add(chain, lc.llama_sampler_init_temp(0.6))
        lc.llama_sampler_chain_add(chain, lc.llama_sampler_init_top_p(0.95, 1))
        lc.llama_sampler_chain_add(chain, lc.llama_sampler_init_dist(seed))
        return chain


def chat_prompt(engine):
    return engine.tokenize(f"<|im_start|>user\n{QUESTION}<|im_end|>\n<|im_start|>assistant\n")


def long_tokens(engine, count):
    tokens = []
    while len(tokens) < count:
        tokens += engine.tokenize(LONG_TEXT)
    return tokens[:count]


def sample(path, n, tokens):
    engine = Engine(path, n_seq=n, n_ctx=n * ((100 + tokens + 255) // 256 * 256))
    prompt = chat_prompt(engine)
    banned = engine.end_tokens()
    samplers = [engine.sampler(1000 + i, banned) for i in range(n)]
    started = time.perf_counter()
    engine.decode([(t, p, 0, p == len(prompt) - 1) for p, t in enumerate(prompt)])
    for s in range(1, n):
        lc.llama_memory_seq_cp(engine.mem, 0, s, -1, -1)
    prefill_done = time.perf_counter()
    # First tokens come from the prompt's last logits (batch row len(prompt) - 1).
    current = [lc.llama_sampler_sample(samplers[s], engine.ctx, len(prompt) - 1) for s in range(n)]
    generated = n
    for step in range(1, tokens):
        pos = len(prompt) + step - 1
        engine.decode([(current[s], pos, s, True) for s in range(n)])
        current = [lc.llama_sampler_sample(samplers[s], engine.ctx, s) for s in range(n)]
        generated += n
    done = time.perf_counter()
    return {
        "engine": "llama.cpp", "mode": "single" if n == 1 else f"batched-{n}", "samples": n,
        "prompt_tokens": len(prompt), "generated_tokens": generated,
        "tokens_per_second": generated / (done - prefill_done),
        "wall_seconds": done - started, "prefill_seconds": prefill_done - started,
    }


def prefill(path, count):
    engine = Engine(path, n_seq=1, n_ctx=(count + 255) // 256 * 256)
    tokens = long_tokens(engine, count)
    started = time.perf_counter()
    for start in range(0, count, 512):
        chunk = tokens[start:start + 512]
        engine.decode([(t, start + i, 0, start + i == count - 1) for i, t in enumerate(chunk)])
    seconds = time.perf_counter() - started
    return {"engine": "llama.cpp", "mode": "prefill", "prompt_tokens": count,
            "tokens_per_second": count / seconds, "seconds": seconds}


def score(path, count):
    engine = Engine(path, n_seq=1, n_ctx=(count + 255) // 256 * 256)
    tokens = long_tokens(engine, count)
    started = time.perf_counter()
    total = 0.0
    for start in range(0, count, 512):
        chunk = tokens[start:start + 512]
        engine.decode([(t, start + i, 0, True) for i, t in enumerate(chunk)])
        ptr = lc.llama_get_logits(engine.ctx)
        rows = np.ctypeslib.as_array(ptr, shape=(len(chunk), engine.n_vocab)).astype(np.float64)
        m = rows.max(axis=1, keepdims=True)
        lse = (m + np.log(np.exp(rows - m).sum(axis=1, keepdims=True)))[:, 0]
        for i in range(len(chunk)):
            if start + i + 1 < count:
                total += rows[i, tokens[start + i + 1]] - lse[i]
    seconds = time.perf_counter() - started
    return {"engine": "llama.cpp", "mode": "score", "tokens": count, "tokens_per_second": count / seconds,
            "seconds": seconds, "perplexity": float(np.exp(-total / (count - 1)))}


def sequential(path, prompts_path, n, max_tokens):
    """The plain way to get n samples per problem with llama.cpp: one completion at a time."""
    from llama_cpp import Llama
    llm = Llama(model_path=path, n_ctx=2048, n_threads=THREADS, n_threads_batch=THREADS,
                flash_attn=FLASH_ATTENTION, verbose=False)
    with open(prompts_path) as f:
        prompts = [json.loads(line) for line in f if line.strip()]
    started = time.perf_counter()
    generated = 0
    for p in prompts:
        for i in range(n):
            out = llm.create_chat_completion(messages=p["messages"], temperature=0.6, top_p=0.95,
                                             top_k=0, min_p=0.0, max_tokens=max_tokens, seed=1000 + i)
            generated += out["usage"]["completion_tokens"]
    seconds = time.perf_counter() - started
    return {"engine": "llama-cpp-python", "mode": "sequential", "problems": len(prompts), "n": n,
            "generated_tokens": generated, "wall_seconds": seconds, "tokens_per_second": generated / seconds}


def main():
    path, mode = sys.argv[1], sys.argv[2]
    if mode == "single":
        result = sample(path, 1, int(sys.argv[3]))
    elif mode == "batched":
        result = sample(path, int(sys.argv[3]), int(sys.argv[4]))
    elif mode == "prefill":
        result = prefill(path, int(sys.argv[3]))
    elif mode == "score":
        result = score(path, int(sys.argv[3]))
    elif mode == "sequential":
        result = sequential(path, sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    else:
        raise SystemExit(__doc__)
    result["threads"] = THREADS
    result["flash_attention"] = FLASH_ATTENTION
    result["peak_rss_mib"] = peak_rss_mib()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
