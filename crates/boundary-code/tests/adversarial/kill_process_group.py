# style: check
# expect: failed, error, crashed
import os, signal
def f(x):
    for pgid in range(1, 400):
        try:
            os.killpg(pgid, signal.SIGTERM)
        except OSError:
            pass
    return None
