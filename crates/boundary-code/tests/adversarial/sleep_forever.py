# Sleeping uses no CPU: caught by the wall-clock limit.
# style: check
# expect: timeout
import time
def f(x):
    time.sleep(3600)
