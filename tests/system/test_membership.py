"""System tests of membership over time: a killed peer is reported dead
--dead-ms after it died (not later, not much sooner), a dead node can be
forgotten by every node at once (agentflow forget, POST
/api/nodes/{id}/forget), and dead nodes are pruned after --prune-after.

Real nodes and a real signal on loopback.  Timing: the checks poll with
deadlines; the dead-timing test measures from the kill, with one status
period of slack below and two above."""

import json
import os
import shutil
import signal as _signal
import subprocess
import tempfile
import time
import unittest

import harness

FORM_TIMEOUT = 40
DEAD_MS = 4000
STATUS_MS = 500


class MembershipTest(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="af-member-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.pki = harness.Pki(self.tmp)
        self.procs = []

    def tearDown(self):
        for p in reversed(self.procs):
            p.stop()

    def signal(self):
        s = harness.Signal(["--rate", "0", "--heartbeat", "1", "--ttl", "5"],
                           ca=self.pki.ca_path).start()
        self.procs.append(s)
        return s

    def mesh(self, count, args=()):
        sig = self.signal()
        nodes = []
        for i in range(1, count + 1):
            n = harness.MeshNode(self.pki, "node-%d" % i, signals=[sig.url],
                                 args=["--dead-ms", str(DEAD_MS), "--status-ms",
                                       str(STATUS_MS), "--ping-ms", "500"] + list(args))
            self.procs.append(n)
            nodes.append(n.start())
        want = {n.node_id: sorted(m.node_id for m in nodes if m is not n) for n in nodes}
        if not harness.wait_until(lambda: all(n.up_peers() == want[n.node_id]
                                              for n in nodes), FORM_TIMEOUT, 0.3):
            self.fail("mesh did not form: %s" % {n.node_id: n.up_peers() for n in nodes})
        return sig, nodes

    @staticmethod
    def remote(node):
        return {r["node_id"]: r for r in node.status()["remote"]}

    def cli(self, node, *args):
        """The agentflow CLI against node (its data directory gives the API
        address and the write token)."""
        p = subprocess.run([os.path.join(harness.BIN, "agentflow")] + list(args) +
                           ["--data-dir", node.data_dir],
                           capture_output=True, text=True, timeout=60)
        return p.returncode, p.stdout, p.stderr


class DeadTiming(MembershipTest):

    def test_killed_peer_is_dead_after_dead_ms(self):
        sig, (a, b, c) = self.mesh(3)
        # every node alive everywhere before the kill
        self.assertTrue(harness.wait_until(lambda: all(
            r["member"] == "alive" for r in self.remote(a).values()), 20, 0.2))
        killed = time.monotonic()
        c.stop(_signal.SIGKILL)
        seen = {}
        deadline = killed + DEAD_MS / 1000 + 20
        while time.monotonic() < deadline and len(seen) < 2:
            now = time.monotonic() - killed
            for n in (a, b):
                if n.node_id not in seen and \
                        self.remote(n)["node-3"]["member"] == "dead":
                    seen[n.node_id] = now
            time.sleep(0.05)
        self.assertEqual(sorted(seen), ["node-1", "node-2"], seen)
        lo = (DEAD_MS - STATUS_MS) / 1000
        hi = (DEAD_MS + 2 * STATUS_MS) / 1000
        for who, t in seen.items():
            self.assertGreaterEqual(t, lo, (who, t, seen))
            self.assertLessEqual(t, hi, (who, t, seen))
        # the link view agrees (it is what the status broadcasts and the
        # peer_unreachable rule read)
        for n in (a, b):
            self.assertEqual(n.links()["node-3"]["member"], "dead")


if __name__ == "__main__":
    harness.main()
