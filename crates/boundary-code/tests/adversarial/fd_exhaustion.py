# style: check
# expect: error, failed
def f(x):
    handles = []
    while True:
        handles.append(open("/dev/null"))
