# Prints what the test wants to see but returns the wrong value.
# style: check
# expect: failed
def f(x):
    print("4\nPASSED\nall tests passed")
    return x
