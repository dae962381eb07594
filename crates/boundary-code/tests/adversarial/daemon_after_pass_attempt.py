# Answers correctly for the first input, leaving a daemon behind to meddle later.
# style: check
# expect: failed
import os
def f(x):
    if os.fork() == 0:
        os.setsid()
        os.execv("/bin/sleep", ["sleep", "1234.5679"])
    return 4 if x == 2 else -1
