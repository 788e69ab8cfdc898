#!/usr/bin/env python3
"""Any template's last step: appends one JSON line with what the earlier
steps returned to payload.file (and prints it to the task log)."""
import json
import time

import afwf

p = afwf.payload()
path = afwf.need(p, "file")
line = {"time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **{k: v for k, v in p.items() if k != "file"}}
with open(path, "a") as f:
    f.write(json.dumps(line, sort_keys=True) + "\n")
afwf.result({"report": path, "line": line})
