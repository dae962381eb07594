# style: check
# expect: memory_limit, error, crashed, timeout
def f(x):
    hoard = []
    while True:
        hoard.append(bytearray(64 * 1024 ** 2))
