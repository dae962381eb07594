# Fork bomb while the program is being defined.
# style: check
# expect: timeout, error, crashed
import os
while True:
    try:
        os.fork()
    except OSError:
        pass
def f(x):
    return x * 2
