"""Coordinator failure (node/work/workflows_takeover.h, docs/workflows.md):
a workflow's coordinator is killed and not restarted; after
--workflow-takeover-ms another node with a majority in sight takes the
workflow over at epoch 2 and finishes it, a step the old coordinator had
running is answered by the run already going (not run again), and the
old coordinator, restarted, steps down instead of moving it.

Real nodes on loopback; every task run appends {node, job, tag} to
runs.jsonl in the test's directory, so the test counts the runs of each
step."""

import json
import os
import shutil
import signal as _signal
import sys
import tempfile
import time
import unittest
import uuid

import harness

FORM_TIMEOUT = 40
TAKEOVER_MS = 5000
DONE = ("succeeded", "failed", "cancelled", "budget-exceeded")

TASK = r'''
import json, os, sys, time
node, mode, tmp = sys.argv[1], sys.argv[2], sys.argv[3]
p = json.load(open(os.environ["AGENTFLOW_PAYLOAD_FILE"])) or {}
with open(os.path.join(tmp, "runs.jsonl"), "a") as f:
    f.write(json.dumps({"node": node, "job": os.environ["AGENTFLOW_JOB_ID"],
                        "tag": p.get("tag", ""), "step": p.get("step", "")}) + "\n")
if mode == "slow":
    time.sleep(p.get("sleep", 5))
with open(os.environ["AGENTFLOW_RESULT_FILE"], "w") as f:
    json.dump({"node": node, "value": p.get("value")}, f)
'''


class Takeover(unittest.TestCase):
    """A signal, node-1 (the first coordinator), node-2 and node-3 (the
    only workers: role=worker)."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="af-wft-")
        self.script = os.path.join(self.tmp, "task.py")
        with open(self.script, "w") as f:
            f.write(TASK)
        self.pki = harness.Pki(self.tmp)
        self.sig = harness.Signal(["--rate", "0", "--heartbeat", "1",
                                   "--ttl", "5"], ca=self.pki.ca_path).start()
        self.nodes = {}
        for i in (1, 2, 3):
            nid = "node-%d" % i
            self.nodes[nid] = self.make_node(nid, i != 1).start()
        harness.wait_formed(list(self.nodes.values()), FORM_TIMEOUT)

    def make_node(self, node_id, worker):
        tasks = {m: {"command": [sys.executable, self.script, node_id, m,
                                 self.tmp]} for m in ("ok", "slow")}
        path = os.path.join(self.tmp, "tasks-%s.json" % node_id)
        with open(path, "w") as f:
            json.dump(tasks, f)
        args = ["--dead-ms", "3000", "--ping-ms", "300", "--tasks", path,
                "--command-timeout-ms", "3000",
                "--workflow-takeover-ms", str(TAKEOVER_MS)]
        if worker:
            args += ["--labels", "role=worker"]
        node = harness.MeshNode(self.pki, node_id, signals=[self.sig.url],
                                args=args)
        node.env["TMPDIR"] = self.tmp
        return node

    def tearDown(self):
        for n in self.nodes.values():
            n.stop()
        self.sig.stop()
        shutil.rmtree(self.tmp, True)

    def n(self, i):
        return self.nodes["node-%d" % i]

    def runs(self, tag):
        try:
            with open(os.path.join(self.tmp, "runs.jsonl")) as f:
                return [json.loads(l) for l in f if json.loads(l)["tag"] == tag]
        except FileNotFoundError:
            return []

    def seen(self, node, wid):
        """The workflow as node shows it (its own, or the mesh's view)."""
        r = node.client().get("/api/workflows/" + wid)
        return r.json() if r.status == 200 else None

    def wait_seen(self, node, wid, pred, timeout):
        got = harness.wait_until(lambda: (lambda w: w if w and pred(w) else None)(
            self.seen(node, wid)), timeout, 0.2)
        self.assertTrue(got, self.seen(node, wid))
        return got

    def step(self, wf, name):
        return [s for s in wf["steps"] if s["name"] == name][0]

    def test_a_workflow_at_rest_is_taken_over_only_after_the_silence(self):
        # A workflow waiting for a person makes no events, and at rest
        # node-1's statuses are 30 s apart: the takeover still counts
        # from when node-1 died, not from its last event.
        t = uuid.uuid4().hex[:10]
        r = self.n(1).post("/api/workflows", {"definition": {
            "name": "resting", "steps": [
                {"name": "gate", "approval": {"prompt": "go?"}}]}}, token="write")
        self.assertEqual(r.status, 202, r)
        wid = r.json()["id"]
        self.wait_seen(self.n(2), wid, lambda w: self.step(w, "gate")["state"] ==
                       "waiting-approval", 30)
        time.sleep(TAKEOVER_MS / 1000.0 + 3)     # the mesh rests
        killed = time.monotonic()
        self.n(1).stop(sig=_signal.SIGKILL)
        wf = self.wait_seen(self.n(3), wid, lambda w: w["epoch"] == 2, 60)
        took = time.monotonic() - killed
        self.assertIn(wf["coordinator"], ("node-2", "node-3"))
        self.assertGreaterEqual(took, TAKEOVER_MS / 1000.0, (took, t))

    def test_a_dead_coordinators_workflow_is_taken_over_and_finished(self):
        t = uuid.uuid4().hex[:10]
        r = self.n(1).post("/api/workflows", {"definition": {
            "name": "orphan", "steps": [
                {"name": "a", "task": "ok", "to": "any:role=worker",
                 "payload": {"tag": t, "step": "a", "value": "A"}},
                {"name": "b", "task": "slow", "to": "any:role=worker",
                 "needs": ["a"], "payload": {"tag": t, "step": "b",
                                             "sleep": 8, "value": "B"}},
                {"name": "c", "task": "ok", "to": "any:role=worker",
                 "needs": ["b"], "payload": {
                     "tag": t, "step": "c",
                     "value": "${steps.a.result.value}+${steps.b.result.value}"}},
                {"name": "gate", "approval": {"prompt": "go?"},
                 "needs": ["c"]}]}}, token="write")
        self.assertEqual(r.status, 202, r)
        wid = r.json()["id"]
        # b is running on a worker, as node-2 sees it.
        self.wait_seen(self.n(2), wid, lambda w: self.step(w, "b")["state"] ==
                       "running" and self.step(w, "b")["node"], 30)
        self.assertTrue(harness.wait_until(
            lambda: [x for x in self.runs(t) if x["step"] == "b"], 10, 0.1))
        b_node = [x for x in self.runs(t) if x["step"] == "b"][0]["node"]
        killed = time.monotonic()
        self.n(1).stop(sig=_signal.SIGKILL)
        # Taken over at epoch 2 by a node that is not node-1; b's run
        # answers the taker; c runs with both results; the gate waits.
        wf = self.wait_seen(self.n(3), wid, lambda w: w["epoch"] == 2 and
                            self.step(w, "gate")["state"] == "waiting-approval",
                            60)
        taker = wf["coordinator"]
        self.assertIn(taker, ("node-2", "node-3"))
        took = time.monotonic() - killed
        self.assertGreaterEqual(took, TAKEOVER_MS / 1000.0, took)
        steps = {x["step"]: x for x in self.runs(t)}
        self.assertEqual(sorted(x["step"] for x in self.runs(t)),
                         ["a", "b", "c"], self.runs(t))
        self.assertEqual(steps["b"]["node"], b_node)
        mine = self.nodes[taker].client().get("/api/workflows/" + wid).json()
        self.assertNotIn("remote", mine)
        self.assertEqual(self.step(mine, "c")["result"]["value"], "A+B")
        self.assertEqual([h for h in mine["history"]
                          if h["event"] == "taken over"][0]["from"], "node-1")
        audit = self.nodes[taker].client().get(
            "/api/audit?action=workflow.takeover").json()["records"]
        self.assertEqual([a["details"]["workflow_id"] for a in audit], [wid])
        # The other survivor sends an action to the taker.
        other = self.nodes["node-2" if taker == "node-3" else "node-3"]
        r = other.post("/api/workflows/%s/approve" % wid, {"step": "gate"},
                       token="write")
        self.assertEqual(r.status, 409, r)
        self.assertIn("coordinated by %s" % taker, json.dumps(r.json()))
        r = self.nodes[taker].post("/api/workflows/%s/approve" % wid,
                                   {"step": "gate", "comment": "ok"},
                                   token="write")
        self.assertEqual(r.status, 200, r)
        self.wait_seen(other, wid, lambda w: w["state"] == "succeeded", 20)

        # node-1 comes back: it steps down and moves nothing.
        self.n(1).restart()
        harness.wait_formed(list(self.nodes.values()), FORM_TIMEOUT)
        self.assertTrue(harness.wait_until(lambda: "this node stops "
                                           "coordinating it" in self.n(1).stderr(),
                                           20, 0.2), self.n(1).stderr()[-3000:])
        wf1 = self.wait_seen(self.n(1), wid, lambda w: w.get("remote"), 10)
        self.assertEqual((wf1["coordinator"], wf1["epoch"], wf1["state"]),
                         (taker, 2, "succeeded"))
        time.sleep(2)
        self.assertEqual(sorted(x["step"] for x in self.runs(t)),
                         ["a", "b", "c"], self.runs(t))
        lst = self.n(1).client().get("/api/workflows").json()["workflows"]
        self.assertEqual([(w["id"], w["coordinator"]) for w in lst
                          if w["id"] == wid], [(wid, taker)])
        lst = self.nodes[taker].client().get("/api/workflows").json()["workflows"]
        self.assertEqual([(w["id"], w.get("remote", False)) for w in lst
                          if w["id"] == wid], [(wid, False)])


if __name__ == "__main__":
    unittest.main()
