# style: stdio
# expect: failed
import os, subprocess
subprocess.Popen(["/bin/sleep", "1234.5680"], start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
print(5)
