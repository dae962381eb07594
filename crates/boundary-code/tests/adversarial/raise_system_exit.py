# style: check
# expect: error
def f(x):
    raise SystemExit(0)
