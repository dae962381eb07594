# style: stdio
# expect: failed
import sys
sys.exit(0)
print(4)
