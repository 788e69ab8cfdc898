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

Then, unless --no-takeover, the coordinator's death: node-1 coordinates
a workflow "slow" (a 3 s step) -> "after"; while "slow" runs node-1 is
killed (SIGKILL) and not restarted.  Printed, from the kill (wall clock,
against the nodes' log times):

  taken over     when a node logged "workflow taken over" (the takeover
                 time, --workflow-takeover-ms, is most of it);
  first dispatch when the taker logged its first job of the workflow
                 ("job submitted", a job id ending -e2);
  done           when the taker's API shows the workflow succeeded.

Exit status: 0 when every run succeeded, 1 otherwise, 2 on a usage error.
Everything is stopped by PID and the temporary directory removed.
"""

import argparse
import datetime
import json
import os
import shutil
import signal
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "system"))
import harness  # noqa: E402

cpu_s = harness.proc_cpu_s


def definition(steps):
    mid = ["s%02d" % i for i in range(1, steps - 1)]
    return {"name": "fan", "steps":
            [{"name": "start", "task": "empty", "to": "any:role=worker"}] +
            [{"name": n, "task": "empty", "to": "any:role=worker", "needs": ["start"]} for n in mid] +
            [{"name": "join", "task": "empty", "to": "any:role=worker", "needs": mid}]}


def log_ms(node, msg, pred):
    """Wall ms of node's first log line with msg for which pred(line)
    holds; None: none."""
    for line in node.stderr().splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if rec.get("msg") == msg and pred(rec):
            t = datetime.datetime.strptime(rec["ts"], "%Y-%m-%dT%H:%M:%S.%fZ")
            return t.replace(tzinfo=datetime.timezone.utc).timestamp() * 1000
    return None


def takeover(nodes, takeover_ms, timeout):
    """The coordinator killed mid-workflow: (taken over, first dispatch,
    done) in ms after the kill, or None when it did not finish."""
    coord = nodes[0]
    api = harness.Api(coord.api_port, coord.tokens()["write"])
    r = api.json("POST", "/api/workflows", json.dumps({"definition": {
        "name": "orphan", "steps": [
            {"name": "slow", "task": "slow", "to": "any:role=worker"},
            {"name": "after", "task": "empty", "to": "any:role=worker",
             "needs": ["slow"]}]}}).encode())
    wid = r["id"]
    t0 = time.monotonic()
    while time.monotonic() - t0 < 10:
        wf = api.json("GET", "/api/workflows/" + wid)
        s = [x for x in wf["steps"] if x["name"] == "slow"][0]
        if s["state"] == "running" and s.get("node"):
            break
        time.sleep(0.05)
    time.sleep(0.6)        # the step's node published to every node
    coord.stop(sig=signal.SIGKILL)
    killed = time.time() * 1000
    rest = nodes[1:]
    done = None
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout and done is None:
        for n in rest:
            api = harness.Api(n.api_port, n.tokens()["read"])
            try:
                wf = api.json("GET", "/api/workflows/" + wid)
            except Exception:
                continue
            if wf.get("state") == "succeeded" and not wf.get("remote"):
                done = time.time() * 1000 - killed
                break
        time.sleep(0.05)
    if done is None:
        return None
    took = [t for t in (log_ms(n, "workflow taken over",
                               lambda r: r.get("workflow") == wid)
                        for n in rest) if t is not None]
    first = [t for t in (log_ms(n, "job submitted", lambda r: r.get(
        "job", "").startswith("j" + wid) and r["job"].endswith("-e2"))
        for n in rest) if t is not None]
    if not took or not first:
        return None
    return min(took) - killed, min(first) - killed, done


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--nodes", type=int, default=10)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--takeover-ms", type=int, default=5000,
                    help="--workflow-takeover-ms of every node (min 5000)")
    ap.add_argument("--no-takeover", action="store_true")
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
            json.dump({"empty": {"command": ["/bin/true"], "concurrency": 8},
                       "slow": {"command": ["/bin/sleep", "3"]}}, f)
        sig = harness.Signal(["--rate", "0", "--heartbeat", "1", "--ttl", "5"],
                             ca=pki.ca_path).start()
        for i in range(1, a.nodes + 1):
            role = "desk" if i == 1 else "worker"
            nodes.append(harness.MeshNode(pki, "node-%d" % i, signals=[sig.url], args=[
                "--tasks", tasks, "--labels", "role=" + role, "--max-running", "8",
                "--dead-ms", "2000", "--ping-ms", "300",
                "--workflow-takeover-ms", str(a.takeover_ms)], log_level="info"))
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
        if not a.no_takeover:
            t = takeover(nodes, a.takeover_ms, a.timeout)
            if t is None:
                print("takeover: the workflow did not finish", file=sys.stderr)
                ok = False
            else:
                print("takeover (--workflow-takeover-ms %d): coordinator killed -> taken over "
                      "%.0f ms, -> the taker's first dispatch %.0f ms, -> done %.0f ms" %
                      ((a.takeover_ms,) + t))
        return 0 if ok and totals else 1
    finally:
        for n in nodes:
            n.stop()
        if sig:
            sig.stop()
        shutil.rmtree(tmp, True)


if __name__ == "__main__":
    sys.exit(main())
