# style: check
# expect: failed, error
import os
def f(x):
    os.link("/etc/passwd", "passwd")
    return None
