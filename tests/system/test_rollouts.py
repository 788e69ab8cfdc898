"""Rollouts (issue 18 item 6): a new definition of a service taken to
nodes one at a time (or max_parallel), each kept only once healthy.

Three real nodes on loopback.  The service's health check is an exec
check, `test ! -e refuse-VERSION`, run in its node's working directory,
so the test makes one version unhealthy on one node only by creating
that file there.  A first rollout creates the service everywhere; a
second whose version fails its check on node-2 is rolled back there
(node-2 runs the previous version again, healthy), leaves node-3
untouched and is reported failed, naming node-2.  Pause holds the
next node back, resume goes on, abort rolls back the node under way.
A rollout goes on after the node running it is killed and restarted.
Bad requests are refused with the field named and start nothing.
Bounded polls throughout."""

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

import harness

CLI = os.path.join(harness.BIN, "agentflow")
FORM_TIMEOUT = 40
DONE_TIMEOUT = 60


def definition(version, sleep="1000"):
    return {"command": ["/bin/sleep", sleep],
            "env": {"APP_VERSION": version},
            "restart_policy": {"delay_s": 0.2, "max_delay_s": 0.4, "jitter": 0,
                               "attempts": 10, "interval_s": 60},
            "checks": [{"name": "ready", "type": "exec",
                        "command": ["/bin/sh", "-c", "test ! -e refuse-" + version],
                        "interval_s": 0.3, "timeout_s": 0.3, "failures": 1,
                        "successes": 1, "grace_s": 0}]}


class Rollouts(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="af-rollouts-")
        cls.pki = harness.Pki(cls.tmp)
        cls.sig = harness.Signal(["--rate", "0", "--heartbeat", "1", "--ttl", "5"],
                                 ca=cls.pki.ca_path).start()
        cls.nodes = {}
        for i in (1, 2, 3):
            node_id = "node-%d" % i
            cls.nodes[node_id] = harness.MeshNode(
                cls.pki, node_id, signals=[cls.sig.url],
                args=["--allow-adhoc", "--dead-ms", "3000", "--ping-ms", "300",
                      "--command-timeout-ms", "5000"]).start()
        harness.wait_formed(list(cls.nodes.values()), FORM_TIMEOUT)

    @classmethod
    def tearDownClass(cls):
        for n in cls.nodes.values():
            n.stop()
        cls.sig.stop()
        shutil.rmtree(cls.tmp, True)

    # -- helpers

    def start(self, node, doc, token="write"):
        r = node.post("/api/rollouts", doc, token=token)
        return r.status, r.json()

    def get(self, node, rid):
        r = node.client(token="read").get("/api/rollouts/" + rid)
        self.assertEqual(r.status, 200, r)
        return r.json()

    def wait_rollout(self, node, rid, pred, timeout=DONE_TIMEOUT):
        last = [None]

        def ok():
            last[0] = self.get(node, rid)
            return pred(last[0])
        if not harness.wait_until(ok, timeout, interval=0.2):
            self.fail("rollout %s: %s" % (rid, json.dumps(last[0], indent=1)))
        return last[0]

    def done(self, node, rid, timeout=DONE_TIMEOUT):
        return self.wait_rollout(node, rid, lambda r: r["state"] not in ("running", "paused"),
                                 timeout)

    def instance(self, viewer, name, on):
        r = viewer.client(token="read").get("/api/services?name=%s&node=%s" % (name, on))
        rows = r.json()["services"]
        return rows[0] if rows else None

    def states(self, r):
        return {x["node"]: x["state"] for x in r["nodes"]}

    def cli(self, node, *args):
        return subprocess.run([CLI, "rollout"] + list(args) + [
            "--api", "127.0.0.1:%d" % node.api_port, "--token",
            node.tokens()["write"]], capture_output=True, text=True, timeout=120)

    # -- tests

    def test_1_first_rollout_creates_the_service_everywhere(self):
        n1 = self.nodes["node-1"]
        status, r = self.start(n1, {"service": "app", "definition": definition("v1"),
                                    "target": "all", "deadline_s": 20,
                                    "min_healthy_s": 1})
        self.assertEqual(status, 201, r)
        self.assertEqual([x["node"] for x in r["nodes"]], ["node-1", "node-2", "node-3"])
        r = self.done(n1, r["id"])
        self.assertEqual(r["state"], "succeeded", r)
        self.assertEqual(self.states(r), {"node-1": "healthy", "node-2": "healthy",
                                          "node-3": "healthy"})
        versions = {x["version"] for x in r["nodes"]}
        self.assertEqual(len(versions), 1, r)
        self.__class__.v1 = r["nodes"][0]["version"]
        self.assertTrue(all(x["previous_version"] is None for x in r["nodes"]), r)
        # One node at a time: each started after the one before was healthy.
        for a, b in zip(r["nodes"], r["nodes"][1:]):
            self.assertGreaterEqual(b["started_ms"], a["finished_ms"], r)
        # Every node sees every instance healthy at that version.
        for on in self.nodes:
            inst = self.instance(self.nodes["node-3"], "app", on)
            self.assertEqual((inst["state"], inst["version"]),
                             ("healthy", r["nodes"][0]["version"]))
        # The audit names the person; the CLI lists it.
        audit = n1.client(token="read").get("/api/audit?action=rollout.start").json()
        self.assertTrue([e for e in audit["records"] if e["result"] == "ok"], audit)
        out = self.cli(n1, "ls", "--name", "app")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn(r["id"], out.stdout)
        self.assertIn("succeeded", out.stdout)

    def test_2_unhealthy_on_the_second_is_rolled_back_third_untouched(self):
        n1, n2, n3 = (self.nodes["node-%d" % i] for i in (1, 2, 3))
        with open(os.path.join(n2.dir, "refuse-v2"), "w"):
            pass
        path = os.path.join(self.tmp, "v2.json")
        with open(path, "w") as f:
            json.dump(definition("v2"), f)
        out = self.cli(n1, "start", "app", path, "--to", "all", "--deadline", "4s",
                       "--min-healthy", "1", "--wait", "--timeout-ms", "60000")
        self.assertEqual(out.returncode, 1, (out.stdout, out.stderr))
        self.assertIn("failed", out.stdout)
        rid = json.loads(self.cli(n1, "ls", "--json").stdout)["rollouts"][0]["id"]
        r = self.get(n1, rid)
        self.assertEqual(r["state"], "failed", r)
        self.assertEqual(self.states(r), {"node-1": "healthy", "node-2": "rolled_back",
                                          "node-3": "untouched"})
        x2 = r["nodes"][1]
        self.assertEqual(x2["previous_version"], self.v1)
        self.assertIn("not healthy within 4s", x2["reason"])
        self.assertIn("back to version " + self.v1, x2["reason"])
        self.assertIn("node-2", r["reason"])
        v2 = r["nodes"][0]["version"]
        self.assertNotEqual(v2, self.v1)
        # node-2 runs v1 again, healthy; node-3 never left v1; node-1 runs v2.
        self.assertTrue(harness.wait_until(lambda: (lambda i: i and i["state"] == "healthy"
                                                    and i["version"] == self.v1)(
            self.instance(n3, "app", "node-2")), 20), self.instance(n3, "app", "node-2"))
        self.assertEqual(self.instance(n1, "app", "node-3")["version"], self.v1)
        self.assertEqual(self.instance(n2, "app", "node-1")["version"], v2)
        local = n2.client(token="read").get("/api/services/app").json()
        self.assertEqual(local["definition"]["env"]["APP_VERSION"], "v1")
        self.assertEqual(local["desired"], "running")

    def test_3_pause_resume_abort(self):
        n1 = self.nodes["node-1"]
        status, r = self.start(n1, {"service": "app", "definition": definition("v3"),
                                    "nodes": ["node-3", "node-2", "node-1"],
                                    "deadline_s": 30, "min_healthy_s": 3})
        self.assertEqual(status, 201, r)
        rid = r["id"]
        # Another rollout of the same service while this one runs: 409.
        status, busy = self.start(n1, {"service": "app", "definition": definition("v4")})
        self.assertEqual(status, 409, busy)
        p = n1.post("/api/rollouts/%s/pause" % rid, {})
        self.assertEqual(p.status, 200, p)
        self.assertEqual(p.json()["state"], "paused")
        # node-3 (under way) finishes; node-2 is not started while paused.
        r = self.wait_rollout(n1, rid, lambda r: self.states(r)["node-3"] == "healthy")
        time.sleep(1.5)
        r = self.get(n1, rid)
        self.assertEqual(r["state"], "paused")
        self.assertEqual(self.states(r)["node-2"], "pending", r)
        self.assertEqual(n1.post("/api/rollouts/%s/pause" % rid, {}).status, 409)
        self.assertEqual(n1.post("/api/rollouts/%s/resume" % rid, {}).status, 200)
        # node-2 has the new definition (its put answered): abort takes
        # it back.  (Aborted before its put, it would be left untouched.)
        self.wait_rollout(n1, rid, lambda r: self.states(r)["node-2"] == "updating"
                          and r["nodes"][1]["version"])
        a = n1.post("/api/rollouts/%s/abort" % rid, {})
        self.assertEqual(a.status, 200, a)
        r = self.done(n1, rid)
        self.assertEqual(r["state"], "aborted", r)
        self.assertEqual(self.states(r), {"node-3": "healthy", "node-2": "rolled_back",
                                          "node-1": "untouched"})
        self.assertIn("aborted", r["nodes"][1]["reason"])
        self.assertTrue(harness.wait_until(lambda: (lambda i: i and i["state"] == "healthy"
                                                    and i["version"] == self.v1)(
            self.instance(n1, "app", "node-2")), 20))
        # A finished rollout takes no action.
        self.assertEqual(n1.post("/api/rollouts/%s/resume" % rid, {}).status, 409)

    def test_4_goes_on_after_its_node_restarts(self):
        n1, n3 = self.nodes["node-1"], self.nodes["node-3"]
        status, r = self.start(n3, {"service": "app", "definition": definition("v5"),
                                    "nodes": ["node-1", "node-2"], "deadline_s": 60,
                                    "min_healthy_s": 4})
        self.assertEqual(status, 201, r)
        rid = r["id"]
        self.wait_rollout(n3, rid, lambda r: self.states(r)["node-1"] == "updating"
                          and r["nodes"][0]["version"])
        n3.stop(signal.SIGKILL)
        n3.restart()
        harness.wait_formed(list(self.nodes.values()), FORM_TIMEOUT)
        r = self.done(n3, rid)
        self.assertEqual(r["state"], "succeeded", r)
        self.assertEqual(self.states(r), {"node-1": "healthy", "node-2": "healthy"})
        self.assertEqual(self.instance(n1, "app", "node-2")["state"], "healthy")

    def test_5_bad_requests_are_refused_and_start_nothing(self):
        n1 = self.nodes["node-1"]
        before = len(n1.client(token="read").get("/api/rollouts").json()["rollouts"])
        status, r = self.start(n1, {"service": "app", "definition": {"command": []},
                                    "max_parallel": 99, "colour": "red"})
        self.assertEqual(status, 400, r)
        paths = {e["path"] for e in r["errors"]}
        self.assertIn("max_parallel", paths)
        self.assertIn("colour", paths)
        self.assertTrue([p for p in paths if p.startswith("definition")], paths)
        status, r = self.start(n1, {"service": "app", "definition": definition("v6"),
                                    "target": "role=nothing-has-this"})
        self.assertEqual(status, 400, r)
        status, r = self.start(n1, {"service": "app", "definition": definition("v6"),
                                    "nodes": ["node-1", "node-1"]})
        self.assertEqual(status, 400, r)
        status, r = self.start(n1, {"service": "app", "definition": definition("v6")},
                               token="read")
        self.assertEqual(status, 403, r)
        bad = n1.client().request("POST", "/api/rollouts", b"{not json",
                                  {"Content-Type": "application/json"})
        self.assertEqual(bad.status, 400)
        self.assertEqual(n1.client(token="read").get("/api/rollouts/ro-1-ab").status, 404)
        self.assertEqual(n1.post("/api/rollouts/ro-1-ab/abort", {}).status, 404)
        self.assertEqual(n1.post("/api/rollouts/x/explode", {}).status, 404)
        after = len(n1.client(token="read").get("/api/rollouts").json()["rollouts"])
        self.assertEqual(before, after)
        # The node still serves.
        self.assertEqual(n1.client(token="read").get("/api/services/app").status, 200)

    def test_6_a_person_with_a_signed_token_rolls_out_to_other_nodes(self):
        """The rollout's commands to other nodes are signed by the node
        running it (a signed token's proof is not kept); the person is
        named on that node's audit all the same."""
        n1, n2 = self.nodes["node-1"], self.nodes["node-2"]
        # An admin token for node-1 (tokens.json is read again when it
        # changes), to mint alice's signed write token.
        toks = dict(n1.tokens(), admin="admin-rollouts-0123456789")
        path = os.path.join(n1.data_dir, "tokens.json")
        with open(path + ".new", "w") as f:
            json.dump(toks, f)
        os.chmod(path + ".new", 0o600)
        os.rename(path + ".new", path)
        admin = harness.Client("127.0.0.1", n1.api_port, None, toks["admin"])
        mint = lambda: admin.request(
            "POST", "/api/tokens", json.dumps({"name": "alice", "role": "write",
                                               "ttl": "1h"}).encode(),
            {"Content-Type": "application/json"})
        r = harness.wait_until(lambda: (lambda r: r if r.status == 200 else None)(mint()), 10)
        self.assertTrue(r, mint())
        alice = harness.Client("127.0.0.1", n1.api_port, None, r.json()["token"])
        r = alice.request("POST", "/api/rollouts", json.dumps({
            "service": "app", "definition": definition("v6"), "nodes": ["node-2"],
            "deadline_s": 20, "min_healthy_s": 0}).encode(),
            {"Content-Type": "application/json"})
        self.assertEqual(r.status, 201, r)
        done = self.done(n1, r.json()["id"])
        self.assertEqual(done["state"], "succeeded", done)
        self.assertEqual(done["principal"], "alice")
        self.assertEqual(self.instance(n1, "app", "node-2")["version"],
                         done["nodes"][0]["version"])
        audit = n2.client(token="read").get("/api/audit?limit=200").json()["records"]
        self.assertTrue([a for a in audit if '"by": "alice"' in json.dumps(a)
                         or '"by":"alice"' in json.dumps(a)], audit[-5:])


if __name__ == "__main__":
    unittest.main(verbosity=2)
