# style: check
# expect: failed, error
import os, tempfile
def f(x):
    path = os.path.join(tempfile.gettempdir(), "..", "..", "tmp", "boundary-adv-escape-relative")
    with open(path, "w") as fh:
        fh.write("escaped")
    return 4 if x == 2 else 20
