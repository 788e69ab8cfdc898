"""System test of paced catch-up (issue 22, item 3): a node that was down
while 1,000 user events of 64 KiB (64 MiB) were posted gets every one of
them on restart (each read back by its seq, with its payload; the log
holds one row per origin, incarnation and seq, so none twice) within a
bounded time, and no link resets on the way: the replay goes out in turns
paced by the link (each sent when the last has drained), never filling
the 8 MiB link queue that makes the sender reset the link ("peer cannot
keep up; resetting the link"), redial and replay again.

Three real nodes over mTLS on loopback; the events are posted through
node-1's API with its write token, on one keep-alive connection."""

import time
import unittest

import harness
from test_node_mesh import MeshTest
from test_node_sync import metric

COUNT = 1000
SIZE = 65536            # USER_PAYLOAD_MAX: the largest a user may post
CATCHUP_S = 90          # bound on the whole catch-up (a shared, slow machine)
RESET_WORDS = ("resetting the link", "cannot keep up")


def get_event(node, origin, incarnation, seq):
    """The event as node's log holds it, or None."""
    r = node.client(token="read").get("/api/events/%s/%d/%d" % (origin, incarnation, seq))
    return r.json() if r.status == 200 else None


def has_event(node, origin, incarnation, seq):
    """The event's payload as node's log holds it, or None."""
    e = get_event(node, origin, incarnation, seq)
    return e["body"]["payload"] if e is not None else None


def resets(node):
    """Lines of node's stderr (this run) that tell of a link reset for a
    full queue, a rate-limited summary of them included."""
    return [l for l in node.stderr().splitlines() if any(w in l for w in RESET_WORDS)]


def link_marks(node):
    """{peer: (state, since_ms, reconnects)}: any reset changes it."""
    return {p: (l["state"], l["since_ms"], l["reconnects"]) for p, l in node.links().items()}


class PacedCatchup(MeshTest):

    def test_a_node_that_missed_64_mib_rejoins_without_a_link_reset(self):
        sig, (a, b, c) = self.mesh(3)
        c.stop()
        self.assertTrue(harness.wait_until(
            lambda: "node-3" not in a.up_peers() and "node-3" not in b.up_peers(), 30))

        seqs = harness.post_user_events(a, COUNT, SIZE, "missed")
        self.assertEqual(len(set(seqs)), COUNT)
        # node-2 holds them all too, so both peers catch node-3 up
        self.assertTrue(harness.wait_until(
            lambda: has_event(b, "node-1", a.incarnation, seqs[-1]) is not None, 60, 0.5),
            "node-2 did not get node-1's events")

        t0 = time.monotonic()
        c.restart()
        # once the history has begun to arrive, node-2 says something new:
        # it must not wait behind node-1's history (node-2's own catch-up
        # on node-3 is short, so it goes first)
        self.assertTrue(harness.wait_until(
            lambda: has_event(c, "node-1", a.incarnation, seqs[0]) is not None, 60, 0.02))
        self.assertIsNone(has_event(c, "node-1", a.incarnation, seqs[-1]))
        live = harness.post_user_events(b, 1, 64, "live")[0]
        self.wait_full_mesh([a, b, c])
        marks = {n.node_id: link_marks(n) for n in (a, b, c)}

        # every event, in seq order as it is applied, within the bound
        done = 0
        while done < COUNT and time.monotonic() - t0 < CATCHUP_S:
            payload = has_event(c, "node-1", a.incarnation, seqs[done])
            if payload is None:
                time.sleep(0.2)
                continue
            self.assertEqual(payload[:8], "%08d" % done)
            self.assertEqual(len(payload), SIZE)
            done += 1
        took = time.monotonic() - t0
        self.assertEqual(done, COUNT, "node-3 had %d of %d events after %.0f s"
                         % (done, COUNT, took))

        # node-2's live event reached node-3 before node-1's history was through
        ev = harness.wait_until(lambda: get_event(c, "node-2", b.incarnation, live), 30, 0.2)
        self.assertIsNotNone(ev, "node-3 never got node-2's live event")
        last = get_event(c, "node-1", a.incarnation, seqs[-1])
        self.assertLess(ev["received_ms"], last["received_ms"],
                        "the live event waited behind the history")

        # no link reset its queue on the way, and the links stayed up
        for n in (a, b, c):
            self.assertEqual(resets(n), [], "%s reset links" % n.node_id)
            self.assertEqual(link_marks(n), marks[n.node_id], n.node_id)
        self.assertGreaterEqual(metric(a, "agentflow_node_replayed_total") +
                                metric(b, "agentflow_node_replayed_total"), COUNT)
        print("catch-up of %d x %d B: %.1f s" % (COUNT, SIZE, took))


if __name__ == "__main__":
    unittest.main()
