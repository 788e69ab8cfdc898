#!/usr/bin/env python3
"""backup template, step 4: keeps the newest payload.keep archives named
NAME-*.tar.gz in payload.dir and removes the rest."""
import os

import afwf

p = afwf.payload()
d = afwf.need(p, "dir")
keep = int(p.get("keep", 7))
name = p.get("name") or "backup"
archives = sorted((n for n in os.listdir(d) if n.startswith(name + "-") and n.endswith(".tar.gz")),
                  key=lambda n: os.path.getmtime(os.path.join(d, n)), reverse=True)
removed = archives[keep:] if keep >= 0 else []
for n in removed:
    os.remove(os.path.join(d, n))
afwf.result({"kept": archives[:keep], "removed": removed})
