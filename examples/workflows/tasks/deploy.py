#!/usr/bin/env python3
"""rolling-update template: installs release directory payload.release as
payload.version under payload.app_dir/releases and points
payload.app_dir/current at it (an atomic symlink swap).  Result: the
version now current and the one before it."""
import os
import shutil

import afwf

p = afwf.payload()
release = afwf.need(p, "release")
app = afwf.need(p, "app_dir")
version = str(afwf.need(p, "version"))
releases = os.path.join(app, "releases")
os.makedirs(releases, exist_ok=True)
dest = os.path.join(releases, version)
if not os.path.isdir(dest):
    shutil.copytree(release, dest + ".part", dirs_exist_ok=True)
    os.rename(dest + ".part", dest)
current = os.path.join(app, "current")
previous = os.path.basename(os.readlink(current)) if os.path.islink(current) else None
tmp = current + ".new"
if os.path.lexists(tmp):
    os.remove(tmp)
os.symlink(dest, tmp)
os.replace(tmp, current)
afwf.result({"version": version, "previous": previous})
