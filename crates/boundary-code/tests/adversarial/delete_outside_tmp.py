# style: check
# expect: failed, error
import os, shutil
def f(x):
    for victim in ("/etc/hostname", "/tmp", "/usr/bin/env"):
        try:
            if os.path.isdir(victim):
                shutil.rmtree(victim)
            else:
                os.remove(victim)
        except OSError:
            pass
    return None
