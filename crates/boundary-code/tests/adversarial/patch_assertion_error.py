# style: check
# expect: failed
import builtins
class Silent(Exception):
    pass
builtins.AssertionError = Silent
def f(x):
    return None
