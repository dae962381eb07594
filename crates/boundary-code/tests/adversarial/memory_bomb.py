# style: check
# expect: memory_limit, error
def f(x):
    return len(bytearray(64 * 1024 ** 3))
