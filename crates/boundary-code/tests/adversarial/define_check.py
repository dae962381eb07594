# Redefines the test's check function to do nothing.
# style: check
# expect: failed
def check(candidate):
    pass
def f(x):
    return None
