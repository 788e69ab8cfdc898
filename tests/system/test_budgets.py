"""System tests of the shared budgets (issue 22, docs/architecture.md
"Budgets"): what one flood of big events or one client that never reads
can use up of a node's dashboard feed.  Two real nodes over mTLS on
loopback; 500 user events of 64 KiB are posted to node-1 through the API
and replicate to node-2, which keeps a smaller snapshot budget."""

import json
import shutil
import socket
import tempfile
import time
import unittest

import harness

BIG = 500
SIZE = 65536 - 64


def ws_frames(ws):
    """hello, then the snapshot's raw text and its decoded object."""
    op, hello = ws.frame()
    while op != 1:
        op, hello = ws.frame()
    op, raw = ws.frame()
    while op != 1:
        op, raw = ws.frame()
    return json.loads(hello), raw, json.loads(raw)


class SnapshotBudget(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="af-budget-")
        cls.pki = harness.Pki(cls.tmp)
        cls.sig = harness.Signal(["--rate", "0", "--heartbeat", "1", "--ttl", "5"],
                                 ca=cls.pki.ca_path).start()
        a = harness.MeshNode(cls.pki, "node-1", signals=[cls.sig.url]).start()
        b = harness.MeshNode(cls.pki, "node-2", signals=[cls.sig.url],
                             args=["--ws-snapshot-bytes", "65536"]).start()
        cls.nodes = [a, b]
        harness.wait_formed(cls.nodes, 40)
        cls.marks = {n.node_id: cls.link_marks(n) for n in cls.nodes}
        api = harness.Api(a.api_port, a.tokens()["write"])
        try:
            for i in range(BIG):
                api.json("POST", "/api/events", json.dumps({
                    "name": "big", "payload": "%04d" % i + "x" * (SIZE - 4)}))
            cls.small = cls.newest = api.json("POST", "/api/events", json.dumps(
                {"name": "small", "payload": "hello"}))["seq"]
        finally:
            api.close()
        url = "/api/events/node-1/%d/%d" % (a.incarnation, cls.small)
        if not harness.wait_until(
                lambda: b.client(token="read").get(url).status == 200, 60, 0.5):
            raise AssertionError("node-2 did not get node-1's events")

    @classmethod
    def tearDownClass(cls):
        for n in reversed(cls.nodes):
            n.stop()
        cls.sig.stop()
        shutil.rmtree(cls.tmp, True)

    @staticmethod
    def link_marks(node):
        return {p: (l["since_ms"], l["reconnects"], l["state"])
                for p, l in node.links().items()}

    def connect(self, node):
        ws = harness.WsClient(node.api_port, token=node.tokens()["read"])
        self.addCleanup(ws.close)
        self.assertEqual(ws.status, 101)
        return ws

    def test_a_snapshot_summarises_big_events_and_stays_small(self):
        a = self.nodes[0]
        t0 = time.monotonic()
        ws = self.connect(a)
        hello, raw, snap = ws_frames(ws)
        took = time.monotonic() - t0
        self.assertEqual(hello["type"], "hello")
        self.assertEqual(snap["type"], "snapshot")
        self.assertLess(took, 2.0, "snapshot took %.1f s" % took)
        self.assertLessEqual(len(raw), 1 << 20)
        self.assertFalse(snap["truncated"])
        events = snap["events"]
        self.assertEqual(len(events), BIG)
        small = [e for e in events if e["seq"] == self.small][0]
        big = [e for e in events if e["seq"] < self.small]
        # the small one whole, the big ones as summaries with a working URL
        self.assertEqual(small["body"]["payload"], "hello")
        self.assertNotIn("summarized", small)
        for e in big:
            self.assertTrue(e["summarized"], e)
            self.assertIsNone(e["body"])
            self.assertGreater(e["body_bytes"], SIZE)
            self.assertEqual(e["url"], "/api/events/%s/%d/%d" % (
                e["origin"], e["incarnation"], e["seq"]))
        last = big[-1]
        r = a.client(token="read").get(last["url"])
        self.assertEqual(r.status, 200, r)
        whole = r.json()
        self.assertEqual((whole["origin"], whole["seq"]), (last["origin"], last["seq"]))
        self.assertEqual(whole["body"]["name"], "big")
        self.assertEqual(len(whole["body"]["payload"]), SIZE)
        self.assertTrue(whole["body"]["payload"].startswith("%04d" % (BIG - 1)))

    def test_a_small_budget_keeps_the_newest_and_says_truncated(self):
        b = self.nodes[1]
        ws = self.connect(b)
        _, raw, snap = ws_frames(ws)
        self.assertLessEqual(len(raw), 65536)
        self.assertTrue(snap["truncated"])
        seqs = [e["seq"] for e in snap["events"] if e["origin"] == "node-1"]
        self.assertGreater(len(seqs), 10)
        self.assertLess(len(seqs), BIG)
        # the newest are kept, oldest first (statuses are not listed)
        self.assertEqual(seqs[-1], self.newest)
        self.assertEqual(seqs, sorted(set(seqs)))

    def test_the_event_route_refuses_what_it_does_not_hold(self):
        a = self.nodes[0]
        c = a.client(token="read")
        for path, status in (("/api/events/node-1/%d/999999" % a.incarnation, 404),
                             ("/api/events/node-1/%d/0" % a.incarnation, 400),
                             ("/api/events/node-1/x/1", 400),
                             ("/api/events/node-1/1", 400),
                             ("/api/events/../1/1", 400),
                             ("/api/events/node-1/1/1/extra", 400),
                             ("/api/events/node-1/99999999999999999999999/1", 400)):
            r = c.get(path)
            self.assertEqual(r.status, status, (path, r))
            self.assertIn("error", r.json())
        self.assertEqual(a.client(token=None).get(
            "/api/events/node-1/%d/1" % a.incarnation).status, 401)

    def test_a_client_that_never_reads_costs_a_bounded_backlog(self):
        a = self.nodes[0]
        rss0 = harness.proc_rss_kib(a.proc.pid)
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.connect(("127.0.0.1", a.api_port))
        self.addCleanup(s.close)
        s.sendall(("GET /ws HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
                   "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                   "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: agentflow.v1, "
                   "token.%s\r\n\r\n" % (a.api_port, a.tokens()["read"])).encode())
        # a reading client next to it keeps getting events
        ws = self.connect(a)
        ws_frames(ws)
        api = harness.Api(a.api_port, a.tokens()["write"])
        try:
            most = 0
            for i in range(100):
                seq = api.json("POST", "/api/events", json.dumps({
                    "name": "more", "payload": "y" * SIZE}))["seq"]
                if i % 10 == 0:
                    m = harness.parse_metrics(api.request("GET", "/metrics")[1].decode())
                    most = max(most, m["agentflow_node_ws_backlog_max_bytes"])
        finally:
            api.close()
        SnapshotBudget.newest = seq
        # it fell behind while we posted, so a fresh snapshot may bring it
        ws.recv_until(lambda m: m["type"] == "event" and m["event"]["seq"] == seq
                      or m["type"] == "snapshot" and
                      seq in [e["seq"] for e in m["events"]], 30)
        self.assertLess(most, 4 << 20)
        if harness.asan_runtime(harness.NODE_BIN) is None:  # ASan keeps freed memory
            grew = harness.proc_rss_kib(a.proc.pid) - rss0
            self.assertLess(grew, 24 * 1024, "RSS grew by %d KiB" % grew)
        # what the node sent it is the bound plus the kernel's buffers
        s.setblocking(False)
        total = 0
        try:
            while True:
                chunk = s.recv(1 << 20)
                if not chunk:
                    break
                total += len(chunk)
        except (BlockingIOError, ConnectionResetError):
            pass
        self.assertLess(total, 6 << 20)

    def test_the_links_stayed_up(self):
        for n in self.nodes:
            now = self.link_marks(n)
            self.assertEqual(now, self.marks[n.node_id], n.node_id)


class LogRate(harness.SignalTest):
    """A message repeated from one place is printed 20 times in 10 s, then
    summarised: the signal's refused requests, hundreds a second."""

    def test_refused_requests_are_logged_twenty_times_then_summarised(self):
        tmp = tempfile.mkdtemp(prefix="af-lograte-")
        self.addCleanup(shutil.rmtree, tmp, True)
        pki = harness.Pki(tmp)
        s = harness.Signal(["--rate", "1", "--burst", "1"], ca=pki.ca_path).start()
        self.addCleanup(s.stop)
        c = s.client()
        t0 = time.monotonic()
        statuses = [c.get("/healthz").status for _ in range(300)]
        took = time.monotonic() - t0
        refused = statuses.count(429)
        self.assertGreater(refused, 250)
        self.assertLess(took, 9, "the requests took too long to share a window")

        def lines(msg):
            return [l for l in s.logs() if l.get("msg") == msg]
        shown = len(lines("request refused"))
        self.assertEqual(shown, 20)
        # the window ends; the next line logged brings the summary
        time.sleep(10.5 - (time.monotonic() - t0))
        c.get("/healthz")
        summary = harness.wait_until(lambda: [
            l for l in s.logs() if l.get("like") == "request refused"], 5)
        self.assertEqual(len(summary), 1, summary)
        self.assertEqual(summary[0]["msg"],
                         "%d more like this in the last 10 s" % (refused - 20))
        self.assertEqual(summary[0]["suppressed"], refused - 20)
        self.assertEqual(summary[0]["level"], "info")
        self.assertLess(len(s.stderr()), 64 * 1024)


def slow_header(port, src="127.0.0.1", first=b"GET /healthz HTTP/1.1\r\nHost: x\r\n"):
    """A connection that has sent part of a request's headers."""
    s = socket.socket()
    s.bind((src, 0))
    s.settimeout(5)
    s.connect(("127.0.0.1", port))
    s.sendall(first)
    return s


def closed_within(s, seconds, drip=None):
    """True when the server closes s within seconds (a byte of drip sent
    every 0.2 s meanwhile, the way a slow-header client keeps a
    connection busy)."""
    end = time.monotonic() + seconds
    s.settimeout(0.2)
    while time.monotonic() < end:
        try:
            if s.recv(4096) == b"":
                return True
        except socket.timeout:
            pass
        except OSError:
            return True
        if drip:
            try:
                s.sendall(drip)
            except OSError:
                return True
    return False


def served(port, src):
    """GET /healthz from address src answers 200."""
    s = slow_header(port, src, b"GET /healthz HTTP/1.1\r\nHost: x\r\n"
                    b"Connection: close\r\n\r\n")
    try:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        return data.startswith(b"HTTP/1.1 200")
    finally:
        s.close()


class Listeners(unittest.TestCase):
    """Every listener bounds a request's time to arrive and the connections
    one address may hold: the node's API and the signal, on loopback,
    127.0.0.1 against 127.0.0.2."""

    CAP = 16

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="af-listen-")
        cls.pki = harness.Pki(cls.tmp)
        cls.node = harness.MeshNode(cls.pki, "node-1", args=[
            "--header-timeout-ms", "1500", "--max-per-address", str(cls.CAP)]).start()
        cls.sig = harness.Signal(["--header-timeout-ms", "1500", "--max-per-address",
                                  str(cls.CAP)], ca=cls.pki.ca_path).start()

    @classmethod
    def tearDownClass(cls):
        cls.node.stop()
        cls.sig.stop()
        shutil.rmtree(cls.tmp, True)

    def check_slow_header_cut(self, port):
        t0 = time.monotonic()
        s = slow_header(port)
        self.addCleanup(s.close)
        self.assertTrue(closed_within(s, 5, drip=b"X"), "still open after 5 s")
        took = time.monotonic() - t0
        self.assertGreater(took, 1.2)
        self.assertLess(took, 3.5)
        self.assertTrue(served(port, "127.0.0.1"))

    def check_cap(self, port):
        held = [slow_header(port) for _ in range(self.CAP)]
        for s in held:
            self.addCleanup(s.close)
        time.sleep(0.3)
        extra = [slow_header(port) for _ in range(3 * self.CAP)]
        for s in extra:
            self.addCleanup(s.close)
        # every one past the cap is closed, the first ones are not
        self.assertTrue(all(closed_within(s, 1) for s in extra))
        self.assertFalse(any(closed_within(s, 0.2) for s in held[:2]))
        # another address is served meanwhile
        self.assertTrue(served(port, "127.0.0.2"))
        self.assertFalse(served(port, "127.0.0.1"))
        # once they are gone, this address is served again
        for s in held:
            s.close()
        self.assertTrue(harness.wait_until(lambda: served(port, "127.0.0.1"), 5, 0.2))

    def test_node_api_cuts_a_slow_header(self):
        self.check_slow_header_cut(self.node.api_port)

    def test_node_api_caps_connections_per_address(self):
        self.check_cap(self.node.api_port)
        self.assertEqual(self.node.client(token="read").get("/healthz").status, 200)
        m = harness.parse_metrics(self.node.client(token="read").get("/metrics").body.decode())
        self.assertGreaterEqual(m["agentflow_node_api_refused_total"], 3 * self.CAP)

    def test_signal_cuts_a_slow_header(self):
        self.check_slow_header_cut(self.sig.port)
        m = harness.parse_metrics(self.sig.client().get("/metrics").body.decode())
        self.assertGreaterEqual(m["agentflow_signal_connections_cut_total"], 1)

    def test_signal_caps_connections_per_address(self):
        self.check_cap(self.sig.port)
        m = harness.parse_metrics(self.sig.client().get("/metrics").body.decode())
        self.assertGreaterEqual(m["agentflow_signal_connections_refused_total"], 3 * self.CAP)

    def test_a_keep_alive_connection_is_not_cut_while_answered(self):
        api = harness.Api(self.node.api_port, self.node.tokens()["read"])
        try:
            for _ in range(6):
                status, _ = api.request("GET", "/healthz")
                self.assertEqual(status, 200)
                time.sleep(0.4)
        finally:
            api.close()


class TlsListener(unittest.TestCase):
    """The same guard on the signal serving HTTPS itself: the address is
    the client's (read before the TLS takeover), the deadline runs on the
    plaintext side."""

    CAP = 4

    def test_cap_and_deadline_over_tls(self):
        import ssl
        tmp = tempfile.mkdtemp(prefix="af-tlsguard-")
        self.addCleanup(shutil.rmtree, tmp, True)
        pki = harness.Pki(tmp)
        cert, key = pki.server_cert()
        sig = harness.Signal(["--rate", "0", "--tls-cert", cert, "--tls-key", key,
                              "--header-timeout-ms", "1500",
                              "--max-per-address", str(self.CAP)],
                             ca=pki.ca_path).start()
        self.addCleanup(sig.stop)
        ctx = ssl.create_default_context(cafile=pki.ca_path)

        def tls(src, first):
            s = ctx.wrap_socket(slow_header(sig.port, src, b""),
                                server_hostname="127.0.0.1")
            self.addCleanup(s.close)
            if first:
                s.sendall(first)
            return s
        t0 = time.monotonic()
        held = [tls("127.0.0.1", b"GET /healthz HTTP/1.1\r\n") for _ in range(self.CAP)]
        extra = slow_header(sig.port, "127.0.0.1", b"")
        self.addCleanup(extra.close)
        self.assertTrue(closed_within(extra, 1))
        r = tls("127.0.0.2", b"GET /healthz HTTP/1.1\r\nHost: x\r\n"
                b"Connection: close\r\n\r\n").recv(4096)
        self.assertTrue(r.startswith(b"HTTP/1.1 200"), r)
        # the held ones never finish their headers: cut at the deadline
        self.assertTrue(all(closed_within(s, 5) for s in held))
        self.assertLess(time.monotonic() - t0, 5)


class HelloDeadline(unittest.TestCase):
    """A mesh stream with a valid certificate that never sends Hello is
    closed after --hello-timeout-ms (agentflow-mesh-mute plays it)."""

    def test_a_stream_without_hello_is_closed(self):
        import os
        import subprocess
        tmp = tempfile.mkdtemp(prefix="af-hello-")
        self.addCleanup(shutil.rmtree, tmp, True)
        pki = harness.Pki(tmp)
        node = harness.MeshNode(pki, "node-1", args=["--hello-timeout-ms", "1500"]).start()
        self.addCleanup(node.stop)
        mute = pki.node("mute")
        cert = pki.write("mute.crt", harness.cert_pem(mute.cert))
        key = pki.write("mute.key", harness.key_pem(mute.key), 0o600)
        out = subprocess.run(
            [os.path.join(harness.BIN, "agentflow-mesh-mute"), pki.ca_path, cert, key,
             "127.0.0.1:%d" % node.mesh_port, "node-1", "8"],
            capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        lines = out.stdout.split("\n")
        self.assertTrue(lines[0].startswith("opened "), out.stdout)
        self.assertTrue(lines[1].startswith("closed "), out.stdout)
        took = int(lines[1].split()[1])
        self.assertGreater(took, 1200)
        self.assertLess(took, 4000)
        self.assertTrue(harness.wait_until(lambda: [
            l for l in node.logs() if l.get("msg") == "link refused: no Hello in time"
            and l.get("peer") == "mute"], 5))
        # the node keeps serving
        self.assertEqual(node.client(token="read").get("/healthz").status, 200)


if __name__ == "__main__":
    harness.main()
