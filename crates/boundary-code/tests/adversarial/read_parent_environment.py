# Looks for the grader's secret everywhere; printing it would pass (expected output).
# style: stdio
# secret: yes
# expect: failed, error
import os
found = []
for value in os.environ.values():
    found.append(value)
for pid in os.listdir("/proc"):
    if pid.isdigit():
        try:
            found.append(open(f"/proc/{pid}/environ", "rb").read().decode(errors="ignore"))
        except OSError:
            pass
for item in found:
    for part in item.split("\0"):
        if part.startswith("BOUNDARY_ADV_SECRET="):
            print(part.split("=", 1)[1])
