#!/usr/bin/env python3
"""backup template, step 3: the stored archive has the SHA-256 the
snapshot had and reads as a whole tar.gz.  Exits 1 when it does not."""
import hashlib
import sys
import tarfile

import afwf

p = afwf.payload()
path = afwf.need(p, "path")
want = afwf.need(p, "sha256")
h = hashlib.sha256()
with open(path, "rb") as f:
    for block in iter(lambda: f.read(1 << 20), b""):
        h.update(block)
if h.hexdigest() != want:
    sys.exit("%s: SHA-256 %s, the snapshot had %s" % (path, h.hexdigest(), want))
with tarfile.open(path, "r:gz") as tar:
    files = sum(1 for m in tar.getmembers() if m.isfile())
afwf.result({"ok": True, "path": path, "files": files})
