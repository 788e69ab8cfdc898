#!/usr/bin/env python3
"""backup template, step 2 (the backup node): copies the archive into
payload.dest.  The archive is read from payload.archive when this host can
see it (a shared disk, or one machine), else fetched with rsync over ssh
from payload.from_host.  Result: the stored path."""
import os
import shutil
import subprocess
import sys

import afwf

p = afwf.payload()
archive = afwf.need(p, "archive")
dest = afwf.need(p, "dest")
os.makedirs(dest, exist_ok=True)
target = os.path.join(dest, os.path.basename(archive))
if os.path.exists(archive):
    shutil.copyfile(archive, target + ".part")
elif p.get("from_host"):
    r = subprocess.run(["rsync", "-e", "ssh", "%s:%s" % (p["from_host"], archive), target + ".part"])
    if r.returncode != 0:
        sys.exit("rsync from %s failed (%d)" % (p["from_host"], r.returncode))
else:
    sys.exit("%s is not on this host and no from_host was given" % archive)
os.rename(target + ".part", target)
afwf.result({"path": target, "bytes": os.path.getsize(target)})
