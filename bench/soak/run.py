#!/usr/bin/python3
"""bench/soak: a mesh under mixed load for a bounded time, watching for
leaks.

Starts a signal and --nodes agentflow-node processes (default 20) on
loopback, each in a private temporary directory, with a task definition
file; connects --clients WebSocket clients (default 5) to node-1's /ws and
reads them in a thread; then for --duration seconds (default 600):

  - every node broadcasts its status every second (the node's default);
  - --events-per-s user events a second from rotating nodes;
  - a task run on a rotating node every --task-every-s seconds, through a
    command issued on another node (its log lines flow to every node);

and every --sample-s seconds (default 10) samples each node's RSS
(VmRSS) and open file descriptors (/proc/PID/fd).  At the end it prints
the RSS and fd curves (min/max over nodes per sample), each node's growth
from the first samples taken after a warm-up to the last ones (the least
value of a few samples at each end: a task's pipes come and go), errors seen (API
errors, WebSocket disconnects, processes that died, error lines in the
nodes' logs), and exits 1 when a process died, an error was seen, or the
fds grew.

Usage: /usr/bin/python3 bench/soak/run.py [--duration 600] [--nodes 20]
Debian's python3; reuses tests/system/harness.py.  Everything is stopped
by PID and every temporary directory removed, also on Ctrl-C.
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "system"))
import harness  # noqa: E402

TASKS = {"tick": {"command": ["/bin/sh", "-c", "for i in 1 2 3 4 5; do echo tick $i; done"]}}


WINDOW = 6          # samples at each end compared for growth


def log(msg):
    print(msg, flush=True)


def fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--duration", type=float, default=600)
    p.add_argument("--nodes", type=int, default=20)
    p.add_argument("--clients", type=int, default=5)
    p.add_argument("--events-per-s", type=float, default=20)
    p.add_argument("--task-every-s", type=float, default=2)
    p.add_argument("--sample-s", type=float, default=10)
    p.add_argument("--warmup-s", type=float, default=30)
    a = p.parse_args(argv)
    if a.nodes < 2 or a.duration <= 0:
        p.error("--nodes >= 2 and --duration > 0")

    tmp = tempfile.mkdtemp(prefix="af-soak-")
    pki = harness.Pki(tmp)
    tasks_path = os.path.join(tmp, "tasks.json")
    with open(tasks_path, "w") as f:
        json.dump(TASKS, f)
    errors, procs, clients = [], [], []
    stop = threading.Event()
    try:
        sig = harness.Signal(["--rate", "0", "--heartbeat", "1"], ca=pki.ca_path,
                             log_level="info").start()
        procs.append(sig)
        nodes = []
        for i in range(1, a.nodes + 1):
            n = harness.MeshNode(pki, "node-%d" % i, signals=[sig.url],
                                 args=["--tasks", tasks_path], log_level="info")
            procs.append(n)
            nodes.append(n.start())
        apis = [harness.Api(n.api_port, n.tokens()["write"]) for n in nodes]
        ok = harness.wait_until(lambda: all(
            sum(l["state"] == "up" for l in api.json("GET", "/api/cluster/status")
                ["local"]["links"]) == a.nodes - 1 for api in apis), 120, 0.5)
        if not ok:
            raise RuntimeError("the mesh did not form")
        log("== %d nodes up; %d WebSocket clients; %.0f s of load" % (
            a.nodes, a.clients, a.duration))

        received = [0]

        def reader(ws):
            while not stop.is_set():
                try:
                    ws.recv()
                    received[0] += 1
                except harness.WsClosed as e:
                    if not stop.is_set():
                        errors.append("WebSocket closed: %s" % e)
                    return
                except OSError as e:
                    if not stop.is_set():
                        errors.append("WebSocket: %s" % e)
                    return
        for _ in range(a.clients):
            ws = harness.WsClient(nodes[0].api_port, token=nodes[0].tokens()["read"],
                                  timeout=30)
            clients.append(ws)
            threading.Thread(target=reader, args=(ws,), daemon=True).start()

        samples = []      # (t, [rss KiB], [fds])
        t0 = time.monotonic()
        next_event = next_task = next_sample = t0
        i = k = 0         # events, tasks
        while time.monotonic() - t0 < a.duration:
            now = time.monotonic()
            if now >= next_event:
                api = apis[i % a.nodes]
                try:
                    api.json("POST", "/api/events", json.dumps(
                        {"name": "soak", "payload": "event %d" % i}))
                except (RuntimeError, OSError) as e:
                    errors.append("POST /api/events: %s" % e)
                i += 1
                next_event += 1.0 / a.events_per_s
            if now >= next_task:
                # a counter of their own: derived from i, every task went
                # from the same node to the same node
                src, dst = apis[k % a.nodes], "node-%d" % (1 + (k + 1) % a.nodes)
                k += 1
                try:
                    rec = src.json("POST", "/api/commands", json.dumps({
                        "target": dst, "type": "run_task", "args": {"task": "tick"},
                        "wait_ms": 10000}))
                    if rec["results"][0]["status"] != "ok":
                        errors.append("run_task on %s: %s" % (dst, rec["results"][0]))
                except (RuntimeError, OSError, KeyError, IndexError) as e:
                    errors.append("POST /api/commands: %s" % e)
                next_task += a.task_every_s
            if now >= next_sample:
                dead = [q.NAME for q in procs if q.proc.poll() is not None]
                if dead:
                    errors.append("processes died: %s" % dead)
                    break
                samples.append((now - t0, [harness.proc_rss_kib(n.proc.pid) for n in nodes],
                                [fds(n.proc.pid) for n in nodes]))
                s = samples[-1]
                log("t=%5.0fs  RSS MiB min %5.1f max %5.1f   fds min %3d max %3d   ws msgs %d"
                    % (s[0], min(s[1]) / 1024, max(s[1]) / 1024, min(s[2]), max(s[2]),
                       received[0]))
                next_sample += a.sample_s
            time.sleep(min(next_event, next_task, next_sample) - time.monotonic()
                       if min(next_event, next_task, next_sample) > time.monotonic() else 0)
        stop.set()

        for n in nodes:
            for line in n.logs():
                if line.get("level") == "error":
                    errors.append("%s logged: %s" % (n.node_id, line.get("msg")))
        after = [s for s in samples if s[0] >= a.warmup_s] or samples
        # Each end is a window of samples, and a node's fds in it the
        # fewest: a task running at one sample holds its pipes (a few fds)
        # for a moment, which is not growth.
        k = max(1, min(WINDOW, len(after) // 3))
        head, tail = after[:k], after[-k:]

        def floor(window, which, i):
            return min(s[which][i] for s in window)
        rss_growth = [(floor(tail, 1, i) - floor(head, 1, i)) / 1024 for i in range(len(nodes))]
        fd_growth = [floor(tail, 2, i) - floor(head, 2, i) for i in range(len(nodes))]
        log("")
        log("from t=%.0f-%.0fs to t=%.0f-%.0fs (least of %d samples each): RSS growth per "
            "node min %+.1f MiB max %+.1f MiB; fd growth min %+d max %+d"
            % (head[0][0], head[-1][0], tail[0][0], tail[-1][0], k, min(rss_growth),
               max(rss_growth), min(fd_growth), max(fd_growth)))
        top = sorted(range(len(nodes)), key=lambda i: -rss_growth[i])[:3]
        log("most RSS growth: %s" % ", ".join("%s %+.1f MiB" % (nodes[i].node_id, rss_growth[i])
                                              for i in top))
        log("user events sent %d; WebSocket messages received %d" % (i, received[0]))
        for e in errors[:20]:
            log("ERROR: %s" % e)
        bad = bool(errors) or max(fd_growth) > 2
        log("%s" % ("FAILED" if bad else "OK: no errors, fds flat"))
        return 1 if bad else 0
    finally:
        stop.set()
        for ws in clients:
            ws.close()
        for q in reversed(procs):
            try:
                q.stop()
            except AssertionError as e:
                log("warning: %s" % str(e)[:500])
        shutil.rmtree(tmp, True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
