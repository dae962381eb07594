# A daemon that would outlive the run; the suite looks for its marker process afterwards.
# style: check
# expect: failed
import os
def f(x):
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            os.execv("/bin/sleep", ["sleep", "1234.5678"])
        os._exit(0)
    return None
