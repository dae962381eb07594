# style: check
# expect: error, crashed
import sys
def f(x):
    sys.exit(0)
