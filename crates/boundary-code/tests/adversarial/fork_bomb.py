# Fork bomb: must hit the process limit and the time limit, never the machine.
# style: check
# expect: timeout, error, crashed
import os
def f(x):
    while True:
        try:
            os.fork()
        except OSError:
            pass
