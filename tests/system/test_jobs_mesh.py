"""Every node knows every job (issue 16): the issuer's JobUpdate events and
snapshots (node/mesh/sync_jobs.c) make a job listed, with its issuer, on
every node's GET /api/jobs and /ws, final with its exit code within
seconds; a node that starts after the job finished learns it from the
issuer's snapshot.  Real nodes on loopback, bounded polls."""

import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest

import harness

FORM_TIMEOUT = 40
SEEN_TIMEOUT = 10
CLI = os.path.join(harness.BIN, "agentflow")


def tasks(tmp):
    return {"ok": {"command": ["/bin/sh", "-c", "exit 0"]},
            "fail3": {"command": ["/bin/sh", "-c", "exit 3"]},
            "slow": {"command": ["/bin/sh", "-c", "sleep 3"]}}


class JobsMesh(unittest.TestCase):
    """A signal and node-1..node-3; node-4 only where a test starts it."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="af-jobs-mesh-")
        cls.pki = harness.Pki(cls.tmp)
        cls.sig = harness.Signal(["--rate", "0", "--heartbeat", "1", "--ttl", "5"],
                                 ca=cls.pki.ca_path).start()
        cls.tasks_path = os.path.join(cls.tmp, "tasks.json")
        with open(cls.tasks_path, "w") as f:
            json.dump(tasks(cls.tmp), f)
        cls.nodes = {}
        for i in (1, 2, 3):
            cls.nodes["node-%d" % i] = cls.make_node("node-%d" % i).start()
        cls.wait_formed(list(cls.nodes.values()))

    @classmethod
    def make_node(cls, node_id):
        node = harness.MeshNode(cls.pki, node_id, signals=[cls.sig.url], args=[
            "--dead-ms", "2000", "--ping-ms", "300", "--tasks", cls.tasks_path,
            "--command-timeout-ms", "3000"])
        node.env["TMPDIR"] = cls.tmp
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

    def submit(self, node, doc):
        r = node.post("/api/jobs", doc)
        self.assertEqual(r.status, 202, r)
        return r.json()["id"]

    def listed(self, node, jid, query=""):
        r = node.client(token="read").get("/api/jobs?limit=1000" + query)
        self.assertEqual(r.status, 200, r)
        return [j for j in r.json()["jobs"] if j["id"] == jid]

    def wait_listed(self, node, jid, state):
        got = harness.wait_until(
            lambda: [j for j in self.listed(node, jid) if j["state"] == state],
            SEEN_TIMEOUT, 0.2)
        self.assertTrue(got, (node.node_id, self.listed(node, jid)))
        self.assertEqual(len(got), 1, got)
        return got[0]

    def wait_final_on_issuer(self, node, jid):
        final = ("succeeded", "failed", "cancelled", "expired", "lost")
        got = harness.wait_until(
            lambda: (lambda j: j["state"] in final and j)(
                node.client().get("/api/jobs/" + jid).json()), 30, 0.2)
        self.assertTrue(got, jid)
        return got

    # -- tests

    def test_another_node_lists_the_job_final_with_its_exit_code(self):
        jid = self.submit(self.n(1), {"task": "fail3", "to": "node-2"})
        t0 = time.monotonic()
        seen = self.wait_listed(self.n(3), jid, "failed")
        took = time.monotonic() - t0
        self.assertLess(took, SEEN_TIMEOUT)
        self.assertEqual(seen["issuer"], "node-1")
        self.assertEqual(seen["exit_code"], 3)
        self.assertEqual(seen["node"], "node-2")
        self.assertEqual(seen["task"], "fail3")
        self.assertTrue(seen["remote"])
        self.assertIsNotNone(seen["finished_ms"])
        # Its page on node-3: the summary, and where the story is.
        r = self.n(3).client(token="read").get("/api/jobs/" + jid)
        self.assertEqual(r.status, 200, r)
        page = r.json()
        self.assertEqual((page["issuer"], page["remote"], page["state"],
                          page["exit_code"]), ("node-1", True, "failed", 3))
        for k in ("payload", "result", "history", "grant"):
            self.assertNotIn(k, page)
        # Filters apply to the mesh's jobs as to ours.
        self.assertEqual(len(self.listed(self.n(3), jid, "&state=failed")), 1)
        self.assertEqual(self.listed(self.n(3), jid, "&state=succeeded"), [])
        self.assertEqual(len(self.listed(self.n(3), jid, "&task=fail3")), 1)
        self.assertEqual(self.listed(self.n(3), jid, "&task=ok"), [])
        self.assertEqual(len(self.listed(self.n(3), jid, "&issuer=node-1")), 1)
        self.assertEqual(self.listed(self.n(3), jid, "&issuer=node-3"), [])
        # The issuer lists its own record once, not its echo.
        mine = self.wait_final_on_issuer(self.n(1), jid)
        own = self.listed(self.n(1), jid)
        self.assertEqual(len(own), 1, own)
        self.assertNotIn("remote", own[0])
        self.assertEqual(own[0]["exit_code"], mine["exit_code"])
        # The CLI's list names the issuer too.
        e = {k: v for k, v in os.environ.items()
             if k not in ("AGENTFLOW_API", "AGENTFLOW_TOKEN", "AGENTFLOW_DATA_DIR")}
        p = subprocess.run([CLI, "jobs", "--data-dir", self.n(3).data_dir],
                           capture_output=True, text=True, timeout=60, env=e,
                           stdin=subprocess.DEVNULL)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("ISSUER", p.stdout.splitlines()[0])
        row = [l for l in p.stdout.splitlines() if l.startswith(jid)]
        self.assertEqual(len(row), 1, p.stdout)
        self.assertEqual(row[0].split()[:2], [jid, "failed"])
        self.assertIn(" node-1 ", row[0])
        # /metrics counts the other issuers' jobs this node lists.
        m = harness.parse_metrics(self.n(3).client(token="read").get("/metrics").body.decode())
        self.assertGreaterEqual(m["agentflow_node_mesh_jobs"], 1)
        # A job no node issued: 404, saying so.
        r = self.n(3).client(token="read").get("/api/jobs/jnosuchjob0000")
        self.assertEqual(r.status, 404, r)
        self.assertIn("issuer", r.json()["message"])

    def test_ws_pushes_job_updates_on_every_node(self):
        node = self.n(2)
        ws = harness.WsClient(node.api_port, token=node.tokens()["read"])
        try:
            self.assertEqual(ws.status, 101)
            ws.recv_until(lambda m: m.get("type") == "snapshot", 10)
            jid = self.submit(self.n(1), {"task": "ok", "to": "node-3"})
            states = []

            def job_event(m):
                if m.get("type") != "event" or m["event"].get("kind") != "job":
                    return False
                body = m["event"]["body"]
                if body.get("id") != jid:
                    return False
                self.assertEqual(m["event"]["origin"], "node-1")
                self.assertEqual(body["issuer"], "node-1")
                states.append(body["state"])
                return body["state"] == "succeeded"
            done = ws.recv_until(job_event, SEEN_TIMEOUT)
            self.assertEqual(done["event"]["body"]["exit_code"], 0)
            self.assertEqual(states[0], "queued", states)
        finally:
            ws.close()

    def test_a_node_started_later_learns_finished_jobs(self):
        jid = self.submit(self.n(1), {"task": "ok", "to": "node-2"})
        self.wait_final_on_issuer(self.n(1), jid)
        # The issuer restarts: its new life's events hold nothing of the
        # job; only its snapshot (its jobs reloaded from its store) does.
        self.n(1).restart()
        self.wait_formed([self.n(1), self.n(2), self.n(3)])
        late = self.make_node("node-4").start()
        self.nodes["node-4"] = late
        self.wait_formed(list(self.nodes.values()))
        seen = self.wait_listed(late, jid, "succeeded")
        self.assertEqual((seen["issuer"], seen["exit_code"]), ("node-1", 0))
        # The nodes that knew it before the restart still do.
        self.wait_listed(self.n(3), jid, "succeeded")

    def test_a_running_job_is_seen_running_then_final(self):
        jid = self.submit(self.n(3), {"task": "slow", "to": "node-2"})
        running = self.wait_listed(self.n(1), jid, "running")
        self.assertEqual((running["issuer"], running["node"]), ("node-3", "node-2"))
        self.assertIsNone(running["finished_ms"])
        self.assertIsNone(running["exit_code"])
        final = self.wait_listed(self.n(1), jid, "succeeded")
        self.assertEqual(final["exit_code"], 0)


if __name__ == "__main__":
    unittest.main()
