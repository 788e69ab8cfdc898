"""System tests of fanned-out jobs (node/work/jobs_fanout.h): a job sent
to "all" or to a label selector becomes a parent with one child job per
matching node.  Real nodes on loopback; what is observed is the issuer's
API, the CLI's output and exit status, and the files the tasks write.

Every task appends "JOB EPOCH" to runs-NODE in the test's directory when
it starts, so a test counts the runs of each child on each node."""

import json
import os
import shutil
import signal as _signal
import tempfile
import time
import unittest

import harness
import test_jobs
from test_jobs_callback import SECRET, Receiver

FORM_TIMEOUT = 40
ROLES = {"node-1": "desk", "node-2": "worker", "node-3": "worker", "node-4": "db"}


def tasks_for(tmp, node_id):
    runs = os.path.join(tmp, "runs-" + node_id)
    start = 'echo "$AGENTFLOW_JOB_ID $AGENTFLOW_JOB_EPOCH" >> %s; ' % runs
    return {
        "report": {"command": ["/bin/sh", "-c", start + "exit 0"]},
        # Fails (3) on node-3 only.
        "mixed": {"command": ["/bin/sh", "-c", start + "exit %d" %
                              (3 if node_id == "node-3" else 0)]},
        "slow": {"command": ["/bin/sh", "-c", start + "sleep 6"]},
    }


# The helpers of test_jobs.py (its tests do not run from here).
cli = test_jobs.cli


class JobsFanout(unittest.TestCase):
    """A signal and node-1 (role=desk), node-2, node-3 (role=worker),
    node-4 (role=db)."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="af-fanout-")
        cls.pki = harness.Pki(cls.tmp)
        cls.sig = harness.Signal(["--rate", "0", "--heartbeat", "1", "--ttl", "5"],
                                 ca=cls.pki.ca_path).start()
        cls.nodes = {}
        try:
            for nid in sorted(ROLES):
                cls.nodes[nid] = cls.make_node(nid).start()
            cls.wait_formed()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def make_node(cls, node_id):
        path = os.path.join(cls.tmp, "tasks-%s.json" % node_id)
        with open(path, "w") as f:
            json.dump(tasks_for(cls.tmp, node_id), f)
        node = harness.MeshNode(cls.pki, node_id, signals=[cls.sig.url], args=[
            "--dead-ms", "2000", "--ping-ms", "300", "--tasks", path,
            "--labels", "role=" + ROLES[node_id], "--command-timeout-ms", "3000"])
        node.env["TMPDIR"] = cls.tmp
        return node

    @classmethod
    def wait_formed(cls):
        harness.wait_formed(list(cls.nodes.values()), FORM_TIMEOUT)

    @classmethod
    def tearDownClass(cls):
        for n in cls.nodes.values():
            n.stop()
        cls.sig.stop()
        shutil.rmtree(cls.tmp, True)

    # -- helpers

    n = test_jobs.Jobs.n
    submit = test_jobs.Jobs.submit
    job = test_jobs.Jobs.job
    wait_job = test_jobs.Jobs.wait_job
    runs = test_jobs.Jobs.runs
    all_runs = test_jobs.Jobs.all_runs
    events = test_jobs.Jobs.events

    def assert_each_ran_once(self, parent):
        for c in parent["children"]:
            self.assertEqual(self.all_runs(c["id"]), {c["node"]: ["1"]}, c)

    def events(self, job, name):
        return [h for h in job["history"] if h["event"] == name]

    def listed(self, node, query=""):
        r = node.client().get("/api/jobs" + query)
        self.assertEqual(r.status, 200, r)
        return [j["id"] for j in r.json()["jobs"]]

    # -- tests

    def test_all_runs_once_on_every_node(self):
        doc = self.submit(self.n(1), {"task": "report", "to": "all"})
        pid = doc["id"]
        self.assertEqual(doc["state"], "running")
        self.assertEqual([(c["id"], c["node"]) for c in doc["children"]],
                         [("%s.%d" % (pid, i), "node-%d" % i) for i in (1, 2, 3, 4)])
        job = self.wait_job(self.n(1), pid)
        self.assertEqual(job["state"], "succeeded", job)
        self.assertEqual(job["reason"], "all 4 succeeded")
        for c in job["children"]:
            self.assertEqual((c["state"], c["exit_code"]), ("succeeded", 0), c)
        self.assert_each_ran_once(job)
        self.assertEqual(sorted(h["child"] for h in self.events(job, "child")),
                         [c["id"] for c in doc["children"]])
        # Never dispatched itself.
        self.assertEqual(self.events(job, "dispatched"), [])
        # A child is an ordinary named-node job that knows its parent.
        child = self.job(self.n(1), pid + ".3")
        self.assertEqual((child["parent"], child["node"], child["to"], child["state"]),
                         (pid, "node-3", "node-3", "succeeded"))
        # The issuer's own entries (the executor's are merged in at read).
        self.assertEqual([h["event"] for h in child["history"]
                          if h.get("source") != "executor"],
                         ["submitted", "dispatched", "running", "succeeded"])
        # The list shows parents; children with ?children=1.
        self.assertIn(pid, self.listed(self.n(1)))
        self.assertNotIn(pid + ".1", self.listed(self.n(1)))
        self.assertIn(pid + ".1", self.listed(self.n(1), "?children=1"))
        # The CLI: one line per node, exit 0.
        rc, out, err = cli(self.n(1), "wait", pid)
        self.assertEqual(rc, 0, (out, err))
        for i in (1, 2, 3, 4):
            self.assertRegex(out, r"node-%d +succeeded +exit=0 +%s\.%d" % (i, pid, i))
        rc, out, err = cli(self.n(1), "job", pid)
        self.assertEqual(rc, 0, err)
        self.assertIn("%s.4" % pid, out)

    def metrics(self, node):
        return harness.parse_metrics(node.client().get("/metrics").body.decode())

    def test_metrics_count_the_children_not_the_parent(self):
        before = self.metrics(self.n(2))
        doc = self.submit(self.n(2), {"task": "report", "to": "role=worker"})
        self.assertEqual(self.wait_job(self.n(2), doc["id"])["state"], "succeeded")
        after = self.metrics(self.n(2))
        for what in ("submitted", "dispatched", "succeeded"):
            key = 'agentflow_node_jobs_total{what="%s"}' % what
            self.assertEqual(after[key] - before.get(key, 0), 2, what)

    def test_the_callback_fires_once_for_the_parent(self):
        rx = Receiver(SECRET)
        try:
            doc = self.submit(self.n(1), {"task": "mixed", "to": "role=worker",
                                          "callback": {"url": rx.url,
                                                       "secret": SECRET}})
            job = self.wait_job(self.n(1), doc["id"])
            self.assertEqual(job["state"], "failed", job)
            self.assertTrue(harness.wait_until(lambda: rx.accepted, 20, 0.2))
            time.sleep(2)       # nothing more comes: not for the children
            self.assertEqual([(s, j) for s, j, _ in rx.seen], [(204, doc["id"])])
            body = rx.accepted[0]
            self.assertEqual((body["id"], body["state"], body["reason"]),
                             (doc["id"], "failed", "1 of 2 failed"))
            self.assertEqual([(c["node"], c["state"], c["exit_code"])
                              for c in body["children"]],
                             [("node-2", "succeeded", 0), ("node-3", "failed", 3)])
        finally:
            rx.stop()

    def test_selector_picks_only_the_labelled_nodes(self):
        rc, out, err = cli(self.n(1), "submit", "report", "--to", "role=worker",
                           "--wait")
        self.assertEqual(rc, 0, (out, err))
        pid = out.split()[0]
        job = self.job(self.n(1), pid)
        self.assertEqual(job["state"], "succeeded", job)
        self.assertEqual([c["node"] for c in job["children"]], ["node-2", "node-3"])
        self.assert_each_ran_once(job)
        for nid in ("node-1", "node-4"):
            with open(os.path.join(self.tmp, "runs-" + nid)) as f:
                self.assertNotIn(pid, f.read())

    def test_a_failing_child_fails_the_parent(self):
        rc, out, err = cli(self.n(2), "submit", "mixed", "--to", "all", "--wait")
        self.assertEqual(rc, 1, (out, err))
        self.assertRegex(out, r"node-3 +failed +exit=3 ")
        self.assertRegex(out, r"node-2 +succeeded +exit=0 ")
        pid = out.split()[0]
        job = self.job(self.n(2), pid)
        self.assertEqual(job["state"], "failed", job)
        self.assertEqual(job["reason"], "1 of 4 failed")
        self.assert_each_ran_once(job)
        rc, out, err = cli(self.n(2), "wait", pid)
        self.assertEqual(rc, 1, (out, err))

    def test_batch_replay_replays_the_parent_not_its_children(self):
        since = int(time.time() * 1000) - 1
        issuer = self.n(4)
        doc = self.submit(issuer, {"task": "mixed", "to": "role=worker"})
        pid = doc["id"]
        job = self.wait_job(issuer, pid, ("failed",))
        self.assertEqual(job["reason"], "1 of 2 failed", job)
        body = {"states": ["failed"], "task": "mixed", "since_ms": since}
        r = issuer.post("/api/jobs/replay", dict(body, dry_run=True))
        self.assertEqual(r.status, 200, r)
        # The failed child (node-3's) is not replayed on its own: the
        # parent's replay runs it again, once.
        self.assertEqual([p["of"] for p in r.json()["pairs"]], [pid], r.json())
        r = issuer.post("/api/jobs/replay", body)
        self.assertEqual(r.status, 200, r)
        pairs = r.json()["pairs"]
        self.assertEqual([p["of"] for p in pairs], [pid], r.json())
        again = self.wait_job(issuer, pairs[0]["as"], ("failed",))
        self.assertEqual(sorted(c["node"] for c in again["children"]),
                         ["node-2", "node-3"])
        self.assert_each_ran_once(again)

    def test_cancel_of_the_parent_cancels_open_children(self):
        doc = self.submit(self.n(1), {"task": "slow", "to": "role=worker"})
        pid = doc["id"]
        self.assertTrue(harness.wait_until(lambda: all(
            c.get("state") == "running" for c in self.job(self.n(1), pid)["children"]),
            20, 0.2), self.job(self.n(1), pid))
        r = self.n(1).post("/api/jobs/%s/cancel" % pid, {})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.n(1).post("/api/jobs/%s/cancel" % pid, {}).status, 409)
        job = self.job(self.n(1), pid)
        self.assertEqual(job["state"], "cancelled", job)
        self.assertEqual([c["state"] for c in job["children"]],
                         ["cancelled", "cancelled"])
        self.assertEqual(len(self.events(job, "child")), 2)
        # Their runs are stopped (fenced on their nodes), never a result.
        for c in doc["children"]:
            got = harness.wait_until(lambda: self.events(
                self.job(self.n(1), c["id"]), "fenced"), 15, 0.2)
            self.assertTrue(got, self.job(self.n(1), c["id"]))
            self.assertEqual(self.job(self.n(1), c["id"])["state"], "cancelled")
        time.sleep(6.5)     # past the runs' own end: nothing changes
        self.assertEqual(self.job(self.n(1), pid)["state"], "cancelled")

    def test_bad_targets_are_refused_and_nothing_stored(self):
        before = self.listed(self.n(3), "?children=1")
        cases = [
            ({"task": "report", "to": "=worker"}, 400, "invalid_field", "selector"),
            ({"task": "report", "to": "role=worker,bad key=x"}, 400, "invalid_field",
             "selector"),
            ({"task": "report", "to": "role=nosuch"}, 404, "no_target", "matches no"),
            ({"task": "report", "to": "all", "payload": "x" * 70000}, 413,
             "too_large", "payload"),
        ]
        for doc, status, code, word in cases:
            r = self.n(3).post("/api/jobs", doc)
            self.assertEqual(r.status, status, (doc, r))
            self.assertEqual(r.json()["error"], code, (doc, r.json()))
            self.assertIn(word, r.json()["message"], (doc, r.json()))
        self.assertEqual(self.listed(self.n(3), "?children=1"), before)

    def test_idempotency_key_answers_the_parent(self):
        body = {"task": "report", "to": "role=db", "key": "fan-%d" % time.monotonic_ns()}
        a = self.submit(self.n(1), body)
        again = self.submit(self.n(1), body, status=200)
        self.assertEqual(again["id"], a["id"])
        job = self.wait_job(self.n(1), a["id"])
        self.assertEqual(job["state"], "succeeded", job)
        self.assertEqual([c["node"] for c in job["children"]], ["node-4"])
        self.assert_each_ran_once(job)
        r = self.n(1).post("/api/jobs", dict(body, payload=2))
        self.assertEqual(r.status, 409, r)
        self.assertEqual(r.json()["job"], a["id"])

    def test_a_node_down_at_submit_gets_its_child_when_it_starts(self):
        n4 = self.n(4)
        n4.stop(_signal.SIGKILL)      # no farewell: still known, then dead
        try:
            doc = self.submit(self.n(1), {"task": "report", "to": "all",
                                          "deadline_ms": 60000})
            pid = doc["id"]
            self.assertEqual([c["node"] for c in doc["children"]],
                             ["node-1", "node-2", "node-3", "node-4"])
            time.sleep(8)
            job = self.job(self.n(1), pid)
            self.assertEqual(job["state"], "running", job)
            states = {c["node"]: c["state"] for c in job["children"]}
            self.assertEqual(states["node-4"], "queued", job)
            self.assertEqual(states["node-2"], "succeeded", job)
        finally:
            n4.restart()
            self.wait_formed()
        job = self.wait_job(self.n(1), pid, timeout=45)
        self.assertEqual(job["state"], "succeeded", job)
        self.assert_each_ran_once(job)

    def test_issuer_restart_mid_fanout_runs_each_child_once(self):
        doc = self.submit(self.n(1), {"task": "slow", "to": "role=worker"})
        pid = doc["id"]
        self.n(1).stop(_signal.SIGKILL)
        self.n(1).restart()
        self.wait_formed()
        job = self.wait_job(self.n(1), pid, timeout=60)
        self.assertEqual(job["state"], "succeeded", job)
        self.assertEqual([c["node"] for c in job["children"]], ["node-2", "node-3"])
        self.assert_each_ran_once(job)


if __name__ == "__main__":
    unittest.main(verbosity=2)
