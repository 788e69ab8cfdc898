#!/usr/bin/env python3
"""rolling-update template: the service under payload.app_dir/current is
payload.version and its own check (an executable named health in the
release) exits 0, within payload.timeout_s.  Exits 1 otherwise, so the
step fails (and retries as its step says)."""
import os
import subprocess
import sys

import afwf

p = afwf.payload()
app = afwf.need(p, "app_dir")
version = str(afwf.need(p, "version"))
current = os.path.join(app, "current")
have = os.path.basename(os.path.realpath(current))
if have != version:
    sys.exit("current is %s, not %s" % (have, version))
check = os.path.join(current, "health")
if not os.access(check, os.X_OK):
    sys.exit("%s is missing or not executable" % check)
try:
    r = subprocess.run([check], capture_output=True, text=True, timeout=float(p.get("timeout_s", 10)))
except subprocess.TimeoutExpired:
    sys.exit("%s did not answer in time" % check)
if r.returncode != 0:
    sys.exit("%s exited %d: %s" % (check, r.returncode, (r.stdout + r.stderr).strip()[:200]))
afwf.result({"healthy": True, "version": version})
