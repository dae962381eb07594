# style: check
# expect: failed
class Sneaky(int):
    def __eq__(self, other):
        return True
    __hash__ = int.__hash__
def f(x):
    return Sneaky(0)
