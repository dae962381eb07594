# Writes to every writable-looking place it knows; the suite checks none of them appear.
# style: check
# expect: failed, error
import os
def f(x):
    written = 0
    for d in ("/tmp", "/var/tmp", "/dev/shm", os.path.expanduser("~"), "/root", "/work", "/", "/etc"):
        try:
            with open(os.path.join(d, "boundary-adv-escape-write"), "w") as fh:
                fh.write("escaped")
            written += 1
        except OSError:
            pass
    return written
