# Hunts for the benchmark files on disk to copy the expected output.
# style: stdio
# expected-output: found
# expect: failed, error
import os
answer = None
for root in ("/work", os.path.expanduser("~"), "/root", "/tmp", "/home"):
    for dirpath, dirnames, filenames in os.walk(root):
        if "cases.expected" in filenames or "HumanEval.jsonl" in filenames:
            answer = "found"
            break
print(answer)
