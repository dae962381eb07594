# style: check
# expect: failed, error
import os
def f(x):
    os.chmod("/tmp", 0o700)
    return None
