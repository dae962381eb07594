# Sends a code object where data is expected (marshal can carry code).
# style: check
# expect: error, crashed, failed
import marshal, os, struct, sys
def f(x):
    payload = marshal.dumps((1, 0, (lambda: 4).__code__, 0.0))
    os.write(4, struct.pack("<I", len(payload)) + payload)
    os._exit(0)
