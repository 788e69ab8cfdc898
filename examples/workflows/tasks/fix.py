#!/usr/bin/env python3
"""incident-triage template's fix: removes files older than payload.days
from payload.dir (a cache or a scratch directory, never anything else) and
reports what it freed."""
import os
import time

import afwf

p = afwf.payload()
d = afwf.need(p, "dir")
days = float(p.get("days", 7))
cut = time.time() - days * 86400
removed, freed = 0, 0
for root, _dirs, names in os.walk(d):
    for n in names:
        full = os.path.join(root, n)
        try:
            st = os.lstat(full)
            if st.st_mtime < cut:
                os.remove(full)
                removed += 1
                freed += st.st_size
        except OSError:
            continue
afwf.result({"dir": d, "removed": removed, "freed_bytes": freed})
