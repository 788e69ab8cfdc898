"""A schedule that runs a workflow (issue 17 item 6, `schedule add
--workflow`): each fire time's owner coordinates one workflow whose id
comes from the fire's key, its steps run once, the schedule's last fire
names the workflow and follows it to its end on every node; overlap
"skip" skips a fire while the last workflow runs; a bad workflow is
refused with every error under workflow.definition and nothing stored;
the CLI adds one from a file with --set.  Real nodes on loopback."""

import glob
import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest

import harness

CLI = os.path.join(harness.BIN, "agentflow")
FORM_TIMEOUT = 40


def tasks(marks):
    # One marker per run named after the job (its id holds the
    # workflow's), holding the payload; "slow" sleeps 5 s after it.
    write = 'cat "$AGENTFLOW_PAYLOAD_FILE" > "%s/$AGENTFLOW_JOB_ID.$$"' % marks
    return {"mark": {"command": ["/bin/sh", "-c", write]},
            "slow": {"command": ["/bin/sh", "-c", write + "; sleep 5"]}}


def fire_id(name, fire_ms):
    """The workflow id a fire gets: "w" and FNV-1a 64 of its key."""
    h = 14695981039346656037
    for c in ("schedule:%s:%d" % (name, fire_ms)).encode():
        h = ((h ^ c) * 1099511628211) & (2 ** 64 - 1)
    return "w%016x" % h


def flow(task="mark"):
    return {"name": "nightly", "params": {"who": "nobody"}, "steps": [
        {"name": "a", "task": task, "to": "any",
         "payload": {"who": "${params.who}"}},
        {"name": "b", "task": "mark", "to": "any", "needs": ["a"],
         "payload": {"after": "a"}}]}


class ScheduledWorkflows(unittest.TestCase):
    """A signal and node-1..node-3."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="af-sched-wf-")
        cls.marks = os.path.join(cls.tmp, "marks")
        os.mkdir(cls.marks)
        cls.pki = harness.Pki(cls.tmp)
        cls.sig = harness.Signal(["--rate", "0", "--heartbeat", "1", "--ttl", "5"],
                                 ca=cls.pki.ca_path).start()
        path = os.path.join(cls.tmp, "tasks.json")
        with open(path, "w") as f:
            json.dump(tasks(cls.marks), f)
        cls.nodes = [harness.MeshNode(
            cls.pki, "node-%d" % i, signals=[cls.sig.url], args=[
                "--dead-ms", "2000", "--ping-ms", "300", "--tasks", path,
                "--command-timeout-ms", "3000"]).start() for i in (1, 2, 3)]
        harness.wait_formed(cls.nodes, FORM_TIMEOUT)

    @classmethod
    def tearDownClass(cls):
        for n in cls.nodes:
            n.stop()
        cls.sig.stop()
        shutil.rmtree(cls.tmp, True)

    def get(self, node, name):
        r = node.client(token="read").get("/api/schedules/" + name)
        return r.json() if r.status == 200 else None

    def workflow(self, node, wid):
        r = node.client(token="read").get("/api/workflows/" + wid)
        return r.json() if r.status == 200 else None

    def markers(self, wid):
        return [os.path.basename(p) for p in
                glob.glob(os.path.join(self.marks, "j%s-*" % wid))]

    def test_a_each_fire_runs_one_workflow(self):
        n1 = self.nodes[0]
        r = n1.post("/api/schedules", {
            "name": "flow", "cron": "@every 2s",
            "workflow": {"definition": flow(), "set": {"who": "cron"}}})
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json()["workflow"]["set"], {"who": "cron"})
        self.assertNotIn("job", r.json())
        # Three fires, each a workflow of its own that succeeds.
        done = {}

        def fires():
            s = self.get(n1, "flow")
            last = s and s.get("last_fire")
            # A fire skipped (or waiting) while the last one runs names
            # that last one's workflow: only a fire that ran is its own.
            if last and last.get("workflow") and \
                    last.get("outcome") not in ("skipped", "waiting"):
                done[last["fire_ms"]] = (last["workflow"], last["node"])
            return len(done) >= 3
        self.assertTrue(harness.wait_until(fires, 30, 0.2), done)
        self.assertEqual(n1.client().request(
            "DELETE", "/api/schedules/flow").status, 200)
        for fire_ms, (wid, coordinator) in sorted(done.items()):
            self.assertEqual(wid, fire_id("flow", fire_ms))
            # Every node sees it end well, coordinated by the fire's owner.
            for n in self.nodes:
                self.assertTrue(harness.wait_until(
                    lambda: (self.workflow(n, wid) or {}).get("state") ==
                    "succeeded", 20, 0.2), self.workflow(n, wid))
            w = self.workflow(n1, wid)
            self.assertEqual(w["coordinator"], coordinator)
            mine = [n for n in self.nodes if n.node_id == coordinator][0]
            w = self.workflow(mine, wid)
            self.assertEqual(w["principal"], "schedule:flow")
            self.assertEqual([s["state"] for s in w["steps"]],
                             ["succeeded", "succeeded"])
            # Each step ran once, with the --set value rendered.
            got = self.markers(wid)
            self.assertEqual(len(got), 2, got)
            a = [m for m in got if m.startswith("j%s-0-" % wid)]
            with open(os.path.join(self.marks, a[0])) as f:
                self.assertEqual(json.load(f)["who"], "cron")
        # The last fire's outcome follows its workflow to the end.
        self.assertTrue(harness.wait_until(lambda: all(
            (self.get(n, "flow") or {"last_fire": {}})["last_fire"].get(
                "outcome") in (None, "succeeded") for n in self.nodes), 10, 0.2))

    def test_b_overlap_skip_waits_for_the_workflow(self):
        n1 = self.nodes[0]
        r = n1.post("/api/schedules", {
            "name": "slowflow", "cron": "@every 2s", "overlap": "skip",
            "workflow": {"definition": flow("slow")}})
        self.assertEqual(r.status, 201, r)
        seen = set()

        def skipped():
            last = (self.get(n1, "slowflow") or {}).get("last_fire") or {}
            seen.add(last.get("outcome"))
            return "skipped" in seen
        self.assertTrue(harness.wait_until(skipped, 20, 0.2), seen)
        self.assertEqual(n1.client().request(
            "DELETE", "/api/schedules/slowflow").status, 200)
        time.sleep(1)
        # Never two of its workflows running at once: each started after
        # the one before it ended.
        ws = []
        for n in self.nodes:
            for w in n.client(token="read").get(
                    "/api/workflows").json()["workflows"]:
                if w.get("principal") == "schedule:slowflow" and \
                        not w.get("remote"):
                    ws.append(self.workflow(n, w["id"]))
        self.assertGreaterEqual(len(ws), 1)
        ws.sort(key=lambda w: w["created_ms"])
        for before, after in zip(ws, ws[1:]):
            self.assertGreaterEqual(after["created_ms"], before["finished_ms"],
                                    (before, after))

    def test_c_bad_workflow_refused_with_every_error(self):
        n2 = self.nodes[1]
        bad = {"name": "loop", "steps": [
            {"name": "x", "task": "mark", "to": "any", "needs": ["y"]},
            {"name": "y", "task": "mark", "to": "any", "needs": ["x"],
             "color": "red"}]}
        r = n2.post("/api/schedules", {"name": "bad", "cron": "@every 2s",
                                       "workflow": {"definition": bad}})
        self.assertEqual(r.status, 400, r)
        paths = [e["path"] for e in r.json()["errors"]]
        self.assertTrue(paths and all(p.startswith("workflow.definition")
                                      for p in paths), paths)
        self.assertIn("cycle", json.dumps(r.json()))
        self.assertIn("workflow.definition.steps[1].color", paths)
        r = n2.post("/api/schedules", {"name": "bad", "cron": "@every 2s",
                                       "job": {"task": "mark", "to": "any"},
                                       "workflow": {"definition": flow()}})
        self.assertEqual(r.status, 400, r)
        self.assertIn("workflow", [e["path"] for e in r.json()["errors"]])
        r = n2.post("/api/schedules", {"name": "bad", "cron": "@every 2s",
                                       "workflow": {"steps": []}})
        self.assertEqual(r.status, 400, r)
        self.assertEqual([e["path"] for e in r.json()["errors"]],
                         ["workflow.steps", "workflow.definition"])
        self.assertIsNone(self.get(n2, "bad"))

    def test_d_cli_adds_one_from_a_file(self):
        n3 = self.nodes[2]
        path = os.path.join(self.tmp, "flow.json")
        with open(path, "w") as f:
            json.dump(flow(), f)
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("AGENTFLOW_")}
        run = lambda sub, *a: subprocess.run(
            [CLI, "schedule", sub, "--data-dir", n3.data_dir] + list(a),
            env=env, capture_output=True, text=True, timeout=30)
        p = run("add", "weekly", "--cron", "0 3 * * 0", "--workflow", path,
                "--set", "who=cli")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("workflow", p.stdout)
        s = self.get(n3, "weekly")
        self.assertEqual(s["workflow"]["definition"]["name"], "nightly")
        self.assertEqual(s["workflow"]["set"], {"who": "cli"})
        p = run("add", "x", "--cron", "@daily", "--task", "mark",
                "--set", "who=cli")
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("--set goes with --workflow", p.stderr)
        p = run("add", "x", "--cron", "@daily", "--workflow",
                os.path.join(self.tmp, "missing.json"))
        self.assertEqual(p.returncode, 1)
        self.assertIn("missing.json", p.stderr)
        self.assertIsNone(self.get(n3, "x"))
        self.assertEqual(n3.client().request(
            "DELETE", "/api/schedules/weekly").status, 200)


if __name__ == "__main__":
    unittest.main()
