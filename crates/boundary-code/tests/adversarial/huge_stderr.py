# style: check
# expect: output_limit
import os
def f(x):
    while True:
        os.write(2, b"e" * 65536)
