#!/usr/bin/python3
"""bench/catchup: how long a node that missed N user events of S bytes
takes to catch up when it comes back, what live events sent on the same
links meanwhile wait, and how many times a link was reset on the way.

For each binary directory given (--bin LABEL=DIR, repeatable; default this
checkout's build/bin): starts a signal and three agentflow-node processes
on loopback, each in a private temporary directory; waits until they form
a full mesh; stops node-3 (SIGTERM); posts --count user events of --size
bytes to node-1 through its API (one keep-alive connection, the write
token); waits until node-2 holds them too, so both peers catch node-3 up;
restarts node-3 and measures:

- catch-up: from the restart to when node-3 applied node-1's last event
  (its received_ms), and from node-3's links coming up to then; MiB/s is
  the missed bytes over the latter;
- live events: from node-3's links coming up until it has caught up,
  small user events posted to node-2 every 1/--live-rate s travel the
  node-2 -> node-3 link, which carries node-2's share of the catch-up at
  the same time; p50/p99/max of their delay (received_ms on node-3 minus
  the origin's time_ms, both whole ms of this machine's clock);
- resets: log lines "resetting the link" / "cannot keep up" on any node
  since the restart, and "link down" lines on any node since then.

Then every missed event is checked on node-3 (GET /api/events/...; with
more than --verify-max events an even sample of that many, and the last).
Exit status: 0 when every run got every event checked, 1 otherwise, 2 on
a usage error.  Everything is stopped by PID and every temporary directory
removed, also on failure or Ctrl-C.

Debian's /usr/bin/python3 with the standard library; reuses
tests/system/harness.py (python3-cryptography for the test PKI).
"""

import argparse
import json
import math
import os
import shutil
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "system"))
import harness  # noqa: E402

RESET_WORDS = ("resetting the link", "cannot keep up")
MIB = 1024 * 1024


def log(msg):
    print(msg, flush=True)


def percentile(sorted_values, p):
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return float("nan")
    k = max(0, min(len(sorted_values) - 1, int(-(-p * len(sorted_values) // 100)) - 1))
    return sorted_values[k]


def get_event(node, origin, incarnation, seq):
    """The event as node's log holds it, or None."""
    r = node.client(token="read").get("/api/events/%s/%d/%d" % (origin, incarnation, seq))
    return r.json() if r.status == 200 else None


class Run:
    def __init__(self, args, label, bindir):
        self.args = args
        self.label = label
        self.bindir = bindir
        self.tmp = tempfile.mkdtemp(prefix="af-bench-catchup-")
        self.signal = None
        self.nodes = []

    def start(self):
        harness.NODE_BIN = os.path.join(self.bindir, "agentflow-node")
        harness.SIGNAL_BIN = os.path.join(self.bindir, "agentflow-signal")
        pki = harness.Pki(self.tmp)
        self.signal = harness.Signal(["--rate", "0", "--heartbeat", "1", "--ttl", "5"],
                                     ca=pki.ca_path, log_level="info").start()
        total = self.args.count * self.args.size
        # room for every missed event in every log, with the others' share
        kept_mib = max(256, int(math.ceil(3.0 * total / MIB)) + 64)
        node_args = ["--events-kept", str(max(100000, 3 * self.args.count)),
                     "--events-kept-mib", str(kept_mib)] + self.args.node_args.split()
        for i in (1, 2, 3):
            n = harness.MeshNode(pki, "node-%d" % i, signals=[self.signal.url],
                                 args=node_args, log_level="info")
            self.nodes.append(n)
            n.start()
        harness.wait_formed(self.nodes, 60)

    def stop(self):
        for n in reversed(self.nodes):
            try:
                n.stop()
            except Exception as e:     # a sanitizer report, say: still clean up
                log("  stopping %s: %s" % (n.node_id, e))
        if self.signal is not None:
            self.signal.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def post_history(self, a):
        t0 = time.monotonic()
        seqs = harness.post_user_events(a, self.args.count, self.args.size, "missed")
        log("  posted %d x %d B to node-1 in %.1f s" % (len(seqs), self.args.size,
                                                       time.monotonic() - t0))
        return seqs

    def live_poster(self, b, c, state):
        """Posts small events to node-2 from node-3's links coming up until
        state['done']; their seqs into state['live']."""
        while not state["done"] and time.monotonic() < state["deadline"]:
            try:
                if c.up_peers() == ["node-1", "node-2"]:
                    break
            except (OSError, AssertionError):
                pass
            time.sleep(0.02)
        state["up_ms"] = int(time.time() * 1000)
        api = harness.Api(b.api_port, b.tokens()["write"])
        period = 1.0 / self.args.live_rate
        nxt = time.monotonic()
        try:
            while not state["done"] and time.monotonic() < state["deadline"]:
                status, data = api.request("POST", "/api/events", json.dumps(
                    {"name": "live", "payload": "live-%d" % len(state["live"])}))
                if status == 200:
                    state["live"].append(json.loads(data)["seq"])
                nxt += period
                time.sleep(max(0.0, nxt - time.monotonic()))
        finally:
            api.close()

    def measure(self):
        a, b, c = self.nodes
        c.stop()
        harness.wait_until(lambda: "node-3" not in a.up_peers() and
                           "node-3" not in b.up_peers(), 30)
        seqs = self.post_history(a)
        last = seqs[-1]
        if not harness.wait_until(lambda: get_event(b, "node-1", a.incarnation, last),
                                  self.args.timeout, 0.5):
            raise RuntimeError("node-2 did not get node-1's events")
        marks = {n.node_id: len(n.lines) for n in (a, b)}

        state = {"done": False, "live": [], "up_ms": None,
                 "deadline": time.monotonic() + self.args.timeout}
        restart_ms = int(time.time() * 1000)
        c.restart()
        poster = threading.Thread(target=self.live_poster, args=(b, c, state), daemon=True)
        poster.start()
        got = harness.wait_until(lambda: get_event(c, "node-1", a.incarnation, last),
                                 self.args.timeout, 0.2)
        state["done"] = True
        poster.join(30)
        res = {"label": self.label, "count": self.args.count, "size": self.args.size,
               "caught_up": bool(got)}
        if got:
            res["catchup_s"] = (got["received_ms"] - restart_ms) / 1000.0
            if state["up_ms"] is not None:
                res["from_up_s"] = (got["received_ms"] - state["up_ms"]) / 1000.0
        # the live events: each one's delay on node-3
        delays, missing = [], 0
        for seq in state["live"]:
            ev = harness.wait_until(lambda: get_event(c, "node-2", b.incarnation, seq), 10, 0.2)
            if ev is None:
                missing += 1
            else:
                delays.append(ev["received_ms"] - ev["time_ms"])
        delays.sort()
        res.update(live=len(state["live"]), live_missing=missing,
                   p50=percentile(delays, 50), p99=percentile(delays, 99),
                   max=delays[-1] if delays else float("nan"))
        # the missed events, every one or an even sample, with the right payload
        if len(seqs) <= self.args.verify_max:
            check = list(range(len(seqs)))
        else:
            step = len(seqs) / float(self.args.verify_max)
            check = sorted({int(i * step) for i in range(self.args.verify_max)} |
                           {len(seqs) - 1})
        bad = 0
        for i in check:
            ev = get_event(c, "node-1", a.incarnation, seqs[i])
            if ev is None or ev["body"]["payload"][:8] != "%08d" % i:
                bad += 1
        res.update(checked=len(check), bad=bad)
        lines = {a.node_id: a.lines[marks[a.node_id]:], b.node_id: b.lines[marks[b.node_id]:],
                 c.node_id: list(c.lines)}
        res["resets"] = sum(1 for ls in lines.values() for l in ls
                            if any(w in l for w in RESET_WORDS))
        res["downs"] = sum(1 for ls in lines.values() for l in ls if '"link down"' in l)
        return res


def report(r):
    total = r["count"] * r["size"] / float(MIB)
    if not r["caught_up"]:
        log("%-8s %6d x %6d B = %7.1f MiB: NOT caught up in time" % (
            r["label"], r["count"], r["size"], total))
    else:
        rate = total / r["from_up_s"] if r.get("from_up_s") else float("nan")
        log("%-8s %6d x %6d B = %7.1f MiB: caught up %6.1f s after restart "
            "(%6.1f s after link-up, %6.1f MiB/s)" % (
                r["label"], r["count"], r["size"], total, r["catchup_s"],
                r.get("from_up_s", float("nan")), rate))
    log("%-8s live events on the same links: %d sent, p50 %s ms, p99 %s ms, max %s ms, "
        "%d missing" % (r["label"], r["live"], r["p50"], r["p99"], r["max"], r["live_missing"]))
    log("%-8s link resets (\"cannot keep up\"): %d, \"link down\" lines: %d; "
        "missed events checked: %d, wrong or missing: %d" % (
            r["label"], r["resets"], r["downs"], r["checked"], r["bad"]))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--count", type=int, default=1000, help="missed events (N)")
    p.add_argument("--size", type=int, default=65536,
                   help="payload bytes of each (S), at most 65536")
    p.add_argument("--bin", action="append", default=[], metavar="LABEL=DIR",
                   help="a build's bin directory to measure (repeatable); "
                        "default: this checkout's build/bin")
    p.add_argument("--live-rate", type=float, default=20.0,
                   help="live events per second to node-2 during the catch-up")
    p.add_argument("--timeout", type=float, default=900.0,
                   help="bound in seconds on each wait (posting aside)")
    p.add_argument("--verify-max", type=int, default=4096,
                   help="check at most this many missed events on node-3")
    p.add_argument("--node-args", default="", help="extra agentflow-node arguments")
    args = p.parse_args()
    if not (8 <= args.size <= 65536) or args.count < 1 or args.live_rate <= 0:
        p.print_usage(sys.stderr)
        sys.stderr.write("--size 8..65536, --count >= 1, --live-rate > 0\n")
        return 2
    if args.count * args.size > 1024 * MIB:
        sys.stderr.write("N x S is at most 1 GiB\n")
        return 2
    bins = []
    for spec in args.bin or ["build=" + harness.BIN]:
        label, _, d = spec.partition("=")
        if not d or not os.access(os.path.join(d, "agentflow-node"), os.X_OK):
            sys.stderr.write("--bin %s: no agentflow-node there\n" % spec)
            return 2
        bins.append((label, os.path.abspath(d)))

    ok = True
    results = []
    for label, d in bins:
        log("%s (%s): %d x %d B" % (label, d, args.count, args.size))
        run = Run(args, label, d)
        try:
            run.start()
            r = run.measure()
        except (RuntimeError, AssertionError, harness.StartError, OSError) as e:
            log("  run failed: %s" % e)
            ok = False
            continue
        finally:
            run.stop()
        results.append(r)
        ok = ok and r["caught_up"] and r["bad"] == 0
    log("")
    for r in results:
        report(r)
    return 0 if ok else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
