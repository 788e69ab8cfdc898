#!/usr/bin/python3
"""agentflow-signal under awkward and hostile clients: keep-alive reuse,
refusals on a kept-alive connection, a lying Content-Length, a chunked body
above the limit, half-sent requests and idle connections, IPv6 loopback.
After each, the signal still serves everybody else."""

import http.client
import os
import socket
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


def ipv6_loopback():
    try:
        s = socket.socket(socket.AF_INET6)
        s.bind(("::1", 0))
        s.close()
        return True
    except OSError:
        return False


class SignalRobust(harness.SignalTest):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="af-signal-rob-")
        cls.pki = harness.Pki(cls.tmp.name)
        cls.sig = harness.Signal(["--rate", "0"], ca=cls.pki.ca_path).start()
        cls.c = cls.sig.client()
        cls.witness = cls.pki.node("witness")
        assert cls.witness.register(cls.c).status == 200

    @classmethod
    def tearDownClass(cls):
        cls.sig.stop()
        cls.tmp.cleanup()

    def still_serving(self):
        self.assertJson(self.c.request("POST", "/v1/heartbeat", b"", self.witness.auth()),
                        200, "heartbeat-response")
        self.assertJson(self.c.get("/healthz"), 200, "healthz-response")

    def raw(self, data, timeout=10):
        """Sends raw bytes, returns what comes back until close or timeout."""
        return harness.raw_exchange(self.sig.port, data, timeout)

    def test_keep_alive(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.sig.port, timeout=10)
        try:
            for i in range(5):
                conn.request("GET", "/healthz")
                r = conn.getresponse()
                r.read()
                self.assertEqual(r.status, 200)
            # a refusal on a kept-alive connection, then more requests on it
            conn.request("GET", "/nope")
            r = conn.getresponse()
            self.assertRefused(harness.Response(r.status, r.headers, r.read()), "not_found")
            n = self.pki.node("keepalive")
            body, h = n.signed()
            conn.request("POST", "/v1/register", body, h)
            r = conn.getresponse()
            doc = self.assertJson(harness.Response(r.status, r.headers, r.read()), 200, "register-response")
            conn.request("POST", "/v1/heartbeat", b"", n.auth(doc["token"]))
            r = conn.getresponse()
            self.assertJson(harness.Response(r.status, r.headers, r.read()), 200, "heartbeat-response")
            conn.request("DELETE", "/v1/register", None, n.auth(doc["token"]))
            r = conn.getresponse()
            self.assertJson(harness.Response(r.status, r.headers, r.read()), 200, "leave-response")
        finally:
            conn.close()

    def test_lying_content_length(self):
        """A huge Content-Length is refused at once, without waiting for the body."""
        started = time.monotonic()
        out = self.raw(b"POST /v1/register HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n"
                       b"X-AgentFlow-Signature: AAAA\r\n\r\n{}", timeout=10)
        took = time.monotonic() - started
        self.assertTrue(out.startswith(b"HTTP/1.1 413"), "got %r" % out[:200])
        # Above 4x --max-body libevent refuses before reading (API.md): its
        # own HTML page, and the connection is closed.
        self.assertIn(b"Connection: close", out)
        self.assertLess(took, 9, "the signal waited for a body it was going to refuse")
        self.still_serving()

    def test_chunked_body_above_limit(self):
        chunk = b"x" * 4096
        body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(6)) + b"0\r\n\r\n"
        out = self.raw(b"POST /v1/heartbeat HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                       b"Authorization: Bearer " + self.witness.token.encode() + b"\r\n\r\n" + body)
        self.assertTrue(out.startswith(b"HTTP/1.1 413"), "got %r" % out[:300])
        self.assertIn(b'"body_too_large"', out)
        self.still_serving()

    def test_chunked_register_accepted(self):
        n = self.pki.node("chunky")
        body, h = n.signed()
        conn = http.client.HTTPConnection("127.0.0.1", self.sig.port, timeout=10)
        try:
            conn.request("POST", "/v1/register", iter([body[:100], body[100:]]), h,
                         encode_chunked=True)
            r = conn.getresponse()
            doc = self.assertJson(harness.Response(r.status, r.headers, r.read()), 200,
                                  "register-response")
        finally:
            conn.close()
        self.c.request("DELETE", "/v1/register", None, n.auth(doc["token"]))

    def test_half_sent_requests_do_not_block_others(self):
        socks = []
        try:
            for i in range(30):
                s = socket.create_connection(("127.0.0.1", self.sig.port), timeout=5)
                s.sendall([b"POST /v1/register HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n{",
                           b"GET /v1/pe", b""][i % 3])
                socks.append(s)
            started = time.monotonic()
            self.still_serving()
            self.assertLess(time.monotonic() - started, 5, "half-open clients slowed the signal down")
            n = self.pki.node("meanwhile")
            doc = self.assertJson(n.register(self.c), 200, "register-response")
            self.c.request("DELETE", "/v1/register", None, n.auth(doc["token"]))
        finally:
            for s in socks:
                s.close()
        self.still_serving()

    def test_garbage_requests(self):
        for data in (b"\x00\x01\x02\r\n\r\n", b"GET\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n",
                     b"GET /healthz HTTP/1.1\r\n" + b"X-Long: " + b"a" * 70000 + b"\r\n\r\n",
                     b"POST /v1/register HTTP/1.1\r\nContent-Length: -5\r\n\r\n"):
            with self.subTest(data=data[:30]):
                try:
                    out = self.raw(data, timeout=5)
                except OSError:
                    out = b""
                self.assertFalse(out.startswith(b"HTTP/1.1 200"), "garbage answered 200: %r" % out[:200])
                self.still_serving()

    def test_ipv6_loopback(self):
        if not ipv6_loopback():
            self.skipTest("no IPv6 loopback here")
        s = harness.Signal(["--rate", "0"], ca=self.pki.ca_path, listen="[::1]:0").start()
        self.addCleanup(s.stop)
        self.assertEqual(s.listening["address"], "::1")
        c = harness.Client("::1", s.port)
        n = self.pki.node("six")
        doc = self.assertJson(n.register(c), 200, "register-response")
        self.assertEqual(doc["observed_address"], "::1")
        peers = self.assertJson(c.get("/v1/peers", n.auth()), 200, "peers-response")["peers"]
        self.assertEqual(peers[0]["observed_address"], "::1")


if __name__ == "__main__":
    harness.main()
