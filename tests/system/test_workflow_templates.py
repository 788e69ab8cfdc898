"""The three workflow templates in examples/workflows/ run end to end on
three real nodes, with their real tasks (examples/workflows/tasks/) doing
the steps on test data in the test's directory: backup -> store -> verify
-> prune -> report; a rolling update one node at a time with health checks
and an approval before the last; incident triage collecting from every
node, summarising, waiting for a person, then fixing on every node."""

import hashlib
import json
import os
import shutil
import tarfile
import tempfile
import time
import unittest

import harness

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLES = os.path.join(ROOT, "examples", "workflows")
TASKS = os.path.join(EXAMPLES, "tasks")
FORM_TIMEOUT = 40
FINAL = ("succeeded", "failed", "cancelled", "budget-exceeded")
LABELS = {"node-1": "role=storage,app=web,wave=1",
          "node-2": "role=backup,app=web,wave=2",
          "node-3": "app=web,wave=3"}


def template(name):
    with open(os.path.join(EXAMPLES, name + ".json")) as f:
        return json.load(f)


def tasks_file(tmp):
    """The shipped tasks.json with the commands pointed at this checkout."""
    with open(os.path.join(EXAMPLES, "tasks.json")) as f:
        tasks = json.load(f)
    for t in tasks.values():
        t["command"] = [os.path.join(TASKS, os.path.basename(t["command"][0]))]
    path = os.path.join(tmp, "tasks.json")
    with open(path, "w") as f:
        json.dump(tasks, f)
    return path


class Templates(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="af-wft-")
        cls.pki = harness.Pki(cls.tmp)
        cls.sig = harness.Signal(["--rate", "0", "--heartbeat", "1", "--ttl", "5"],
                                 ca=cls.pki.ca_path).start()
        tasks = tasks_file(cls.tmp)
        cls.nodes = {}
        for i in (1, 2, 3):
            nid = "node-%d" % i
            node = harness.MeshNode(cls.pki, nid, signals=[cls.sig.url], args=[
                "--dead-ms", "2000", "--ping-ms", "300", "--tasks", tasks,
                "--labels", LABELS[nid]])
            node.env["TMPDIR"] = cls.tmp
            cls.nodes[nid] = node.start()
        harness.wait_formed(list(cls.nodes.values()), FORM_TIMEOUT)
        cls.coord = cls.nodes["node-1"]

    @classmethod
    def tearDownClass(cls):
        for n in cls.nodes.values():
            n.stop()
        cls.sig.stop()
        shutil.rmtree(cls.tmp, True)

    def run_wf(self, name, params):
        r = self.coord.post("/api/workflows", {"definition": template(name), "set": params})
        self.assertEqual(r.status, 202, r)
        return r.json()["id"]

    def wf(self, wid):
        r = self.coord.client().get("/api/workflows/" + wid)
        self.assertEqual(r.status, 200, r)
        return r.json()

    def wait_wf(self, wid, pred, timeout=60):
        got = harness.wait_until(lambda: pred(self.wf(wid)) and self.wf(wid), timeout, 0.3)
        self.assertTrue(got, json.dumps(self.wf(wid), indent=1)[:4000])
        return got

    def steps(self, wf):
        return {s["name"]: s for s in wf["steps"]}

    def approve(self, wid, step, comment):
        r = self.coord.post("/api/workflows/%s/approve" % wid, {"step": step, "comment": comment})
        self.assertEqual(r.status, 200, r)

    def test_backup(self):
        src = os.path.join(self.tmp, "photos")
        os.makedirs(os.path.join(src, "2026"))
        for i in range(20):
            with open(os.path.join(src, "2026", "img%02d.jpg" % i), "wb") as f:
                f.write(os.urandom(4096))
        dest = os.path.join(self.tmp, "backups")
        os.makedirs(dest)
        # Three old archives: prune keeps the newest 2 of 4.
        for i in range(3):
            p = os.path.join(dest, "backup-2020010%dT000000-1.tar.gz" % (i + 1))
            with open(p, "wb") as f:
                f.write(b"old")
            os.utime(p, (1577836800 + i, 1577836800 + i))
        report = os.path.join(self.tmp, "backup-report.jsonl")
        wid = self.run_wf("backup", {"src": src, "dest": dest, "keep": "2", "report": report,
                                     "staging": os.path.join(self.tmp, "staging")})
        wf = self.wait_wf(wid, lambda w: w["state"] in FINAL, 90)
        self.assertEqual(wf["state"], "succeeded", json.dumps(wf, indent=1)[:4000])
        st = self.steps(wf)
        self.assertEqual(st["snapshot"]["node"], "node-1")
        for s in ("store", "verify", "prune", "report"):
            self.assertEqual(st[s]["node"], "node-2", s)
        stored = sorted(os.listdir(dest))
        self.assertEqual(len(stored), 2, stored)
        new = [n for n in stored if not n.startswith("backup-2020")]
        self.assertEqual(len(new), 1, stored)
        with tarfile.open(os.path.join(dest, new[0])) as tar:
            self.assertEqual(sum(1 for m in tar.getmembers() if m.isfile()), 20)
        with open(report) as f:
            line = json.loads(f.read().splitlines()[-1])
        self.assertEqual(line["files"], 20)
        self.assertEqual(line["archive"], os.path.join(dest, new[0]))
        self.assertEqual(len(line["pruned"]), 2)

    def test_backup_corrupt_archive_stops_before_prune(self):
        # verify refuses a stored archive that is not what the snapshot made:
        # the workflow fails at verify and prune never runs.
        src = os.path.join(self.tmp, "docs")
        os.makedirs(src)
        with open(os.path.join(src, "a.txt"), "w") as f:
            f.write("x" * 1000)
        dest = os.path.join(self.tmp, "backups-bad")
        os.makedirs(dest)
        keep_me = os.path.join(dest, "backup-20200101T000000-1.tar.gz")
        with open(keep_me, "wb") as f:
            f.write(b"old")
        d = template("backup")
        for s in d["steps"]:
            if s["name"] == "verify":
                s["payload"]["sha256"] = hashlib.sha256(b"something else").hexdigest()
        r = self.coord.post("/api/workflows", {"definition": d, "set": {
            "src": src, "dest": dest, "keep": "0", "report": os.path.join(self.tmp, "bad.jsonl"),
            "staging": os.path.join(self.tmp, "staging-bad")}})
        self.assertEqual(r.status, 202, r)
        wf = self.wait_wf(r.json()["id"], lambda w: w["state"] in FINAL, 90)
        self.assertEqual(wf["state"], "failed")
        st = self.steps(wf)
        self.assertEqual(st["verify"]["state"], "failed")
        self.assertIn(st["prune"]["state"], ("pending", "skipped", "cancelled"))
        self.assertTrue(os.path.exists(keep_me), "prune ran after a failed verify")

    def release(self, version, healthy=True):
        d = os.path.join(self.tmp, "release-" + version)
        os.makedirs(d)
        with open(os.path.join(d, "health"), "w") as f:
            f.write("#!/bin/sh\nexit %d\n" % (0 if healthy else 1))
        os.chmod(os.path.join(d, "health"), 0o755)
        return d

    def test_rolling_update(self):
        # The template's app_dir is one path on every host; the three nodes
        # here share one disk, so each wave is told apart by its node.
        app = os.path.join(self.tmp, "app")
        rel = self.release("2.0")
        wid = self.run_wf("rolling-update", {"release": rel, "version": "2.0", "app_dir": app})
        wf = self.wait_wf(wid, lambda w: self.steps(w)["go-last"]["state"] == "waiting-approval", 90)
        st = self.steps(wf)
        self.assertEqual([st[s]["node"] for s in ("deploy-1", "deploy-2")], ["node-1", "node-2"])
        self.assertEqual(st["deploy-3"]["state"], "pending")
        self.assertEqual(os.path.basename(os.path.realpath(os.path.join(app, "current"))), "2.0")
        # A read token cannot approve.
        r = self.coord.post("/api/workflows/%s/approve" % wid, {"step": "go-last"}, token="read")
        self.assertEqual(r.status, 403, r)
        self.approve(wid, "go-last", "canary fine")
        wf = self.wait_wf(wid, lambda w: w["state"] in FINAL, 60)
        self.assertEqual(wf["state"], "succeeded")
        st = self.steps(wf)
        self.assertEqual(st["deploy-3"]["node"], "node-3")
        self.assertEqual(st["go-last"].get("comment"), "canary fine")

    def test_rolling_update_unhealthy_stops(self):
        app = os.path.join(self.tmp, "app-bad")
        rel = self.release("3.0-bad", healthy=False)
        d = template("rolling-update")
        for s in d["steps"]:
            if s["name"].startswith("health"):
                s["retries"] = 1
                s["backoff"] = "1s"
        r = self.coord.post("/api/workflows", {"definition": d, "set": {
            "release": rel, "version": "3.0-bad", "app_dir": app}})
        self.assertEqual(r.status, 202, r)
        wf = self.wait_wf(r.json()["id"], lambda w: w["state"] in FINAL, 60)
        self.assertEqual(wf["state"], "failed")
        st = self.steps(wf)
        self.assertEqual(st["health-1"]["state"], "failed")
        self.assertEqual(st["health-1"]["attempt"], 2)
        self.assertIn(st["deploy-2"]["state"], ("pending", "skipped", "cancelled"))

    def test_incident_triage(self):
        cache = os.path.join(self.tmp, "cache")
        os.makedirs(cache)
        old = os.path.join(cache, "old.bin")
        fresh = os.path.join(cache, "fresh.bin")
        for p in (old, fresh):
            with open(p, "wb") as f:
                f.write(b"x" * 2048)
        os.utime(old, (time.time() - 30 * 86400,) * 2)
        # disk_pct 0: every node's disk is "full", so the summary names all.
        wid = self.run_wf("incident-triage", {"cache_dir": cache, "disk_pct": "0",
                                              "paths": self.tmp})
        wf = self.wait_wf(wid, lambda w: self.steps(w)["decide"]["state"] == "waiting-approval", 60)
        summary = self.steps(wf)["summarise"]["result"]
        self.assertEqual(summary["reports"], 3, summary)
        self.assertEqual(summary["nodes"], ["node-1", "node-2", "node-3"], summary)
        self.assertTrue(os.path.exists(old), "the fix ran before the approval")
        self.approve(wid, "decide", "clean it")
        wf = self.wait_wf(wid, lambda w: w["state"] in FINAL, 60)
        self.assertEqual(wf["state"], "succeeded")
        self.assertFalse(os.path.exists(old))
        self.assertTrue(os.path.exists(fresh))


if __name__ == "__main__":
    unittest.main()
