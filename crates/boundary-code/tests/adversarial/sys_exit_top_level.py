# style: check
# expect: error, crashed
import sys
sys.exit(0)
def f(x):
    return None
