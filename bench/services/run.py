#!/usr/bin/python3
"""bench/services: what keeping services costs and how fast it reacts.

A signal and two agentflow-node processes on loopback, each in a private
temporary directory.  node-2 keeps a service "probe" that writes its pid
and the time it started to a file, then sleeps.  Printed (p50 / p99 /
max over --runs):

  reconcile   from `POST /api/commands` on node-1 (type "service",
              start, target node-2) to the process's own start time as
              it wrote it: the command's trip, the desired state stored,
              the fork and exec;
  restart     from SIGKILL of the process to the new process's start
              time, with the policy's delay at 0 (reaping, the policy,
              the timer, the fork and exec);
  idle cost   node-2's CPU (user + system, /proc/PID/stat) over
              --idle-s with no service, then with --services sleepers
              (each `sleep`, no checks), and the difference per service;
              then the same sleepers with an HTTP check each every 1 s
              against a server this script runs;
  artifact    (--artifact-mib, 0 skips it) a .tar.gz holding that many
              MiB of random bytes (gzip level 0, quick to make) added on
              node-1 with `agentflow artifact add` (the upload's rate),
              then a service PUT on node-2 naming it: the time from the
              PUT until node-2 lists itself among the artifact's holders
              in GET /api/artifacts (its fetch over the link and its
              hash), as MiB/s, then until the service runs (unpacked);
              node-1's and node-2's CPU seconds over the fetch and their
              largest RSS (sampled with every poll);
  events      meanwhile node-1 is sent --event-rate user events a
              second (POST /api/events), each payload the wall-clock
              time it was sent; node-2's GET /api/events gives when it
              applied each (received_ms): p50 / p99 / max of that delay,
              and of the mesh's own part (node-1's emit time_ms to
              received_ms), during the fetch and over --baseline-s
              without one, in the same run (A/B).  Times are whole
              milliseconds of one clock: each figure is +-1 ms.

Exit status: 0 when every step was observed (the artifact held, every
event seen on node-2), 1 otherwise.  Everything is stopped by PID and the
temporary directory removed.
"""

import argparse
import hashlib
import http.server
import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "system"))
import harness  # noqa: E402

cpu_s = harness.proc_cpu_s


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


def summary(name, xs):
    print("%-10s p50 %7.1f ms  p99 %7.1f ms  max %7.1f ms  (n=%d)"
          % (name, pct(xs, 50), pct(xs, 99), max(xs), len(xs)))


def read_start(path):
    """(pid, start time in ms) the probe wrote, or None."""
    try:
        with open(path) as f:
            pid, ns = f.read().split()
        return int(pid), int(ns) / 1e6
    except (OSError, ValueError):
        return None


class Random:
    """A file object of random bytes, for tarfile.addfile."""

    def read(self, n):
        return os.urandom(n)


def make_artifact(path, mib):
    """A .tar.gz at path with one file of mib MiB of random bytes, gzip
    level 0 (stored: making it costs the random bytes, not deflate);
    returns its artifact id."""
    with tarfile.open(path, "w:gz", compresslevel=0) as t:
        info = tarfile.TarInfo("random.bin")
        info.size = mib << 20
        info.mode = 0o644
        info.mtime = int(time.time())
        t.addfile(info, Random())
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return "sha256:" + h.hexdigest()


class Ticker(threading.Thread):
    """Posts user events named name on node at rate per second until
    stopped, on one keep-alive connection; each payload is "I SENT_MS",
    the wall-clock time just before its POST."""

    def __init__(self, node, name, rate):
        super().__init__(daemon=True)
        self.api = harness.Api(node.api_port, node.tokens()["write"])
        self.name, self.rate = name, rate
        self.halt = threading.Event()
        self.sent, self.late, self.errors = 0, 0, 0

    def run(self):
        t0 = time.monotonic()
        try:
            while not self.halt.is_set():
                delay = t0 + self.sent / self.rate - time.monotonic()
                if delay > 0:
                    self.halt.wait(delay)
                    if self.halt.is_set():
                        break
                elif delay < -1.0 / self.rate:
                    self.late += 1
                body = json.dumps({"name": self.name, "payload": "%d %d"
                                   % (self.sent, int(time.time() * 1000))})
                status, _ = self.api.request("POST", "/api/events", body)
                if status != 200:
                    self.errors += 1
                self.sent += 1
        finally:
            self.api.close()

    def stop(self):
        self.halt.set()
        self.join()


def event_delays(node, name, want, since_ms=0, until_ms=1 << 62, timeout=10):
    """Waits (bounded) until node holds want user events named name from
    node-1; returns (count, POST-to-applied delays, emit-to-applied
    delays) in ms, the delays of the events it holds that were sent in
    [since_ms, until_ms]."""
    got = []

    def seen():
        doc = node.client(token="read").get(
            "/api/events?kind=user&node=node-1&limit=10000").json()
        got[:] = [e for e in doc["events"] if (e.get("body") or {}).get("name") == name]
        return len(got) >= want
    harness.wait_until(seen, timeout, 0.2)
    post, emit = [], []
    for e in got:
        sent = int(e["body"]["payload"].split()[1])
        if since_ms <= sent <= until_ms:
            post.append(e["received_ms"] - sent)
            emit.append(e["received_ms"] - e["time_ms"])
    return len(got), post, emit


def holds(node, artifact):
    """Whether node lists itself as a holder of artifact; and its fetch's
    bytes so far (0 when none is listed)."""
    doc = node.client(token="read").get("/api/artifacts").json()
    for row in doc["artifacts"]:
        if row["artifact"] == artifact and any(
                h["node"] == node.node_id for h in row["nodes"]):
            return True, row["size"]
    return False, sum(f["bytes"] for f in doc["fetches"] if f["artifact"] == artifact)


def metric(node, key):
    r = node.client(token="read").get("/metrics")
    return harness.parse_metrics(r.body.decode()).get(key, 0.0)


def artifact_bench(args, tmp, n1, n2):
    """The artifact transfer and the event delays with and without it
    (see the module's docstring); True when all was observed."""
    ok = True
    path = os.path.join(tmp, "random.tar.gz")
    t = time.monotonic()
    artifact = make_artifact(path, args.artifact_mib)
    size = os.path.getsize(path)
    mib = size / float(1 << 20)
    print("artifact: %s, %.1f MiB (made in %.1f s)"
          % (artifact[:19] + "...", mib, time.monotonic() - t))

    t = time.monotonic()
    out = subprocess.run([os.path.join(harness.BIN, "agentflow"), "artifact", "add", path,
                          "--api", "127.0.0.1:%d" % n1.api_port,
                          "--token", n1.tokens()["write"]],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    took = time.monotonic() - t
    if out.returncode != 0 or artifact not in out.stdout:
        raise SystemExit("artifact add: exit %d: %s" % (out.returncode, out.stdout))
    print("%-10s %7.1f MiB/s  (%.2f s, agentflow artifact add to node-1, its hash included)"
          % ("upload", mib / took, took))
    os.unlink(path)
    # node-2 learns that node-1 holds it (an event) before it is asked.
    if not harness.wait_until(lambda: any(
            r["artifact"] == artifact for r in
            n2.client(token="read").get("/api/artifacts").json()["artifacts"]), 10, 0.05):
        raise SystemExit("node-2 never heard that node-1 holds %s" % artifact)

    pids = (n1.proc.pid, n2.proc.pid)
    rss0 = [harness.proc_rss_kib(p) / 1024.0 for p in pids]

    # A: events alone.
    base = Ticker(n1, "bench.artifact.base", args.event_rate)
    base.start()
    time.sleep(args.baseline_s)
    base.stop()

    # B: events while node-2 fetches it.
    fetched0 = metric(n2, "agentflow_node_artifact_fetched_bytes_total")
    served0 = metric(n1, "agentflow_node_artifact_served_bytes_total")
    cpu0 = [cpu_s(p) for p in pids]
    rss = list(rss0)
    xfer = Ticker(n1, "bench.artifact.xfer", args.event_rate)
    xfer.start()
    time.sleep(0.5)      # at its pace when the fetch starts
    t0, w0 = time.monotonic(), time.time() * 1000
    r = n2.client().request("PUT", "/api/services/art",
                            json.dumps({"command": ["/bin/sleep", "100000"],
                                        "artifact": artifact}).encode(),
                            {"Content-Type": "application/json"})
    if r.status not in (200, 201):
        xfer.stop()
        raise SystemExit("PUT art: %r" % r)
    held, have = False, 0
    while time.monotonic() - t0 < args.artifact_timeout_s:
        rss = [max(m, harness.proc_rss_kib(p) / 1024.0) for m, p in zip(rss, pids)]
        held, have = holds(n2, artifact)
        if held:
            break
        time.sleep(0.05)
    fetch_s, w1 = time.monotonic() - t0, time.time() * 1000
    cpu = [cpu_s(p) - c for p, c in zip(pids, cpu0)]
    xfer.stop()
    fetched = metric(n2, "agentflow_node_artifact_fetched_bytes_total") - fetched0
    served = metric(n1, "agentflow_node_artifact_served_bytes_total") - served0
    running = harness.wait_until(lambda: n2.client(token="read").get(
        "/api/services/art").json().get("state") == "running", args.artifact_timeout_s, 0.05)
    run_s = time.monotonic() - t0
    n2.client().request("DELETE", "/api/services/art")

    if held:
        print("%-10s %7.1f MiB/s  (%.2f s from the PUT on node-2 to node-2 holding it;"
              " %.1f MiB fetched, %.1f MiB served by node-1)"
              % ("fetch", mib / fetch_s, fetch_s, fetched / (1 << 20), served / (1 << 20)))
    else:
        ok = False
        print("fetch      NOT held after %.0f s (%.1f of %.1f MiB)"
              % (fetch_s, have / float(1 << 20), mib))
    print("%-10s %s" % ("running", "%.2f s from the PUT (unpacked, started)" % run_s
                        if running else "NOT running after %.0f s" % run_s))
    print("%-10s node-1 %.2f s, node-2 %.2f s over the fetch; RSS max node-1 %.1f MiB,"
          " node-2 %.1f MiB (%.1f, %.1f before)"
          % ("cpu", cpu[0], cpu[1], rss[0], rss[1], rss0[0], rss0[1]))

    for label, t, window in (("no fetch", base, {}),
                             ("fetching", xfer, {"since_ms": w0, "until_ms": w1})):
        seen, post, emit = event_delays(n2, t.name, t.sent, **window)
        if seen != t.sent or t.errors:
            ok = False
        print("events %-9s %d/s, %d sent%s%s, %d seen on node-2%s"
              % (label, args.event_rate, t.sent, ", %d late" % t.late if t.late else "",
                 ", %d refused" % t.errors if t.errors else "", seen,
                 "; %d sent during the fetch" % len(post) if window else ""))
        if post:
            print("  POST to node-2 p50 %5d ms  p99 %5d ms  max %5d ms"
                  % (pct(post, 50), pct(post, 99), max(post)))
            print("  emit to node-2 p50 %5d ms  p99 %5d ms  max %5d ms"
                  % (pct(emit, 50), pct(emit, 99), max(emit)))
    return ok and running


class Ok(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--services", type=int, default=20)
    ap.add_argument("--idle-s", type=float, default=20.0)
    ap.add_argument("--artifact-mib", type=int, default=256,
                    help="the artifact's random MiB (0 skips the artifact bench)")
    ap.add_argument("--artifact-timeout-s", type=float, default=300.0)
    ap.add_argument("--event-rate", type=int, default=50,
                    help="user events a second on node-1 during the A/B")
    ap.add_argument("--baseline-s", type=float, default=10.0,
                    help="events without a fetch (A)")
    args = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="af-bench-services-")
    nodes, sig, httpd = [], None, None
    ok = True
    try:
        pki = harness.Pki(tmp)
        sig = harness.Signal(["--rate", "0"], ca=pki.ca_path).start()
        for i in (1, 2):
            nodes.append(harness.MeshNode(pki, "node-%d" % i, signals=[sig.url],
                                          args=["--allow-adhoc", "--artifact-max-mib",
                                                str(max(512, 2 * args.artifact_mib))]
                                          ).start())
        harness.wait_formed(nodes, 60)
        n1, n2 = nodes
        mark = os.path.join(tmp, "probe.start")
        probe = {"command": ["/bin/sh", "-c",
                             'echo $$ $(date +%%s%%N) > %s.new && mv %s.new %s; exec sleep 100000'
                             % (mark, mark, mark)],
                 "desired": "stopped",
                 "restart_policy": {"delay_s": 0, "jitter": 0, "attempts": 1000,
                                    "interval_s": 1}}
        r = n2.client().request("PUT", "/api/services/probe", json.dumps(probe).encode(),
                                {"Content-Type": "application/json"})
        if r.status != 201:
            raise SystemExit("PUT probe: %r" % r)

        reconcile, restart = [], []
        for _ in range(args.runs):
            try:
                os.unlink(mark)
            except FileNotFoundError:
                pass
            t0 = time.time() * 1000
            r = n1.post("/api/commands", {"target": "node-2", "type": "service",
                                          "args": {"name": "probe", "action": "start"}})
            if r.status not in (200, 202):
                raise SystemExit("start: %r" % r)
            if not harness.wait_until(lambda: read_start(mark) is not None, 10, 0.005):
                ok = False
                continue
            pid, started = read_start(mark)
            reconcile.append(started - t0)
            # Killed: the policy starts it again at once.
            os.unlink(mark)
            t1 = time.time() * 1000
            os.kill(pid, signal.SIGKILL)
            if not harness.wait_until(lambda: read_start(mark) is not None, 10, 0.005):
                ok = False
                continue
            restart.append(read_start(mark)[1] - t1)
            r = n2.post("/api/services/probe/stop", {})
            harness.wait_until(lambda: n2.client().get("/api/services/probe").json()
                               ["state"] == "stopped", 10, 0.01)
        print("bench/services: %d runs, node-1 asks node-2" % args.runs)
        summary("reconcile", reconcile)
        summary("restart", restart)

        pid = n2.proc.pid
        time.sleep(2)
        c0 = cpu_s(pid)
        time.sleep(args.idle_s)
        base = cpu_s(pid) - c0

        def put_all(extra):
            for i in range(args.services):
                d = {"command": ["/bin/sleep", "100000"]}
                d.update(extra)
                r = n2.client().request("PUT", "/api/services/s%03d" % i,
                                        json.dumps(d).encode(),
                                        {"Content-Type": "application/json"})
                if r.status not in (200, 201):
                    raise SystemExit("PUT s%03d: %r" % (i, r))

        def measure(label):
            time.sleep(3)
            c = cpu_s(pid)
            time.sleep(args.idle_s)
            used = cpu_s(pid) - c
            print("%-34s %6.2f %% CPU  (%+.1f µs/s per service)" % (
                label, 100 * used / args.idle_s,
                1e6 * (used - base) / args.idle_s / args.services))

        print("%-34s %6.2f %% CPU" % ("idle, no service", 100 * base / args.idle_s))
        put_all({})
        measure("idle, %d services" % args.services)
        httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Ok)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        put_all({"checks": [{"type": "http", "port": httpd.server_address[1],
                             "interval_s": 1, "timeout_s": 1}]})
        measure("idle, %d services, 1 check/s" % args.services)

        if args.artifact_mib > 0:
            # A quiet node-2 for it: the sleepers and their checks gone.
            for i in range(args.services):
                n2.client().request("DELETE", "/api/services/s%03d" % i)
            time.sleep(1)
            ok &= artifact_bench(args, tmp, n1, n2)
    finally:
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()
        for n in nodes:
            n.stop()
        if sig is not None:
            sig.stop()
        shutil.rmtree(tmp, True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
