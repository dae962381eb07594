# style: check
# expect: failed, error, crashed
import os, signal
def f(x):
    for target in (os.getppid(), 1):
        try:
            os.kill(target, signal.SIGKILL)
        except OSError:
            pass
    return None
