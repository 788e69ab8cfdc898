#!/usr/bin/python3
"""bench/commands: command round trips through a real mesh.

Two meshes of real agentflow-node processes on loopback, each node in a
private temporary directory, registered with a real signal:

  1. a full mesh of --nodes nodes (default 20): --count ping commands from
     node-1 to a directly linked node (cycling over the others), then
     --fanout ping commands to `all`;
  2. a ring of 5 with --max-links 2: --count ping commands from node-1 to
     node-3, which is two hops away (through node-2 or node-5).

Each command is one POST /api/commands {..., wait_ms} on node-1's API, held
until every result is in.  Two times are reported per command:

  node   the requester's own measure, results[].rtt_ms: from the command's
         issue to its result's arrival on node-1 (routing, the gRPC links,
         the destination's execution and at-most-once record, back);
  client the benchmark's wall time around the HTTP request (adds the local
         API: HTTP parsing, JSON, the long-poll wake-up).

For fan-out, "time to the last result" is the largest rtt_ms of the
command's 20 results.  Goals (issue 4): p99 under 10 ms direct, under 50 ms
for the 20-node fan-out.

Exit status: 0 when every command got every result with status ok, 1
otherwise (or a run failed), 2 on a usage error.  Everything is stopped by
PID and every temporary directory removed, also on failure or Ctrl-C.
"""

import argparse
import json
import os
import shutil
import signal as _signal
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "system"))
import harness  # noqa: E402


def log(msg):
    print(msg, flush=True)


def percentile(values, p):
    v = sorted(values)
    if not v:
        return float("nan")
    k = min(len(v) - 1, max(0, int(round(p / 100.0 * len(v) + 0.5)) - 1))
    return v[k]


def summary(values):
    return "p50 %6.2f ms   p99 %6.2f ms   max %6.2f ms   (n=%d)" % (
        percentile(values, 50), percentile(values, 99), max(values), len(values))


class Mesh:
    def __init__(self, n, extra, args):
        self.n, self.extra, self.args = n, list(extra), args
        self.tmp = tempfile.mkdtemp(prefix="af-bench-cmd-")
        self.nodes, self.signal, self.api = [], None, None

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self):
        pki = harness.Pki(self.tmp)
        self.signal = harness.Signal(["--rate", "0", "--heartbeat", "1"],
                                     ca=pki.ca_path, log_level="info").start()
        for i in range(1, self.n + 1):
            node = harness.MeshNode(pki, "node-%d" % i, signals=[self.signal.url],
                                    args=self.extra, log_level="info")
            self.nodes.append(node)
            node.start()
        self.api = harness.Api(self.nodes[0].api_port, self.nodes[0].tokens()["write"])

    def stop(self):
        procs = list(reversed(self.nodes)) + ([self.signal] if self.signal else [])
        for p in procs:
            try:
                p.send(_signal.SIGTERM)
            except (OSError, AttributeError):
                pass
        if self.api:
            self.api.close()
        for p in procs:
            try:
                p.stop(timeout=5)
            except AssertionError as e:
                log("warning: %s" % str(e)[:2000])
        shutil.rmtree(self.tmp, ignore_errors=True)

    def wait(self, pred, what):
        if not harness.wait_until(pred, self.args.mesh_timeout, 0.25):
            raise RuntimeError("%s not reached within %ss" % (what, self.args.mesh_timeout))

    def up_counts(self):
        out = []
        for node in self.nodes:
            st = harness.Api(node.api_port, node.tokens()["read"]).json(
                "GET", "/api/cluster/status")
            out.append((sum(1 for l in st["local"]["links"] if l["state"] == "up"),
                        sum(1 for r in st["remote"] if r.get("status") and
                            r["member"] == "alive")))
        return out

    def ping(self, target):
        body = json.dumps({"target": target, "type": "ping", "wait_ms": 30000})
        t = time.monotonic()
        rec = self.api.json("POST", "/api/commands", body)
        wall = (time.monotonic() - t) * 1000.0
        ok = rec["state"] == "done" and all(r["status"] == "ok" for r in rec["results"])
        return rec, wall, ok


def run_full(args):
    n = args.nodes
    log("== full mesh of %d nodes: direct pings and fan-out to all" % n)
    with Mesh(n, args.node_args.split(), args) as m:
        t0 = time.monotonic()
        m.wait(lambda: all(c == (n - 1, n - 1) for c in m.up_counts()), "full mesh")
        log("mesh formed in %.1f s; settling %.0f s" % (time.monotonic() - t0, args.settle_s))
        time.sleep(args.settle_s)
        for i in range(args.warmup):
            m.ping("node-%d" % (2 + i % (n - 1)))
        node_ms, wall_ms, bad = [], [], 0
        for i in range(args.count):
            rec, wall, ok = m.ping("node-%d" % (2 + i % (n - 1)))
            bad += not ok
            node_ms.append(rec["results"][0]["rtt_ms"])
            wall_ms.append(wall)
        log("direct ping, %d commands (node-1 -> node-2..%d):" % (args.count, n))
        log("    node   %s" % summary(node_ms))
        log("    client %s" % summary(wall_ms))
        last_ms, fwall, fbad = [], [], 0
        for i in range(args.fanout):
            rec, wall, ok = m.ping("all")
            fbad += not ok or len(rec["results"]) != n
            last_ms.append(max(r["rtt_ms"] for r in rec["results"]))
            fwall.append(wall)
        log("fan-out ping to all %d nodes, %d commands, time to the last result:" % (
            n, args.fanout))
        log("    node   %s" % summary(last_ms))
        log("    client %s" % summary(fwall))
        return (node_ms, wall_ms, bad), (last_ms, fwall, fbad)


def run_ring(args):
    log("== ring of 5 nodes, --max-links 2: pings two hops away (node-1 -> node-3)")
    with Mesh(5, ["--max-links", "2"] + args.node_args.split(), args) as m:
        m.wait(lambda: all(c == (2, 4) for c in m.up_counts()), "ring")
        time.sleep(args.settle_s)
        for _ in range(args.warmup):
            m.ping("node-3")
        node_ms, wall_ms, bad, paths = [], [], 0, set()
        for _ in range(args.count):
            rec, wall, ok = m.ping("node-3")
            bad += not ok
            paths.add(" -> ".join(rec["results"][0]["path"]))
            node_ms.append(rec["results"][0]["rtt_ms"])
            wall_ms.append(wall)
        log("two-hop ping, %d commands, path %s:" % (args.count, " | ".join(sorted(paths))))
        log("    node   %s" % summary(node_ms))
        log("    client %s" % summary(wall_ms))
        return node_ms, wall_ms, bad


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--nodes", type=int, default=20, help="full mesh size (default 20)")
    p.add_argument("--count", type=int, default=500, help="direct and two-hop pings (default 500)")
    p.add_argument("--fanout", type=int, default=100, help="fan-out pings (default 100)")
    p.add_argument("--warmup", type=int, default=20, help="unmeasured pings first (default 20)")
    p.add_argument("--settle-s", type=float, default=3.0, help="wait after forming (default 3)")
    p.add_argument("--mesh-timeout", type=float, default=120.0)
    p.add_argument("--node-args", default="",
                   help="more agentflow-node flags, space-separated (e.g. \"--status-ms 5000\")")
    args = p.parse_args(argv)
    if args.nodes < 3 or args.count < 1 or args.fanout < 1:
        p.error("--nodes >= 3, --count >= 1, --fanout >= 1")
    try:
        (direct, fan) = run_full(args)
        ring = run_ring(args)
    except (RuntimeError, OSError) as e:
        log("error: %s" % e)
        return 1
    log("")
    log("summary (goals: p99 < 10 ms direct, < 50 ms to the last of %d fan-out results):"
        % args.nodes)
    log("    direct    node p99 %6.2f ms   client p99 %6.2f ms" % (
        percentile(direct[0], 99), percentile(direct[1], 99)))
    log("    two-hop   node p99 %6.2f ms   client p99 %6.2f ms" % (
        percentile(ring[0], 99), percentile(ring[1], 99)))
    log("    fan-out   node p99 %6.2f ms   client p99 %6.2f ms" % (
        percentile(fan[0], 99), percentile(fan[1], 99)))
    bad = direct[2] + fan[2] + ring[2]
    if bad:
        log("ERROR: %d commands did not get every result ok" % bad)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
