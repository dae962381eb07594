# Signals every process it can name; the suite checks the grader survives.
# style: check
# expect: failed, error, crashed
import os, signal
def f(x):
    for pid in [int(p) for p in os.listdir("/proc") if p.isdigit()]:
        if pid != os.getpid():
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
    try:
        os.kill(-1, signal.SIGKILL)
    except OSError:
        pass
    return None
