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
              against a server this script runs.

Artifacts are not built yet, so their transfer rate is not measured.
Exit status: 0 when every step was observed, 1 otherwise.  Everything
is stopped by PID and the temporary directory removed.
"""

import argparse
import http.server
import json
import os
import shutil
import signal
import sys
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
    args = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="af-bench-services-")
    nodes, sig, httpd = [], None, None
    ok = True
    try:
        pki = harness.Pki(tmp)
        sig = harness.Signal(["--rate", "0"], ca=pki.ca_path).start()
        for i in (1, 2):
            nodes.append(harness.MeshNode(pki, "node-%d" % i, signals=[sig.url],
                                          args=["--allow-adhoc"]).start())
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
