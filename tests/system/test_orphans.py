"""System tests of "no orphans" (issue 16, deliverable 5) with a real
node on loopback: a task whose shell leaves children and grandchildren
behind, and the ways its node can end.

- kill -9 of the node: the node's run guardian ends every process of the
  run within seconds, and says so in the log;
- the guardian killed with the node (the node stopped first, so that
  it cannot start another): the run survives, and the node's next
  start ends it, logs it and records it in the task's reason;
- the guardian killed alone: the node starts another, which still ends
  the run when the node is then killed;
- SIGTERM of the node: runs end as they always did, and nothing is left
  for the next start to end.

Processes are checked by the pids the task wrote to a file, in /proc; a
zombie waiting for its reaper counts as gone."""

import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

import harness

CLI = os.path.join(harness.BIN, "agentflow")
GONE_S = 5          # the "within a few seconds"


def tree_script(pidfile):
    """A shell with a child, a subshell and the subshell's child: four
    pids in pidfile, the shell's first (the others race)."""
    return ("echo $$ >> {f}; ( sleep 300 & echo $! >> {f}; wait ) & "
            "echo $! >> {f}; sleep 300 & echo $! >> {f}; wait").format(f=pidfile)


def proc_state(pid):
    """The state letter of pid from /proc, or None when there is none."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except OSError:
        return None
    return stat[stat.rindex(")") + 2]


def alive(pid):
    s = proc_state(pid)
    return s is not None and s != "Z"


def read_pids(path, n):
    try:
        with open(path) as f:
            pids = [int(l) for l in f.read().split()]
    except (OSError, ValueError):
        return None
    return pids if len(pids) >= n else None


def log_events(node, msg):
    out = []
    for line in list(node.lines):
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if isinstance(obj, dict) and obj.get("msg") == msg:
            out.append(obj)
    return out


class Orphans(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="af-orphans-")
        self.pids_to_reap = []
        pki = harness.Pki(self.tmp)
        self.pidfile = os.path.join(self.tmp, "pids")
        tasks = os.path.join(self.tmp, "tasks.json")
        with open(tasks, "w") as f:
            json.dump({"tree": {"command": ["/bin/sh", "-c",
                                            tree_script(self.pidfile)]}}, f)
        self.node = harness.MeshNode(pki, "node-1", args=["--tasks", tasks])
        self.node.start()

    def tearDown(self):
        self.node.stop()
        # Whatever a failed test left: only the pids our task wrote.
        for pid in self.pids_to_reap:
            if alive(pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        shutil.rmtree(self.tmp, True)

    def cli(self, *args):
        e = dict(os.environ)
        for k in ("AGENTFLOW_API", "AGENTFLOW_TOKEN", "AGENTFLOW_DATA_DIR"):
            e.pop(k, None)
        p = subprocess.run([CLI, args[0], "--data-dir", self.node.data_dir]
                           + list(args[1:]), capture_output=True, text=True,
                           timeout=60, env=e, stdin=subprocess.DEVNULL)
        return p.returncode, p.stdout, p.stderr

    def start_tree(self):
        """Runs the task; its id and its four pids, all alive."""
        if os.path.exists(self.pidfile):
            os.unlink(self.pidfile)
        rc, out, err = self.cli("run", "--detach", "node-1", "tree")
        self.assertEqual(rc, 0, (out, err))
        m = re.search(r"^node-1\s+ok\s+task (\S+)", out, re.M)
        self.assertTrue(m, out)
        pids = harness.wait_until(lambda: read_pids(self.pidfile, 4), 10)
        self.assertTrue(pids, "the task did not write its pids")
        self.pids_to_reap += pids
        self.assertTrue(all(alive(p) for p in pids), pids)
        return m.group(1), pids

    def assert_all_gone(self, pids, within=GONE_S):
        gone = harness.wait_until(lambda: not any(alive(p) for p in pids),
                                  within, 0.05)
        self.assertTrue(gone, "still running: %s" % [p for p in pids if alive(p)])

    def guardian_pid(self):
        started = harness.wait_until(
            lambda: log_events(self.node, "run guardian started"), 10)
        self.assertTrue(started, "no guardian was started")
        pid = int(started[-1]["pid"])
        self.pids_to_reap.append(pid)
        return pid

    def task(self, tid):
        rc, out, err = self.cli("tasks", "--json", "--node", "node-1")
        self.assertEqual(rc, 0, err)
        return {t["task_id"]: t for t in json.loads(out)["tasks"]}.get(tid)

    def kill9_node(self):
        self.node.send(signal.SIGKILL)
        self.assertIsNotNone(self.node.wait_exit(10))

    def test_kill9_of_the_node_ends_the_whole_run(self):
        tid, pids = self.start_tree()
        guardian = self.guardian_pid()
        t0 = time.monotonic()
        self.kill9_node()
        self.assert_all_gone(pids)
        elapsed = time.monotonic() - t0
        # The guardian is done too, and said what it did.
        harness.wait_until(lambda: not alive(guardian), GONE_S)
        self.assertFalse(alive(guardian))
        self.assertTrue(harness.wait_until(
            lambda: log_events(self.node, "node gone: ended its runs"), 5),
            self.node.stderr()[-3000:])
        print("all %d processes of the run gone %.3f s after kill -9 of the "
              "node" % (len(pids), elapsed))
        # Nothing left for the next start to end.
        self.node.restart()
        time.sleep(0.5)
        self.assertEqual(log_events(self.node,
                                    "ended leftover run from a previous life"), [])
        t = harness.wait_until(lambda: self.task(tid), 10)
        self.assertEqual(t["state"], "failed", t)
        self.assertNotIn("was ended", t["reason"])

    def test_restart_ends_what_guardian_and_node_left(self):
        tid, pids = self.start_tree()
        guardian = self.guardian_pid()
        # Both die: the node stopped first, so that it cannot start
        # another guardian (a stopped guardian would not do: the kernel
        # wakes it with SIGCONT when the node's death orphans its group).
        self.node.send(signal.SIGSTOP)
        os.kill(guardian, signal.SIGKILL)
        self.assertTrue(harness.wait_until(lambda: not alive(guardian), 5))
        self.kill9_node()
        time.sleep(1.0)
        # The shell, the node's direct child, went with its parent-death
        # signal; the rest of its group outlived the node.
        self.assertFalse(alive(pids[0]))
        self.assertTrue(all(alive(p) for p in pids[1:]),
                        "the run should have outlived its node here")
        self.node.restart()
        self.assert_all_gone(pids)
        ended = harness.wait_until(lambda: log_events(
            self.node, "ended leftover run from a previous life"), 5)
        self.assertTrue(ended, self.node.stderr()[-3000:])
        self.assertEqual([(e["task"], e["pgid"]) for e in ended],
                         [(tid, pids[0])])
        # The task's own record says so.
        t = harness.wait_until(lambda: self.task(tid), 10)
        self.assertEqual(t["state"], "failed", t)
        self.assertIn("what it left running (process group %d) was ended"
                      % pids[0], t["reason"])
        # Once ended it is forgotten: the next start ends nothing.
        self.node.restart()
        time.sleep(0.5)
        self.assertEqual(log_events(self.node,
                                    "ended leftover run from a previous life"), [])

    def test_a_dead_guardian_is_replaced(self):
        tid, pids = self.start_tree()
        first = self.guardian_pid()
        time.sleep(1.2)     # a guardian that lived a second is restarted
        os.kill(first, signal.SIGKILL)
        self.assertTrue(harness.wait_until(
            lambda: log_events(self.node, "run guardian died; runs would "
                               "outlive a crash of the node until another "
                               "starts"), 5))
        second = harness.wait_until(
            lambda: [e for e in log_events(self.node, "run guardian started")
                     if int(e["pid"]) != first], 5)
        self.assertTrue(second, "no new guardian")
        self.pids_to_reap.append(int(second[-1]["pid"]))
        self.kill9_node()
        self.assert_all_gone(pids)

    def test_sigterm_still_ends_runs(self):
        tid, pids = self.start_tree()
        guardian = self.guardian_pid()
        self.assertEqual(self.node.stop(), 0)
        self.assert_all_gone(pids, 1)
        self.assertFalse(alive(guardian))
        self.node.restart()
        t = harness.wait_until(lambda: self.task(tid), 10)
        self.assertEqual(t["state"], "failed", t)
        self.assertEqual(t["reason"], "node stopped")
        self.assertEqual(log_events(self.node,
                                    "ended leftover run from a previous life"), [])


if __name__ == "__main__":
    unittest.main()
