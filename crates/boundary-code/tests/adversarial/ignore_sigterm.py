# style: check
# expect: timeout
import signal
signal.signal(signal.SIGTERM, signal.SIG_IGN)
signal.signal(signal.SIGINT, signal.SIG_IGN)
def f(x):
    while True:
        pass
