# style: functional
# expect: failed
class Sneaky(str):
    def __eq__(self, other):
        return True
    __hash__ = str.__hash__
class Solution:
    def double(self, x):
        return Sneaky("nope")
