#!/usr/bin/python3
"""The node's own metric history (issue 20 item 4): GET /api/history
serves a node's samples taken every --status-ms, at most `points` per
series within the times asked, refuses bad parameters with a 400 naming
them, keeps the minutes over a restart (the minute in progress is stored
at shutdown), and answers another node's history through the mesh
(a history_query command), which the audit records once an hour per
principal and origin when it goes well, and every time it fails."""

import shutil
import tempfile
import time
import unittest

import harness
import test_commands

SERIES = ("cpu_percent", "mem_used_percent", "disk_used_percent", "load1",
          "net_rx_bytes_per_s", "net_tx_bytes_per_s")


class Checks:
    """Assertions on a history answer shared by the two test classes."""

    def history(self, node, query="", token="read"):
        r = node.client(token=token).get("/api/history" + query)
        self.assertEqual(r.status, 200, r)
        return r.json()

    def assertWellFormed(self, h, node_id, most):
        self.assertEqual(h["node"], node_id)
        self.assertIn(h["resolution"], ("sample", "minute"))
        ts = h["t_ms"]
        self.assertLessEqual(len(ts), most)
        self.assertEqual(ts, sorted(set(ts)), "times in order, once each")
        for t in ts:
            self.assertTrue(h["from_ms"] <= t <= h["to_ms"], (t, h["from_ms"], h["to_ms"]))
        for name in SERIES:
            self.assertEqual(len(h["series"][name]), len(ts), name)
            self.assertEqual(len(h["max"][name]), len(ts), name)
            for mean, mx in zip(h["series"][name], h["max"][name]):
                self.assertGreaterEqual(mean, 0)
                self.assertGreaterEqual(mx + 1e-6, mean)
        for v in h["series"]["cpu_percent"] + h["series"]["mem_used_percent"]:
            self.assertLessEqual(v, 100)


class OneNode(unittest.TestCase, Checks):
    """One node sampling every 200 ms."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="af-history-")
        cls.pki = harness.Pki(cls.tmp)
        cls.node = harness.MeshNode(cls.pki, "node-1", args=["--status-ms", "200"]).start()
        cls.started_ms = int(time.time() * 1000)

    @classmethod
    def tearDownClass(cls):
        cls.node.stop()
        shutil.rmtree(cls.tmp, True)

    def test_serves_samples_within_bounds(self):
        ok = harness.wait_until(lambda: len(self.history(self.node, "?points=1000")["t_ms"]) >= 15, 20)
        self.assertTrue(ok, "fewer than 15 samples after 20 s at 200 ms")
        h = self.history(self.node, "?points=1000")
        self.assertEqual(h["resolution"], "sample")
        self.assertWellFormed(h, "node-1", 1000)
        # samples a period apart, not one a second
        ts = h["t_ms"]
        self.assertLess((ts[-1] - ts[0]) / (len(ts) - 1), 600, ts)
        self.assertFalse(h["truncated"])
        # at most `points`, the whole range merged into them
        few = self.history(self.node, "?points=5")
        self.assertWellFormed(few, "node-1", 5)
        self.assertEqual(len(few["t_ms"]), 5)
        self.assertEqual(few["t_ms"][0], h["t_ms"][0])
        # a window: only what is in it, bounds inclusive
        lo, hi = ts[2], ts[6]
        w = self.history(self.node, "?from_ms=%d&to_ms=%d&points=1000" % (lo, hi))
        self.assertEqual(w["t_ms"], ts[2:7])
        self.assertWellFormed(w, "node-1", 1000)
        # the default: the last hour, 300 points at most
        d = self.history(self.node)
        self.assertGreaterEqual(d["to_ms"] - d["from_ms"], 3600 * 1000 - 1)
        self.assertLessEqual(len(d["t_ms"]), 300)
        # nothing before the node started
        old = self.history(self.node, "?from_ms=1000&to_ms=2000")
        self.assertEqual(old["t_ms"], [])

    def test_bad_parameters_are_refused_by_name(self):
        for query, name in (("?points=0", "points"), ("?points=1001", "points"),
                            ("?points=many", "points"), ("?from_ms=-5", "from_ms"),
                            ("?to_ms=x", "to_ms"), ("?from_ms=2000&to_ms=1000", "from_ms"),
                            ("?node=no%20such!", "node")):
            r = self.node.client(token="read").get("/api/history" + query)
            self.assertEqual(r.status, 400, (query, r))
            doc = r.json()
            self.assertEqual(doc["error"], "invalid_field", (query, doc))
            self.assertIn(name, doc["message"], (query, doc))
        r = self.node.client(token=None).get("/api/history")
        self.assertEqual(r.status, 401, r)

    def test_a_node_nobody_heard_of_is_named_so(self):
        # A typo, not a node that is down: no command goes out.
        r = self.node.client(token="read").get("/api/history?node=node-9")
        self.assertEqual(r.status, 404, r)
        self.assertEqual(r.json()["error"], "unknown_node")
        self.assertIn("no node named node-9 (did you mean %s?)" % self.node.node_id,
                      r.json()["message"])

    def test_z_minutes_survive_a_restart(self):
        # Runs last (by name): it restarts the node.
        harness.wait_until(lambda: len(self.history(self.node, "?points=1000")["t_ms"]) >= 5, 20)
        before_ms = int(time.time() * 1000)
        self.node.restart()
        h = self.history(self.node, "?from_ms=%d&points=1000" % (self.started_ms - 120000))
        # the samples start after the restart: the range reads minutes,
        # the one stored at shutdown among them
        self.assertEqual(h["resolution"], "minute", h)
        self.assertWellFormed(h, "node-1", 1000)
        self.assertTrue(h["t_ms"], h)
        self.assertLessEqual(h["t_ms"][0], before_ms)
        self.assertGreater(h["t_ms"][0], self.started_ms - 60000)
        # and since the restart, samples
        ok = harness.wait_until(lambda: self.history(
            self.node, "?from_ms=%d" % (int(time.time() * 1000) - 1000))["t_ms"], 10)
        self.assertTrue(ok)


class ThroughTheMesh(test_commands.Mesh, Checks):
    """node-3's history read through node-1."""

    EXTRA = ("--status-ms", "200")

    def test_another_nodes_history(self):
        a, _, c = self.nodes
        ok = harness.wait_until(lambda: len(self.history(a, "?node=node-3&points=1000")["t_ms"]) >= 10, 20)
        self.assertTrue(ok)
        h = self.history(a, "?node=node-3&points=1000")
        self.assertWellFormed(h, "node-3", 1000)
        self.assertEqual(h["resolution"], "sample")
        own = self.history(c, "?points=1000")
        self.assertTrue(set(h["t_ms"]) <= set(own["t_ms"]), (h["t_ms"], own["t_ms"]))
        self.assertEqual(h["t_ms"][0], own["t_ms"][0])
        few = self.history(a, "?node=node-3&points=3")
        self.assertWellFormed(few, "node-3", 3)
        # this node's own id is answered here
        self.assertEqual(self.history(a, "?node=node-1")["node"], "node-1")
        # a bad parameter is refused before anything is sent
        r = a.client(token="read").get("/api/history?node=node-3&points=0")
        self.assertEqual(r.status, 400, r)

    def test_reading_history_is_audited_once_an_hour(self):
        # A node page open on node-3 asks every minute: the audit keeps
        # each of the read's rows once an hour per principal and origin
        # (issued and done on the asking node, executed on node-3, none on
        # node-2, which it does not pass), two principals two of each,
        # while a failed read is audited every time and a ping as ever.
        a, b, c = self.nodes
        for _ in range(4):
            self.history(a, "?node=node-3&points=5")
            self.history(a, "?node=node-3&points=5", token="write")
        rec = self.ok_command(a, "node-3", "ping", {})
        self.assertEqual(rec["results"][0]["status"], "ok", rec)
        bad = {"from_ms": 0, "to_ms": 1, "points": 0}
        for _ in range(2):
            r = self.command(a, "node-3", "history_query", bad)
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json()["results"][0]["status"], "invalid", r.json())

        def typed(node, kind):
            r = node.client().get("/api/audit?limit=1000")
            self.assertEqual(r.status, 200, r)
            return [x for x in r.json()["records"]
                    if x.get("details", {}).get("type") == kind]

        def rows(node, result):
            got = {}
            for x in typed(node, "history_query"):
                if (x["result"] == "ok") == (result == "ok"):
                    k = (x["action"], x["actor"])
                    got[k] = got.get(k, 0) + 1
            return got
        self.assertTrue(harness.wait_until(
            lambda: len(rows(c, "failed")) == 1 and typed(c, "ping"), 10),
            "the failed reads and the ping are audited on node-3")
        who = {t: "token:" + t for t in ("read", "write")}  # api_auth.c
        self.assertEqual(rows(a, "ok"), {(act, p): 1 for p in who.values()
                         for act in ("command.issued", "command.done")})
        self.assertEqual(rows(b, "ok"), {})
        self.assertEqual(rows(c, "ok"), {("command.executed", p): 1
                                         for p in who.values()})
        # failures are every one written: the done row on the asker, the
        # executed row on node-3, twice each
        self.assertEqual(rows(a, "failed"), {("command.done", who["write"]): 2})
        self.assertEqual(rows(c, "failed"),
                         {("command.executed", who["write"]): 2})
        self.assertTrue(typed(a, "ping"), "the ping is audited on node-1")


if __name__ == "__main__":
    harness.main()
