"""System test of a mixed-version mesh (issue 15, "version skew"): two
normal nodes and one built as agentflow-node-extra, a stand-in for the next
version that emits an Event kind and a Frame body the normal build does not
know.  The links never reset, every user event reaches every node exactly
once, and the normal nodes count what they skipped in /metrics."""

import json
import os
import unittest

import harness
from test_node_mesh import MeshTest
from test_node_sync import events, post_event

EXTRA_BIN = os.path.join(harness.BIN, "agentflow-node-extra")
N_EVENTS = 20


class ExtraNode(harness.MeshNode):
    """A MeshNode running the extra build."""

    def binary(self):
        return EXTRA_BIN

    def argv(self):
        return [EXTRA_BIN] + super().argv()[1:]


def metrics(node):
    return harness.parse_metrics(node.client().get("/metrics").body.decode())


def user_events(node, origin):
    return events(node, kind="user", node=origin, limit=1000)


class VersionSkew(MeshTest):

    def extra(self, node_id, signals, ignore_features):
        n = ExtraNode(self.pki, node_id, signals=signals,
                      args=["--dead-ms", "3000", "--ping-ms", "500"])
        if ignore_features:
            n.env["AGENTFLOW_TEST_EXTRA_IGNORE_FEATURES"] = "1"
        self.procs.append(n)
        return n.start()

    def mixed_mesh(self, ignore_features):
        sig = self.signal()
        a = self.node("node-1", [sig.url])
        b = self.node("node-2", [sig.url])
        x = self.extra("node-x", [sig.url], ignore_features)
        nodes = [a, b, x]
        self.wait_full_mesh(nodes)
        return nodes

    def skipped(self, node, what):
        return metrics(node).get('agentflow_node_skipped_total{what="%s"}' % what, 0)

    def check_mixed_mesh(self, nodes, want_frame_body_skips):
        a, b, x = nodes
        # The extra kind flows (a numbered event every 300 ms from node-x).
        for n in (a, b):
            self.assertTrue(harness.wait_until(
                lambda: self.skipped(n, "event_kind") >= 3, 20, interval=0.3),
                "%s skipped no extra event: %s" % (n.node_id, metrics(n)))
        # User events from every node, among the extra ones.
        for n in nodes:
            for i in range(N_EVENTS):
                r = post_event(n, "skew", {"from": n.node_id, "i": i})
                self.assertEqual(r.status, 200, r)
        for n in nodes:
            for origin in nodes:
                def complete():
                    evs = user_events(n, origin.node_id)
                    return evs if len(evs) >= N_EVENTS else None
                evs = harness.wait_until(complete, 30, interval=0.3)
                self.assertTrue(evs, "%s has %d user events of %s" % (
                    n.node_id, len(user_events(n, origin.node_id)), origin.node_id))
                keys = [(e["origin"], e["incarnation"], e["seq"]) for e in evs]
                self.assertEqual(len(keys), len(set(keys)), "duplicates on %s" % n.node_id)
                self.assertEqual(len(evs), N_EVENTS)
                self.assertEqual(sorted(json.loads(e["body"]["payload"])["i"] for e in evs),
                                 list(range(N_EVENTS)))
        # The extra node's user events are numbered after its extra ones:
        # their seq shows the extra events advanced its cursor everywhere.
        last = user_events(a, "node-x")[-1]["seq"]
        self.assertGreater(last, N_EVENTS)
        for n in (a, b):
            m = metrics(n)
            self.assertGreater(m['agentflow_node_skipped_total{what="event_kind"}'], 0)
            if want_frame_body_skips:
                self.assertGreater(m['agentflow_node_skipped_total{what="frame_body"}'], 0)
            else:
                # node-x only sends its extra body to peers that list it.
                self.assertEqual(m['agentflow_node_skipped_total{what="frame_body"}'], 0)
        # No link was ever lost or refused.
        for n in nodes:
            self.assertEqual(metrics(n)["agentflow_node_reconnects_total"], 0, n.node_id)
            self.assertEqual(n.up_peers(),
                             sorted(m.node_id for m in nodes if m is not n))
        # The extra node knows its own kind: nothing of it skipped there.
        self.assertEqual(self.skipped(x, "event_kind"), 0)

    def test_catch_up_replays_the_extra_kind(self):
        # A node that was away is caught up from the others' event logs;
        # the extra kind is kept there as it came, so the replay has no
        # hole and the user events of the outage arrive, without a gap.
        a, b, x = self.mixed_mesh(ignore_features=False)
        self.assertTrue(harness.wait_until(
            lambda: self.skipped(a, "event_kind") >= 3, 20, interval=0.3))
        a.stop()
        for i in range(N_EVENTS):
            self.assertEqual(post_event(x, "away", {"i": i}).status, 200)
        harness.wait_until(lambda: False, 1.0, interval=0.5)  # more extra ones
        a.restart()
        self.wait_full_mesh([a, b, x])

        def caught_up():
            evs = [e for e in user_events(a, "node-x") if e["body"]["name"] == "away"]
            return evs if len(evs) >= N_EVENTS else None
        evs = harness.wait_until(caught_up, 30, interval=0.3)
        self.assertTrue(evs, user_events(a, "node-x"))
        self.assertEqual(len(evs), N_EVENTS)
        m = metrics(a)
        self.assertGreater(m["agentflow_node_replayed_total"] + metrics(x)[
            "agentflow_node_replayed_total"] + metrics(b)["agentflow_node_replayed_total"], 0)
        self.assertGreater(m['agentflow_node_skipped_total{what="event_kind"}'], 0)
        # No hole: node-a holds every event of node-x's life from the first
        # it got to the last, the extra kind included.  A live event that
        # overtakes the catch-up may count a gap, which the replay then
        # fills; a hole that stays is what the extra kind must not cause.
        evs_x = events(a, node="node-x", limit=10000)
        life = max(e["incarnation"] for e in evs_x)
        seqs = sorted(e["seq"] for e in evs_x if e["incarnation"] == life)
        self.assertGreater(len(seqs), N_EVENTS)
        self.assertEqual(seqs, list(range(seqs[0], seqs[-1] + 1)),
                         "missing seqs %s (gaps_total %d)" % (
                             sorted(set(range(seqs[0], seqs[-1] + 1)) - set(seqs)),
                             m["agentflow_node_gaps_total"]))

    def test_mixed_mesh_respecting_features(self):
        self.check_mixed_mesh(self.mixed_mesh(ignore_features=False), False)

    def test_mixed_mesh_with_a_peer_ignoring_features(self):
        self.check_mixed_mesh(self.mixed_mesh(ignore_features=True), True)


if __name__ == "__main__":
    unittest.main()
