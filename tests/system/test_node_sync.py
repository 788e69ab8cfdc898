"""System tests of state sync between real nodes: every node sees every
other's status, user events reach every node exactly once (with or without
the signal), a node that joins late gets everybody's state from their logs,
a restarted node's new incarnation is taken up, and the last known state
survives a restart.  Bad requests to the events API get precise errors."""

import json
import os
import signal as _signal
import subprocess
import time
import unittest

import harness
from test_node_mesh import MeshTest


def events(target, **query):
    q = "&".join("%s=%s" % kv for kv in query.items())
    r = target.client().get("/api/events" + ("?" + q if q else ""))
    if r.status != 200:
        raise AssertionError("GET /api/events answered %r" % r)
    return r.json()["events"]


def post_event(node, name, payload):
    return node.client().request("POST", "/api/events",
                                 json.dumps({"name": name, "payload": payload}).encode(),
                                 {"Content-Type": "application/json"})


def metric(node, name):
    return harness.parse_metrics(node.client().get("/metrics").body.decode()).get(name, 0)


def link_state(node, of, to):
    """The state of of's link to `to` as of's last status on node says."""
    r = remote(node, of)
    links = {l["peer"]: l for l in ((r or {}).get("status") or {}).get("links", [])}
    return links.get(to, {}).get("state")


def remote(node, node_id):
    for r in node.status()["remote"]:
        if r["node_id"] == node_id:
            return r
    return None


class Sync(MeshTest):

    def test_every_node_sees_every_other_status(self):
        sig, nodes = self.mesh(3)

        def all_statuses():
            for n in nodes:
                for m in nodes:
                    if m is n:
                        continue
                    r = remote(n, m.node_id)
                    if not r or not r["status"] or r["status"]["mem_total_bytes"] <= 0:
                        return False
            return True
        self.assertTrue(harness.wait_until(all_statuses, 15, interval=0.3),
                        [n.status()["remote"] for n in nodes])
        r = remote(nodes[0], "node-2")
        st = r["status"]
        self.assertGreaterEqual(st["cpu_count"], 1)
        self.assertGreater(st["disk_total_bytes"], 0)
        self.assertEqual(r["info"]["node_id"], "node-2")
        self.assertEqual(r["incarnation"], nodes[1].incarnation)
        # (later statuses replacing earlier ones: StatusPace below)
        # node-2's own view of its links is visible on node-1
        links = {l["peer"]: l for l in remote(nodes[0], "node-2")["status"]["links"]}
        self.assertEqual(links["node-3"]["state"], "up")

    def test_a_link_change_on_one_node_is_seen_by_the_others(self):
        sig, (a, b, c) = self.mesh(3)
        c.stop(_signal.SIGKILL)

        self.assertTrue(harness.wait_until(
            lambda: link_state(b, "node-1", "node-3") in ("down", "connecting"), 20,
            interval=0.3),
                        remote(b, "node-1"))

    def test_link_changes_travel_without_waiting_for_the_next_sample(self):
        # Statuses every ten minutes: a node must still tell its peers at
        # once when a link goes up or down, since they route by its links.
        sig = self.signal()
        a, b, c = [self.node("node-%d" % i, [sig.url], ["--status-ms", "600000"])
                   for i in range(1, 4)]
        self.wait_full_mesh([a, b, c])
        self.assertTrue(harness.wait_until(
            lambda: link_state(a, "node-2", "node-3") == "up", 10, interval=0.3),
            remote(a, "node-2"))
        # knowing the direct links, nobody floods: no event arrives twice.
        # The link-up catch-ups may still be landing (a replayed status
        # that the live stream brought first counts as a duplicate): count
        # from when the counter has been still for a second.
        def dups():
            return sum(metric(n, 'agentflow_node_events_total{direction="in",outcome="duplicate"}')
                       for n in (a, b, c))
        seen = [dups(), time.monotonic()]

        def settled():
            d = dups()
            if d != seen[0]:
                seen[:] = [d, time.monotonic()]
            return time.monotonic() - seen[1] >= 1.0
        self.assertTrue(harness.wait_until(settled, 15, interval=0.2))
        dup0 = seen[0]
        for i in range(10):
            self.assertEqual(post_event(a, "direct", str(i)).status, 200)
        for n in (b, c):
            self.assertTrue(harness.wait_until(
                lambda: len(events(n, kind="user", node="node-1")) == 10, 10, interval=0.2))
        self.assertEqual(sum(metric(n, 'agentflow_node_events_total{direction="in",outcome="duplicate"}')
                             for n in (a, b, c)), dup0)
        c.stop(_signal.SIGKILL)
        self.assertTrue(harness.wait_until(
            lambda: link_state(a, "node-2", "node-3") in ("down", "connecting"), 20,
            interval=0.3), remote(a, "node-2"))

    def test_user_events_reach_every_node_exactly_once(self):
        sig, (a, b, c) = self.mesh(3)
        r = post_event(a, "deploy", "v1.2.3")
        self.assertEqual(r.status, 200, r)
        first = r.json()
        self.assertEqual(first["origin"], "node-1")
        for i in range(49):
            self.assertEqual(post_event(a, "burst", {"i": i}).status, 200)

        def delivered(n):
            evs = events(n, kind="user", node="node-1", limit=1000)
            return evs if len(evs) >= 50 else None
        for n in (a, b, c):
            evs = harness.wait_until(lambda: delivered(n), 15, interval=0.2)
            self.assertTrue(evs, "%s has %d user events" % (
                n.node_id, len(events(n, kind="user"))))
            keys = [(e["origin"], e["incarnation"], e["seq"]) for e in evs]
            self.assertEqual(len(keys), len(set(keys)), "duplicates on %s" % n.node_id)
            self.assertEqual(len(evs), 50)
            self.assertEqual(evs[0]["body"]["name"], "deploy")
            self.assertEqual(evs[0]["body"]["payload"], "v1.2.3")
            self.assertEqual(evs[1]["body"]["payload"], '{"i":0}')
            seqs = [e["seq"] for e in evs]
            self.assertEqual(seqs, sorted(seqs))

    def test_user_events_flow_without_the_signal(self):
        sig, (a, b, c) = self.mesh(3)
        sig.stop(_signal.SIGKILL)
        self.assertEqual(post_event(c, "offline", "signal is down").status, 200)
        for n in (a, b):
            self.assertTrue(harness.wait_until(
                lambda: [e for e in events(n, kind="user")
                         if e["body"]["name"] == "offline"], 10, interval=0.2),
                n.node_id)

    def test_large_payload_reaches_every_node(self):
        sig, (a, b) = self.mesh(2)
        payload = "x" * 65536
        self.assertEqual(post_event(a, "big", payload).status, 200)
        evs = harness.wait_until(lambda: [e for e in events(b, kind="user")
                                          if e["body"]["name"] == "big"], 10)
        self.assertTrue(evs)
        self.assertEqual(evs[0]["body"]["payload_bytes"], 65536)
        self.assertEqual(evs[0]["body"]["payload"], payload)

    def test_late_joiner_gets_every_state_from_the_logs(self):
        sig, nodes = self.mesh(3)
        port = sig.port
        sig.stop(_signal.SIGKILL)
        # the signal comes back on its address; the nodes register again
        sig2 = harness.Signal(["--rate", "0", "--heartbeat", "1", "--ttl", "5"],
                              ca=self.pki.ca_path, listen="127.0.0.1:%d" % port).start()
        self.procs.append(sig2)
        self.assertTrue(harness.wait_until(
            lambda: sig2.client().get("/healthz").json()["nodes"] == 3, 30, interval=0.3))
        # and a new node joins through it
        d = self.node("node-4", [sig2.url])
        self.wait_full_mesh(nodes + [d])
        for m in nodes:
            r = harness.wait_until(lambda: (remote(d, m.node_id) or {}).get("status"), 10)
            self.assertTrue(r, "node-4 has no state of %s" % m.node_id)
        # the others' logs hold every event of their lives: replayed, not snapshots
        self.assertGreaterEqual(sum(metric(m, "agentflow_node_replayed_total")
                                    for m in nodes), 1)

    def test_restarted_node_is_resynced_with_its_new_incarnation(self):
        sig, (a, b, c) = self.mesh(3)
        self.assertTrue(harness.wait_until(lambda: remote(a, "node-3") and
                                           remote(a, "node-3")["status"], 10))
        old = c.incarnation
        c.stop(_signal.SIGKILL)
        c.restart()
        self.assertGreater(c.incarnation, old)
        self.assertTrue(harness.wait_until(
            lambda: remote(a, "node-3")["incarnation"] == c.incarnation and
            remote(b, "node-3")["incarnation"] == c.incarnation, 20, interval=0.3),
            (remote(a, "node-3"), remote(b, "node-3")))
        # and its new events arrive
        self.assertEqual(post_event(c, "reborn", "").status, 200)
        self.assertTrue(harness.wait_until(lambda: [
            e for e in events(a, kind="user", node="node-3")
            if e["incarnation"] == c.incarnation], 10))

    def test_last_known_state_survives_a_restart(self):
        sig, (a, b) = self.mesh(2)
        self.assertTrue(harness.wait_until(lambda: (remote(b, "node-1") or {}).get("status"), 10))
        a.stop()
        sig.stop()
        b.restart()
        r = remote(b, "node-1")
        self.assertIsNotNone(r, b.status())
        self.assertIsNotNone(r["status"], r)
        self.assertGreater(r["status"]["mem_total_bytes"], 0)


class StatusPace(MeshTest):
    """At rest a node's status goes out only when it changed or every
    --status-idle-ms; a dashboard open on any node brings every node to
    every --status-ms, and the mesh goes quiet again once it closes."""

    ARGS = ["--status-ms", "300", "--status-idle-ms", "60000"]

    def status_times(self, node, of, seconds):
        """The distinct status_ms values of `of` that node saw over seconds."""
        seen = set()
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            r = remote(node, of)
            if r and r.get("status_ms"):
                seen.add(r["status_ms"])
            time.sleep(0.1)
        return seen

    def settled(self, node, of, quiet_s, timeout):
        """Waits until of's status on node has not changed for quiet_s."""
        last = [None, time.monotonic()]

        def quiet():
            t = (remote(node, of) or {}).get("status_ms")
            if t != last[0]:
                last[:] = [t, time.monotonic()]
            return time.monotonic() - last[1] >= quiet_s
        return harness.wait_until(quiet, timeout, interval=0.2)

    def test_statuses_rest_until_a_dashboard_opens(self):
        sig = self.signal()
        a, b, c = [self.node("node-%d" % i, [sig.url], self.ARGS) for i in range(1, 4)]
        self.wait_full_mesh([a, b, c])
        # Sampled every 300 ms, but nothing changes: node-2's status stops
        # moving on node-3 once the mesh has formed.
        self.assertTrue(self.settled(c, "node-2", 3.0, 20), remote(c, "node-2"))
        held = metric(b, 'agentflow_node_statuses_total{outcome="held"}')
        self.assertGreater(held, 0)
        # A dashboard opens on node-1: node-2's statuses reach node-3 at
        # every sample within a second or so.
        ws = harness.WsClient(a.api_port, token=a.tokens()["read"])
        try:
            self.assertEqual(ws.status, 101)
            seen = self.status_times(c, "node-2", 3.0)
            self.assertGreaterEqual(len(seen), 5, sorted(seen))
            self.assertEqual(metric(b, "agentflow_node_status_watched"), 1)
        finally:
            ws.close()
        # Closed: quiet again once node-1's lease (5 s) has run out.
        self.assertTrue(self.settled(c, "node-2", 3.0, 20), remote(c, "node-2"))
        self.assertEqual(metric(b, "agentflow_node_status_watched"), 0)

    def test_a_node_at_rest_still_refreshes_every_idle_period(self):
        sig = self.signal()
        a, b = [self.node("node-%d" % i, [sig.url],
                          ["--status-ms", "300", "--status-idle-ms", "2000"])
                for i in range(1, 3)]
        self.wait_full_mesh([a, b])
        # Formed, and settled: for 5 s after the last change every sample
        # went out; then they come 2 s apart.
        last = [None, None]

        def resting():
            t = (remote(a, "node-2") or {}).get("status_ms")
            if t != last[0]:
                last[:] = [t, last[0]]
            return None not in last and last[0] - last[1] >= 1500
        self.assertTrue(harness.wait_until(resting, 20, interval=0.1), last)
        seen = self.status_times(a, "node-2", 7.0)
        # one every 2 s: three or four in 7 s, not the 23 samples taken
        self.assertGreaterEqual(len(seen), 3, sorted(seen))
        self.assertLessEqual(len(seen), 6, sorted(seen))


    def test_a_node_that_sends_every_sample_brings_the_mesh_along(self):
        # --status-idle-ms 0 says what a node older than pacing says (no
        # idle_ms): every node sends every sample while it is there, so
        # its links, closed after three silent seconds on an older node,
        # never fall silent; once it leaves the mesh rests again.
        sig = self.signal()
        a, b = [self.node("node-%d" % i, [sig.url], self.ARGS) for i in range(1, 3)]
        old = self.node("node-3", [sig.url], ["--status-ms", "300", "--status-idle-ms", "0"])
        self.wait_full_mesh([a, b, old])
        seen = self.status_times(b, "node-1", 4.0)
        self.assertGreaterEqual(len(seen), 8, sorted(seen))
        self.assertEqual(metric(a, "agentflow_node_status_watched"), 1)
        time.sleep(6)
        for n in (a, b):
            link = (remote(n, "node-3") or {}).get("link") or {}
            self.assertEqual((link.get("state"), link.get("reconnects")), ("up", 0), link)
        old.stop()
        self.assertTrue(self.settled(b, "node-1", 3.0, 20), remote(b, "node-1"))
        self.assertEqual(metric(a, "agentflow_node_status_watched"), 0)


class PartialMesh(MeshTest):

    def test_max_links_two_on_five_nodes(self):
        sig = self.signal()
        nodes = [self.node("ring-%d" % i, [sig.url], ["--max-links", "2"])
                 for i in range(1, 6)]
        ids = sorted(n.node_id for n in nodes)
        # each node links to its two ring neighbours, nothing more
        ring = {ids[i]: sorted({ids[(i + 1) % 5], ids[(i - 1) % 5]}) for i in range(5)}

        def formed():
            return all(n.up_peers() == ring[n.node_id] for n in nodes)
        self.assertTrue(harness.wait_until(formed, 40, interval=0.3),
                        {n.node_id: n.up_peers() for n in nodes})
        # every node holds every other's state, the far ones relayed
        def everyone_alive():
            for n in nodes:
                rs = {r["node_id"]: r for r in n.status()["remote"]}
                for m in nodes:
                    if m is n:
                        continue
                    r = rs.get(m.node_id)
                    if not r or not r["status"] or r["member"] != "alive":
                        return False
            return True
        self.assertTrue(harness.wait_until(everyone_alive, 30, interval=0.5),
                        [n.status()["remote"] for n in nodes])
        # alive comes from ring-3's own events; the path from the link-state
        # graph, which ring-2's and ring-5's link tables fill a moment later
        def far():
            return {r["node_id"]: r["path"] for r in nodes[0].status()["remote"]}
        self.assertTrue(harness.wait_until(
            lambda: far().get("ring-3") == "relayed", 10, interval=0.3), far())
        self.assertEqual(far()["ring-2"], "direct")
        # through which neighbour: one of ring-1's two
        via = {r["node_id"]: r["via"] for r in nodes[0].status()["remote"]}
        self.assertIn(via["ring-3"], ("ring-2", "ring-5"))
        self.assertIsNone(via["ring-2"])
        out = subprocess.run([os.path.join(harness.BIN, "agentflow"), "status",
                              "--data-dir", nodes[0].data_dir], capture_output=True,
                             text=True, timeout=30).stdout
        rows = [l.split()[0] for l in out.splitlines()[1:]]
        self.assertEqual(rows, sorted(rows), out)      # rows in id order
        line = [l for l in out.splitlines() if l.startswith("ring-3")]
        self.assertIn("relayed via %s" % via["ring-3"], line[0] if line else out)

        time.sleep(3)   # let link tables settle everywhere
        dup0 = {n.node_id: metric(n, 'agentflow_node_events_total{direction="in",outcome="duplicate"}')
                for n in nodes}
        for i in range(20):
            self.assertEqual(post_event(nodes[0], "ring", str(i)).status, 200)
        for n in nodes[1:]:
            evs = harness.wait_until(lambda: (lambda e: e if len(e) >= 20 else None)(
                events(n, kind="user", node="ring-1")), 15, interval=0.3)
            self.assertTrue(evs, "%s got %d of 20" % (
                n.node_id, len(events(n, kind="user", node="ring-1"))))
            self.assertEqual([e["body"]["payload"] for e in evs], [str(i) for i in range(20)])
        # each event reached each node once: nobody received a duplicate
        for n in nodes:
            self.assertEqual(metric(n, 'agentflow_node_events_total{direction="in",outcome="duplicate"}'),
                             dup0[n.node_id], n.node_id)
        self.assertGreater(sum(metric(n, "agentflow_node_forwarded_total")
                               for n in nodes), 0)


class EventsApi(MeshTest):

    def setUp(self):
        super().setUp()
        self.n = self.node("api-1")
        self.c = self.n.client()

    def refused(self, r, status, code):
        self.assertEqual(r.status, status, r)
        self.assertEqual(r.json()["error"], code, r)
        self.assertTrue(r.json()["message"])

    def test_bad_requests_get_clear_errors(self):
        h = {"Content-Type": "application/json"}
        self.refused(self.c.request("POST", "/api/events", b"{not json", h), 400, "bad_json")
        self.refused(self.c.request("POST", "/api/events", b"[]", h), 400, "invalid_field")
        self.refused(self.c.request("POST", "/api/events", b'{"payload": "x"}', h),
                     400, "invalid_field")
        self.refused(post_event(self.n, "", "x"), 400, "invalid_field")
        self.refused(post_event(self.n, "a\nb", "x"), 400, "invalid_field")
        self.refused(post_event(self.n, "big", "x" * 65537), 413, "payload_too_large")
        self.refused(self.c.get("/api/events?kind=bogus"), 400, "invalid_field")
        self.refused(self.c.get("/api/events?limit=0"), 400, "invalid_field")
        self.refused(self.c.get("/api/events?since=yesterday"), 400, "invalid_field")
        self.refused(self.c.get("/api/events?node=-bad"), 400, "invalid_field")
        self.refused(self.c.get("/api/nodes/nobody"), 404, "not_found")
        self.refused(self.c.get("/api/nodes/..%2Fx"), 400, "invalid_field")
        self.refused(self.c.request("PUT", "/api/events", b"{}", h), 405, "method_not_allowed")
        self.refused(self.c.get("/api/nope"), 404, "not_found")
        # nothing bad was stored, and the node still serves
        self.assertEqual(events(self.n, kind="user"), [])
        self.assertEqual(post_event(self.n, "ok", "fine").status, 200)
        self.assertEqual(len(events(self.n, kind="user")), 1)

    def test_own_node_and_filters(self):
        r = self.c.get("/api/nodes/api-1")
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.json()["local"])
        self.assertGreater(r.json()["status"]["mem_total_bytes"], 0)
        t0 = int(time.time() * 1000)
        post_event(self.n, "one", "1")
        evs = events(self.n, since=t0, kind="user")
        self.assertEqual([e["body"]["name"] for e in evs], ["one"])
        self.assertTrue(all(e["kind"] == "status" for e in events(self.n, kind="status", limit=5)))


if __name__ == "__main__":
    unittest.main()
