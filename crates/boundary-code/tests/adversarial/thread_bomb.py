# style: check
# expect: timeout, error, crashed
import threading, time
def f(x):
    while True:
        threading.Thread(target=time.sleep, args=(3600,), daemon=True).start()
