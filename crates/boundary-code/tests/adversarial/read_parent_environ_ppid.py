# style: stdio
# secret: yes
# expect: failed, error
import os
data = open(f"/proc/{os.getppid()}/environ", "rb").read()
for part in data.split(b"\0"):
    if part.startswith(b"BOUNDARY_ADV_SECRET="):
        print(part.split(b"=", 1)[1].decode())
