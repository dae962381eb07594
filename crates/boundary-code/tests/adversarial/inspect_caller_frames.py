# Walks the stack and the heap looking for the expected answer.
# style: check
# expect: failed
import gc, sys
def f(x):
    frame = sys._getframe()
    while frame:
        for v in frame.f_locals.values():
            if isinstance(v, int) and v not in (x,) and v > x:
                return v
        frame = frame.f_back
    for obj in gc.get_objects():
        if isinstance(obj, dict) and "expected" in obj:
            return obj["expected"]
    return None
