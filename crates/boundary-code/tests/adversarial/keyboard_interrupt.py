# style: check
# expect: error
def f(x):
    raise KeyboardInterrupt
