"""System tests of durable jobs (node/work/jobs.h, job_runs.h): real nodes
on loopback, jobs submitted through one node's API or the CLI, run on
another, their results, fencing and recovery observed through the
issuer's API, the CLI's exit status and the files the tasks write.

Every task appends "JOB EPOCH" to runs-NODE in the test's directory when
it starts, so a test counts the runs of a job on each node.  Short
deadlines, --dead-ms 2000, bounded polls."""

import hashlib
import json
import os
import shutil
import signal as _signal
import subprocess
import tempfile
import time
import unittest

import harness

FORM_TIMEOUT = 40
CLI = os.path.join(harness.BIN, "agentflow")
ADMIN = "admin-0123456789abcdef"
FINAL = ("succeeded", "failed", "cancelled", "expired", "lost")


def tasks_for(tmp, node_id):
    runs = os.path.join(tmp, "runs-" + node_id)
    start = 'echo "$AGENTFLOW_JOB_ID $AGENTFLOW_JOB_EPOCH" >> %s; ' % runs
    report = ('p=$(cat "$AGENTFLOW_PAYLOAD_FILE"); printf \'{"job":"%%s",'
              '"epoch":%%s,"attempt":%%s,"node":"%s","payload":%%s}\' '
              '"$AGENTFLOW_JOB_ID" "$AGENTFLOW_JOB_EPOCH" "$AGENTFLOW_JOB_ATTEMPT" '
              '"${p:-null}" > "$AGENTFLOW_RESULT_FILE"; ' % node_id)
    return {
        "report": {"command": ["/bin/sh", "-c", start + report + "exit 0"]},
        "fail3": {"command": ["/bin/sh", "-c", start + report + "exit 3"]},
        "slow": {"command": ["/bin/sh", "-c", start + "sleep 6; " + report]},
        "badresult": {"command": ["/bin/sh", "-c",
                                  start + 'echo "not json" > "$AGENTFLOW_RESULT_FILE"']},
    }


JOBFORGER_BIN = os.path.join(harness.BIN, "agentflow-node-jobforger")


class JobForger(harness.MeshNode):
    """A member that sends the job commands the test writes to its file
    (tests/extra/node_jobforger.c), in its own name."""

    def binary(self):
        return JOBFORGER_BIN

    def argv(self):
        return [JOBFORGER_BIN] + super().argv()[1:]


def cli(node, *args, timeout=120):
    e = dict(os.environ)
    for k in ("AGENTFLOW_API", "AGENTFLOW_TOKEN", "AGENTFLOW_DATA_DIR"):
        e.pop(k, None)
    p = subprocess.run([CLI, args[0], "--data-dir", node.data_dir] + list(args[1:]),
                       capture_output=True, text=True, errors="replace",
                       timeout=timeout, env=e, stdin=subprocess.DEVNULL)
    return p.returncode, p.stdout, p.stderr


class Jobs(unittest.TestCase):
    """A signal, node-1 (role=desk) and node-2, node-3 (role=worker);
    node-4 (role=late) only where a test starts it."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="af-jobs-")
        cls.pki = harness.Pki(cls.tmp)
        cls.sig = harness.Signal(["--rate", "0", "--heartbeat", "1", "--ttl", "5"],
                                 ca=cls.pki.ca_path).start()
        cls.nodes = {}
        for i, role in ((1, "desk"), (2, "worker"), (3, "worker")):
            nid = "node-%d" % i
            cls.nodes[nid] = cls.make_node(nid, role).start()
        cls.wait_formed(list(cls.nodes.values()))

    @classmethod
    def make_node(cls, node_id, role, kind=harness.MeshNode):
        path = os.path.join(cls.tmp, "tasks-%s.json" % node_id)
        with open(path, "w") as f:
            json.dump(tasks_for(cls.tmp, node_id), f)
        node = kind(cls.pki, node_id, signals=[cls.sig.url], args=[
            "--dead-ms", "2000", "--ping-ms", "300", "--tasks", path,
            "--labels", "role=" + role, "--command-timeout-ms", "3000"])
        # A job's files in the test's directory, not /tmp.
        node.env["TMPDIR"] = cls.tmp
        # Its tokens, an admin's among them (freeze).
        if not os.path.exists(node.data_dir):
            os.makedirs(node.data_dir, 0o700)
            path = os.path.join(node.data_dir, "tokens.json")
            with open(path, "w") as f:
                json.dump({"read": "read-" + node_id + "-0123456789",
                           "write": "write-" + node_id + "-0123456789",
                           "admin": ADMIN}, f)
            os.chmod(path, 0o600)
        return node

    @classmethod
    def wait_formed(cls, nodes):
        harness.wait_formed(nodes, FORM_TIMEOUT)

    @classmethod
    def tearDownClass(cls):
        for n in cls.nodes.values():
            n.stop()
        cls.sig.stop()
        shutil.rmtree(cls.tmp, True)

    # -- helpers

    def n(self, i):
        return self.nodes["node-%d" % i]

    def submit(self, node, doc, status=202):
        r = node.post("/api/jobs", doc)
        self.assertEqual(r.status, status, r)
        return r.json()

    def job(self, node, jid):
        r = node.client().get("/api/jobs/" + jid)
        self.assertEqual(r.status, 200, r)
        return r.json()

    def wait_job(self, node, jid, states=FINAL, timeout=30):
        got = harness.wait_until(
            lambda: self.job(node, jid)["state"] in states and self.job(node, jid),
            timeout, 0.2)
        self.assertTrue(got, self.job(node, jid))
        return got

    def admin(self, node, doc):
        return harness.Client("127.0.0.1", node.api_port, None, ADMIN).request(
            "POST", "/api/commands", json.dumps(doc).encode(),
            {"Content-Type": "application/json"})

    def runs(self, node_id, jid):
        try:
            with open(os.path.join(self.tmp, "runs-" + node_id)) as f:
                return [l.split()[1] for l in f if l.split()[0] == jid]
        except FileNotFoundError:
            return []

    def all_runs(self, jid):
        return {n: self.runs(n, jid) for n in ("node-1", "node-2", "node-3", "node-4",
                                               "node-5")
                if self.runs(n, jid)}

    def events(self, job, name):
        return [h for h in job["history"] if h["event"] == name]

    # -- tests

    def test_payload_and_result_to_a_named_node(self):
        doc = self.submit(self.n(1), {"task": "report", "to": "node-2",
                                      "payload": {"x": [1, 2], "s": "é"}})
        job = self.wait_job(self.n(1), doc["id"])
        self.assertEqual(job["state"], "succeeded", job)
        self.assertEqual(job["exit_code"], 0)
        self.assertEqual(job["result"], {"job": doc["id"], "epoch": 1, "attempt": 1,
                                         "node": "node-2",
                                         "payload": {"s": "é", "x": [1, 2]}})
        self.assertEqual(self.all_runs(doc["id"]), {"node-2": ["1"]})
        # The issuer's own entries (the executor's are merged in at read
        # as they arrive: test_jobs_replay.py).
        self.assertEqual([h["event"] for h in job["history"]
                          if h.get("source") != "executor"],
                         ["submitted", "dispatched", "running", "succeeded"])
        # Another node did not issue it: it shows the mesh's summary
        # (test_jobs_mesh.py), never the payload, result or history.
        r = self.n(3).client().get("/api/jobs/" + doc["id"])
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json()["issuer"], r.json()["remote"]), ("node-1", True))
        for k in ("payload", "result", "history"):
            self.assertNotIn(k, r.json())

    def test_cli_wait_exits_with_the_remote_status(self):
        rc, out, err = cli(self.n(1), "submit", "fail3", "--to", "node-3",
                           "--payload", '{"k": 1}', "--wait")
        self.assertEqual(rc, 3, (out, err))
        self.assertIn("failed", out)
        rc, out, err = cli(self.n(1), "submit", "report", "--to", "node-3")
        self.assertEqual(rc, 0, err)
        jid = out.split()[0]
        rc, out, err = cli(self.n(1), "wait", jid)
        self.assertEqual(rc, 0, (out, err))
        rc, out, err = cli(self.n(1), "job", jid)
        self.assertEqual(rc, 0, err)
        for word in ("submitted", "dispatched", "running", "succeeded"):
            self.assertIn(word, out)
        rc, out, err = cli(self.n(1), "jobs", "--state", "succeeded")
        self.assertEqual(rc, 0, err)
        self.assertIn(jid, out)
        # Expired: 124.  A key reused with other arguments: 1, naming the
        # first job.  No --to: a usage error.
        rc, out, err = cli(self.n(1), "submit", "report", "--to", "node-9",
                           "--deadline", "1s", "--wait")
        self.assertEqual(rc, 124, (out, err))
        self.assertIn("expired", out)
        rc, out, err = cli(self.n(1), "submit", "report", "--to", "node-3",
                           "--key", "cli-key", "--payload", "1")
        self.assertEqual(rc, 0, err)
        first = out.split()[0]
        rc, out, err = cli(self.n(1), "submit", "report", "--to", "node-3",
                           "--key", "cli-key", "--payload", "2")
        self.assertEqual(rc, 1, (out, err))
        self.assertIn(first, err)
        rc, out, err = cli(self.n(1), "submit", "report")
        self.assertEqual(rc, 2, (out, err))
        rc, out, err = cli(self.n(1), "submit", "report", "--to", "node-3",
                           "--payload", "{bad")
        self.assertEqual(rc, 2, (out, err))

    def test_result_file_refused_and_unknown_task(self):
        doc = self.submit(self.n(1), {"task": "badresult", "to": "node-2"})
        job = self.wait_job(self.n(1), doc["id"])
        self.assertEqual(job["state"], "succeeded", job)
        self.assertIsNone(job.get("result"))
        self.assertEqual(job["why_no_result"], "result is not JSON")
        doc = self.submit(self.n(1), {"task": "nosuch", "to": "node-2"})
        job = self.wait_job(self.n(1), doc["id"])
        self.assertEqual(job["state"], "failed", job)
        self.assertIn("no task named", job["reason"])

    def test_bad_input_is_refused_and_nothing_stored(self):
        # Its own jobs: the mesh's (other issuers') change meanwhile.
        mine = "/api/jobs?issuer=node-2"
        before = self.n(2).client().get(mine).json()["jobs"]
        cases = [
            ({"task": "report", "to": "node-3", "payload": "x" * 70000}, 413, "payload"),
            ({"task": "report", "to": "node-3", "payload": "x" * 60000,
              "args": ["a" * 4000] * 3}, 413, "travels"),
            ({"task": "report", "to": "no such node!"}, 400, "to"),
            ({"task": "report", "to": "any:=x"}, 400, "selector"),
            ({"task": "report", "to": "=worker"}, 400, "selector"),
            ({"task": "report", "to": "bad key=worker"}, 400, "selector"),
            ({"task": "report"}, 400, "to"),
            ({"to": "node-3"}, 400, "task"),
            ({"task": "report", "to": "node-3", "colour": 1}, 400, "colour"),
            ({"task": "report", "to": "node-3", "deadline_ms": -5}, 400, "deadline_ms"),
            ({"task": "report", "to": "node-3", "key": ""}, 400, "key"),
        ]
        for doc, status, word in cases:
            r = self.n(2).post("/api/jobs", doc)
            self.assertEqual(r.status, status, (doc, r))
            self.assertIn(word, r.json()["message"], (doc, r.json()))
        r = self.n(2).client().request("POST", "/api/jobs", b'{"task": "report", "to":',
                                       {"Content-Type": "application/json"})
        self.assertEqual(r.status, 400, r)
        self.assertEqual(self.n(2).client().get(mine).json()["jobs"], before)

    def test_idempotency_key_across_issuers(self):
        key = "key-%d" % time.monotonic_ns()
        body = {"task": "report", "to": "node-2", "key": key, "payload": {"n": 1}}
        a = self.submit(self.n(1), body)
        self.wait_job(self.n(1), a["id"])
        b = self.submit(self.n(3), body)
        jb = self.wait_job(self.n(3), b["id"])
        ja = self.job(self.n(1), a["id"])
        self.assertEqual(self.all_runs(a["id"]), {"node-2": ["1"]})
        self.assertEqual(self.all_runs(b["id"]), {})
        self.assertEqual(jb["state"], "succeeded", jb)
        self.assertEqual(jb["result"], ja["result"])
        self.assertTrue(self.events(jb, "duplicate"), jb)
        # The same issuer knows the key: the first job, or 409.
        again = self.submit(self.n(1), body, status=200)
        self.assertEqual(again["id"], a["id"])
        r = self.n(1).post("/api/jobs", dict(body, payload={"n": 2}))
        self.assertEqual(r.status, 409, r)
        self.assertEqual(r.json()["job"], a["id"])
        self.assertEqual(r.json()["error"], "idempotency key used for other arguments")
        # Through another issuer, other arguments: refused by the executor.
        key2 = key + "-2"
        d = self.submit(self.n(1), dict(body, key=key2))
        self.wait_job(self.n(1), d["id"])
        c = self.submit(self.n(3), dict(body, payload={"n": 3}, key=key2))
        jc = self.wait_job(self.n(3), c["id"])
        self.assertEqual(jc["state"], "failed", jc)
        self.assertIn(d["id"], jc["reason"])
        self.assertEqual(jc["conflict_with"], d["id"])
        self.assertEqual(self.all_runs(c["id"]), {})

    def test_store_and_forward_to_a_node_that_starts_later(self):
        ok = self.submit(self.n(1), {"task": "report", "to": "node-4",
                                     "deadline_ms": 60000})
        late = self.submit(self.n(1), {"task": "report", "to": "node-4",
                                       "deadline_ms": 3000})
        time.sleep(10)      # node-4 starts 10 s after the submit
        self.assertEqual(self.job(self.n(1), ok["id"])["state"], "queued")
        self.assertEqual(self.wait_job(self.n(1), late["id"])["state"], "expired")
        n4 = self.make_node("node-4", "late").start()
        self.nodes["node-4"] = n4
        try:
            job = self.wait_job(self.n(1), ok["id"], timeout=45)
            self.assertEqual(job["state"], "succeeded", job)
            self.assertEqual(self.all_runs(ok["id"]), {"node-4": ["1"]})
            self.assertEqual(self.all_runs(late["id"]), {})
        finally:
            n4.stop()
            del self.nodes["node-4"]

    def test_cancel_stops_the_run_and_refuses_its_result(self):
        doc = self.submit(self.n(1), {"task": "slow", "to": "node-3"})
        self.wait_job(self.n(1), doc["id"], ("running",))
        r = self.n(1).post("/api/jobs/%s/cancel" % doc["id"], {})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.n(1).post("/api/jobs/%s/cancel" % doc["id"], {}).status,
                         409)
        got = harness.wait_until(lambda: self.events(
            self.job(self.n(1), doc["id"]), "fenced"), 15, 0.2)
        self.assertTrue(got, self.job(self.n(1), doc["id"]))
        self.assertEqual(got[0]["node"], "node-3")
        self.assertEqual(got[0]["stopped"], 1)
        job = self.job(self.n(1), doc["id"])
        self.assertEqual(job["state"], "cancelled")
        self.assertNotIn("result", job)
        self.assertEqual(self.n(1).post("/api/jobs/jnosuchjob/cancel", {}).status, 404)

    def test_a_frozen_node_keeps_the_job_queued(self):
        r = self.admin(self.n(1), {"target": "node-2", "type": "freeze",
                                   "wait_ms": 5000})
        self.assertEqual(r.status, 200, r)
        try:
            # The refusal says "frozen" in its body, not only in its text.
            r = self.admin(self.n(1), {"target": "node-2", "type": "run_task",
                                       "args": {"task": "report"}, "wait_ms": 5000})
            res = r.json()["results"][0]
            self.assertEqual((res["status"], res["body"]), ("refused", {"frozen": True}),
                             r.json())
            doc = self.submit(self.n(1), {"task": "report", "to": "node-2"})
            time.sleep(3)
            job = self.job(self.n(1), doc["id"])
            self.assertEqual(job["state"], "queued", job)
            self.assertEqual(self.all_runs(doc["id"]), {})
        finally:
            r = self.admin(self.n(1), {"target": "node-2", "type": "unfreeze",
                                       "wait_ms": 5000})
            self.assertEqual(r.status, 200, r)
        job = self.wait_job(self.n(1), doc["id"], timeout=20)
        self.assertEqual(job["state"], "succeeded", job)
        self.assertEqual(self.all_runs(doc["id"]), {"node-2": ["1"]})
        # The jobs' counters.
        m = harness.parse_metrics(self.n(1).client().get("/metrics").body.decode())
        self.assertGreaterEqual(m['agentflow_node_jobs_total{what="submitted"}'], 1)
        self.assertGreaterEqual(m['agentflow_node_jobs_total{what="succeeded"}'], 1)
        self.assertIn("agentflow_node_jobs_queued", m)

    def restart(self, node):
        node.restart()
        self.wait_formed([self.n(1), self.n(2), self.n(3)])

    def signed_token(self, node, name, role):
        r = harness.Client("127.0.0.1", node.api_port, None, ADMIN).request(
            "POST", "/api/tokens", json.dumps({"name": name, "role": role,
                                               "ttl": "1h"}).encode(),
            {"Content-Type": "application/json"})
        self.assertEqual(r.status, 200, r)
        return r.json()["token"]

    def submit_as(self, node, token, doc, status=202):
        r = harness.Client("127.0.0.1", node.api_port, None, token).request(
            "POST", "/api/jobs", json.dumps(doc).encode(),
            {"Content-Type": "application/json"})
        self.assertEqual(r.status, status, r)
        return r.json()

    def test_a_signed_token_job_runs_remotely_by_its_grant(self):
        # alice's job runs on node-2 long after her request: node-2 checks
        # the grant node-1 stored with the job, even after node-1 restarts
        alice = self.signed_token(self.n(1), "alice", "write")
        doc = self.submit_as(self.n(1), alice, {"task": "report", "to": "node-2",
                                                "payload": {"n": 7}})
        job = self.wait_job(self.n(1), doc["id"])
        self.assertEqual(job["state"], "succeeded", job)
        self.assertEqual(job["principal"], "alice")
        self.assertEqual(job["result"]["payload"], {"n": 7}, job)
        self.assertNotIn("grant", job)      # not for readers
        self.assertEqual(self.all_runs(doc["id"]), {"node-2": ["1"]})
        listed = self.n(1).client().get("/api/jobs").json()["jobs"]
        self.assertFalse([j for j in listed if "grant" in j])
        # nor in the commands and audit records that show a JOB_RUN's args:
        # its claims would rebuild alice's token without the key
        claims = alice.split(".")[1]
        for node, path in ((self.n(1), "/api/commands?limit=1000"),
                           (self.n(1), "/api/audit?limit=1000"),
                           (self.n(2), "/api/audit?limit=1000")):
            r = node.client(token="read").get(path)
            self.assertEqual(r.status, 200, r)
            self.assertNotIn(claims, r.body.decode(), (node.node_id, path))
        executed = self.n(2).client().get(
            "/api/audit?action=command.executed&limit=1000").json()["records"]
        self.assertTrue([x for x in executed if x["actor"] == "alice"
                         and x["details"]["args"].get("job_id") == doc["id"]], executed)
        # queued while node-2 is frozen, node-1 restarted, then dispatched
        r = self.admin(self.n(1), {"target": "node-2", "type": "freeze",
                                   "wait_ms": 5000})
        self.assertEqual(r.status, 200, r)
        try:
            doc = self.submit_as(self.n(1), alice, {"task": "report", "to": "node-2"})
            time.sleep(2)
            self.assertEqual(self.job(self.n(1), doc["id"])["state"], "queued")
            self.restart(self.n(1))
        finally:
            r = self.admin(self.n(1), {"target": "node-2", "type": "unfreeze",
                                       "wait_ms": 5000})
            self.assertEqual(r.status, 200, r)
        job = self.wait_job(self.n(1), doc["id"], timeout=30)
        self.assertEqual(job["state"], "succeeded", job)
        self.assertEqual(self.all_runs(doc["id"]), {"node-2": ["1"]})
        # a read token may not submit
        rita = self.signed_token(self.n(1), "rita", "read")
        self.submit_as(self.n(1), rita, {"task": "report", "to": "node-2"}, 403)

    def test_issuer_killed_after_202_and_restarted(self):
        doc = self.submit(self.n(3), {"task": "report", "to": "node-2"})
        self.n(3).stop(_signal.SIGKILL)
        self.restart(self.n(3))
        job = self.wait_job(self.n(3), doc["id"])
        self.assertEqual(job["state"], "succeeded", job)
        self.assertEqual(self.all_runs(doc["id"]), {"node-2": ["1"]})

    def test_result_held_while_the_issuer_is_down(self):
        doc = self.submit(self.n(3), {"task": "slow", "to": "node-2"})
        self.wait_job(self.n(3), doc["id"], ("running",))
        self.n(3).stop(_signal.SIGKILL)
        time.sleep(7)       # the run ends while its issuer is down
        self.restart(self.n(3))
        job = self.wait_job(self.n(3), doc["id"], timeout=40)
        self.assertEqual(job["state"], "succeeded", job)
        self.assertEqual(job["result"]["node"], "node-2")
        self.assertEqual(self.all_runs(doc["id"]), {"node-2": ["1"]})

    def test_a_named_node_killed_mid_run_reports_it_failed(self):
        doc = self.submit(self.n(1), {"task": "slow", "to": "node-2"})
        self.wait_job(self.n(1), doc["id"], ("running",))
        self.assertTrue(harness.wait_until(lambda: self.runs("node-2", doc["id"]), 10, 0.05))
        self.n(2).stop(_signal.SIGKILL)
        time.sleep(3)       # dead by --dead-ms: a named job waits for its node
        self.assertEqual(self.job(self.n(1), doc["id"])["state"], "running")
        self.restart(self.n(2))
        job = self.wait_job(self.n(1), doc["id"], timeout=30)
        self.assertEqual(job["state"], "failed", job)
        self.assertEqual(job["reason"], "node restarted")
        self.assertEqual(job["node"], "node-2")
        self.assertEqual(self.all_runs(doc["id"]), {"node-2": ["1"]})

    def any_job_on_a_killed_node(self, at_most_once, token=None):
        body = {"task": "slow", "to": "any:role=worker", "at_most_once": at_most_once}
        doc = (self.submit_as(self.n(1), token, body) if token
               else self.submit(self.n(1), body))
        job = self.wait_job(self.n(1), doc["id"], ("running",))
        first = job["node"]
        victim = self.nodes[first]
        # "running" is the task accepted; its process starts a moment later.
        self.assertTrue(harness.wait_until(lambda: self.runs(first, doc["id"]), 10, 0.05))
        victim.stop(_signal.SIGKILL)
        try:
            job = self.wait_job(self.n(1), doc["id"], timeout=40)
        finally:
            self.restart(victim)
        return doc["id"], first, job

    def test_any_job_moves_when_its_node_dies(self):
        # submitted by alice's signed token: its grant proves epoch 2 too
        alice = self.signed_token(self.n(1), "alice", "write")
        jid, first, job = self.any_job_on_a_killed_node(False, alice)
        self.assertEqual(job["state"], "succeeded", job)
        self.assertNotEqual(job["node"], first)
        self.assertEqual(job["epoch"], 2)
        self.assertEqual(job["result"]["node"], job["node"])
        self.assertEqual(job["result"]["epoch"], 2)
        self.assertEqual(self.all_runs(jid), {first: ["1"], job["node"]: ["2"]})
        # The killed node, back, reports its old run: recorded fenced.
        got = harness.wait_until(lambda: self.events(self.job(self.n(1), jid), "fenced"),
                                 30, 0.3)
        self.assertTrue(got, self.job(self.n(1), jid))
        self.assertEqual(got[0]["node"], first)
        self.assertEqual(got[0]["epoch"], 1)
        after = self.job(self.n(1), jid)
        self.assertEqual(after["result"], job["result"])
        self.assertEqual(after["state"], "succeeded")

    def test_at_most_once_job_is_lost_not_run_twice(self):
        jid, first, job = self.any_job_on_a_killed_node(True)
        self.assertEqual(job["state"], "lost", job)
        self.assertIn(first, job["reason"])
        time.sleep(2)
        self.assertEqual(self.all_runs(jid), {first: ["1"]})

    # -- what a hostile review found (each failed before its fix)

    def test_cancel_of_a_queued_job_fences_its_node(self):
        # node-3 stopped (not dead yet): the JOB_RUN goes out and is not
        # answered, so the job is queued again with node-3 and epoch 1, a
        # copy maybe on its way.  Its cancel must fence node-3.
        n3 = self.n(3)
        os.kill(n3.proc.pid, _signal.SIGSTOP)
        try:
            doc = self.submit(self.n(1), {"task": "report", "to": "node-3"})
            got = harness.wait_until(lambda: (lambda j: j["state"] == "queued" and
                                              j["epoch"] == 1 and j)(
                self.job(self.n(1), doc["id"])), 15, 0.2)
            self.assertTrue(got, self.job(self.n(1), doc["id"]))
            r = self.n(1).post("/api/jobs/%s/cancel" % doc["id"], {})
            self.assertEqual(r.status, 200, r)
            job = self.job(self.n(1), doc["id"])
            self.assertEqual(job["state"], "cancelled")
            fences = self.events(job, "fence")
            self.assertEqual([(f["node"], f["epoch"]) for f in fences],
                             [("node-3", 1)], job)
        finally:
            os.kill(n3.proc.pid, _signal.SIGCONT)
            self.wait_formed([self.n(1), self.n(2), self.n(3)])
        # Back, node-3 is told: the fence is delivered.
        got = harness.wait_until(lambda: [h for h in self.job(self.n(1), doc["id"])[
            "history"] if h["event"] == "fenced" and h.get("why") == "fence delivered"],
            30, 0.3)
        self.assertTrue(got, self.job(self.n(1), doc["id"]))

    def test_list_is_summaries_the_job_page_is_whole(self):
        doc = self.submit(self.n(1), {"task": "report", "to": "node-2",
                                      "payload": {"big": "x" * 1000}})
        self.wait_job(self.n(1), doc["id"])
        r = self.n(1).client().get("/api/jobs?limit=1000")
        self.assertEqual(r.status, 200, r)
        listed = [j for j in r.json()["jobs"] if j["id"] == doc["id"]]
        self.assertEqual(len(listed), 1, r.json())
        self.assertEqual(listed[0]["state"], "succeeded")
        self.assertNotIn("payload", listed[0])
        self.assertNotIn("result", listed[0])
        job = self.job(self.n(1), doc["id"])
        self.assertEqual(json.loads(job["payload"]), {"big": "x" * 1000})
        self.assertEqual(job["result"]["node"], "node-2")

    def test_an_alias_of_a_fenced_run_is_released(self):
        key = "alias-%d" % time.monotonic_ns()
        body = {"task": "slow", "to": "node-2", "key": key}
        a = self.submit(self.n(1), body)
        self.wait_job(self.n(1), a["id"], ("running",))
        b = self.submit(self.n(3), body)
        self.assertTrue(harness.wait_until(
            lambda: self.events(self.job(self.n(3), b["id"]), "duplicate"), 10, 0.2),
            self.job(self.n(3), b["id"]))
        # The first job's issuer cancels it: its run on node-2 is fenced,
        # and the alias waiting on it gets an answer, not "running" forever.
        self.assertEqual(self.n(1).post("/api/jobs/%s/cancel" % a["id"], {}).status, 200)
        jb = self.wait_job(self.n(3), b["id"], timeout=20)
        self.assertEqual(jb["state"], "failed", jb)
        self.assertIn("fenced", jb["reason"])
        self.assertIn(a["id"], jb["reason"])
        self.assertEqual(self.all_runs(b["id"]), {})
        # The key is free again for a run: a fenced run is no first job.
        # (through node-2: the other issuers remember the key themselves)
        c = self.submit(self.n(2), dict(body, task="report"))
        jc = self.wait_job(self.n(2), c["id"], timeout=20)
        self.assertEqual(jc["state"], "succeeded", jc)
        self.assertEqual(self.all_runs(c["id"]), {"node-2": ["1"]})

    def forge(self, forger, cmds, timeout=20):
        """Has the forger send cmds; their answers by tag."""
        path = forger.env["AGENTFLOW_TEST_JOBFORGE"]
        with open(path + ".tmp", "w") as f:
            json.dump(cmds, f)
        os.rename(path + ".tmp", path)
        tags = {c["tag"] for c in cmds}

        def answers():
            got = {l["tag"]: l for l in forger.logs()
                   if l.get("msg") == "jobforge answer" and l.get("tag") in tags}
            return len(got) == len(tags) and got
        got = harness.wait_until(answers, timeout, 0.2)
        self.assertTrue(got, [l for l in forger.logs() if l.get("msg") == "jobforge answer"])
        return got

    def test_a_hostile_member_cannot_touch_another_issuers_job(self):
        forger = self.make_node("node-5", "forger", kind=JobForger)
        forger.env["AGENTFLOW_TEST_JOBFORGE"] = os.path.join(self.tmp, "forge-node-5.json")
        self.nodes["node-5"] = forger.start()
        try:
            self.wait_formed(list(self.nodes.values()))
            victim = self.submit(self.n(1), {"task": "slow", "to": "node-2"})
            self.wait_job(self.n(1), victim["id"], ("running",))
            # A well-formed run (its args_hash is what the executor
            # recomputes), so what stops it is whose job it is.
            what = json.dumps({"args": None, "command": None, "payload": None,
                               "task": "report"}, separators=(",", ":"), sort_keys=True)
            run = {"job_id": victim["id"], "task": "report",
                   "args_hash": hashlib.sha256(what.encode()).hexdigest(),
                   "deadline_ms": 0}
            got = self.forge(forger, [
                # Another issuer's (job, epoch): not answered, not taken.
                {"tag": "same-epoch", "target": "node-2", "type": "job_run",
                 "args": dict(run, epoch=1)},
                # A fence that would block the job's every future epoch.
                {"tag": "fence-max", "target": "node-2", "type": "job_fence",
                 "args": {"job_id": victim["id"], "epoch": 2 ** 63 - 1}},
                {"tag": "run-far", "target": "node-2", "type": "job_run",
                 "args": dict(run, epoch=5000)},
                # A newer epoch of the same id, in the forger's own name: its
                # own run, which does not fence node-1's.
                {"tag": "run-newer", "target": "node-2", "type": "job_run",
                 "args": dict(run, epoch=2)},
            ])
            self.assertEqual(got["same-epoch"]["status"], "refused", got)
            self.assertIn("another issuer", got["same-epoch"]["error"])
            self.assertEqual(got["fence-max"]["status"], "invalid", got)
            self.assertEqual(got["run-far"]["status"], "refused", got)
            self.assertIn("out of bounds", got["run-far"]["error"])
            job = self.wait_job(self.n(1), victim["id"], timeout=30)
            self.assertEqual(job["state"], "succeeded", job)
            self.assertEqual(job["result"]["epoch"], 1)
            self.assertEqual(job["result"]["node"], "node-2")

            # A job running on the forger: it answers with the issuer's own
            # verdicts, which an executor may not give.
            mine = self.submit(self.n(1), {"task": "slow", "to": "node-5"})
            self.wait_job(self.n(1), mine["id"], ("running",))
            other = self.submit(self.n(1), {"task": "slow", "to": "node-3"})
            self.wait_job(self.n(1), other["id"], ("running",))
            got = self.forge(forger, [
                {"tag": "lost", "target": "node-1", "type": "job_result",
                 "args": {"job_id": mine["id"], "epoch": 1, "state": "lost"}},
                {"tag": "expired", "target": "node-1", "type": "job_result",
                 "args": {"job_id": mine["id"], "epoch": 1, "state": "expired"}},
                # A result for a job it never held: no history of it.
                {"tag": "not-mine", "target": "node-1", "type": "job_result",
                 "args": {"job_id": other["id"], "epoch": 1, "state": "failed",
                          "reason": "\x1b[2J" + "r" * 60000}},
            ])
            self.assertEqual(got["lost"]["status"], "invalid", got)
            self.assertEqual(got["expired"]["status"], "invalid", got)
            self.assertEqual(got["not-mine"]["status"], "ok", got)
            self.assertTrue(got["not-mine"]["body"]["fenced"], got)
            # The issuer is alive, its job still the forger's to finish.
            self.assertEqual(self.job(self.n(1), mine["id"])["state"], "running")
            job = self.wait_job(self.n(1), mine["id"], timeout=30)
            self.assertEqual(job["state"], "succeeded", job)
            self.assertEqual(job["result"]["node"], "node-5")
            # As a job's executor it may end it, but its reason is kept
            # cleaned and cut to 1 KiB.
            cut = self.submit(self.n(1), {"task": "slow", "to": "node-5"})
            self.wait_job(self.n(1), cut["id"], ("running",))
            got = self.forge(forger, [
                {"tag": "cut", "target": "node-1", "type": "job_result",
                 "args": {"job_id": cut["id"], "epoch": 1, "state": "failed",
                          "reason": "\x1b[2J" + "r" * 60000}}])
            self.assertEqual(got["cut"]["status"], "ok", got)
            job = self.wait_job(self.n(1), cut["id"])
            self.assertEqual(job["state"], "failed", job)
            self.assertEqual(len(job["reason"]), 1023)
            self.assertTrue(job["reason"].startswith("?[2Jrrr"), job["reason"][:20])
            self.assertEqual([len(h["reason"]) for h in self.events(job, "failed")], [1023])
            job = self.wait_job(self.n(1), other["id"], timeout=30)
            self.assertEqual(job["state"], "succeeded", job)
            self.assertEqual([h for h in job["history"] if h.get("node") == "node-5"], [])
        finally:
            forger.stop()
            del self.nodes["node-5"]


if __name__ == "__main__":
    unittest.main()
