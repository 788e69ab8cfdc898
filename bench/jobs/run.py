#!/usr/bin/python3
"""bench/jobs: empty durable jobs through a real mesh.

A signal and --nodes agentflow-node processes (default 4) on loopback, each
in a private temporary directory, with one task "empty" (/bin/true).  From
node-1's API it submits --count jobs (default 200) with placement
`any:role=worker` (every node but node-1), all at once, and waits until
every one is final.  Reported:

  throughput  jobs / s from the first submit to the last job final at the
              issuer;
  latency     per job, finished_ms - submitted_ms on the issuer's record:
              stored, dispatched (a JOB_RUN command), recorded and run on
              the executor, the result back as a JOB_RESULT command and
              recorded (p50 / p99 / max).

Then --serial jobs (default 30) one after another, each waited for, for
the latency of the path without a queue.

Exit status: 0 when every job succeeded, 1 otherwise, 2 on a usage error.
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


def percentile(values, p):
    v = sorted(values)
    k = min(len(v) - 1, max(0, int(round(p / 100.0 * len(v) + 0.5)) - 1))
    return v[k]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--nodes", type=int, default=4)
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("--serial", type=int, default=30)
    ap.add_argument("--kills", type=int, default=5)
    ap.add_argument("--timeout", type=float, default=300)
    a = ap.parse_args()
    if a.nodes < 2 or a.count < 1:
        ap.error("--nodes >= 2, --count >= 1")
    tmp = tempfile.mkdtemp(prefix="af-bench-jobs-")
    sig, nodes = None, []
    try:
        pki = harness.Pki(tmp)
        tasks = os.path.join(tmp, "tasks.json")
        with open(tasks, "w") as f:
            json.dump({"empty": {"command": ["/bin/true"], "concurrency": 8},
                       "sleep": {"command": ["/bin/sleep", "8"]}}, f)
        sig = harness.Signal(["--rate", "0", "--heartbeat", "1", "--ttl", "5"],
                             ca=pki.ca_path).start()
        for i in range(1, a.nodes + 1):
            role = "desk" if i == 1 else "worker"
            nodes.append(harness.MeshNode(pki, "node-%d" % i, signals=[sig.url], args=[
                "--tasks", tasks, "--labels", "role=" + role, "--max-running", "8",
                "--dead-ms", "2000", "--ping-ms", "300"],
                log_level="info"))
            nodes[-1].env["TMPDIR"] = tmp
            nodes[-1].start()
        ids = sorted(n.node_id for n in nodes)
        if not harness.wait_until(lambda: all(
                n.up_peers() == [i for i in ids if i != n.node_id] and
                len([r for r in n.status()["remote"] if r.get("status")]) == a.nodes - 1
                for n in nodes), 60, 0.3):
            print("mesh did not form", file=sys.stderr)
            return 1
        api = harness.Api(nodes[0].api_port, nodes[0].tokens()["write"])
        body = json.dumps({"task": "empty", "to": "any:role=worker"}).encode()
        t0 = time.monotonic()
        jids = []
        for _ in range(a.count):
            st, doc = api.request("POST", "/api/jobs", body)[:2]
            jids.append(json.loads(doc)["id"])
        t_submit = time.monotonic() - t0

        def final():
            st, doc = api.request("GET", "/api/jobs?limit=1000")[:2]
            jobs = [j for j in json.loads(doc)["jobs"] if j["id"] in set(jids)]
            done = [j for j in jobs if j["state"] in
                    ("succeeded", "failed", "cancelled", "expired", "lost")]
            return done if len(done) == len(jids) else None
        done = harness.wait_until(final, a.timeout, 0.05)
        elapsed = time.monotonic() - t0
        if not done:
            print("not every job was final after %.0f s" % a.timeout, file=sys.stderr)
            return 1
        lat = [j["finished_ms"] - j["submitted_ms"] for j in done]
        ok = sum(1 for j in done if j["state"] == "succeeded")
        per = {}
        for j in done:
            per[j["node"]] = per.get(j["node"], 0) + 1
        print("jobs: %d nodes, %d empty jobs to any:role=worker from node-1" % (
            a.nodes, a.count))
        print("  submitted in %.2f s (%.0f/s through the API)" % (
            t_submit, a.count / t_submit))
        print("  all final in %.2f s: %.1f jobs/s; %d succeeded" % (
            elapsed, a.count / elapsed, ok))
        print("  latency submit -> result at the issuer: p50 %d ms  p99 %d ms"
              "  max %d ms" % (percentile(lat, 50), percentile(lat, 99), max(lat)))
        print("  placed: %s" % ", ".join("%s %d" % kv for kv in sorted(per.items())))
        # One at a time: the path's own latency, without a queue.
        serial = []
        for _ in range(a.serial):
            st, doc = api.request("POST", "/api/jobs", body)[:2]
            jid = json.loads(doc)["id"]
            job = harness.wait_until(lambda: (lambda j: j if j["state"] in (
                "succeeded", "failed") else None)(json.loads(api.request(
                    "GET", "/api/jobs/" + jid)[1])), 30, 0.01)
            if not job or job["state"] != "succeeded":
                print("serial job %s: %r" % (jid, job), file=sys.stderr)
                return 1
            serial.append(job["finished_ms"] - job["submitted_ms"])
        if serial:
            print("  one at a time (%d): p50 %d ms  p99 %d ms  max %d ms" % (
                len(serial), percentile(serial, 50), percentile(serial, 99),
                max(serial)))
        # A running job's node killed (-9): time until the job runs
        # elsewhere (epoch 2), over --kills kills.
        moved = []
        sleep_body = json.dumps({"task": "sleep", "to": "any:role=worker"}).encode()
        for _ in range(a.kills):
            jid = json.loads(api.request("POST", "/api/jobs", sleep_body)[1])["id"]
            job = harness.wait_until(lambda: (lambda j: j if j["state"] == "running"
                                              else None)(json.loads(api.request(
                                                  "GET", "/api/jobs/" + jid)[1])), 20, 0.02)
            if not job:
                print("job %s never ran" % jid, file=sys.stderr)
                return 1
            victim = next(n for n in nodes if n.node_id == job["node"])
            victim.stop(harness._signal.SIGKILL)
            t_kill = time.monotonic()
            again = harness.wait_until(lambda: (lambda j: j if j["epoch"] >= 2 and
                                                j["state"] in ("running", "succeeded")
                                                else None)(json.loads(api.request(
                                                    "GET", "/api/jobs/" + jid)[1])), 30, 0.02)
            if not again:
                st = json.loads(api.request("GET", "/api/cluster/status")[1])
                print("job %s did not move: %s; node-1 sees %s" % (
                    jid, api.request("GET", "/api/jobs/" + jid)[1][:2000],
                    [(r["node_id"], r.get("member"), r.get("path"),
                      (r.get("link") or {}).get("member"))
                     for r in st["remote"]]), file=sys.stderr)
                for l in nodes[0].logs()[-40:]:
                    print(l, file=sys.stderr)
                return 1
            moved.append((time.monotonic() - t_kill) * 1000)
            victim.restart()
            if not harness.wait_until(lambda: all(
                    n.up_peers() == [i for i in ids if i != n.node_id] for n in nodes),
                    60, 0.3):
                print("mesh did not re-form", file=sys.stderr)
                return 1
        if moved:
            print("  node killed -> its job running elsewhere (%d kills, --dead-ms "
                  "2000): p50 %d ms  p99 %d ms  max %d ms" % (
                      len(moved), percentile(moved, 50), percentile(moved, 99),
                      max(moved)))
        return 0 if ok == a.count else 1
    finally:
        for n in reversed(nodes):
            n.stop()
        if sig:
            sig.stop()
        shutil.rmtree(tmp, True)


if __name__ == "__main__":
    sys.exit(main())
