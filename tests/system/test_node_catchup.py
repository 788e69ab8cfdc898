"""System tests of a join catching up completely: a node that joins late,
or comes back, receives the user events the others still keep in their
event logs (replayed, not just a snapshot of state), so its event log
(GET /api/events) matches theirs but for the statuses a later status of
the same origin superseded (NodeStatus.statuses_from); where a log's
retention (--events-kept) dropped the oldest events, it gets a snapshot
and then every event still kept, none twice."""

import signal as _signal
import time
import unittest

import harness
from test_mixed_links import NearRingNode
from test_node_mesh import MeshTest
from test_node_sync import events, metric, post_event, remote

WAIT = 60       # generous: the machine is shared
TRIM_WAIT = 120 # a node trims its log every minute


def user_keys(node, origin=None):
    """(origin, incarnation, seq) of the user events node's log holds."""
    q = {"kind": "user", "limit": 10000}
    if origin is not None:
        q["node"] = origin
    return [(e["origin"], e["incarnation"], e["seq"]) for e in events(node, **q)]


def all_keys(node, origin):
    """The keys of every event of origin's that node's log holds."""
    return {(e["origin"], e["incarnation"], e["seq"])
            for e in events(node, node=origin, limit=10000)}


def kept_keys(node, origin):
    """The keys of origin's events in node's log that a catch-up carries:
    all but a status followed by another status (a later one supersedes
    it, unless it carries its origin's NodeInfo, which the API does not
    show: such statuses are left out of what is compared).  The newest, if
    a status, is left out too: the origin's next status supersedes it."""
    evs = sorted(events(node, node=origin, limit=10000), key=lambda e: int(e["seq"]))
    keep = set()
    for e, nxt in zip(evs, evs[1:] + [None]):
        if e["kind"] != "status" or (nxt is not None and nxt["kind"] != "status"):
            keep.add((e["origin"], e["incarnation"], e["seq"]))
    return keep


def freeze_keys(node, origin):
    """The keys of origin's statuses in node's log that turned its freeze
    on or off."""
    sts = sorted(events(node, node=origin, kind="status", limit=10000),
                 key=lambda e: int(e["seq"]))
    return {(b["origin"], b["incarnation"], b["seq"]) for a, b in zip(sts, sts[1:])
            if bool((a["body"] or {}).get("frozen")) != bool((b["body"] or {}).get("frozen"))}


def post_many(node, name, count):
    for i in range(count):
        r = post_event(node, name, {"i": i})
        if r.status != 200:
            raise AssertionError("POST /api/events on %s answered %r" % (node.node_id, r))


class JoinCatchesUp(MeshTest):

    def wait_keys(self, node, want, origin=None):
        """Waits until node's log holds exactly the user events want (a set)."""
        if harness.wait_until(lambda: set(user_keys(node, origin)) == want, WAIT,
                              interval=0.5):
            return
        got = set(user_keys(node, origin))
        self.fail("%s: %d missing, %d extra (of %d)" % (
            node.node_id, len(want - got), len(got - want), len(want)))

    def assert_once(self, node):
        keys = user_keys(node)
        self.assertEqual(len(keys), len(set(keys)), "duplicates on %s" % node.node_id)

    def test_a_late_joiner_and_a_returning_node_get_every_user_event(self):
        sig, (a, b) = self.mesh(2)
        post_many(a, "from-a", 50)
        post_many(b, "from-b", 20)
        both = set(user_keys(a, "node-1")) | set(user_keys(b, "node-2"))
        self.assertEqual(len(both), 70)
        self.wait_keys(a, both)
        self.wait_keys(b, both)

        history = kept_keys(a, "node-1")    # every kind, statuses too
        # a node with a new data directory joins after all of them
        c = self.node("node-3", [sig.url])
        self.wait_full_mesh([a, b, c])
        self.wait_keys(c, both)
        self.assertTrue(harness.wait_until(
            lambda: history <= all_keys(c, "node-1"), WAIT, interval=0.5),
            len(history - all_keys(c, "node-1")))
        self.assert_once(c)
        for origin, count in (("node-1", 50), ("node-2", 20)):
            seqs = sorted(k[2] for k in user_keys(c, origin))
            self.assertEqual(len(seqs), count, origin)
            self.assertEqual(seqs, sorted(k[2] for k in user_keys(a, origin)), origin)
        self.assertGreater(metric(a, "agentflow_node_replayed_total") +
                           metric(b, "agentflow_node_replayed_total"), 0)

        # it leaves, more happens, it comes back: it gets what it missed
        c.stop()
        post_many(a, "while-away", 30)
        now = set(user_keys(a, "node-1")) | set(user_keys(b, "node-2"))
        self.assertEqual(len(now), 100)
        c.restart()
        self.wait_full_mesh([a, b, c])
        self.wait_keys(c, now)
        self.assert_once(c)

    def test_a_joiner_is_sent_each_origin_once_not_by_every_neighbour(self):
        """node/mesh/sync_pull.c: a node that comes up among three
        neighbours holding the same history asks each origin of one of
        them; when every neighbour pushed, it was sent all of it three
        times."""
        sig, nodes = self.mesh(3)
        for i, n in enumerate(nodes):
            post_many(n, "from-%d" % i, 60)
        want = set()
        for n in nodes:
            want |= set(user_keys(n, n.node_id))
        self.assertEqual(len(want), 180)
        for n in nodes:
            self.wait_keys(n, want)
        before = sum(metric(n, "agentflow_node_replayed_total") for n in nodes)

        d = self.node("node-4", [sig.url])
        self.wait_full_mesh(nodes + [d])
        self.wait_keys(d, want)
        self.assert_once(d)
        # what it needed: the others' events its log now holds
        needed = sum(len(all_keys(d, n.node_id)) for n in nodes)
        sent = sum(metric(n, "agentflow_node_replayed_total") for n in nodes) - before
        self.assertGreaterEqual(sent, 180)
        self.assertLessEqual(sent, needed * 1.5,
                             "%d events replayed for %d needed" % (sent, needed))
        self.assertGreaterEqual(
            metric(d, 'agentflow_node_catchup_pulls_total{outcome="asked"}'), 3)

    def test_a_joiner_is_not_sent_the_statuses_a_later_one_superseded(self):
        """Between two events of another kind an origin sends status after
        status, and only the newest is state.  A joiner is sent the others
        and, of each run of statuses, the last (its origin signs that
        only statuses came before it); a joiner of a version that does
        not take that is sent every status as before."""
        sig = self.signal()
        fast = ["--status-ms", "100", "--status-idle-ms", "0",
                "--labels", "room=attic"]
        a = self.node("node-1", [sig.url], fast)
        b = self.node("node-2", [sig.url], fast)
        self.wait_full_mesh([a, b])
        for i in range(3):
            post_many(a, "from-a-%d" % i, 2)
            time.sleep(1)       # about ten statuses between
        # a freeze and its end come in statuses only: never left out
        for kind in ("freeze", "unfreeze"):
            r = a.post("/api/commands", dict(target="node-1", type=kind, wait_ms=5000))
            self.assertEqual(r.status, 200, r)
            time.sleep(0.5)
        toggles = freeze_keys(a, "node-1")
        self.assertEqual(len(toggles), 2, toggles)
        history = all_keys(a, "node-1")
        kept = kept_keys(a, "node-1")
        statuses = {(e["origin"], e["incarnation"], e["seq"])
                    for e in events(a, node="node-1", kind="status", limit=10000)}
        users = set(user_keys(a, "node-1"))
        self.assertEqual(len(users), 6)
        self.assertGreater(len(statuses), 20)
        left_out = (metric(a, "agentflow_node_replay_statuses_left_out_total") +
                    metric(b, "agentflow_node_replay_statuses_left_out_total"))

        c = self.node("node-3", [sig.url], fast)
        self.wait_full_mesh([a, b, c])
        self.assertTrue(harness.wait_until(
            lambda: kept <= all_keys(c, "node-1"), WAIT, interval=0.5),
            sorted(kept - all_keys(c, "node-1")))
        got = all_keys(c, "node-1") & history
        self.assertTrue(users <= got)
        self.assertTrue(toggles <= got, toggles - got)
        self.assertLess(len(got & statuses), len(statuses) // 2,
                        "%d of %d statuses sent" % (len(got & statuses), len(statuses)))
        self.assertGreater(
            metric(a, "agentflow_node_replay_statuses_left_out_total") +
            metric(b, "agentflow_node_replay_statuses_left_out_total"), left_out)
        self.assertGreater(metric(c, "agentflow_node_statuses_taken_past_total"), 0)
        # what statuses say is there: node-1's labels, and it is alive
        r = remote(c, "node-1")
        self.assertEqual(r["member"], "alive")
        self.assertEqual(r["info"]["labels"].get("room"), "attic")

        # an older version's joiner is sent every status, so its log
        # holds all of node-1's history
        d = NearRingNode(self.pki, "node-4", signals=[sig.url],
                         args=["--dead-ms", "3000", "--ping-ms", "500"] + fast)
        self.procs.append(d)
        d.start()
        self.wait_full_mesh([a, b, c, d])
        self.assertTrue(harness.wait_until(
            lambda: history <= all_keys(d, "node-1"), WAIT, interval=0.5),
            len(history - all_keys(d, "node-1")))

        # node-3's log lacks the statuses it was not sent: with node-1 and
        # the others gone, a joiner gets node-1's history from it alone
        for n in (a, b, d):
            n.stop()
        e = self.node("node-5", [sig.url], fast)
        self.wait_full_mesh([c, e])
        self.assertTrue(harness.wait_until(
            lambda: kept <= all_keys(e, "node-1"), WAIT, interval=0.5),
            sorted(kept - all_keys(e, "node-1")))
        self.assertEqual(set(user_keys(e, "node-1")), users)

    def test_a_joiner_gets_a_snapshot_and_every_event_the_log_still_keeps(self):
        sig = self.signal()
        # a keeps 100 events: it trims its log each minute and whenever a
        # tenth of that has arrived since its last trim
        a = self.node("node-1", [sig.url],
                      args=["--events-kept", "100", "--status-ms", "10000"])
        b = self.node("node-2", [sig.url])
        self.wait_full_mesh([a, b])
        post_many(b, "from-b", 150)
        last = max(k[2] for k in user_keys(b, "node-2"))
        # a has b's newest (it may have trimmed the oldest already)
        self.assertTrue(harness.wait_until(
            lambda: last in {k[2] for k in user_keys(a, "node-2")}, WAIT, interval=0.5))
        # b goes away, and a's retention drops the oldest
        b.stop()
        self.assertTrue(harness.wait_until(
            lambda: 0 < len(user_keys(a, "node-2")) < 150, TRIM_WAIT, interval=0.5),
            len(user_keys(a, "node-2")))
        kept = set(user_keys(a, "node-2"))
        self.assertEqual(max(k[2] for k in kept), last, "the newest are kept")

        # a new node that only a can catch up on b
        c = self.node("node-3", [sig.url])
        self.wait_full_mesh([a, c])
        self.wait_keys(c, kept, "node-2")
        self.assert_once(c)
        # the state before them came as a snapshot of b
        self.assertTrue(harness.wait_until(
            lambda: (remote(c, "node-2") or {}).get("status"), WAIT, interval=0.5))
        self.assertGreaterEqual(
            metric(c, 'agentflow_node_snapshots_total{direction="in"}'), 1)
        self.assertEqual(remote(c, "node-2")["seq"], remote(a, "node-2")["seq"])
        self.assertGreaterEqual(remote(c, "node-2")["seq"], last)

    def big_log(self, count=150):
        """A signal and node-1 with count events of 60 KB in its log (150:
        9 MB, more than a link queues, 8 MiB).  Returns (signal, node-1,
        the payload, the events' keys)."""
        sig = self.signal()
        a = self.node("node-1", [sig.url])
        payload = "p" * 60000
        for i in range(count):
            self.assertEqual(post_event(a, "big", payload).status, 200)
        want = set(user_keys(a, "node-1"))
        self.assertEqual(len(want), count)
        return sig, a, payload, want

    def test_a_log_larger_than_the_link_queue_arrives_in_turns(self):
        sig, a, payload, want = self.big_log()
        c = self.node("node-3", [sig.url])
        self.wait_full_mesh([a, c])
        self.wait_keys(c, want, "node-1")
        self.assert_once(c)
        self.assertGreaterEqual(metric(a, "agentflow_node_replayed_total"), 150)
        # in turns the queue bears, so the link never had to reset
        resets = [l for l in a.logs() + c.logs()
                  if l.get("msg") == "peer cannot keep up; resetting the link"]
        self.assertEqual(resets, [])
        evs = events(c, kind="user", node="node-1", limit=1)
        self.assertEqual(evs[0]["body"]["payload"], payload)

    def test_a_catch_up_cut_by_a_lost_link_goes_on_with_the_new_one(self):
        # 36 MB: paced by the link, a catch-up of 9 MB can be over
        # before the first look at c finds it under way
        sig, a, payload, want = self.big_log(600)
        c = self.node("node-3", [sig.url])
        # the link goes while turns are still pending, and comes back:
        # the new link is caught up from where c is, every event once
        # (the first look that finds some, killed right after it: a
        # second look could find the catch-up over)
        seen = harness.wait_until(lambda: len(user_keys(c, "node-1")), WAIT, 0.05)
        c.stop(_signal.SIGKILL)
        self.assertGreater(seen, 0)
        self.assertLess(seen, len(want))
        c.restart()
        self.wait_keys(c, want, "node-1")
        self.assert_once(c)


if __name__ == "__main__":
    unittest.main()
