# style: check
# expect: output_limit
def f(x):
    while True:
        print("x" * 65536)
