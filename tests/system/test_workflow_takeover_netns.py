"""A workflow's coordinator on the minority side of a partition (issue 17
item 3): five nodes, each in its own network namespace (netns.Lab), split
3/2 by nftables rules on their mesh port while a step of a workflow
coordinated by n5 runs on a worker of the majority side.  The majority
takes the workflow over at epoch 2 and finishes it, the running step's
run answering the taker; the cut-off coordinator sends no step anywhere
(its jobs' gate holds them: it has no majority, and after the heal the
taker's epoch); after the heal it steps down.  Every step runs exactly
once.  Skipped without CAP_NET_ADMIN."""

import json
import os
import sys
import time
import unittest
import uuid

import harness
import netns
import test_workflow_takeover

HOSTS = ("n1", "n2", "n3", "n4", "n5")
MAJORITY, MINORITY = HOSTS[:3], HOSTS[3:]
FORM_TIMEOUT = 60
TAKEOVER_MS = 5000
HEAL_TIMEOUT = 75      # links back (redial backoff)

# The task of test_workflow_takeover.py: each run appends {node, job, tag,
# step} to runs.jsonl in the test's directory.
TASK = test_workflow_takeover.TASK


class TakeoverPartition(netns.LabTest):

    TMP_PREFIX = "af-wft-netns-"
    HOSTS = HOSTS

    def setUp(self):
        super().setUp()                     # the lab of HOSTS, tmp, pki
        self.script = os.path.join(self.tmp, "task.py")
        with open(self.script, "w") as f:
            f.write(TASK)
        self.sig = netns.Signal(self.lab, "sig", self.pki,
                                ["--rate", "0", "--heartbeat", "1", "--ttl", "5"])
        self.procs.append(self.sig)
        self.sig.start()
        self.nodes = {}
        for h in HOSTS:
            tasks = os.path.join(self.tmp, "tasks-%s.json" % h)
            with open(tasks, "w") as f:
                json.dump({m: {"command": [sys.executable, self.script, h, m,
                                           self.tmp]} for m in ("ok", "slow")}, f)
            args = ["--dead-ms", "3000", "--ping-ms", "500",
                    "--signal-ca", self.pki.ca_path, "--tasks", tasks,
                    "--command-timeout-ms", "3000",
                    "--workflow-takeover-ms", str(TAKEOVER_MS)]
            if h in MAJORITY:
                args += ["--labels", "role=worker"]
            n = netns.MeshNode(self.lab, h, self.pki, h, port=netns.MESH_PORT,
                               signals=[self.sig.url], args=args)
            self.procs.append(n)
            self.nodes[h] = n.start()
        self.wait(self.all_alive, FORM_TIMEOUT, "full mesh of five")
        self.log("five nodes formed")

    def runs(self, tag):
        try:
            with open(os.path.join(self.tmp, "runs.jsonl")) as f:
                return [json.loads(l) for l in f if json.loads(l)["tag"] == tag]
        except FileNotFoundError:
            return []

    def seen(self, host, wid):
        r = self.nodes[host].client(token="read").get("/api/workflows/" + wid)
        return r.json() if r.status == 200 else None

    def step(self, wf, name):
        return [s for s in wf["steps"] if s["name"] == name][0]

    def test_minority_coordinator_is_taken_over_and_steps_down(self):
        t = uuid.uuid4().hex[:10]
        r = self.nodes["n5"].post("/api/workflows", {"definition": {
            "name": "cut", "steps": [
                {"name": "a", "task": "ok", "to": "any:role=worker",
                 "payload": {"tag": t, "step": "a", "value": "A"}},
                {"name": "b", "task": "slow", "to": "any:role=worker",
                 "needs": ["a"], "payload": {"tag": t, "step": "b",
                                             "sleep": 20, "value": "B"}},
                {"name": "c", "task": "ok", "to": "any:role=worker",
                 "needs": ["b"], "payload": {
                     "tag": t, "step": "c",
                     "value": "${steps.a.result.value}+${steps.b.result.value}"}}]}},
            token="write")
        self.assertEqual(r.status, 202, r)
        wid = r.json()["id"]
        self.wait(lambda: [x for x in self.runs(t) if x["step"] == "b"], 30,
                  "step b started")
        b_node = [x for x in self.runs(t) if x["step"] == "b"][0]["node"]
        self.assertIn(b_node, MAJORITY)
        # Every majority node knows where b runs before the cut (a step
        # whose node the taker does not know runs again elsewhere).
        self.wait(lambda: all((lambda w: w and (self.step(w, "b")["state"],
                                                self.step(w, "b")["node"]) ==
                               ("running", b_node))(self.seen(h, wid))
                              for h in MAJORITY),
                  10, "b running on %s as every node sees it" % b_node)
        self.split(MINORITY, MAJORITY, True)
        self.log("split 3/2 (coordinator n5 on the minority side)")
        # Taken over on the majority side; c runs with both results.
        taker = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            w = self.seen("n1", wid)
            if w and w["epoch"] == 2 and w["state"] == "succeeded":
                taker = w["coordinator"]
                break
            time.sleep(0.3)
        self.assertIsNotNone(taker, self.seen("n1", wid))
        self.log("taken over by %s and finished" % taker)
        self.assertIn(taker, MAJORITY)
        w = self.nodes[taker].client(token="read").get(
            "/api/workflows/" + wid).json()
        self.assertEqual(self.step(w, "c")["result"]["value"], "A+B")
        # The cut-off coordinator still shows its own epoch 1 and moved
        # nothing: it has no majority.
        w5 = self.seen("n5", wid)
        self.assertEqual((w5["coordinator"], w5["epoch"]), ("n5", 1), w5)
        self.assertNotEqual(w5["state"], "succeeded", w5)
        time.sleep(4)      # n5 sees b's node dead by --dead-ms meanwhile
        self.split(MINORITY, MAJORITY, False)
        self.log("healed")
        self.wait(self.all_alive, HEAL_TIMEOUT, "the mesh back after the heal")
        self.wait(lambda: "this node stops coordinating it" in
                  self.nodes["n5"].stderr(), 20, "n5 stepping down")
        self.wait(lambda: (lambda w: w and (w["coordinator"], w["epoch"],
                                            w["state"]) ==
                           (taker, 2, "succeeded"))(self.seen("n5", wid)), 20,
                  "n5 showing the taker's workflow")
        time.sleep(4)      # anything n5 would still send out has run
        runs = self.runs(t)
        self.log("runs: %s" % [(x["step"], x["node"], x["job"]) for x in runs])
        self.assertEqual(sorted(x["step"] for x in runs), ["a", "b", "c"],
                         runs)
        self.assertEqual([x["node"] for x in runs if x["step"] == "b"],
                         [b_node])
        for x in runs:
            self.assertIn(x["node"], MAJORITY, x)


if __name__ == "__main__":
    unittest.main()
