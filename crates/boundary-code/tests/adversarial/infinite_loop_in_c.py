# A loop inside one C call (SIGALRM-based harnesses cannot interrupt it).
# style: check
# expect: timeout
def f(x):
    return sum(range(10 ** 13))
