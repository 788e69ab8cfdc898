#!/usr/bin/python3
"""bench/propagation: how fast a user event reaches every node of a real
mesh, and what an idle node costs.

For each N in --nodes (default 3,10,20): starts a signal (--rate 0
--heartbeat --heartbeat-s) and N agentflow-node processes on loopback, each in a private
temporary directory; waits (bounded) until every node has N-1 links up;
fires --events user events on node-1 (POST /api/events), one every
--interval-ms; reads every node's log of node-1's user events
(GET /api/events) and computes, per event, the time until EVERY node had it:
max over the other nodes of received_ms - time_ms.  Then leaves the mesh
idle for --idle-s seconds and reads each node's CPU (utime + stime from
/proc/PID/stat) and RSS (VmRSS from /proc/PID/status).  After each mesh
is stopped it runs agentflow-bench-floor (bench_floor.c) with the same N,
events and interval: the same fan-out over bare loopback TCP, its receivers
burning no CPU and then the CPU a delivery cost our receiving nodes in that
run, as a reference measured in the same run.

time_ms (the origin's emit time) and received_ms (when the event was
applied at a node) are whole milliseconds of the same machine's wall clock,
so every delay is known to about 1 ms: "0 ms" means the event arrived
within the same millisecond tick, "1 ms" anywhere from 0 to 2 ms.

Exit status: 0 when every node got every event exactly once, 1 when one was
missing or duplicated (or a run failed), 2 on a usage error.  Everything is
stopped by PID (SIGTERM, then SIGKILL after a bound) and every temporary
directory removed, also on failure or Ctrl-C.

Debian's /usr/bin/python3 with the standard library; reuses
tests/system/harness.py (which needs python3-cryptography for the test PKI).
"""

import argparse
import json
import os
import shutil
import signal as _signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "system"))
import harness  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")
FLOOR_BIN = os.path.join(harness.BIN, "agentflow-bench-floor")
EVENT_NAME = "bench.propagation"


def log(msg):
    print(msg, flush=True)


# ------------------------------------------------------------------ /proc

def proc_cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        text = f.read()
    # the command name may hold spaces: fields start after the last ')'
    fields = text[text.rindex(")") + 2:].split()
    return int(fields[11]) + int(fields[12])      # utime, stime (fields 14, 15)


def proc_memory_kib(pid):
    """(private, shared) KiB of a process's resident pages, from
    smaps_rollup: private pages are its own; shared ones are mostly the
    code of the libraries it maps (libgrpc, OpenSSL's libcrypto,
    libstdc++), resident once for every process on the host that maps
    them and dropped under memory pressure (clean file pages)."""
    got = {}
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                key, _, rest = line.partition(":")
                if key in ("Private_Clean", "Private_Dirty", "Shared_Clean", "Shared_Dirty"):
                    got[key] = int(rest.split()[0])
    except OSError:
        return 0, 0
    return (got.get("Private_Clean", 0) + got.get("Private_Dirty", 0),
            got.get("Shared_Clean", 0) + got.get("Shared_Dirty", 0))


def machine_ticks():
    """(busy, total) jiffies of all CPUs from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + (v[4] if len(v) > 4 else 0)      # idle + iowait
    total = sum(v[:8])                               # guest time is inside user
    return total - idle, total


# ------------------------------------------------------------------ stats

def percentile(sorted_values, p):
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return float("nan")
    k = max(0, min(len(sorted_values) - 1, int(-(-p * len(sorted_values) // 100)) - 1))
    return sorted_values[k]


# ------------------------------------------------------------------ one run

class Run:
    def __init__(self, args, n):
        self.args = args
        self.n = n
        self.tmp = tempfile.mkdtemp(prefix="af-bench-prop-")
        self.memory = []           # (private, shared) KiB per node, read at the end of idle()
        self.pki = None
        self.signal = None
        self.nodes = []
        self.apis = []
        self.deadline = time.monotonic() + args.run_timeout

    def remaining(self, want):
        """want seconds, cut to what the run's overall bound leaves."""
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise RuntimeError("run bound of %ss exceeded" % self.args.run_timeout)
        return min(want, left)

    # -- start and stop

    def start(self):
        self.pki = harness.Pki(self.tmp)
        # every node comes from 127.0.0.1, and each holds a connection to
        # the signal: past its default cap of 64 per address, the rest were
        # refused and never registered (a 100-node mesh never formed)
        self.signal = harness.Signal(["--rate", "0", "--heartbeat", str(self.args.heartbeat_s),
                                      "--max-per-address", str(max(64, 2 * self.n))],
                                     ca=self.pki.ca_path, log_level="info").start()
        node_args = ["--status-ms", str(self.args.status_ms),
                     "--ping-ms", str(self.args.ping_ms),
                     "--max-links", str(self.args.max_links)] + self.args.node_args.split()
        for i in range(1, self.n + 1):
            node = harness.MeshNode(self.pki, "node-%d" % i, signals=[self.signal.url],
                                    args=node_args, log_level=self.args.node_log_level)
            self.nodes.append(node)
            node.start()
            self.apis.append(harness.Api(node.api_port, node.tokens()["write"]))
        self.last_started = time.monotonic()

    def stop(self):
        # SIGTERM everything first so the shutdowns overlap, then reap each
        # (harness.stop waits, then SIGKILLs after the bound).
        procs = list(reversed(self.nodes)) + ([self.signal] if self.signal else [])
        for p in procs:
            try:
                p.send(_signal.SIGTERM)
            except (OSError, AttributeError):
                pass
        for api in self.apis:
            api.close()
        errors = []
        for p in procs:
            try:
                p.stop(timeout=self.args.stop_timeout)
            except AssertionError as e:       # a sanitizer report
                errors.append(str(e))
        shutil.rmtree(self.tmp, ignore_errors=True)
        for e in errors:
            log("warning: %s" % e[:2000])

    # -- phases

    def wait_full_mesh(self):
        want = self.n - 1
        t0 = time.monotonic()

        def links_up(api):
            st = api.json("GET", "/api/cluster/status")
            return sum(1 for l in st["local"]["links"] if l["state"] == "up")

        def alive(api):
            st = api.json("GET", "/api/cluster/status")
            return sum(1 for r in st["remote"] if r.get("member") == "alive")

        counts = []

        last_log = [time.monotonic()]

        def formed():
            # Full mesh: N-1 links up everywhere.  Under --max-links: every
            # node sees every other alive (linked or relayed).  Stops at the
            # first node that is not there yet.  A node too busy to answer
            # in time is not there yet.
            ask = links_up if self.args.max_links == 0 else alive
            counts[:] = []
            if time.monotonic() - last_log[0] >= 30:
                last_log[0] = time.monotonic()
                self.log_chatter("%.0f s into forming" % (last_log[0] - t0))
            for api in self.apis:
                try:
                    counts.append(ask(api))
                except OSError:
                    counts.append(-1)
                if counts[-1] != want:
                    return False
            return True

        interval = 0.25 if self.n <= 20 else 1.0
        ok = harness.wait_until(formed, self.remaining(self.args.mesh_timeout), interval)
        self.log_chatter("forming" if ok else "not formed")
        if not ok:
            # a node that exited: its end, before its output is gone
            for node in self.nodes:
                if node.proc is not None and node.proc.poll() is not None:
                    log("%s exited (status %s); its last lines:\n    %s" % (
                        node.node_id, node.proc.returncode,
                        "\n    ".join(l.rstrip()[:300] for l in list(node.lines)[-8:])))
            raise RuntimeError("mesh of %d did not form within %ss: %s per node %s"
                               % (self.n, self.args.mesh_timeout,
                                  "links up" if self.args.max_links == 0 else "peers alive",
                                  counts))
        return time.monotonic() - t0

    def log_chatter(self, when):
        """What the nodes' statuses did since they started: sent or held,
        and which part of a status's shape changed (status_pace.h)."""
        m = self.metrics()

        def total(key):
            return sum(x.get(key, 0) for x in m)
        log("statuses %s, summed over %d nodes that answered: %d sent, %d held; shape"
            " changes: links %d, members %d, other %d; gaps %d (early events held %d,"
            " applied in order %d), replayed %d, anti-entropy asks %d"
            % (when, sum(1 for x in m if x), total('agentflow_node_statuses_total{outcome="sent"}'),
               total('agentflow_node_statuses_total{outcome="held"}'),
               total('agentflow_node_status_changes_total{part="links"}'),
               total('agentflow_node_status_changes_total{part="members"}'),
               total('agentflow_node_status_changes_total{part="other"}'),
               total("agentflow_node_gaps_total"),
               total('agentflow_node_early_events_total{outcome="held"}'),
               total('agentflow_node_early_events_total{outcome="applied"}'),
               total("agentflow_node_replayed_total"),
               total('agentflow_node_entropy_asks_total{direction="out",outcome="sent"}')))

    def fire(self):
        api = self.apis[0]
        interval = self.args.interval_ms / 1000.0
        seqs = []
        rtt = []
        t0 = time.monotonic()
        late = 0
        for i in range(self.args.events):
            target = t0 + i * interval
            delay = target - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            elif delay < -interval:
                late += 1
            body = json.dumps({"name": EVENT_NAME, "payload": "event %d" % i})
            t = time.monotonic()
            seqs.append(api.json("POST", "/api/events", body)["seq"])
            rtt.append((time.monotonic() - t) * 1000.0)
        elapsed = time.monotonic() - t0
        return seqs, elapsed, late, sorted(rtt)

    def user_events(self, api):
        doc = api.json("GET", "/api/events?kind=user&node=node-1&limit=10000")
        return [e for e in doc["events"]
                if (e.get("body") or {}).get("name") == EVENT_NAME]

    def collect(self, seqs):
        """Waits (bounded) until every node has len(seqs) events, then
        returns {node_id: [event...]}."""
        want = len(seqs)
        got = {}

        def complete():
            for node, api in zip(self.nodes, self.apis):
                got[node.node_id] = self.user_events(api)
            return all(len(v) >= want for v in got.values())

        harness.wait_until(complete, self.remaining(self.args.collect_timeout), 0.2)
        return got

    def metrics(self):
        out = []
        for api in self.apis:
            try:
                status, data = api.request("GET", "/metrics")
            except OSError:                   # too busy to answer in time
                status, data = 0, b""
            out.append(harness.parse_metrics(data.decode()) if status == 200 else {})
        return out

    def watch(self):
        """With --watch: a dashboard's WebSocket on node-1 (what the page
        opens), read on a thread so the node never waits on it; statuses
        then go out every second to every node (docs/architecture.md).
        Returns a function that closes it."""
        if not self.args.watch:
            return lambda: None
        node = self.nodes[0]
        ws = harness.WsClient(node.api_port, token=node.tokens()["read"])
        if ws.status != 101:
            raise RuntimeError("/ws on node-1 answered %d" % ws.status)
        ws.sock.settimeout(None)

        def drain():
            try:
                while True:
                    ws.recv()
            except (OSError, ValueError, harness.WsClosed):
                pass

        threading.Thread(target=drain, daemon=True).start()
        time.sleep(self.remaining(3.0))          # watchers' statuses reach every node
        return ws.close

    def idle(self):
        pids = [n.proc.pid for n in self.nodes]
        secs = self.remaining(self.args.idle_s)
        rss = {pid: [] for pid in pids}
        c0 = {pid: proc_cpu_ticks(pid) for pid in pids}
        sig0 = proc_cpu_ticks(self.signal.proc.pid)
        t0 = time.monotonic()
        end = t0 + secs
        while True:
            for pid in pids:
                rss[pid].append(harness.proc_rss_kib(pid))
            now = time.monotonic()
            if now >= end:
                break
            time.sleep(min(1.0, end - now))
        elapsed = time.monotonic() - t0
        c1 = {pid: proc_cpu_ticks(pid) for pid in pids}
        sig1 = proc_cpu_ticks(self.signal.proc.pid)
        cpu = [100.0 * (c1[p] - c0[p]) / CLK_TCK / elapsed for p in pids]
        rss_mean = [sum(rss[p]) / len(rss[p]) / 1024.0 for p in pids]
        rss_max = [max(rss[p]) / 1024.0 for p in pids]
        sig_cpu = 100.0 * (sig1 - sig0) / CLK_TCK / elapsed
        sig_rss = harness.proc_rss_kib(self.signal.proc.pid) / 1024.0
        self.memory = [proc_memory_kib(p) for p in pids]
        return elapsed, cpu, rss_mean, rss_max, sig_cpu, sig_rss

    # -- the whole run

    def run(self):
        a = self.args
        log("== N = %d nodes (signal --rate 0 --heartbeat %d --max-per-address 2N; nodes --status-ms %d --ping-ms %d%s)"
            % (self.n, a.heartbeat_s, a.status_ms, a.ping_ms, " " + a.node_args if a.node_args else ""))
        t0 = time.monotonic()
        self.start()
        log("started: %d nodes in %.1f s" % (self.n, time.monotonic() - t0))
        self.wait_full_mesh()
        if a.max_links == 0:
            log("mesh: %d nodes started and fully linked (%d links) in %.1f s"
                % (self.n, self.n * (self.n - 1) // 2, time.monotonic() - t0))
        else:
            log("mesh: %d nodes started and formed (--max-links %d: every node sees every "
                "other alive) in %.1f s, %.1f s after the last start"
                % (self.n, a.max_links, time.monotonic() - t0,
                   time.monotonic() - self.last_started))
        time.sleep(self.remaining(a.settle_s))   # snapshot handshakes settle
        m0 = self.metrics()
        pids = [n.proc.pid for n in self.nodes]
        c0 = [proc_cpu_ticks(p) for p in pids]
        busy0, total0 = machine_ticks()
        t0 = time.monotonic()

        seqs, fire_s, late, rtt = self.fire()
        burst_s = time.monotonic() - t0
        c1 = [proc_cpu_ticks(p) for p in pids]
        burst_ticks = [b - a_ for a_, b in zip(c0, c1)]
        busy1, total1 = machine_ticks()
        log("fired: %d user events on node-1 in %.2f s (one every %g ms requested%s);"
            " POST round trip p50 %.1f ms, p99 %.1f ms, max %.1f ms"
            % (len(seqs), fire_s, a.interval_ms,
               ", %d sent late" % late if late else "",
               percentile(rtt, 50), percentile(rtt, 99), rtt[-1]))
        log("during the burst (%.2f s): the %d nodes used %.0f %% of one core together;"
            " the machine's %d CPUs were %.0f %% busy (everything on it, this script too)"
            % (burst_s, self.n, 100.0 * sum(burst_ticks) / CLK_TCK / burst_s, os.cpu_count(),
               100.0 * (busy1 - busy0) / max(1, total1 - total0)))
        # What one delivery costs the receiving nodes (status events and
        # pings of the burst included), next to what the origin spends per
        # event: the figure to hold against bench_floor's rows.
        recv_us = (1e6 * sum(burst_ticks[1:]) / CLK_TCK / max(1, len(seqs) * (self.n - 1)))
        send_us = 1e6 * burst_ticks[0] / CLK_TCK / max(1, len(seqs))
        log("CPU per delivery: %.0f us on the receiving nodes (their CPU in the burst /"
            " %d deliveries); node-1 %.0f us per event (%.0f us per link)"
            % (recv_us, len(seqs) * (self.n - 1), send_us, send_us / (self.n - 1)))
        got = self.collect(seqs)
        m1 = self.metrics()

        # per-node checks: exactly the emitted seqs, each once
        ok = True
        want = sorted(seqs)
        per_event = {}          # seq -> [delay over nodes]
        fired_ms = {}           # seq -> the origin's time_ms
        for node in self.nodes:
            evs = got.get(node.node_id, [])
            have = sorted(e["seq"] for e in evs)
            if have != want:
                ok = False
                missing = sorted(set(want) - set(have))
                dup = len(have) - len(set(have))
                extra = sorted(set(have) - set(want))
                log("ERROR: %s has %d of %d events (missing %d%s, duplicated %d, unexpected %d)"
                    % (node.node_id, len(set(have) & set(want)), len(want), len(missing),
                       " e.g. seq %s" % missing[:5] if missing else "", dup, len(extra)))
            if node.node_id == "node-1":
                continue        # the origin: received_ms is its emit time
            for e in evs:
                per_event.setdefault(e["seq"], []).append(e["received_ms"] - e["time_ms"])
                fired_ms[e["seq"]] = e["time_ms"]
        delivered = sum(len(v) for v in per_event.values())
        expected = len(seqs) * (self.n - 1)
        log("delivered: %d of %d (%d events x %d receiving nodes)%s"
            % (delivered, expected, len(seqs), self.n - 1, "" if ok else "  <-- ERROR"))

        complete = sorted(max(d) for s, d in per_event.items() if len(d) == self.n - 1)
        each = sorted(x for d in per_event.values() for x in d)
        if complete:
            log("time until EVERY node had an event (max over %d nodes of received_ms - time_ms),"
                " over %d events:" % (self.n - 1, len(complete)))
            log("    p50 %d ms   p99 %d ms   max %d ms   (mean %.2f ms)"
                % (percentile(complete, 50), percentile(complete, 99), complete[-1],
                   sum(complete) / len(complete)))
            log("time until ONE node had it (each delivery, %d samples):"
                "  p50 %d ms   p99 %d ms   max %d ms"
                % (len(each), percentile(each, 50), percentile(each, 99), each[-1]))
            # Nodes sample their status on the wall-clock multiples of
            # --status-ms and half a period later (two slots): at each slot
            # half of the nodes send a status to every other node at once.
            # Events that left in the 100 ms after a slot (or 40 ms before
            # it, still in flight) against the others.
            half = a.status_ms / 2.0

            def near_slot(seq):
                ms = fired_ms[seq] % half
                return ms < 100 or ms >= half - 40
            for label, want_near in (("near a status slot", True), ("away from the slots", False)):
                part = sorted(max(d) for q, d in per_event.items()
                              if len(d) == self.n - 1 and near_slot(q) == want_near)
                if part:
                    log("    fired %-20s p50 %d ms   p99 %d ms   max %d ms   (%d events)"
                        % (label + ":", percentile(part, 50), percentile(part, 99), part[-1],
                           len(part)))
        log("    resolution: time_ms and received_ms are whole milliseconds of one clock,"
            " so each figure is +-1 ms")

        def delta(key):
            return sum(b.get(key, 0) - a_.get(key, 0) for a_, b in zip(m0, m1))
        log("counters during the burst, summed over nodes: events in %d, duplicates dropped %d,"
            " gaps %d, snapshots received %d, replayed %d, anti-entropy asks %d"
            % (delta('agentflow_node_events_total{direction="in",outcome="applied"}'),
               delta('agentflow_node_events_total{direction="in",outcome="duplicate"}'),
               delta("agentflow_node_gaps_total"),
               delta('agentflow_node_snapshots_total{direction="in"}'),
               delta("agentflow_node_replayed_total"),
               delta('agentflow_node_entropy_asks_total{direction="out",outcome="sent"}')))

        time.sleep(self.remaining(1.0))          # let the burst's work finish
        unwatch = self.watch()
        try:
            elapsed, cpu, rss_mean, rss_max, sig_cpu, sig_rss = self.idle()
        finally:
            unwatch()
        log("idle %.1f s%s, per node (CPU %% of one core from utime+stime; RSS = VmRSS"
            " sampled every second):"
            % (elapsed, ", a dashboard open on node-1" if a.watch else ""))
        log("    CPU  mean %.2f %%   max %.2f %% (%s)"
            % (sum(cpu) / len(cpu), max(cpu), self.nodes[cpu.index(max(cpu))].node_id))
        log("    RSS  mean %.1f MiB   max %.1f MiB (%s)"
            % (sum(rss_mean) / len(rss_mean), max(rss_max),
               self.nodes[rss_max.index(max(rss_max))].node_id))
        private = [m[0] / 1024.0 for m in self.memory]
        shared = [m[1] / 1024.0 for m in self.memory]
        log("    RSS at the end = private %.1f MiB mean (max %.1f) + shared %.1f MiB mean"
            " (library code and other pages that processes share)"
            % (sum(private) / len(private), max(private), sum(shared) / len(shared)))
        log("    signal: CPU %.2f %%, RSS %.1f MiB;  CPU tick resolution %d ms"
            % (sig_cpu, sig_rss, 1000 // CLK_TCK))
        if self.args.verbose:
            for node, c, rm, rx in zip(self.nodes, cpu, rss_mean, rss_max):
                log("    %-8s CPU %5.2f %%  RSS mean %5.1f MiB  max %5.1f MiB"
                    % (node.node_id, c, rm, rx))
        return ok, {"n": self.n, "complete": complete, "cpu": cpu, "rss_max": rss_max,
                    "delivered": delivered, "expected": expected, "recv_us": recv_us}


# ------------------------------------------------------------ the floor

def floor(args, n, recv_us):
    """agentflow-bench-floor with the same N, events and interval, its
    receivers burning nothing and then what a delivery cost our receivers
    in this run: what this machine gives that fan-out with nothing of ours
    in the way.  {work_us: p99 ms to every receiver}, empty if not built."""
    if not os.access(FLOOR_BIN, os.X_OK):
        log("floor: %s is not built; skipped" % FLOOR_BIN)
        return {}
    works = [0, int(round(recv_us))]
    try:
        # On a timeout run() kills the benchmark; its receivers then read
        # end of file and exit on their own.
        out = subprocess.run(
            [FLOOR_BIN, "--nodes", str(n), "--events", str(args.events),
             "--interval-ms", str(args.interval_ms), "--work-us", ",".join(map(str, works))],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            timeout=args.run_timeout)
    except subprocess.TimeoutExpired:
        log("floor: ERROR: no result within %g s" % args.run_timeout)
        return {}
    rows = {}
    for line in out.stdout.splitlines():
        log("floor: " + line)
        f = line.split()
        if len(f) >= 4 and f[0].isdigit():
            rows[int(f[0])] = float(f[2])
    if out.returncode != 0:
        log("floor: exit status %d" % out.returncode)
    return rows


# ------------------------------------------------------------------ main

def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--nodes", default="3,10,20", help="comma-separated mesh sizes (default 3,10,20)")
    p.add_argument("--events", type=int, default=200, help="user events fired per run (default 200)")
    p.add_argument("--interval-ms", type=float, default=5.0,
                   help="pause between two events (default 5)")
    p.add_argument("--idle-s", type=float, default=10.0, help="idle measurement (default 10)")
    p.add_argument("--status-ms", type=int, default=1000,
                   help="the nodes' --status-ms (default 1000, the node's default)")
    p.add_argument("--watch", action="store_true",
                   help="hold a dashboard's WebSocket open on node-1 while idle (statuses "
                   "every second to every node, as with the dashboard open)")
    p.add_argument("--heartbeat-s", type=int, default=1,
                   help="the signal's --heartbeat, how often each node calls it (default 1; "
                   "a deployed signal's default is 10, and each call is part of a node's idle cost)")
    p.add_argument("--ping-ms", type=int, default=3000,
                   help="the nodes' --ping-ms (default 3000, the node's default)")
    p.add_argument("--max-links", type=int, default=0,
                   help="the nodes' --max-links (default 0: a full mesh); the mesh is "
                        "formed when every node sees every other alive")
    p.add_argument("--settle-s", type=float, default=2.0,
                   help="pause after the mesh formed, before firing (default 2)")
    p.add_argument("--mesh-timeout", type=float, default=90.0,
                   help="bound on forming the full mesh (default 90 s)")
    p.add_argument("--collect-timeout", type=float, default=30.0,
                   help="bound on waiting for every node to have every event (default 30 s)")
    p.add_argument("--run-timeout", type=float, default=300.0,
                   help="bound on one N's whole run, stop excluded (default 300 s)")
    p.add_argument("--stop-timeout", type=float, default=5.0,
                   help="SIGTERM to SIGKILL bound per process (default 5 s)")
    p.add_argument("--node-args", default="",
                   help="more agentflow-node flags, space-separated (e.g. \"--keepalive-ms 5000\")")
    p.add_argument("--node-log-level", default="info", help="the nodes' --log-level (default info)")
    p.add_argument("--no-floor", dest="floor", action="store_false",
                   help="skip agentflow-bench-floor, the reference run after each N")
    p.add_argument("-v", "--verbose", action="store_true", help="print every node's idle figures")
    a = p.parse_args(argv)
    try:
        a.sizes = [int(x) for x in a.nodes.split(",") if x.strip()]
    except ValueError:
        p.error("--nodes: comma-separated integers expected")
    if not a.sizes or any(n < 2 or n > 100 for n in a.sizes):
        p.error("--nodes: sizes between 2 and 100")
    if a.events < 1 or a.events > 10000:
        p.error("--events: 1-10000 (the API returns at most 10000)")
    if a.interval_ms < 0 or a.idle_s <= 0:
        p.error("--interval-ms must be >= 0 and --idle-s > 0")
    if a.heartbeat_s < 1 or a.heartbeat_s > 3600:
        p.error("--heartbeat-s: 1-3600")
    return a


def main(argv):
    args = parse_args(argv)
    for b in (harness.SIGNAL_BIN, harness.NODE_BIN):
        if not os.access(b, os.X_OK):
            print("run.py: %s is not built (cmake -S . -B build && cmake --build build)" % b,
                  file=sys.stderr)
            return 1

    def on_term(signum, frame):
        raise SystemExit(1)
    _signal.signal(_signal.SIGTERM, on_term)

    log("bench/propagation: %s; %d CPUs; %s" % (harness.NODE_BIN, os.cpu_count(),
                                                time.strftime("%Y-%m-%d %H:%M:%S")))
    all_ok = True
    summary = []
    for n in args.sizes:
        r = Run(args, n)
        try:
            ok, s = r.run()
            all_ok &= ok
            summary.append(s)
        except (RuntimeError, OSError, ValueError, KeyError) as e:
            log("ERROR: N=%d: %s" % (n, e))
            all_ok = False
        finally:
            r.stop()
        if args.floor and summary and summary[-1]["n"] == n:
            summary[-1]["floor"] = floor(args, n, summary[-1]["recv_us"])
        log("")
    if summary:
        log("summary (goals: p99 < 5 ms to all 20 nodes; idle node < 1 % CPU, < 40 MiB RSS):")
        log("    %5s %10s %8s %8s %8s %12s %12s %9s %22s"
            % ("N", "delivered", "p50 ms", "p99 ms", "max ms", "idle CPU max", "RSS max MiB",
               "us/deliv", "floor p99 ms: 0 / same"))
        for s in summary:
            c = s["complete"]
            fl = s.get("floor") or {}
            log("    %5d %4d/%-5d %8s %8s %8s %11.2f%% %12.1f %9.0f %22s"
                % (s["n"], s["delivered"], s["expected"],
                   percentile(c, 50) if c else "-", percentile(c, 99) if c else "-",
                   c[-1] if c else "-", max(s["cpu"]), max(s["rss_max"]), s["recv_us"],
                   " / ".join("%.1f" % fl[k] for k in sorted(fl)) if fl else "-"))
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
