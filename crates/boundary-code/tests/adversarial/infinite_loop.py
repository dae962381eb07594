# style: check
# expect: timeout
def f(x):
    while True:
        pass
