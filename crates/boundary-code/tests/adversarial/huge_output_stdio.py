# style: stdio
# expect: output_limit
import sys
while True:
    sys.stdout.write("4\n" * 100000)
