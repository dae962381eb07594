# style: check
# expect: failed
import sys, types
fake = types.ModuleType("__test__")
fake.check = lambda candidate: None
sys.modules["__test__"] = fake
sys.modules["__main__"].check = lambda candidate: None
def f(x):
    return None
