#!/usr/bin/env python3
"""incident-triage template, run on every node: load, memory, the disk
usage of payload.paths (default /), and the largest processes."""
import os
import shutil

import afwf

p = afwf.payload()
out = {"host": os.uname().nodename}
with open("/proc/loadavg") as f:
    out["load1"] = float(f.read().split()[0])
mem = {}
with open("/proc/meminfo") as f:
    for line in f:
        k, v = line.split(":", 1)
        mem[k] = int(v.split()[0])
out["mem_available_mb"] = mem.get("MemAvailable", 0) // 1024
out["disks"] = []
for path in p.get("paths") or ["/"]:
    try:
        u = shutil.disk_usage(path)
    except OSError as e:
        out["disks"].append({"path": path, "error": str(e)})
        continue
    out["disks"].append({"path": path, "used_pct": round(100.0 * u.used / u.total, 1) if u.total else 0.0,
                         "free_mb": u.free // (1 << 20)})
procs = []
for pid in os.listdir("/proc"):
    if not pid.isdigit():
        continue
    try:
        with open("/proc/%s/status" % pid) as f:
            st = dict(line.split(":", 1) for line in f if ":" in line)
        procs.append({"pid": int(pid), "name": st["Name"].strip(), "rss_mb": int(st.get("VmRSS", "0 kB").split()[0]) // 1024})
    except (OSError, KeyError, ValueError):
        continue
out["top"] = sorted(procs, key=lambda x: -x["rss_mb"])[:5]
afwf.result(out)
