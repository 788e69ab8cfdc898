"""System test of a mesh whose nodes run different --max-links: nodes that
link to everyone (0) next to nodes limited to 3 or 2 ring neighbours.  Both
ends of every link agree on it, so once the mesh has settled no link goes
up or down any more (issue 15: a node at 0 used to dial nodes that closed
its link as not a neighbour, hundreds of times a minute), and user events
posted anywhere reach every node exactly once over those links."""

import os
import time
import unittest

import harness
from test_node_mesh import MeshTest
from test_node_sync import events, metric, post_event

# node id -> --max-links; the ring is the sorted ids.
LIMITS = {"mix-%02d" % (i + 1): k for i, k in enumerate((0, 0, 0, 3, 3, 3, 3, 3, 2, 2))}
NEAR_BIN = os.path.join(harness.BIN, "agentflow-node-nearring")
SETTLE_TIMEOUT = 90
QUIET_SECONDS = 30
LINK_EVENTS = ("link up", "link down", "peer cannot keep up; resetting the link",
               "closing a link that is no longer a neighbour's")


def ring_picks(n, frm, to, k, spread=True):
    """node/mesh/ring.c: with spread (both ends speak "spread_ring"), the
    next and the previous at distances 1, b, b^2, ... (ceil(k/2) of them, b
    the smallest with b^m >= n, none past half the ring), then the nearest
    unused distances, up to k picks; without, the near ring of older
    versions: next, previous, second next, ..."""
    if frm == to:
        return False
    if k >= n - 1:
        return True
    m, b = (k + 1) // 2, 2
    while b ** m < n:
        b += 1
    if not spread:
        m = 0
    picked, used = [], []

    def at(d):
        nxt, prev = (frm + d) % n, (frm - d) % n
        if len(picked) < k:
            picked.append(nxt)
        if prev != nxt and len(picked) < k:
            picked.append(prev)
    d = 1
    while len(used) < m and d <= n // 2:
        at(d)
        used.append(d)
        d *= b
    for d in range(1, n // 2 + 1):
        if d not in used:
            at(d)
    return to in picked


def expected_links(older=()):
    """{id: sorted peers}: a link wherever either end picks the other, a node
    without a limit picking everyone; a pair with an older node (the near
    ring build) picks by the near ring."""
    ids = sorted(LIMITS)
    n = len(ids)

    def picks(a, b):
        k = LIMITS[ids[a]]
        spread = ids[a] not in older and ids[b] not in older
        return k == 0 or ring_picks(n, a, b, k, spread)
    return {ids[a]: sorted(ids[b] for b in range(n)
                           if b != a and (picks(a, b) or picks(b, a)))
            for a in range(n)}


def link_events(node):
    return sum(1 for e in node.logs() if e.get("msg") in LINK_EVENTS)


class NearRingNode(harness.MeshNode):
    """A MeshNode of the build that picks as older versions did."""

    def binary(self):
        return NEAR_BIN

    def argv(self):
        return [NEAR_BIN] + super().argv()[1:]


class MixedLimits(MeshTest):

    def test_mixed_max_links_settle_without_churn(self):
        sig = self.signal()
        nodes = [self.node(i, [sig.url], ["--max-links", str(k)])
                 for i, k in sorted(LIMITS.items())]
        self.settle_and_deliver(nodes, expected_links())

    def test_older_nodes_pick_as_they_did(self):
        """A mesh upgrading one node at a time: three nodes of the build
        without the spread ring (one per limit) among the others.  Each pair
        picks by the ring both ends speak, so they still agree on every link
        and nothing churns."""
        older = {"mix-02", "mix-05", "mix-09"}
        sig = self.signal()
        nodes = []
        for i, k in sorted(LIMITS.items()):
            args = ["--max-links", str(k)]
            if i in older:
                n = NearRingNode(self.pki, i, signals=[sig.url],
                                 args=["--dead-ms", "3000", "--ping-ms", "500"] + args)
                self.procs.append(n)
                nodes.append(n.start())
            else:
                nodes.append(self.node(i, [sig.url], args))
        want = expected_links(older)
        self.assertNotEqual(want, expected_links(), "the older nodes change the links")
        self.settle_and_deliver(nodes, want)

    def settle_and_deliver(self, nodes, want):

        # both ends agree on every link: each node's links are exactly the
        # pairs where one end picks the other
        def formed():
            return all(n.up_peers() == want[n.node_id] for n in nodes)
        self.assertTrue(harness.wait_until(formed, SETTLE_TIMEOUT, interval=0.5),
                        {n.node_id: (n.up_peers(), want[n.node_id]) for n in nodes})

        def everyone_reachable():
            for n in nodes:
                rs = {r["node_id"]: r for r in n.status()["remote"]}
                for m in nodes:
                    r = rs.get(m.node_id)
                    if m is not n and (not r or not r["status"] or r["member"] != "alive"):
                        return False
            return True
        self.assertTrue(harness.wait_until(everyone_reachable, SETTLE_TIMEOUT, interval=0.5),
                        [n.status()["remote"] for n in nodes])

        # then nothing moves: no link event in the logs, counters still
        before = {n.node_id: (link_events(n), metric(n, "agentflow_node_reconnects_total"),
                              metric(n, "agentflow_node_links_up")) for n in nodes}
        deadline = time.monotonic() + QUIET_SECONDS
        while time.monotonic() < deadline:
            for n in nodes:     # fail early on churn, at the latest at the end
                self.assertEqual(link_events(n), before[n.node_id][0],
                                 "%s: link events while settled:\n%s" % (
                                     n.node_id, "\n".join(
                                         str(e) for e in n.logs()
                                         if e.get("msg") in LINK_EVENTS)[-3000:]))
            time.sleep(2)
        after = {n.node_id: (link_events(n), metric(n, "agentflow_node_reconnects_total"),
                             metric(n, "agentflow_node_links_up")) for n in nodes}
        self.assertEqual(after, before)
        for n in nodes:
            self.assertEqual(after[n.node_id][2], len(want[n.node_id]), n.node_id)

        # user events from several nodes reach every node exactly once
        senders = [nodes[0], nodes[4], nodes[9]]
        for s in senders:
            for i in range(5):
                self.assertEqual(post_event(s, "mixed", "%s-%d" % (s.node_id, i)).status, 200)
        sent = sorted("%s-%d" % (s.node_id, i) for s in senders for i in range(5))
        for n in nodes:
            evs = harness.wait_until(lambda: (lambda e: e if len(e) >= len(sent) else None)(
                events(n, kind="user", limit=1000)), 30, interval=0.3)
            self.assertTrue(evs, "%s has %d of %d user events" % (
                n.node_id, len(events(n, kind="user", limit=1000)), len(sent)))
            self.assertEqual(sorted(e["body"]["payload"] for e in evs), sent, n.node_id)


if __name__ == "__main__":
    unittest.main()
