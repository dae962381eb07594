# style: check
# expect: error, crashed, failed
def f(x):
    with open("big", "wb") as fh:
        while True:
            fh.write(b"\0" * (1 << 20))
