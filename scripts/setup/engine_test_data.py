"""Reference data for the embedded engine's tests, computed with llama.cpp (llama-cpp-python).

Writes into OUT (default ~/.cache/boundary/engine-test-data):
  tiny-qwen2.gguf, tiny-qwen3.gguf, tiny-llama3.gguf   small random models written with the
      `gguf` package; they reuse SmolLM2's vocabulary under other pre-tokenizers (qwen2,
      llama-bpe), so the same texts exercise other splitting rules
  reference-<model>.json   per model: llama.cpp's token ids for every text, its logits at every
      position of a few prompts (top 10 per position plus the log-sum-exp), and for SmolLM2 the
      log-probability of each MATH500 solution after its problem, and rendered chat prompts

Usage: python engine_test_data.py MODEL.gguf MATH500.jsonl OUT [--ppl-count N]
"""

import argparse
import json
import math
import os
import sys
import time

import numpy as np
import gguf
import llama_cpp
from llama_cpp import Llama
from llama_cpp.llama_chat_format import Jinja2ChatFormatter

TOP = 10
# llama.cpp's threads meet at a barrier after every operation, so on a machine shared with other
# work fewer threads can be faster; BOUNDARY_THREADS overrides the default of all cores.
THREADS = int(os.environ.get("BOUNDARY_THREADS", os.cpu_count() or 1))

ADVERSARIAL = [
    "",
    " ",
    "   leading and trailing spaces   ",
    "a\tb\t\tc\n\nd\r\ne\rf",
    "\n\n\n\n\n\n",
    " " * 40 + "x" + "\t" * 17 + "y",
    "emoji 😀🎉👩‍👩‍👧‍👦 and flags 🇫🇷🇯🇵 and skin 👍🏽",
    "control \x00\x01\x07\x1b[31mred\x1b[0m \x7f end",
    "zero\u200bwidth\u200djoiner\ufeffbom",
    "nbsp\u00a0and\u2003em\u2002spaces",
    "CJK 数学问题的答案是 四十二。日本語のテキスト、한국어 텍스트",
    "Ünïcödé àccents: café naïve résumé; Ελληνικά; русский текст; עברית; العربية",
    "combining: e\u0301 a\u0308 n\u0303 \u0915\u094d\u0937",
    "digits 3,000,000.50 and 1234567890 and 00007 and ½ ² ٣",
    "contractions: I'm you're he's we'll they'd it's DON'T Can't SHOULDN'T",
    "code: def f(x):\n    return x**2  # comment\n\tif x != 0: {'k': [1, 2]}",
    "<|im_start|>user\nhello<|im_end|>\n<|im_start|>assistant\n",
    "special text inside: a<|endoftext|>b <|im_end|><|im_end|> <|im_start|>",
    "not special: <|im_sta rt|> <|endoftext <im_end>",
    "$\\frac{\\sqrt{2}}{3} \\cdot \\boxed{42}$ \\begin{align} x &= y \\\\ \\end{align}",
    "ＦＵＬＬＷＩＤＴＨ ｆｕｌｌ　ｗｉｄｔｈ",
    "mixed\u2028line\u2029separators\u0085next",
    "a" * 300,
    "🙂" * 50,
    "The quick brown fox jumps over the lazy dog. " * 5,
]


def chat_prompts():
    return [
        [{"role": "user", "content": "What is 2+2?"}],
        [
            {"role": "system", "content": "You are a careful math tutor."},
            {"role": "user", "content": "Solve x^2 = 9."},
            {"role": "assistant", "content": "x = 3 or x = -3."},
            {"role": "user", "content": "And x^2 = 16?"},
        ],
        [{"role": "user", "content": "Ünïcödé and emoji 😀 in a chat\n\nwith blank lines"}],
    ]


def read_math500(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def log_softmax(row):
    row = row.astype(np.float64)
    m = row.max()
    return row - (m + math.log(np.exp(row - m).sum()))


def position_summary(row):
    row64 = row.astype(np.float64)
    m = row64.max()
    lse = m + math.log(np.exp(row64 - m).sum())
    top = np.argsort(-row, kind="stable")[:TOP]
    return {"top": [[int(i), float(row[i])] for i in top], "logsumexp": lse}


def all_logits(llm, tokens):
    llm.reset()
    llm.eval(tokens)
    return np.array(llm.scores[: len(tokens)], dtype=np.float32)


def write_tiny_model(path, arch, pre, smol):
    """A small random model of `arch` with SmolLM2's vocabulary."""
    rng = np.random.default_rng({"qwen2": 2, "qwen3": 3, "llama": 1}[arch])
    tokens = smol.fields["tokenizer.ggml.tokens"].contents()
    types = smol.fields["tokenizer.ggml.token_type"].contents()
    merges = smol.fields["tokenizer.ggml.merges"].contents()
    n_vocab, n_embd, n_ff, n_layer, n_head, n_head_kv = len(tokens), 64, 128, 2, 4, 2
    head_dim = n_embd // n_head

    w = gguf.GGUFWriter(path, arch)
    w.add_name(f"tiny-{arch}-{pre}")
    w.add_context_length(1024)
    w.add_embedding_length(n_embd)
    w.add_block_count(n_layer)
    w.add_feed_forward_length(n_ff)
    w.add_head_count(n_head)
    w.add_head_count_kv(n_head_kv)
    w.add_layer_norm_rms_eps(1e-6)
    w.add_rope_freq_base(10000.0)
    if arch == "qwen3":
        w.add_key_length(head_dim)
        w.add_value_length(head_dim)
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre(pre)
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_merges(merges)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_chat_template(smol.fields["tokenizer.chat_template"].contents())

    def tensor(name, shape, scale=0.08, offset=0.0):
        w.add_tensor(name, (offset + scale * rng.standard_normal(shape)).astype(np.float32))

    tensor("token_embd.weight", (n_vocab, n_embd), 0.5)
    tensor("output_norm.weight", (n_embd,), 0.1, 1.0)
    if arch != "llama":  # llama stays tied to token_embd, as SmolLM2 is
        tensor("output.weight", (n_vocab, n_embd), 0.3)
    for i in range(n_layer):
        b = f"blk.{i}."
        tensor(b + "attn_norm.weight", (n_embd,), 0.1, 1.0)
        tensor(b + "attn_q.weight", (n_head * head_dim, n_embd), 0.3)
        tensor(b + "attn_k.weight", (n_head_kv * head_dim, n_embd), 0.3)
        tensor(b + "attn_v.weight", (n_head_kv * head_dim, n_embd), 0.3)
        tensor(b + "attn_output.weight", (n_embd, n_head * head_dim), 0.2)
        if arch == "qwen2":
            tensor(b + "attn_q.bias", (n_head * head_dim,), 0.2)
            tensor(b + "attn_k.bias", (n_head_kv * head_dim,), 0.2)
            tensor(b + "attn_v.bias", (n_head_kv * head_dim,), 0.2)
        if arch == "qwen3":
            tensor(b + "attn_q_norm.weight", (head_dim,), 0.1, 1.0)
            tensor(b + "attn_k_norm.weight", (head_dim,), 0.1, 1.0)
        tensor(b + "ffn_norm.weight", (n_embd,), 0.1, 1.0)
        tensor(b + "ffn_gate.weight", (n_ff, n_embd), 0.2)
        tensor(b + "ffn_up.weight", (n_ff, n_embd), 0.2)
        tensor(b + "ffn_down.weight", (n_embd, n_ff), 0.2)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def reference(model_path, texts, prompts, math500, ppl_count, with_chat):
    llm = Llama(
        model_path=model_path,
        n_ctx=4096,
        n_batch=512,
        n_threads=THREADS,
        n_threads_batch=THREADS,
        logits_all=True,
        flash_attn=False,
        verbose=False,
    )
    out = {
        "model": os.path.basename(model_path),
        "llama_cpp_python": llama_cpp.__version__,
        # The CPU kernels llama.cpp was built with decide its logits bit for bit.
        "system_info": llama_cpp.llama_print_system_info().decode().strip(),
    }
    out["tokenization"] = [
        llm.tokenize(t.encode("utf-8"), add_bos=False, special=True) for t in texts
    ]
    out["logits"] = []
    for text in prompts:
        tokens = llm.tokenize(text.encode("utf-8"), add_bos=False, special=True)
        rows = all_logits(llm, tokens)
        out["logits"].append(
            {"text": text, "tokens": tokens, "positions": [position_summary(r) for r in rows]}
        )
    if ppl_count:
        out["perplexity"] = []
        started = time.time()
        for i, item in enumerate(math500[:ppl_count]):
            prompt = llm.tokenize(item["problem"].encode("utf-8"), add_bos=False, special=True)
            cont = llm.tokenize(item["solution"].encode("utf-8"), add_bos=False, special=True)
            rows = all_logits(llm, prompt + cont)
            logprobs = [
                float(log_softmax(rows[len(prompt) - 1 + j])[tok]) for j, tok in enumerate(cont)
            ]
            out["perplexity"].append(
                {"index": i, "prompt_tokens": len(prompt), "continuation_tokens": len(cont),
                 "logprob_sum": sum(logprobs), "first_logprobs": logprobs[:8]}
            )
            if (i + 1) % 50 == 0:
                rate = sum(p["prompt_tokens"] + p["continuation_tokens"] for p in out["perplexity"]) / (time.time() - started)
                print(f"  perplexity {i + 1}/{ppl_count} ({rate:.0f} tokens/s)", file=sys.stderr)
    if with_chat:
        template = llm.metadata["tokenizer.chat_template"]
        formatter = Jinja2ChatFormatter(template, eos_token="<|im_end|>", bos_token="<|im_start|>")
        out["chat"] = [
            {"messages": m, "rendered": formatter(messages=m).prompt} for m in chat_prompts()
        ]
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("model")
    p.add_argument("math500")
    p.add_argument("out")
    # The test compares the first 40 (each costs seconds here); pass 500 for all of MATH500.
    p.add_argument("--ppl-count", type=int, default=40)
    args = p.parse_args()
    os.makedirs(args.out, exist_ok=True)
    math500 = read_math500(args.math500)
    texts = ADVERSARIAL + [m["problem"] for m in math500] + [m["solution"] for m in math500]
    prompts = [
        "<|im_start|>user\nJanet's ducks lay 16 eggs per day. She eats three for breakfast every morning and bakes muffins for her friends every day with four. How many eggs are left?<|im_end|>\n<|im_start|>assistant\n",
        "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n2 + 2 = 4.<|im_end|>\n",
        "The capital of France is Paris. The capital of Germany is",
    ] + [m["problem"] + "\n\n" + m["solution"] for m in math500[:6]]

    smol = gguf.GGUFReader(args.model)
    json_path = os.path.join(args.out, "reference-smollm2.json")
    print(f"SmolLM2 reference -> {json_path}", file=sys.stderr)
    data = reference(args.model, texts, prompts, math500, args.ppl_count, with_chat=True)
    data["texts"] = texts
    with open(json_path, "w", encoding="utf-8") as f:
        json.dump(data, f)

    for arch, pre in [("qwen2", "qwen2"), ("qwen3", "qwen2"), ("llama", "llama-bpe")]:
        name = {"qwen2": "tiny-qwen2", "qwen3": "tiny-qwen3", "llama": "tiny-llama3"}[arch]
        gguf_path = os.path.join(args.out, name + ".gguf")
        write_tiny_model(gguf_path, arch, pre, smol)
        print(f"{name} reference", file=sys.stderr)
        data = reference(gguf_path, texts, prompts[:3], math500, 0, with_chat=False)
        with open(os.path.join(args.out, f"reference-{name}.json"), "w", encoding="utf-8") as f:
            json.dump(data, f)


if __name__ == "__main__":
    main()
