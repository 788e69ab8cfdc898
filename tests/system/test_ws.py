"""System tests of the dashboard's side of a node: the /ws live feed
(node/api/WS.md) on real nodes of a real mesh, and the dashboard's static
files.  A WebSocket client (harness.WsClient) connects to node-1 and sees
what the other nodes do."""

import json
import os
import shutil
import tempfile
import unittest

import harness


class Feed(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="af-ws-")
        cls.pki = harness.Pki(cls.tmp)
        cls.web = os.path.join(cls.tmp, "web")
        os.makedirs(os.path.join(cls.web, "assets"))
        with open(os.path.join(cls.web, "index.html"), "w") as f:
            f.write("<!doctype html><title>AgentFlow</title>")
        with open(os.path.join(cls.web, "assets", "app-1234.js"), "w") as f:
            f.write("console.log(1)")
        with open(os.path.join(cls.tmp, "secret.txt"), "w") as f:
            f.write("not for the web")
        cls.sig = harness.Signal(["--rate", "0", "--heartbeat", "1", "--ttl", "5"],
                                 ca=cls.pki.ca_path).start()
        cls.nodes = [harness.MeshNode(cls.pki, "node-%d" % i, signals=[cls.sig.url],
                                      args=["--web-root", cls.web, "--ping-ms", "500",
                                            "--allow-origins",
                                            "http://dash.example, https://NAS.example:8443"]
                                      ).start() for i in (1, 2, 3)]
        ok = harness.wait_until(lambda: all(
            len(n.up_peers()) == 2 and
            len([r for r in n.status()["remote"] if r.get("status")]) == 2
            for n in cls.nodes), 40, 0.3)
        if not ok:
            raise AssertionError("mesh did not form")

    @classmethod
    def tearDownClass(cls):
        for n in reversed(cls.nodes):
            n.stop()
        cls.sig.stop()
        shutil.rmtree(cls.tmp, True)

    def connect(self, token="read", **kw):
        a = self.nodes[0]
        ws = harness.WsClient(a.api_port, token=a.tokens()[token] if token else None, **kw)
        self.addCleanup(ws.close)
        return ws

    def test_hello_then_a_snapshot_of_the_whole_mesh(self):
        ws = self.connect()
        self.assertEqual(ws.status, 101)
        self.assertEqual(ws.headers.get("sec-websocket-protocol"), "agentflow.v1")
        hello = ws.recv()
        self.assertEqual(hello["type"], "hello")
        self.assertEqual((hello["node"], hello["role"]), ("node-1", "read"))
        snap = ws.recv()
        self.assertEqual(snap["type"], "snapshot")
        self.assertEqual(snap["cluster"]["local"]["node_id"], "node-1")
        self.assertEqual(sorted(r["node_id"] for r in snap["cluster"]["remote"]),
                         ["node-2", "node-3"])
        # the snapshot's view holds every node's latest status
        self.assertTrue(all(r["status"]["mem_total_bytes"] > 0
                            for r in snap["cluster"]["remote"]))
        # recent events, but no statuses: those are the cluster view
        self.assertNotIn("status", {e["kind"] for e in snap["events"]})
        times = [e["time_ms"] for e in snap["events"]]
        self.assertEqual(times, sorted(times))
        for key in ("tasks", "alerts", "commands"):
            self.assertIsInstance(snap[key], list)

    def test_events_of_other_nodes_arrive_live(self):
        ws = self.connect()
        ws.recv(), ws.recv()
        c = self.nodes[2]
        r = c.post("/api/events", {"name": "deploy", "payload": "v7"})
        self.assertEqual(r.status, 200, r)
        m = ws.recv_until(lambda m: m["type"] == "event" and m["event"]["kind"] == "user"
                          and m["event"]["origin"] == "node-3", 10)
        self.assertEqual(m["event"]["body"]["name"], "deploy")
        self.assertEqual(m["event"]["body"]["payload"], "v7")
        # statuses of every node flow, and the cluster view every second
        seen = {}
        ws.recv_until(lambda m: m["type"] == "event" and m["event"]["kind"] == "status"
                      and seen.setdefault(m["event"]["origin"], m["event"]) is not None
                      and len(seen) == 3, 10)
        # a status on the feed has the node's links but not its view of the
        # membership, which the REST list of the same event keeps
        st = seen["node-3"]
        self.assertEqual(sorted(l["peer"] for l in st["body"]["links"]), ["node-1", "node-2"])
        self.assertNotIn("members", st["body"])
        rest = [e for e in self.nodes[0].client().get(
            "/api/events?kind=status&node=node-3&limit=1000").json()["events"]
            if e["seq"] == st["seq"]]
        self.assertEqual(len(rest), 1, rest)
        self.assertEqual(sorted(m["node_id"] for m in rest[0]["body"]["members"]),
                         ["node-1", "node-2"])
        self.assertEqual(dict(rest[0]["body"], members=None), dict(st["body"], members=None))
        m = ws.recv_until(lambda m: m["type"] == "cluster", 5)
        self.assertEqual(len(m["cluster"]["remote"]), 2)
        # without the statuses, which just came as events
        self.assertEqual([r["status"] for r in m["cluster"]["remote"]], [None, None])
        self.assertIsNone(m["cluster"]["local"]["state"]["status"])
        self.assertEqual({r["member"] for r in m["cluster"]["remote"]}, {"alive"})

    def test_command_records_are_pushed(self):
        ws = self.connect()
        ws.recv(), ws.recv()
        a = self.nodes[0]
        r = a.post("/api/commands", {"target": "all", "type": "ping", "wait_ms": 10000})
        cid = r.json()["id"]
        m = ws.recv_until(lambda m: m["type"] == "command" and m["command"]["id"] == cid
                          and m["command"]["state"] == "done", 10)
        self.assertEqual(len(m["command"]["results"]), 3)

    def test_ping_message(self):
        ws = self.connect()
        ws.recv(), ws.recv()
        ws.send(json.dumps({"type": "ping"}))
        ws.recv_until(lambda m: m["type"] == "pong", 5)

    def test_token_as_a_query_parameter_and_the_write_role(self):
        a = self.nodes[0]
        ws = harness.WsClient(a.api_port, path="/ws?token=" + a.tokens()["write"])
        self.addCleanup(ws.close)
        self.assertEqual(ws.status, 101)
        self.assertEqual(ws.recv()["role"], "write")

    def test_refusals(self):
        a = self.nodes[0]
        self.assertEqual(harness.WsClient(a.api_port).status, 401)
        self.assertEqual(harness.WsClient(a.api_port, token="x" * 40).status, 401)
        self.assertEqual(self.connect(origin="http://evil.example").status, 403)
        self.assertEqual(self.connect(origin="http://127.0.0.1:5173").status, 101)
        # the node's own page reached by address is same-origin; by a name
        # it is not, unless that origin was listed (DNS rebinding)
        own = "127.0.0.1:%d" % a.api_port
        self.assertEqual(self.connect(origin="http://" + own).status, 101)
        self.assertEqual(self.connect(origin="http://nas.example:%d" % a.api_port,
                                      host_header="nas.example:%d" % a.api_port).status, 403)
        for listed in ("http://dash.example", "https://nas.example:8443"):
            self.assertEqual(self.connect(origin=listed, host_header="nas.example").status,
                             101, listed)
        for unlisted in ("http://nas.example:8443", "http://dash.example:8080",
                         "http://dash.example.evil.example"):
            self.assertEqual(self.connect(origin=unlisted).status, 403, unlisted)
        # and the node still serves
        self.assertEqual(self.connect().status, 101)

    def test_the_dashboard_files(self):
        a = self.nodes[0]
        c = a.client(token=None)
        r = c.get("/")
        self.assertEqual(r.status, 200)
        self.assertIn(b"AgentFlow", r.body)
        self.assertIn("text/html", r.header("Content-Type"))
        r = c.get("/assets/app-1234.js")
        self.assertEqual(r.status, 200)
        self.assertIn("javascript", r.header("Content-Type"))
        self.assertIn("immutable", r.header("Cache-Control"))
        self.assertIn(b"AgentFlow", c.get("/tasks").body)     # the app's own routes
        for bad in ("/../secret.txt", "/assets/../../secret.txt", "/.hidden",
                    "/missing.js"):
            self.assertEqual(c.get(bad).status, 404, bad)
        r = c.get("/api/nope")                                 # the API is not files
        self.assertEqual((r.status, r.json()["error"]), (404, "not_found"))


if __name__ == "__main__":
    unittest.main()
