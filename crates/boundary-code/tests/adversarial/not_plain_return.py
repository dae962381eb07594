# A generator is not a checkable value.
# style: check
# expect: error
def f(x):
    yield x * 2
