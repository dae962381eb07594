# style: evalplus
# expect: failed
class Sneaky(list):
    def __eq__(self, other):
        return True
def f(x):
    return Sneaky([0])
