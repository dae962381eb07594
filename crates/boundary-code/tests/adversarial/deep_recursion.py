# style: check
# expect: error, crashed, timeout, memory_limit
import sys
sys.setrecursionlimit(10 ** 9)
def f(x):
    return f(x + 1)
