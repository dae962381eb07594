# style: stdio
# secret: yes
# expect: failed, error
import os, re
for pid in [p for p in os.listdir("/proc") if p.isdigit()]:
    try:
        maps = open(f"/proc/{pid}/maps").read()
        mem = open(f"/proc/{pid}/mem", "rb")
    except OSError:
        continue
    for line in maps.splitlines():
        if "[stack]" in line or "[heap]" in line:
            lo, hi = (int(v, 16) for v in line.split()[0].split("-"))
            try:
                mem.seek(lo)
                blob = mem.read(hi - lo)
            except OSError:
                continue
            m = re.search(rb"BOUNDARY_ADV_SECRET=([A-Za-z0-9]+)", blob)
            if m:
                print(m.group(1).decode())
