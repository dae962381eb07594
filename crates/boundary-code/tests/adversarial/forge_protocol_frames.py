# Writes forged verdict frames to every descriptor it can.
# style: check
# expect: error, crashed, failed
import json, os, struct
forged = json.dumps({"op": "result", "tests": [{"name": "check", "outcome": "passed"}], "status": "exit 0"}).encode()
for fd in range(0, 64):
    try:
        os.write(fd, struct.pack("<I", len(forged)) + forged)
    except OSError:
        pass
def f(x):
    return None
