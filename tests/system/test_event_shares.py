#!/usr/bin/python3
"""The event log's shares (issue 22, point 2), with real nodes: one origin's
flood of user events trims that origin's own history on every node, while
the other origins' events (this node's own among them) stay; and a byte
budget holds the log's bodies however many events fit the count."""

import json
import unittest

import harness
import test_commands

KEPT = 400
FLOOD = 1500


def user_events(node, origin, name=None):
    """origin's user events in node's log, oldest first: {name, payload}."""
    r = node.client().get("/api/events?node=%s&kind=user&limit=10000" % origin)
    assert r.status == 200, r
    out = []
    for e in r.json()["events"]:
        b = e["body"]
        if name is None or b["name"] == name:
            out.append({"name": b["name"], "payload": json.loads(b["payload"])})
    return out


class EventShares(test_commands.Mesh):

    COUNT = 3
    EXTRA = ("--events-kept", str(KEPT), "--events-kept-mib", "1",
             "--write-rate", "100000")

    def post(self, node, name, i, pad=0):
        r = node.post("/api/events", {"name": name, "payload": {"i": i, "pad": "x" * pad}})
        self.assertEqual(r.status, 200, r)

    def test_flood_trims_the_flooder_first(self):
        n1, n2, n3 = self.nodes
        for i in range(5):
            self.post(n3, "quiet", i)
            self.post(n1, "mine", i)
        self.assertTrue(harness.wait_until(
            lambda: len(user_events(n2, "node-3", "quiet")) == 5, 20, 0.2))
        api = harness.Api(n2.api_port, n2.tokens()["write"])
        for i in range(FLOOD):
            api.json("POST", "/api/events",
                     json.dumps({"name": "flood", "payload": {"i": i}}).encode())
        api.close()
        # Every node has the flood's last event, and has trimmed since.
        for n in self.nodes:
            self.assertTrue(harness.wait_until(lambda: any(
                e["payload"] == {"i": FLOOD - 1}
                for e in user_events(n, "node-2", "flood")[-5:]), 30, 0.3), n.node_id)
        for n in self.nodes:
            # The flooder held to its share at the next trim (a tenth of
            # --events-kept after the last): far fewer than it sent.
            self.assertTrue(harness.wait_until(
                lambda: len(user_events(n, "node-2", "flood")) < KEPT, 30, 0.5),
                (n.node_id, len(user_events(n, "node-2", "flood"))))
            kept = user_events(n, "node-2", "flood")
            self.assertEqual(kept[-1]["payload"], {"i": FLOOD - 1})
            # The quiet origins lost nothing.
            self.assertEqual([e["payload"]["i"] for e in user_events(n, "node-3", "quiet")],
                             list(range(5)), n.node_id)
            self.assertEqual([e["payload"]["i"] for e in user_events(n, "node-1", "mine")],
                             list(range(5)), n.node_id)

    def test_bytes_bounded(self):
        n1, n2, n3 = self.nodes
        self.post(n3, "small", 0)
        # 40 events of ~60 KiB from node-1: 2.4 MiB against 1 MiB kept.
        for i in range(40):
            self.post(n1, "big", i, pad=60000)
        for n in self.nodes:
            self.assertTrue(harness.wait_until(lambda: any(
                e["payload"]["i"] == 39 for e in user_events(n, "node-1", "big")[-3:]),
                30, 0.3), n.node_id)
        for n in self.nodes:
            # Trimmed at the next trim: a tenth of --events-kept later, or
            # the minute's trim; post enough small events to pass the tenth.
            for i in range(KEPT // 10 + 5):
                self.post(n2, "tick", i)
            self.assertTrue(harness.wait_until(
                lambda: len(user_events(n, "node-1", "big")) < 18, 30, 0.5),
                (n.node_id, len(user_events(n, "node-1", "big"))))
            big = user_events(n, "node-1", "big")
            self.assertEqual(big[-1]["payload"]["i"], 39)
            self.assertEqual(len(user_events(n, "node-3", "small")), 1, n.node_id)


if __name__ == "__main__":
    unittest.main()
