"""System tests of membership over time: a killed peer is reported dead
--dead-ms after it died (not later, not much sooner), a dead node can be
forgotten by every node at once (agentflow forget, POST
/api/nodes/{id}/forget), and dead nodes are pruned after --prune-after.

Real nodes and a real signal on loopback.  Timing: the checks poll with
deadlines; the dead-timing test measures from the kill, with one status
period of slack below and two above."""

import os
import sqlite3
import signal as _signal
import subprocess
import time

import harness
from test_node_mesh import MeshTest

DEAD_MS = 4000
STATUS_MS = 500


class MembershipTest(MeshTest):
    """test_node_mesh's mesh with a short dead timeout and status period
    (the later flags win)."""

    def mesh(self, count, args=(), sig_args=()):
        sig = self.signal(*sig_args)
        nodes = [self.node("node-%d" % i, [sig.url],
                           ["--dead-ms", str(DEAD_MS), "--status-ms", str(STATUS_MS)] +
                           list(args)) for i in range(1, count + 1)]
        self.wait_full_mesh(nodes)
        return sig, nodes

    @staticmethod
    def remote(node):
        return {r["node_id"]: r for r in node.status()["remote"]}

    def cli(self, node, *args):
        """The agentflow CLI against node (its data directory gives the API
        address and the write token)."""
        p = subprocess.run([os.path.join(harness.BIN, "agentflow")] + list(args) +
                           ["--data-dir", node.data_dir],
                           capture_output=True, text=True, timeout=60)
        return p.returncode, p.stdout, p.stderr


class DeadTiming(MembershipTest):

    def test_killed_peer_is_dead_after_dead_ms(self):
        sig, (a, b, c) = self.mesh(3)
        # every node alive everywhere before the kill
        self.assertTrue(harness.wait_until(lambda: all(
            r["member"] == "alive" for r in self.remote(a).values()), 20, 0.2))
        killed = time.monotonic()
        c.stop(_signal.SIGKILL)
        seen = {}
        deadline = killed + DEAD_MS / 1000 + 20
        while time.monotonic() < deadline and len(seen) < 2:
            now = time.monotonic() - killed
            for n in (a, b):
                if n.node_id not in seen and \
                        self.remote(n)["node-3"]["member"] == "dead":
                    seen[n.node_id] = now
            time.sleep(0.05)
        self.assertEqual(sorted(seen), ["node-1", "node-2"], seen)
        lo = (DEAD_MS - STATUS_MS) / 1000
        hi = (DEAD_MS + 2 * STATUS_MS) / 1000
        for who, t in seen.items():
            self.assertGreaterEqual(t, lo, (who, t, seen))
            self.assertLessEqual(t, hi, (who, t, seen))
        # the link view agrees (it is what the status broadcasts and the
        # peer_unreachable rule read)
        for n in (a, b):
            self.assertEqual(n.links()["node-3"]["member"], "dead")


class Forget(MembershipTest):

    def forget(self, node, node_id, token="write"):
        return node.client(token=token).request("POST", "/api/nodes/%s/forget" % node_id)

    def wait_dead(self, nodes, node_id):
        self.assertTrue(harness.wait_until(lambda: all(
            self.remote(n).get(node_id, {}).get("member") == "dead" for n in nodes),
            DEAD_MS / 1000 + 20, 0.2), [self.remote(n).get(node_id) for n in nodes])

    def stored_peers(self, node):
        db = sqlite3.connect("file:%s?mode=ro" % os.path.join(node.data_dir, "agentflow.db"),
                             uri=True, timeout=10)
        try:
            return {r[0] for r in db.execute("SELECT node_id FROM peers")} | \
                {r[0] for r in db.execute("SELECT origin FROM remote_state")}
        finally:
            db.close()

    @staticmethod
    def break_forget_store(node):
        """The table a forget is recorded in goes away under the node."""
        db = sqlite3.connect(os.path.join(node.data_dir, "agentflow.db"), timeout=10)
        db.execute("DROP TABLE forgotten")
        db.commit()
        db.close()

    def test_refusals(self):
        sig, (a, b) = self.mesh(2)
        # alive: 409 with the reason
        r = self.forget(a, "node-2")
        self.assertEqual(r.status, 409, r)
        self.assertIn("node-2 is alive", r.json()["message"])
        # ourselves, unknown, not a node id, not an action
        self.assertEqual(self.forget(a, "node-1").status, 409)
        r = self.forget(a, "node-9")
        self.assertEqual(r.status, 404, r)
        self.assertIn("node-9", r.json()["message"])
        self.assertEqual(self.forget(a, "no%20such").status, 400)
        self.assertEqual(a.client().request("POST", "/api/nodes/node-2/other").status, 404)
        # a read token may not
        self.assertEqual(self.forget(a, "node-2", token="read").status, 403)
        # the CLI says why and exits 1
        rc, out, err = self.cli(a, "forget", "node-2")
        self.assertEqual(rc, 1, (out, err))
        self.assertIn("alive", err)
        # nothing was forgotten, and the refusals are audited
        self.assertEqual(self.remote(a)["node-2"]["member"], "alive")
        self.assertEqual(b.up_peers(), ["node-1"])
        audit = a.client().get("/api/audit?limit=100&action=node.forget").json()
        outcomes = sorted(e["result"] for e in audit["records"])
        self.assertEqual(outcomes, ["not_found", "refused", "refused", "refused"], audit)

    def test_forget_node_only_by_the_nodes_route(self):
        sig, (a, b) = self.mesh(2)
        # a forget_node command straight to /api/commands skips the dead
        # or left check: refused, pointing at the nodes route
        r = a.post("/api/commands", {"target": "all", "type": "forget_node",
                                     "args": {"node": "node-2"}})
        self.assertEqual(r.status, 400, r)
        self.assertIn("/api/nodes/{id}/forget", r.json()["message"])
        self.assertEqual(self.remote(a)["node-2"]["member"], "alive")
        self.assertEqual(b.up_peers(), ["node-1"])

    def test_frozen_refuses_forget(self):
        sig, (a, b) = self.mesh(2)
        r = a.post("/api/commands", {"target": "all", "type": "freeze", "wait_ms": 5000})
        self.assertEqual(r.status, 200, r)
        r = self.forget(a, "node-2")
        self.assertEqual(r.status, 423, r)
        self.assertEqual(r.json()["error"], "frozen", r.json())
        self.assertIn("frozen", r.json()["message"])
        self.assertEqual(self.remote(a)["node-2"]["member"], "alive")
        # unfrozen, the usual answer again (node-2 is alive)
        r = a.post("/api/commands", {"target": "all", "type": "unfreeze", "wait_ms": 5000})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.forget(a, "node-2").status, 409)

    def test_forget_dead_node_everywhere_and_it_may_come_back(self):
        sig, (a, b, c) = self.mesh(3)
        c.stop(_signal.SIGKILL)
        self.wait_dead([a, b], "node-3")
        rc, out, err = self.cli(a, "forget", "node-3")
        self.assertEqual(rc, 0, (out, err))
        self.assertIn("forgot node-3", out)

        def gone():
            return all("node-3" not in self.remote(n) and
                       "node-3" not in self.cli(n, "nodes")[1] and
                       "node-3" not in n.links() for n in (a, b))
        self.assertTrue(harness.wait_until(gone, 20, 0.3),
                        [self.remote(n).get("node-3") for n in (a, b)])
        # and it stays gone (the signal may still list it for a while; no
        # node's snapshot brings it back)
        end = time.monotonic() + 4
        while time.monotonic() < end:
            self.assertTrue(gone(), [self.remote(n).get("node-3") for n in (a, b)])
            time.sleep(0.3)
        for n in (a, b):
            self.assertTrue(harness.wait_until(
                lambda: "node-3" not in self.stored_peers(n), 10, 0.3), n.node_id)
        # audited on the issuing node; every node ran the command
        audit = a.client().get("/api/audit?limit=100&action=node.forget").json()
        self.assertEqual([e["result"] for e in audit["records"]], ["ok"], audit)
        # a second forget finds nothing
        self.assertEqual(self.forget(a, "node-3").status, 404)

        # it comes back: a new member again
        c.restart()
        self.assertTrue(harness.wait_until(lambda: all(
            self.remote(n).get("node-3", {}).get("member") == "alive"
            for n in (a, b)), 40, 0.3),
            [self.remote(n).get("node-3") for n in (a, b)])


    def test_a_store_failure_is_reported(self):
        sig, (a, b) = self.mesh(2)
        b.stop(_signal.SIGKILL)
        self.wait_dead([a], "node-2")
        self.break_forget_store(a)
        r = self.forget(a, "node-2")
        self.assertEqual(r.status, 500, r)
        self.assertIn("cannot store it", r.json()["message"])
        self.assertIn("forgotten", r.json()["message"])
        audit = a.client().get("/api/audit?limit=100&action=node.forget").json()
        self.assertEqual([e["result"] for e in audit["records"]], ["error"], audit)

    def test_a_store_failure_elsewhere_is_that_nodes_error(self):
        sig, (a, b, c) = self.mesh(3)
        c.stop(_signal.SIGKILL)
        self.wait_dead([a, b], "node-3")
        # node-2 cannot record a forget: its answer to the command is an
        # error saying so, not an OK with "forgotten": false
        self.break_forget_store(b)
        r = self.forget(a, "node-3")
        self.assertEqual(r.status, 200, r)
        cid = r.json()["command_id"]
        rec = a.client().get("/api/commands/%s?wait_ms=10000&results=1" % cid).json()
        self.assertEqual(rec["state"], "done", rec)
        res = {x["node"]: x for x in rec["results"]}
        self.assertEqual(res["node-2"]["status"], "error", rec)
        self.assertIn("cannot store it", res["node-2"]["error"])
        self.assertIn("node-3", res["node-2"]["error"])

    def test_forgotten_node_stays_forgotten_after_a_restart(self):
        # the signal keeps a dead node's entry for a minute (the default
        # 30 s is the point; the tests' 5 s would drop it too soon)
        sig, (a, b, c) = self.mesh(3, sig_args=["--ttl", "60"])
        # b leaves while node-3 is alive: it keeps node-3's state and will
        # offer it in a snapshot, never having heard of the forget
        b.stop()
        killed = time.monotonic()
        c.stop(_signal.SIGKILL)
        self.wait_dead([a], "node-3")
        r = self.forget(a, "node-3")
        self.assertEqual(r.status, 200, r)
        self.assertTrue(harness.wait_until(
            lambda: "node-3" not in self.remote(a) and "node-3" not in a.links(),
            10, 0.2))
        # a restarts while the signal still lists node-3's stale entry (its
        # 30 s TTL runs), then b comes back with node-3 in its store
        a.restart()
        b.restart()
        self.assertTrue(harness.wait_until(
            lambda: "node-3" in self.remote(b) and
            self.remote(a).get("node-2", {}).get("member") == "alive", 20, 0.2),
            (self.remote(a), self.remote(b)))

        def gone():
            return "node-3" not in self.remote(a) and "node-3" not in a.links()
        end = time.monotonic() + 6
        while time.monotonic() < end:
            self.assertTrue(gone(), (self.remote(a).get("node-3"),
                                     a.links().get("node-3")))
            time.sleep(0.3)
        # all of it while the signal listed node-3
        self.assertLess(time.monotonic() - killed, 60)
        self.assertNotIn("node-3", self.stored_peers(a))
        self.assertTrue(any(l.get("msg") == "forgotten nodes remembered"
                            for l in a.logs()))


class Prune(MembershipTest):

    def test_dead_node_is_pruned_after_prune_after(self):
        sig, (a, b, c) = self.mesh(3, args=["--prune-after", "3s"])
        killed = time.monotonic()
        c.stop(_signal.SIGKILL)
        # dead first, then gone
        self.assertTrue(harness.wait_until(lambda: all(
            self.remote(n).get("node-3", {}).get("member") in ("dead", None)
            for n in (a, b)), 30, 0.2))
        self.assertTrue(harness.wait_until(lambda: all(
            "node-3" not in self.remote(n) for n in (a, b)), 40, 0.2),
            [self.remote(n).get("node-3") for n in (a, b)])
        self.assertGreaterEqual(time.monotonic() - killed,
                                (DEAD_MS + 3000 - STATUS_MS) / 1000)
        for n in (a, b):
            self.assertTrue(any(l.get("msg") == "dead node pruned" and
                                l.get("node") == "node-3" for l in n.logs()), n.node_id)
        # the survivors are untouched
        self.assertEqual(sorted(self.remote(a)), ["node-2"])
        self.assertEqual(a.up_peers(), ["node-2"])

    def test_prune_after_is_a_duration(self):
        for bad in ("3x", "-1", "1.5h"):
            n = harness.MeshNode(self.pki, "node-bad", args=["--prune-after", bad])
            try:
                p = subprocess.run(n.argv(), capture_output=True, text=True, timeout=30)
            finally:
                n.stop()    # never started: removes the directory it made
            self.assertEqual(p.returncode, 2, (bad, p.stderr))
            self.assertIn("--prune-after", p.stderr)


if __name__ == "__main__":
    harness.main()
