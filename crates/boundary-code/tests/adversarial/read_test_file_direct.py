# style: stdio
# needs: data_path
# expected-output: {
# expect: failed, error
import sys
path = sys.stdin.readline().strip()
print(open(path).read()[:1])
