#!/usr/bin/env python3
"""backup template, step 1 (the storage node): a tar.gz of payload.src in
payload.staging, named NAME-UTCSTAMP.tar.gz.  Result: the archive's path,
size, file count and SHA-256."""
import hashlib
import os
import tarfile
import time

import afwf

p = afwf.payload()
src = afwf.need(p, "src")
staging = afwf.need(p, "staging")
name = p.get("name") or "backup"
os.makedirs(staging, exist_ok=True)
stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
archive = os.path.join(staging, "%s-%s-%s.tar.gz" % (name, stamp, os.environ.get("AGENTFLOW_JOB_ATTEMPT", "1")))
files = 0
with tarfile.open(archive + ".part", "w:gz") as tar:
    for root, _dirs, names in os.walk(src):
        for n in sorted(names):
            full = os.path.join(root, n)
            tar.add(full, arcname=os.path.relpath(full, src))
            files += 1
os.rename(archive + ".part", archive)
h = hashlib.sha256()
with open(archive, "rb") as f:
    for block in iter(lambda: f.read(1 << 20), b""):
        h.update(block)
afwf.result({"archive": archive, "bytes": os.path.getsize(archive), "files": files, "sha256": h.hexdigest()})
