# Floods the reply channel with answers for calls that have not been made.
# style: evalplus
# expect: error, failed, crashed
import marshal, os, struct
for seq in range(1, 50):
    payload = marshal.dumps((seq, 0, 999, 0.0))
    try:
        os.write(4, struct.pack("<I", len(payload)) + payload)
    except OSError:
        pass
def f(x):
    return None
