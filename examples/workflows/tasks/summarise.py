#!/usr/bin/env python3
"""incident-triage template: reads every node's diagnostics
(payload.reports: the collect step's result, {children: [{node, state,
result}]}) and names what is wrong: a disk over payload.disk_pct, a load
over payload.load.  Result: a summary for the person who approves the fix,
and the nodes to fix."""
import afwf

p = afwf.payload()
reports = (p.get("reports") or {}).get("children") or []
disk_pct = float(p.get("disk_pct", 90))
load = float(p.get("load", 8))
findings, nodes = [], []
for c in reports:
    r = c.get("result") or {}
    node = c.get("node", "?")
    if c.get("state") != "succeeded":
        findings.append("%s: no diagnostics (%s)" % (node, c.get("state")))
        continue
    for d in r.get("disks", []):
        if d.get("used_pct", 0) >= disk_pct:
            findings.append("%s: %s is %.1f%% full" % (node, d["path"], d["used_pct"]))
            nodes.append(node)
    if r.get("load1", 0) >= load:
        findings.append("%s: load %.2f" % (node, r["load1"]))
summary = "; ".join(findings) if findings else "all %d nodes look healthy" % len(reports)
afwf.result({"summary": summary, "findings": findings, "nodes": sorted(set(nodes)), "reports": len(reports)})
