"""System tests of a mesh with two signals and no --advertise: every
node registers the address the signals saw, with its real mesh port, with
both signals; peers dial only ports they were told (never the default
50051, which no node here listens on); a node stopped cleanly is `left` on
every peer within about a second and is not dialled again until it
restarts; and a peer whose certificate a node refused drops out of that
node's lists once it stops trying, and is a member when accepted later.

Real nodes and real signals on loopback; the nodes log at debug level, so
every dial is a "dialing" line naming the peer and the address."""

import os
import signal as _signal
import time

import harness
from test_node_mesh import MeshTest

DEAD_MS = 3000
DEFAULT_PORT = 50051


def mesh_port():
    """A free port for a node's mesh listener that is not 50051, so a dial
    of the default port can never reach a node by luck."""
    while True:
        p = harness.free_port()
        if p != DEFAULT_PORT:
            return p


class SignalMultiTest(MeshTest):

    def setUp(self):
        super().setUp()
        self.sigs = [self.signal(), self.signal()]

    def multi_node(self, node_id, args=()):
        n = harness.MeshNode(self.pki, node_id, signals=[s.url for s in self.sigs],
                             args=["--dead-ms", str(DEAD_MS), "--ping-ms", "500",
                                   "--status-ms", "500"] + list(args),
                             mesh_port=mesh_port())
        self.procs.append(n)
        return n.start()

    @staticmethod
    def dials(node, peer=None):
        """(peer, address) of every dial node logged, oldest first."""
        return [(l["peer"], l["address"]) for l in node.logs()
                if l.get("msg") == "dialing" and (peer is None or l.get("peer") == peer)]

    @staticmethod
    def member(node, peer):
        for r in node.status()["remote"]:
            if r["node_id"] == peer:
                return r["member"]
        return None

    def listed(self, sig, observer):
        """{node_id: addresses} as sig lists them to a registered observer
        (registered again each time: the signal evicts it after its TTL)."""
        r = observer.register(sig.client(), addresses=[])
        self.assertEqual(r.status, 200, r)
        r = sig.client().get("/v1/peers", observer.auth())
        self.assertEqual(r.status, 200, r)
        return {p["node_id"]: p["addresses"] for p in r.json()["peers"]}

    def assert_dials_real_ports(self, nodes, ports):
        for n in nodes:
            for peer, address in self.dials(n):
                self.assertNotIn(":%d" % DEFAULT_PORT, address, (n.node_id, peer))
                self.assertIn(peer, ports, (n.node_id, peer, address))
                self.assertEqual(address, "127.0.0.1:%d" % ports[peer],
                                 (n.node_id, peer, address))


class Addresses(SignalMultiTest):

    def formed(self):
        """An observer entry with no address in both signals, then three
        nodes in a full mesh; returns (nodes, {node_id: mesh port})."""
        self.observer = self.pki.node("observer")
        for s in self.sigs:
            self.listed(s, self.observer)
        nodes = [self.multi_node("node-%d" % i) for i in (1, 2, 3)]
        self.wait_full_mesh(nodes)
        ports = {n.node_id: n.mesh_port for n in nodes}
        self.assertNotIn(DEFAULT_PORT, ports.values())
        return nodes, ports

    def wait_listed_everywhere(self, nodes):
        """Until both signals list each node at 127.0.0.1 with its port."""
        want = {n.node_id: ["127.0.0.1:%d" % n.mesh_port] for n in nodes}

        def both_list():
            got = [self.listed(s, self.observer) for s in self.sigs]
            return all({k: v for k, v in g.items() if k in want} == want for g in got)
        self.assertTrue(harness.wait_until(both_list, 15, 0.5),
                        [self.listed(s, self.observer) for s in self.sigs])

    def test_every_dial_goes_to_the_real_port(self):
        (a, b, c), ports = self.formed()
        # a few seconds of lists moving in both signals
        time.sleep(3)
        # every dial went to a node's real port; the entry with no address
        # (listed by both signals) was never dialled: no guess of the
        # default port on the address the signal saw
        self.assert_dials_real_ports([a, b, c], ports)
        for n in (a, b, c):
            self.assertEqual(self.dials(n, "observer"), [], n.node_id)
            for peer, l in n.links().items():
                if peer in ports:
                    self.assertEqual(l["state"], "up", (n.node_id, peer, l))
                    self.assertEqual(l["address"], "127.0.0.1:%d" % ports[peer],
                                     (n.node_id, peer, l))
            self.assertEqual(n.status()["local"]["signal"]["signals"][0]["observed_address"],
                             "127.0.0.1")
        # both signals list every node at the address it saw with the
        # node's own port (not only the signal that answered first)
        self.wait_listed_everywhere([a, b, c])

    def test_a_clean_stop_is_left_everywhere_and_not_redialled(self):
        (a, b, c), ports = self.formed()
        # settled: both signals list every node, and no registration of
        # node-3 is still on its way to one (a signal that took it only
        # after the leave would date it after the leave: a new life)
        self.assertTrue(harness.wait_until(lambda: all(
            set(ports) <= set(self.listed(s, self.observer)) for s in self.sigs), 15, 0.5))
        time.sleep(1.5)
        before = {n.node_id: len(self.dials(n, "node-3")) for n in (a, b)}
        # the second signal does not hear node-3 leave (it is frozen while
        # node-3 stops, as a signal busy or cut off would be): it lists
        # node-3 for a while after the first signal dropped it
        s2 = self.sigs[1]
        s2.send(_signal.SIGSTOP)
        self.addCleanup(s2.send, _signal.SIGCONT)
        t0 = time.monotonic()
        c.stop(_signal.SIGTERM)
        left = harness.wait_until(lambda: all(self.member(n, "node-3") == "left"
                                              for n in (a, b)), 1.5, 0.05)
        took = time.monotonic() - t0
        self.assertTrue(left, [(n.node_id, self.member(n, "node-3")) for n in (a, b)])
        self.assertLess(took, 1.6)
        time.sleep(1)
        s2.send(_signal.SIGCONT)
        # it stays left, not dialled, while the signals' lists move (the
        # first drops it, the second still names it) for several seconds
        end = time.monotonic() + 6
        while time.monotonic() < end:
            for n in (a, b):
                self.assertEqual(self.member(n, "node-3"), "left",
                                 (n.node_id, [l for l in n.logs() if l.get("peer") == "node-3" and
                                              l.get("msg") not in ("dialing", "transport: stream closed")][-10:]))
                self.assertEqual(n.links()["node-3"]["member"], "left", n.node_id)
            time.sleep(0.2)
        for n in (a, b):
            self.assertEqual(len(self.dials(n, "node-3")), before[n.node_id],
                             (n.node_id, self.dials(n, "node-3")))
            self.assertEqual([l for l in n.logs() if l.get("like") == "dialing"], [])

        # a restart is a new registration: it rejoins everywhere
        c.restart()
        self.wait_full_mesh([a, b, c])
        for n in (a, b):
            self.assertTrue(harness.wait_until(
                lambda: self.member(n, "node-3") == "alive", 10, 0.2), n.node_id)
        self.assert_dials_real_ports([a, b, c], ports)


class RefusedPeers(SignalMultiTest):

    def test_a_refused_peer_expires_and_is_taken_back_when_accepted(self):
        crl = self.pki.write_crl("mesh.crl")
        intruder = self.pki.node("node-x")
        self.pki.ca.revoke(intruder.cert)
        self.pki.write_crl("mesh.crl")
        a, b = [self.multi_node("node-%d" % i, ["--crl", crl]) for i in (1, 2)]
        self.wait_full_mesh([a, b])
        # node-x's certificate is revoked: the signals (no CRL) list it, and
        # every link to it is refused
        x = harness.MeshNode(self.pki, "node-x", signals=[s.url for s in self.sigs],
                             args=["--dead-ms", str(DEAD_MS)], cert_node=intruder,
                             mesh_port=mesh_port())
        self.procs.append(x)
        x.start()

        def refused_on_a():
            l = a.links().get("node-x")
            return l is not None and "revoked" in l["last_error"]
        self.assertTrue(harness.wait_until(refused_on_a, 20, 0.2), a.links().get("node-x"))
        self.assertEqual(a.up_peers(), ["node-2"])
        # it stops: DEAD_MS after the last refusal it is gone from a's
        # links and cluster view, though it was never a member
        x.stop()
        t0 = time.monotonic()

        def gone(n):
            return "node-x" not in n.links() and self.member(n, "node-x") is None
        self.assertTrue(harness.wait_until(lambda: gone(a) and gone(b), DEAD_MS / 1000 + 10,
                                           0.2), (a.links().get("node-x"), b.links().get("node-x")))
        self.assertGreater(time.monotonic() - t0, DEAD_MS / 1000 - 1.5)
        self.assertTrue(any(l.get("msg") == "refused peer expired" and
                            l.get("peer") == "node-x" for l in a.logs()))
        # the CRL no longer names it (a new one, without the revocation):
        # when it comes back, it is accepted like any node
        self.pki.ca.revoked.clear()
        self.pki.write_crl("mesh.crl")
        later = time.time() + 2
        os.utime(crl, (later, later))
        x.restart()
        self.wait_full_mesh([a, b, x])
        self.assertEqual(self.member(a, "node-x"), "alive")


if __name__ == "__main__":
    harness.main()
