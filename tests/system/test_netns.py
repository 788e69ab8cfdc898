"""The mesh across hosts: a signal and three nodes, each in its own network
namespace with its own address on a bridge (netns.Lab; the topology of
docker-compose.yml as processes: the signal over HTTPS on :7000, the nodes'
mesh on :50051 of their own addresses, their APIs on their own loopback).  The mesh forms across the
namespaces and the signal sees each node's own address; a node whose mesh
port one peer cannot reach (an nftables rule) is reached through the third
node, for events and commands; a host cut off (its interface down) and
healed gets back into the mesh and no event is lost or doubled.

Everything is asserted through the nodes' and the signal's APIs, which the
test reaches from inside each namespace (see netns.py).  Each test builds
its own namespaces and processes and tears them down, even on failure.
Skipped without CAP_NET_ADMIN.  Timing: generous bounds (shared machine).
"""

import time
import unittest

import netns

ROUTE_TIMEOUT = 30     # a relayed path is learnt from link-state
DETECT_TIMEOUT = 20    # a cut link is noticed (3 silent status periods)
HEAL_TIMEOUT = 75      # links back up after a cut (redial backoff grows to 30 s)
DELIVER_TIMEOUT = 20
CUT_S = 9              # how long a host stays cut off
MESH_PORT = netns.MESH_PORT
NODES = netns.NODES


class Netns(netns.LabTest):

    TMP_PREFIX = "af-netns-"

    def wait_full_mesh(self, timeout=netns.FORM_TIMEOUT):
        """Every pair linked directly (the tests below take links away)."""
        super().wait_full_mesh(timeout, direct=True)

    # -- the tests

    def test_mesh_forms_across_namespaces(self):
        nodes = self.start_mesh()
        self.wait_full_mesh()
        self.log("full mesh")
        # each link's address is the peer's own address on the bridge (an
        # inbound link shows it once the signal's listing has named it)
        def addressed():
            return all(l["address"] == "%s:%d" % (self.lab.addr(l["peer"]), MESH_PORT)
                       for n in nodes for l in n.status()["local"]["links"])
        self.wait(addressed, 15, "links show their peers' namespace addresses")
        for n in nodes:
            st = n.status()
            # the signal saw this node's namespace address
            sigs = st["local"]["signal"]["signals"]
            self.assertTrue(st["local"]["signal"]["reachable"], st["local"]["signal"])
            self.assertEqual([s["observed_address"] for s in sigs], [self.lab.addr(n.node_id)])
        # the signal lists three nodes, each with its namespace address as
        # the observed one (asked with a session of a short-lived observer)
        sc = self.sig.client()
        self.assertEqual(sc.get("/healthz").json()["nodes"], 3)
        observer = self.pki.node("observer")
        r = observer.register(sc, addresses=[])
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["observed_address"], self.lab.addr("sig"))
        r = sc.get("/v1/peers", observer.auth())
        self.assertEqual(r.status, 200, r)
        peers = {p["node_id"]: p for p in r.json()["peers"] if p["node_id"] != "observer"}
        self.assertEqual(sorted(peers), list(NODES))
        for h, p in peers.items():
            self.assertEqual(p["observed_address"], self.lab.addr(h), p)
            self.assertEqual(p["addresses"], ["%s:%d" % (self.lab.addr(h), MESH_PORT)], p)
        self.assertEqual(sc.request("DELETE", "/v1/register", None, observer.auth()).status, 200)

    def test_blocked_direct_path_is_relayed_through_a_neighbour(self):
        # n1 and n2 cannot open a connection to each other's mesh port,
        # from before the nodes start
        self.lab.block("n1", "n2", MESH_PORT)
        n1, n2, n3 = self.start_mesh()

        def relayed():
            if n1.up_peers() != ["n3"] or n2.up_peers() != ["n3"] or n3.up_peers() != ["n1", "n2"]:
                return False
            a, b = netns.remotes(n1).get("n2"), netns.remotes(n2).get("n1")
            return (a and b and a.get("path") == "relayed" and b.get("path") == "relayed"
                    and a["member"] == "alive" and b["member"] == "alive"
                    and a["status"] and b["status"])
        self.wait(relayed, netns.FORM_TIMEOUT + ROUTE_TIMEOUT, "n1 <-> n2 relayed through n3")
        self.log("n1 and n2 reach each other through n3")
        # the direct link is still not up (it is tried, and fails)
        self.assertNotEqual(n1.links().get("n2", {}).get("state"), "up")
        self.assertNotEqual(n2.links().get("n1", {}).get("state"), "up")

        # user events cross in both directions, once
        self.post_event(n1, "over-the-wall", "from n1")
        self.post_event(n2, "over-the-wall", "from n2")
        expected = [("n1", "over-the-wall", "from n1"), ("n2", "over-the-wall", "from n2")]
        for n in (n1, n2, n3):
            self.wait(lambda: self.has_all(n, expected), DELIVER_TIMEOUT,
                      "user events on %s" % n.node_id, 0.2)
        time.sleep(1.5)    # a late duplicate would have arrived by now
        self.assert_exactly_once(expected)
        self.log("events delivered once")

        # a command to n2 goes through n3, and its result comes back
        r = n1.post("/api/commands", {"target": "n2", "type": "ping", "wait_ms": 15000})
        self.assertEqual(r.status, 200, r)
        rec = r.json()
        self.assertEqual(rec["state"], "done", rec)
        self.assertEqual(len(rec["results"]), 1, rec)
        res = rec["results"][0]
        self.assertEqual(res["node"], "n2", res)
        self.assertEqual(res["status"], "ok", res)
        self.assertEqual(res["path"], ["n1", "n3", "n2"], res)
        self.log("ping n1 -> n3 -> n2 in %s ms" % res.get("rtt_ms"))
        # and all along the direct link never came up
        self.assertNotEqual(n1.links().get("n2", {}).get("state"), "up")
        self.assertNotEqual(n2.links().get("n1", {}).get("state"), "up")

    def test_cut_and_heal_loses_nothing(self):
        n1, n2, n3 = self.start_mesh()
        self.wait_full_mesh()
        expected = []
        for n in (n1, n2, n3):
            self.post_event(n, "before", "from " + n.node_id)
            expected.append((n.node_id, "before", "from " + n.node_id))
        for n in (n1, n2, n3):
            self.wait(lambda: self.has_all(n, expected), DELIVER_TIMEOUT,
                      "events before the cut on %s" % n.node_id, 0.2)
        self.log("mesh formed, first events everywhere")

        # cut n3 off: its only interface goes down
        self.lab.link("n3", False)
        cut = time.monotonic()

        def cut_seen():
            return ("n3" not in n1.up_peers() and "n3" not in n2.up_peers()
                    and n3.up_peers() == [])
        self.wait(cut_seen, DETECT_TIMEOUT, "n3's links dropped")
        self.log("cut noticed after %.1fs" % (time.monotonic() - cut))
        # events on every side of the cut, spread over CUT_S: the signal
        # evicts n3 (ttl 5 s) and the redial backoff grows meanwhile
        for i in range(5):
            for n in (n1, n2):
                self.post_event(n, "during", "%s #%d" % (n.node_id, i))
                expected.append((n.node_id, "during", "%s #%d" % (n.node_id, i)))
            time.sleep(max(0.0, (CUT_S - (time.monotonic() - cut)) / (5 - i)))
        for i in range(3):
            self.post_event(n3, "during", "n3 alone #%d" % i)
            expected.append(("n3", "during", "n3 alone #%d" % i))
        # n1 and n2 are still linked and see each other's
        side = [e for e in expected if e[0] != "n3"]
        for n in (n1, n2):
            self.wait(lambda: self.has_all(n, side), DELIVER_TIMEOUT,
                      "events during the cut on %s" % n.node_id, 0.2)
        self.assertFalse([g for g in netns.user_events(n1) if g[0] == "n3" and g[3] == "during"])

        # heal
        self.lab.link("n3", True)
        healed = time.monotonic()
        self.log("healed after a %.1fs cut" % (healed - cut))
        self.wait_full_mesh(HEAL_TIMEOUT)
        self.log("links back up after %.1fs" % (time.monotonic() - healed))
        self.wait_everything_everywhere(expected, DELIVER_TIMEOUT,
                                        "after the heal (the link is up again)")
        self.log("every event everywhere %.1fs after the heal" % (time.monotonic() - healed))
        time.sleep(1.5)
        self.assert_exactly_once(expected)

    def test_firewalled_link_is_rerouted_and_healed_without_loss(self):
        n1, n2, n3 = self.start_mesh()
        self.wait_full_mesh()
        expected = [("n1", "before", "n1"), ("n2", "before", "n2")]
        self.post_event(n1, "before", "n1")
        self.post_event(n2, "before", "n2")
        for n in (n1, n2, n3):
            self.wait(lambda: self.has_all(n, expected), DELIVER_TIMEOUT,
                      "events before the cut on %s" % n.node_id, 0.2)
        self.log("mesh formed, first events everywhere")

        # a firewall rule in n1 cuts the established n1 <-> n2 link; both
        # keep posting while it is noticed and the path moves to n3
        self.lab.block("n1", "n2", MESH_PORT)
        cut = time.monotonic()
        i = 0

        def rerouted():
            a, b = netns.remotes(n1).get("n2"), netns.remotes(n2).get("n1")
            return (a and b and a.get("path") == "relayed" and b.get("path") == "relayed")
        while not rerouted():
            if time.monotonic() - cut > DETECT_TIMEOUT + ROUTE_TIMEOUT:
                self.fail("n1 <-> n2 not relayed after the firewall rule\n" + self.views())
            for n in (n1, n2):
                self.post_event(n, "rerouting", "%s #%d" % (n.node_id, i))
                expected.append((n.node_id, "rerouting", "%s #%d" % (n.node_id, i)))
            i += 1
            time.sleep(0.5)
        self.log("relayed through n3 %.1fs after the rule; %d events each meanwhile"
                 % (time.monotonic() - cut, i))
        for i in range(3):
            for n in (n1, n2):
                self.post_event(n, "relayed", "%s #%d" % (n.node_id, i))
                expected.append((n.node_id, "relayed", "%s #%d" % (n.node_id, i)))
        self.wait_everything_everywhere(expected, DELIVER_TIMEOUT, "across the reroute")
        self.log("every event everywhere while relayed")

        # the rule goes: the direct link comes back, still nothing lost or doubled
        self.lab.unblock("n1")
        healed = time.monotonic()
        self.wait_full_mesh(HEAL_TIMEOUT)
        self.log("direct link back %.1fs after the rule went" % (time.monotonic() - healed))
        for i in range(3):
            for n in (n1, n2):
                self.post_event(n, "after", "%s #%d" % (n.node_id, i))
                expected.append((n.node_id, "after", "%s #%d" % (n.node_id, i)))
        self.wait_everything_everywhere(expected, DELIVER_TIMEOUT, "after the heal")
        time.sleep(1.5)
        self.assert_exactly_once(expected)


if __name__ == "__main__":
    unittest.main(verbosity=2)
