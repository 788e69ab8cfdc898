"""System tests of the workflow coordinator (node/work/workflows.c,
docs/workflows.md): real nodes on loopback, workflows submitted to node-1
(their coordinator) through its API or the CLI, their steps run as
durable jobs on node-1..3, observed through the API, the audit, the CLI
and the files the tasks write.

Every task appends one line {node, job, tag} to runs.jsonl in the test's
directory when it starts, so a test counts how often each step ran (a
step's payload carries a tag unique to the test)."""

import json
import os
import shutil
import signal as _signal
import subprocess
import sys
import tempfile
import time
import unittest
import uuid

import harness

FORM_TIMEOUT = 40
CLI = os.path.join(harness.BIN, "agentflow")
DONE = ("succeeded", "failed", "cancelled", "budget-exceeded")

# The task: MODE is ok, slow (sleeps payload.sleep), fail (exit 3 unless
# the file payload.fixed exists) or flaky (fails its first payload.fail
# runs of its tag).
TASK = r'''
import json, os, sys, time
node, mode, tmp = sys.argv[1], sys.argv[2], sys.argv[3]
p = json.load(open(os.environ["AGENTFLOW_PAYLOAD_FILE"])) or {}
tag = p.get("tag", "")
with open(os.path.join(tmp, "runs.jsonl"), "a") as f:
    f.write(json.dumps({"node": node, "job": os.environ["AGENTFLOW_JOB_ID"],
                        "tag": tag}) + "\n")
def runs():
    with open(os.path.join(tmp, "runs.jsonl")) as f:
        return sum(1 for l in f if json.loads(l)["tag"] == tag)
if mode == "slow":
    time.sleep(p.get("sleep", 5))
if mode == "fail" and not os.path.exists(p.get("fixed", "/nonexistent")):
    sys.exit(3)
if mode == "flaky" and runs() <= p.get("fail", 0):
    sys.exit(4)
with open(os.environ["AGENTFLOW_RESULT_FILE"], "w") as f:
    json.dump({"node": node, "tag": tag, "value": p.get("value")}, f)
'''


def cli(node, *args, timeout=120):
    e = dict(os.environ)
    for k in ("AGENTFLOW_API", "AGENTFLOW_TOKEN", "AGENTFLOW_DATA_DIR"):
        e.pop(k, None)
    p = subprocess.run([CLI, args[0], args[1], "--data-dir", node.data_dir] +
                       list(args[2:]), capture_output=True, text=True,
                       errors="replace", timeout=timeout, env=e,
                       stdin=subprocess.DEVNULL)
    return p.returncode, p.stdout, p.stderr


class Workflows(unittest.TestCase):
    """A signal and node-1 (the coordinator), node-2, node-3."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="af-wf-")
        cls.script = os.path.join(cls.tmp, "task.py")
        with open(cls.script, "w") as f:
            f.write(TASK)
        cls.pki = harness.Pki(cls.tmp)
        cls.sig = harness.Signal(["--rate", "0", "--heartbeat", "1", "--ttl", "5"],
                                 ca=cls.pki.ca_path).start()
        cls.nodes = {}
        for i in (1, 2, 3):
            nid = "node-%d" % i
            cls.nodes[nid] = cls.make_node(nid).start()
        harness.wait_formed(list(cls.nodes.values()), FORM_TIMEOUT)

    @classmethod
    def make_node(cls, node_id):
        tasks = {m: {"command": [sys.executable, cls.script, node_id, m, cls.tmp]}
                 for m in ("ok", "slow", "fail", "flaky")}
        path = os.path.join(cls.tmp, "tasks-%s.json" % node_id)
        with open(path, "w") as f:
            json.dump(tasks, f)
        node = harness.MeshNode(cls.pki, node_id, signals=[cls.sig.url], args=[
            "--dead-ms", "3000", "--ping-ms", "300", "--tasks", path,
            "--command-timeout-ms", "3000"])
        node.env["TMPDIR"] = cls.tmp
        return node

    @classmethod
    def tearDownClass(cls):
        for n in cls.nodes.values():
            n.stop()
        cls.sig.stop()
        shutil.rmtree(cls.tmp, True)

    # -- helpers

    def n(self, i):
        return self.nodes["node-%d" % i]

    def tag(self):
        return uuid.uuid4().hex[:10]

    def runs(self, tag):
        try:
            with open(os.path.join(self.tmp, "runs.jsonl")) as f:
                return [json.loads(l) for l in f if json.loads(l)["tag"] == tag]
        except FileNotFoundError:
            return []

    def run_wf(self, definition, status=202, token="write", **kw):
        r = self.n(1).post("/api/workflows", dict({"definition": definition}, **kw),
                           token=token)
        self.assertEqual(r.status, status, r)
        return r.json()

    def wf(self, wid):
        r = self.n(1).client().get("/api/workflows/" + wid)
        self.assertEqual(r.status, 200, r)
        return r.json()

    def step(self, wid, name):
        return [s for s in self.wf(wid)["steps"] if s["name"] == name][0]

    def wait_wf(self, wid, states=DONE, timeout=40):
        got = harness.wait_until(lambda: self.wf(wid)["state"] in states and
                                 self.wf(wid), timeout, 0.2)
        self.assertTrue(got, self.wf(wid))
        return got

    def wait_step(self, wid, name, state, timeout=30):
        got = harness.wait_until(lambda: self.step(wid, name)["state"] == state,
                                 timeout, 0.2)
        self.assertTrue(got, self.wf(wid))

    def act(self, wid, verb, body=None, token="write", status=200):
        r = self.n(1).post("/api/workflows/%s/%s" % (wid, verb), body or {},
                           token=token)
        self.assertEqual(r.status, status, r)
        return r.json()

    def job(self, jid):
        r = self.n(1).client().get("/api/jobs/" + jid)
        self.assertEqual(r.status, 200, r)
        return r.json()

    # -- tests

    def test_dag_across_three_nodes_passes_results(self):
        t = self.tag()
        doc = self.run_wf({
            "name": "dag", "params": {"seed": None},
            "steps": [
                {"name": "a", "task": "ok", "to": "node-1",
                 "payload": {"tag": t, "value": "${params.seed}"}},
                {"name": "b", "task": "ok", "to": "node-2", "needs": ["a"],
                 "payload": {"tag": t, "value": "${steps.a.result.value}-b"}},
                {"name": "c", "task": "ok", "to": "node-3", "needs": ["a"],
                 "payload": {"tag": t, "value": "${steps.a.result.node}"}},
                {"name": "d", "task": "ok", "to": "node-2", "needs": ["b", "c"],
                 "payload": {"tag": t,
                             "value": "${steps.b.result.value}+${steps.c.result.value}"}},
            ]}, set={"seed": "s1"})
        self.assertEqual(doc["coordinator"], "node-1")
        wf = self.wait_wf(doc["id"])
        self.assertEqual(wf["state"], "succeeded", wf)
        steps = {s["name"]: s for s in wf["steps"]}
        self.assertEqual(steps["d"]["result"]["value"], "s1-b+node-1")
        self.assertEqual({k: s["node"] for k, s in steps.items()},
                         {"a": "node-1", "b": "node-2", "c": "node-3", "d": "node-2"})
        self.assertEqual(steps["d"]["needs"], ["b", "c"])
        self.assertEqual({s["attempt"] for s in steps.values()}, {1})
        self.assertTrue(all(s["duration_ms"] >= 0 for s in steps.values()))
        # Each step ran once, where it was sent.
        self.assertEqual(sorted(r["node"] for r in self.runs(t)),
                         ["node-1", "node-2", "node-2", "node-3"])
        # The step's job is this node's, submitted as itself, naming the
        # workflow and its submitter.
        # Its id is the step's (index 1) first attempt's.
        self.assertEqual(steps["b"]["job"], "j%s-1-1" % doc["id"])
        job = self.job(steps["b"]["job"])
        self.assertEqual(job["principal"], "node:node-1")
        note = [h for h in job["history"] if h["event"] == "workflow"][0]
        self.assertEqual((note["workflow"], note["step"], note["submitter"]),
                         (doc["id"], "b", "token:write"))
        self.assertEqual(wf["principal"], "token:write")
        audit = self.n(1).client().get("/api/audit?action=workflow.run").json()
        mine = [a for a in audit["records"]
                if a["details"]["workflow_id"] == doc["id"]]
        self.assertEqual([(a["actor"], a["details"]["steps"]) for a in mine],
                         [("token:write", 4)])
        # Listed newest first; by state.
        lst = self.n(1).client().get("/api/workflows?state=succeeded").json()
        self.assertIn(doc["id"], [w["id"] for w in lst["workflows"]])
        self.assertEqual(self.n(1).client().get(
            "/api/workflows?state=nope").status, 400)

    def test_a_step_failing_twice_then_succeeding(self):
        t = self.tag()
        doc = self.run_wf({"name": "flaky", "steps": [
            {"name": "f", "task": "flaky", "to": "node-2", "retries": 2,
             "backoff": "1s", "payload": {"tag": t, "fail": 2}}]})
        wf = self.wait_wf(doc["id"])
        self.assertEqual(wf["state"], "succeeded", wf)
        self.assertEqual(wf["steps"][0]["attempt"], 3)
        self.assertEqual(wf["steps"][0]["job"], "j%s-0-3" % doc["id"])
        self.assertEqual(len(self.runs(t)), 3)
        moves = [h["state"] for h in wf["history"] if h.get("step") == "f"]
        self.assertEqual(moves, ["running", "retrying", "running", "retrying",
                                 "running", "succeeded"])
        # Out of retries: failed, its error naming the job's end.
        t = self.tag()
        doc = self.run_wf({"name": "flaky", "steps": [
            {"name": "f", "task": "flaky", "to": "node-2", "retries": 1,
             "backoff": "1s", "payload": {"tag": t, "fail": 5}}]})
        wf = self.wait_wf(doc["id"])
        self.assertEqual(wf["state"], "failed", wf)
        self.assertIn("failed", wf["steps"][0]["error"])
        self.assertEqual(len(self.runs(t)), 2)

    def test_on_failure_continue_runs_the_other_branch(self):
        t = self.tag()
        doc = self.run_wf({"name": "branches", "on_failure": "continue", "steps": [
            {"name": "bad", "task": "fail", "to": "node-2", "payload": {"tag": t}},
            {"name": "after_bad", "task": "ok", "to": "node-2", "needs": ["bad"],
             "payload": {"tag": t}},
            {"name": "good", "task": "slow", "to": "node-3",
             "payload": {"tag": t, "sleep": 1}},
            {"name": "after_good", "task": "ok", "to": "node-1", "needs": ["good"],
             "payload": {"tag": t, "value": "${steps.good.result.node}"}},
            {"name": "gate", "approval": {"timeout": "1s"}, "needs": ["good"]}]})
        self.assertEqual(doc["state"], "running")
        wf = self.wait_wf(doc["id"])
        self.assertEqual(wf["state"], "failed", wf)
        steps = {s["name"]: s["state"] for s in wf["steps"]}
        self.assertEqual(steps, {"bad": "failed", "after_bad": "skipped",
                                 "good": "succeeded", "after_good": "succeeded",
                                 "gate": "failed"})
        self.assertIn("timeout", [s for s in wf["steps"]
                                  if s["name"] == "gate"][0]["error"])
        self.assertEqual(len(self.runs(t)), 3)
        self.assertEqual(self.n(1).client().get("/api/workflows/wnope").status, 404)

    def test_on_failure_stop_ends_a_wait_for_a_person(self):
        t = self.tag()
        doc = self.run_wf({"name": "stopping", "steps": [
            {"name": "bad", "task": "fail", "to": "node-2", "payload": {"tag": t}},
            {"name": "gate", "approval": {}},
            {"name": "after", "task": "ok", "to": "node-3", "needs": ["gate"],
             "payload": {"tag": t}}]})
        wf = self.wait_wf(doc["id"])
        self.assertEqual(wf["state"], "failed", wf)
        self.assertEqual([s["state"] for s in wf["steps"]],
                         ["failed", "cancelled", "pending"])
        self.assertEqual(len(self.runs(t)), 1)
        self.act(doc["id"], "approve", {"step": "gate"}, status=409)

    def test_a_payload_that_cannot_be_rendered_fails_its_step(self):
        t = self.tag()
        doc = self.run_wf({"name": "render", "steps": [
            {"name": "a", "task": "ok", "to": "node-2", "payload": {"tag": t}},
            {"name": "b", "task": "ok", "to": "node-3", "needs": ["a"],
             "payload": {"tag": t, "value": "${steps.a.result.missing}"}}]})
        wf = self.wait_wf(doc["id"])
        self.assertEqual(wf["state"], "failed", wf)
        b = wf["steps"][1]
        self.assertEqual((b["state"], b["job"]), ("failed", None))
        self.assertIn("payload: ${steps.a.result.missing}", b["error"])
        self.assertEqual(len(self.runs(t)), 1)
        # The node is still serving.
        self.assertEqual(self.n(1).client().get("/api/workflows").status, 200)

    def test_budget_exceeded_cancels_the_running_job(self):
        t = self.tag()
        doc = self.run_wf({"name": "budget", "budget": "3s", "steps": [
            {"name": "s", "task": "slow", "to": "node-3",
             "payload": {"tag": t, "sleep": 30}},
            {"name": "after", "task": "ok", "to": "node-3", "needs": ["s"],
             "payload": {"tag": t}}]})
        wf = self.wait_wf(doc["id"], timeout=20)
        self.assertEqual(wf["state"], "budget-exceeded", wf)
        s = wf["steps"][0]
        self.assertEqual(s["state"], "cancelled")
        self.assertEqual(wf["steps"][1]["state"], "pending")
        self.assertEqual(self.job(s["job"])["state"], "cancelled")
        self.assertEqual(len(self.runs(t)), 1)

    def test_approval_waits_approve_continues_reject_stops(self):
        t = self.tag()
        definition = {"name": "gate", "steps": [
            {"name": "a", "task": "ok", "to": "node-2", "payload": {"tag": t}},
            {"name": "ok", "approval": {"prompt": "go?"}, "needs": ["a"]},
            {"name": "b", "task": "ok", "to": "node-3", "needs": ["ok"],
             "payload": {"tag": t, "value": "${steps.ok.result.approved_by}"}}]}
        doc = self.run_wf(definition)
        self.wait_step(doc["id"], "ok", "waiting-approval")
        time.sleep(1)
        self.assertEqual(self.wf(doc["id"])["state"], "running")
        self.assertEqual(len(self.runs(t)), 1)
        # A read token may look, not approve.
        r = self.act(doc["id"], "approve", {"step": "ok"}, token="read", status=403)
        self.assertEqual(r["error"], "forbidden")
        # Not waiting: 409 naming the state; unknown step 404.
        r = self.act(doc["id"], "approve", {"step": "a"}, status=409)
        self.assertIn("succeeded", r["message"])
        self.act(doc["id"], "approve", {"step": "zz"}, status=404)
        self.act(doc["id"], "approve", {}, status=400)
        self.act(doc["id"], "approve", {"step": "ok", "x": 1}, status=400)
        self.act(doc["id"], "approve", {"step": "ok", "comment": "ship it"})
        wf = self.wait_wf(doc["id"])
        self.assertEqual(wf["state"], "succeeded", wf)
        steps = {s["name"]: s for s in wf["steps"]}
        self.assertEqual((steps["ok"]["approved_by"], steps["ok"]["comment"]),
                         ("token:write", "ship it"))
        self.assertEqual(steps["b"]["result"]["value"], "token:write")
        audit = self.n(1).client().get(
            "/api/audit?action=workflow.approve").json()["records"]
        mine = [a for a in audit if a["details"]["workflow_id"] == doc["id"]]
        self.assertEqual(len(mine), 1, audit)
        self.assertEqual(mine[0]["actor"], "token:write")
        self.assertEqual(mine[0]["details"]["comment"], "ship it")
        # Rejected: the step fails, the workflow stops, b never runs.
        t2 = self.tag()
        definition["steps"][0]["payload"]["tag"] = t2
        definition["steps"][2]["payload"]["tag"] = t2
        doc = self.run_wf(definition)
        self.wait_step(doc["id"], "ok", "waiting-approval")
        self.act(doc["id"], "reject", {"step": "ok", "comment": "not today"})
        wf = self.wait_wf(doc["id"])
        self.assertEqual(wf["state"], "failed", wf)
        steps = {s["name"]: s for s in wf["steps"]}
        self.assertEqual(steps["ok"]["state"], "failed")
        self.assertIn("not today", steps["ok"]["error"])
        self.assertEqual(steps["b"]["state"], "pending")
        self.assertEqual(len(self.runs(t2)), 1)
        audit = self.n(1).client().get(
            "/api/audit?action=workflow.reject").json()["records"]
        self.assertIn(doc["id"], [a["details"]["workflow_id"] for a in audit])

    def test_pause_holds_new_steps_resume_goes_on(self):
        t = self.tag()
        doc = self.run_wf({"name": "pausing", "steps": [
            {"name": "a", "task": "slow", "to": "node-2",
             "payload": {"tag": t, "sleep": 2}},
            {"name": "b", "task": "ok", "to": "node-3", "needs": ["a"],
             "payload": {"tag": t}}]})
        self.wait_step(doc["id"], "a", "running")
        self.assertEqual(self.act(doc["id"], "pause")["state"], "paused")
        r = self.act(doc["id"], "pause", status=409)
        self.assertIn("paused", r["message"])
        # The running step finishes; nothing new starts.
        self.wait_step(doc["id"], "a", "succeeded")
        time.sleep(1.5)
        wf = self.wf(doc["id"])
        self.assertEqual((wf["state"], wf["steps"][1]["state"]), ("paused", "pending"))
        self.assertEqual(len(self.runs(t)), 1)
        self.act(doc["id"], "resume", token="read", status=403)
        self.assertEqual(self.act(doc["id"], "resume")["state"], "running")
        wf = self.wait_wf(doc["id"])
        self.assertEqual(wf["state"], "succeeded", wf)
        self.assertEqual(len(self.runs(t)), 2)

    def test_cancel_stops_the_running_job(self):
        t = self.tag()
        doc = self.run_wf({"name": "cancelling", "steps": [
            {"name": "a", "task": "slow", "to": "node-2",
             "payload": {"tag": t, "sleep": 30}}]})
        self.wait_step(doc["id"], "a", "running")
        self.act(doc["id"], "cancel", token="read", status=403)
        self.assertEqual(self.act(doc["id"], "cancel")["state"], "cancelled")
        wf = self.wf(doc["id"])
        self.assertEqual(wf["steps"][0]["state"], "cancelled")
        self.assertEqual(self.job(wf["steps"][0]["job"])["state"], "cancelled")
        self.act(doc["id"], "cancel", status=409)
        self.act(doc["id"], "resume", status=409)
        self.act(doc["id"], "fly", status=404)
        self.assertEqual(self.n(1).post("/api/workflows/nope/cancel", {}).status, 404)

    def test_retry_reruns_only_the_failed_step(self):
        t = self.tag()
        fixed = os.path.join(self.tmp, "fixed-" + t)
        doc = self.run_wf({"name": "retrying", "steps": [
            {"name": "a", "task": "ok", "to": "node-2", "payload": {"tag": t + "a"}},
            {"name": "b", "task": "fail", "to": "node-3", "needs": ["a"],
             "payload": {"tag": t + "b", "fixed": fixed}},
            {"name": "c", "task": "ok", "to": "node-1", "needs": ["b"],
             "payload": {"tag": t + "c"}}]})
        wf = self.wait_wf(doc["id"])
        self.assertEqual(wf["state"], "failed", wf)
        self.assertIn("step b failed", wf["reason"])
        r = self.act(doc["id"], "retry", {"step": "a"}, status=409)
        self.assertIn("succeeded", r["message"])
        open(fixed, "w").close()
        self.assertEqual(self.act(doc["id"], "retry")["state"], "running")
        wf = self.wait_wf(doc["id"])
        self.assertEqual(wf["state"], "succeeded", wf)
        self.assertEqual((len(self.runs(t + "a")), len(self.runs(t + "b")),
                          len(self.runs(t + "c"))), (1, 2, 1))
        steps = {s["name"]: s for s in wf["steps"]}
        self.assertEqual((steps["a"]["attempt"], steps["b"]["attempt"]), (1, 2))

    def test_every_node_sees_every_workflow(self):
        # Every move is a mesh event: node-3 lists node-1's workflow, draws
        # its steps as they are, and sends a person's action to node-1.
        t = self.tag()
        doc = self.run_wf({"name": "seen", "steps": [
            {"name": "a", "task": "ok", "to": "node-2", "payload": {"tag": t}},
            {"name": "ok", "approval": {"prompt": "go?"}, "needs": ["a"]},
            {"name": "b", "task": "ok", "to": "node-3", "needs": ["ok"],
             "payload": {"tag": t}}]})
        wid = doc["id"]
        n3 = self.n(3)

        def remote():
            r = n3.client().get("/api/workflows/" + wid)
            return r.json() if r.status == 200 else None

        got = harness.wait_until(lambda: (remote() or {}).get("steps") and
                                 [s["state"] for s in remote()["steps"]] ==
                                 ["succeeded", "waiting-approval", "pending"]
                                 and remote(), 20, 0.2)
        self.assertTrue(got, remote())
        self.assertTrue(got["remote"])
        self.assertEqual(got["coordinator"], "node-1")
        self.assertEqual(got["state"], "running")
        self.assertEqual(got["steps"][0]["node"], "node-2")
        self.assertEqual(got["steps"][2]["needs"], ["ok"])
        self.assertNotIn("definition", got)
        listed = n3.client().get("/api/workflows").json()["workflows"]
        self.assertIn(wid, [w["id"] for w in listed if w.get("remote")])
        # An action on a node that does not coordinate it names the one
        # that does, and moves nothing.
        r = n3.post("/api/workflows/%s/approve" % wid, {"step": "ok"})
        self.assertEqual(r.status, 409, r)
        self.assertIn("node-1", r.json()["message"])
        self.assertEqual(self.step(wid, "ok")["state"], "waiting-approval")
        self.act(wid, "approve", {"step": "ok"})
        self.wait_wf(wid, ("succeeded",))
        self.assertTrue(harness.wait_until(
            lambda: (remote() or {}).get("state") == "succeeded", 20, 0.2), remote())
        self.assertEqual(remote()["steps"][1].get("approved_by"),
                         self.step(wid, "ok")["approved_by"])
        # Unknown anywhere: 404.
        r = n3.client().get("/api/workflows/wnope")
        self.assertEqual(r.status, 404, r)

    def test_invalid_definitions_store_nothing(self):
        before = self.n(1).client().get("/api/workflows").json()["workflows"]
        r = self.n(1).post("/api/workflows", {"definition": {
            "name": "bad", "steps": [
                {"name": "a", "task": "ok", "to": "node-1", "needs": ["c"]},
                {"name": "b", "task": "ok", "to": "node-1", "needs": ["a"]},
                {"name": "c", "task": "ok", "to": "node-1", "needs": ["b"]},
                {"name": "d", "to": "node-1", "needs": ["ghost"]},
                {"name": "e", "task": "nosuch", "to": "node-1"}]}})
        self.assertEqual(r.status, 400, r)
        errors = {e["path"]: e["error"] for e in r.json()["errors"]}
        self.assertIn("steps[3].task", errors)
        self.assertIn("steps[3].needs[0]", errors)
        self.assertIn("no such task on node-1", errors["steps[4].task"])
        self.assertIn("%d errors" % len(errors), r.json()["message"])
        r = self.n(1).post("/api/workflows", {"definition": {
            "name": "cycle", "steps": [
                {"name": "a", "task": "ok", "to": "node-1", "needs": ["b"]},
                {"name": "b", "task": "ok", "to": "node-1", "needs": ["a"]},
                {"name": "c", "task": "nosuch", "to": "node-1"}]}})
        self.assertEqual(r.status, 400, r)
        errors = {e["path"]: e["error"] for e in r.json()["errors"]}
        self.assertIn("cycle", errors["steps"])
        self.assertIn("nosuch", errors["steps[2].task"])
        # A valid definition but for its task unknown here: still nothing.
        r = self.n(1).post("/api/workflows", {"definition": {
            "name": "task", "steps": [{"name": "a", "task": "nosuch",
                                       "to": "node-1"}]}})
        self.assertEqual(r.status, 400, r)
        self.assertEqual([e["path"] for e in r.json()["errors"]], ["steps[0].task"])
        self.assertEqual(self.n(1).post("/api/workflows", {"nope": 1}).status, 400)
        self.run_wf({"name": "x", "steps": [{"name": "a", "task": "ok",
                                              "to": "node-1"}]},
                    token="read", status=403)
        after = self.n(1).client().get("/api/workflows").json()["workflows"]
        self.assertEqual(after, before)

    def test_cli_run_show_approve(self):
        t = self.tag()
        path = os.path.join(self.tmp, "wf-%s.json" % t)
        with open(path, "w") as f:
            json.dump({"name": "cli", "params": {"v": None}, "steps": [
                {"name": "gate", "approval": {"prompt": "go?"}},
                {"name": "a", "task": "ok", "to": "node-2", "needs": ["gate"],
                 "payload": {"tag": t, "value": "${params.v}"}}]}, f)
        rc, out, err = cli(self.n(1), "workflow", "run", path, "--set", "v=42")
        self.assertEqual(rc, 0, (out, err))
        wid = out.split()[1]
        self.wait_step(wid, "gate", "waiting-approval")
        rc, out, err = cli(self.n(1), "workflow", "show", wid)
        self.assertEqual(rc, 0, err)
        self.assertIn("waiting-approval", out)
        self.assertIn("waits for a person: go?", out)
        rc, out, err = cli(self.n(1), "workflow", "approve", wid, "gate",
                           "--comment", "fine")
        self.assertEqual(rc, 0, (out, err))
        wf = self.wait_wf(wid)
        self.assertEqual(wf["state"], "succeeded", wf)
        self.assertEqual(wf["steps"][1]["result"]["value"], "42")
        rc, out, err = cli(self.n(1), "workflow", "show", wid, "--json")
        self.assertEqual(rc, 0, err)
        self.assertEqual(json.loads(out)["state"], "succeeded")
        rc, out, err = cli(self.n(1), "workflow", "list")
        self.assertEqual(rc, 0, err)
        self.assertIn(wid, out)
        rc, out, err = cli(self.n(1), "workflow", "approve", wid)
        self.assertEqual(rc, 2, (out, err))
        rc, out, err = cli(self.n(1), "workflow", "pause", wid)
        self.assertEqual(rc, 1, (out, err))
        self.assertIn("succeeded", err)
        # run --wait exits with the outcome.
        quick = os.path.join(self.tmp, "quick-%s.json" % t)
        with open(quick, "w") as f:
            json.dump({"name": "quick", "steps": [
                {"name": "a", "task": "ok", "to": "node-3", "payload": {"tag": t}}]}, f)
        rc, out, err = cli(self.n(1), "workflow", "run", quick, "--wait")
        self.assertEqual(rc, 0, (out, err))
        self.assertIn("succeeded", out)
        self.assertIn("node-3", out)
        rc, out, err = cli(self.n(1), "workflow", "run", path, "--set", "v=1",
                           "--wait", "--timeout", "100")
        self.assertEqual(rc, 124, (out, err))

    def test_zz_coordinator_kill9_and_restart_reattaches(self):
        t = self.tag()
        doc = self.run_wf({"name": "survive", "steps": [
            {"name": "a", "task": "slow", "to": "node-2",
             "payload": {"tag": t, "sleep": 4}},
            {"name": "b", "task": "ok", "to": "node-3", "needs": ["a"],
             "payload": {"tag": t}}]})
        # And one waiting for a person.
        t2 = self.tag()
        gated = self.run_wf({"name": "gated", "steps": [
            {"name": "gate", "approval": {}},
            {"name": "b", "task": "ok", "to": "node-3", "needs": ["gate"],
             "payload": {"tag": t2}}]})
        self.wait_step(doc["id"], "a", "running")
        self.wait_step(gated["id"], "gate", "waiting-approval")
        harness.wait_until(lambda: len(self.runs(t)) == 1, 10, 0.1)
        node = self.n(1)
        node.restart(sig=_signal.SIGKILL)
        harness.wait_formed(list(self.nodes.values()), FORM_TIMEOUT)
        wf = self.wait_wf(doc["id"], timeout=60)
        self.assertEqual(wf["state"], "succeeded", wf)
        self.assertEqual(sorted(r["node"] for r in self.runs(t)),
                         ["node-2", "node-3"])
        self.assertEqual([s["attempt"] for s in wf["steps"]], [1, 1])
        self.assertEqual(self.step(gated["id"], "gate")["state"], "waiting-approval")
        self.act(gated["id"], "approve", {"step": "gate"})
        self.assertEqual(self.wait_wf(gated["id"])["state"], "succeeded")
        self.assertEqual(len(self.runs(t2)), 1)


if __name__ == "__main__":
    unittest.main()
