#!/usr/bin/python3
"""bench/orphans: how long a run outlives its node's kill -9.

One real agentflow-node on loopback, in a private temporary directory,
with one task whose shell leaves a child, a subshell and the subshell's
child (four processes, the test's tree from tests/system/test_orphans.py).
Each of --rounds rounds: start the node, run the task, wait for its four
pids, kill -9 the node, then poll /proc every millisecond until none of
the four is alive (a zombie counts as gone).  Printed: the time from the
SIGKILL to the last process gone, p50 / p99 / max — the run guardian's
reaction: EOF on its socket, SIGKILL of each group, the kernel's exit.

Exit status: 0 when every round ended every process within 5 s, 1
otherwise, 2 on a usage error.  The node is stopped by PID and the
temporary directory removed, also on failure or Ctrl-C.
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "system"))
import harness  # noqa: E402
from test_orphans import alive, read_pids, tree_script  # noqa: E402

CLI = os.path.join(harness.BIN, "agentflow")
LIMIT_S = 5.0


def percentile(values, p):
    v = sorted(values)
    k = min(len(v) - 1, max(0, int(round(p / 100.0 * len(v) + 0.5)) - 1))
    return v[k]


def one_round(node, pidfile):
    """Seconds from the node's SIGKILL to its run's last process gone, or
    None when some survived LIMIT_S."""
    if os.path.exists(pidfile):
        os.unlink(pidfile)
    node.restart()
    env = {k: v for k, v in os.environ.items()
           if k not in ("AGENTFLOW_API", "AGENTFLOW_TOKEN", "AGENTFLOW_DATA_DIR")}
    subprocess.run([CLI, "run", "--data-dir", node.data_dir, "--detach",
                    "node-1", "tree"], check=True, capture_output=True,
                   env=env, timeout=30, stdin=subprocess.DEVNULL)
    pids = harness.wait_until(lambda: read_pids(pidfile, 4), 10, 0.01)
    if not pids:
        raise SystemExit("the task did not write its pids")
    t0 = time.monotonic()
    node.send(signal.SIGKILL)
    while any(alive(p) for p in pids):
        if time.monotonic() - t0 > LIMIT_S:
            for p in pids:
                if alive(p):
                    os.kill(p, signal.SIGKILL)
            return None
        time.sleep(0.001)
    return time.monotonic() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=20)
    args = ap.parse_args()
    if args.rounds < 1:
        ap.error("--rounds must be at least 1")
    tmp = tempfile.mkdtemp(prefix="af-bench-orphans-")
    node = None
    try:
        pki = harness.Pki(tmp)
        pidfile = os.path.join(tmp, "pids")
        tasks = os.path.join(tmp, "tasks.json")
        with open(tasks, "w") as f:
            json.dump({"tree": {"command": ["/bin/sh", "-c",
                                            tree_script(pidfile)]}}, f)
        node = harness.MeshNode(pki, "node-1", args=["--tasks", tasks],
                                log_level="info")
        times, failed = [], 0
        for _ in range(args.rounds):
            t = one_round(node, pidfile)
            if t is None:
                failed += 1
            else:
                times.append(t * 1000.0)
        if times:
            print("kill -9 of the node to the last process of its run gone: "
                  "p50 %.2f ms   p99 %.2f ms   max %.2f ms   (n=%d)"
                  % (percentile(times, 50), percentile(times, 99), max(times),
                     len(times)), flush=True)
        if failed:
            print("%d round(s) left processes running after %.0f s"
                  % (failed, LIMIT_S))
        return 1 if failed else 0
    finally:
        if node is not None:
            node.stop()
        shutil.rmtree(tmp, True)


if __name__ == "__main__":
    sys.exit(main())
