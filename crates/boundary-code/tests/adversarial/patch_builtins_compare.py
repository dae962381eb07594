# style: check
# expect: failed
import builtins
builtins.isinstance = lambda *a: True
builtins.abs = lambda v: 0
builtins.all = lambda v: True
def f(x):
    return None
