#!/usr/bin/python3
"""agentflow-signal serving HTTPS itself (--tls-cert / --tls-key): the whole
register / heartbeat / list / leave cycle driven by curl --cacert against the
signal's certificate, signed by the openssl CLI (a third, independent
implementation of the signed format), and by Python's ssl client."""

import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

CURL = shutil.which("curl")
OPENSSL = shutil.which("openssl")


class SignalTls(harness.SignalTest):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="af-signal-tls-")
        cls.pki = harness.Pki(cls.tmp.name)
        cert, key = cls.pki.server_cert()
        cls.sig = harness.Signal(["--rate", "0", "--tls-cert", cert, "--tls-key", key],
                                 ca=cls.pki.ca_path).start()
        cls.c = cls.sig.client(tls_ca=cls.pki.ca_path)

    @classmethod
    def tearDownClass(cls):
        cls.sig.stop()
        cls.tmp.cleanup()

    def curl(self, method, path, data_file=None, headers=(), cacert=None, check=True):
        """Returns (status, body bytes, curl exit code)."""
        out = os.path.join(self.tmp.name, "curl.out")
        argv = [CURL, "-sS", "--max-time", "15", "--cacert", cacert or self.pki.ca_path,
                "-X", method, "-o", out, "-w", "%{http_code}"]
        for h in headers:
            argv += ["-H", h]
        if data_file:
            argv += ["--data-binary", "@" + data_file]
        argv.append("https://127.0.0.1:%d%s" % (self.sig.port, path))
        p = subprocess.run(argv, capture_output=True, timeout=30)
        if check:
            self.assertEqual(p.returncode, 0, "curl failed: %s" % p.stderr.decode())
        body = b""
        if os.path.exists(out):
            with open(out, "rb") as f:
                body = f.read()
            os.unlink(out)
        return int(p.stdout or b"0"), body, p.returncode

    def curl_json(self, status, schema_name, *a, **kw):
        st, body, _ = self.curl(*a, **kw)
        self.assertEqual(st, status, "curl %r: %d %r" % (a, st, body[:300]))
        doc = json.loads(body)
        harness.validate(schema_name, doc)
        return doc

    def test_listening_says_https(self):
        self.assertEqual(self.sig.listening["scheme"], "https")

    def test_cycle_with_curl_and_openssl_signature(self):
        self.assertTrue(CURL and OPENSSL, "curl and openssl are needed")
        node = self.pki.node("curl-node")
        d = self.tmp.name
        key = self.pki.write("curl-node.key", harness.key_pem(node.key), 0o600)
        body_path = self.pki.write("body.json", node.body(labels={"via": "curl"}))
        sig_path = os.path.join(d, "body.sig")
        subprocess.run([OPENSSL, "dgst", "-sha256", "-sign", key, "-out", sig_path, body_path],
                       check=True, capture_output=True, timeout=30)
        with open(sig_path, "rb") as f:
            sig = base64.b64encode(f.read()).decode()
        reg = self.curl_json(200, "register-response", "POST", "/v1/register", body_path,
                             ["X-AgentFlow-Signature: " + sig, "Content-Type: application/json"])
        self.assertEqual(reg["observed_address"], "127.0.0.1")
        auth = "Authorization: Bearer " + reg["token"]
        hb = self.curl_json(200, "heartbeat-response", "POST", "/v1/heartbeat", None, [auth])
        self.assertEqual(hb["generation"], reg["generation"])
        peers = self.curl_json(200, "peers-response", "GET", "/v1/peers", None, [auth])
        me = [p for p in peers["peers"] if p["node_id"] == "curl-node"]
        self.assertEqual(len(me), 1)
        self.assertEqual(me[0]["labels"], {"via": "curl"})
        self.assertEqual(me[0]["cert_fingerprint"], node.fingerprint)
        health = self.curl_json(200, "healthz-response", "GET", "/healthz")
        self.assertGreaterEqual(health["nodes"], 1)
        st, body, _ = self.curl("GET", "/metrics")
        self.assertEqual(st, 200)
        self.assertIn(b"agentflow_signal_registrations_total", body)
        left = self.curl_json(200, "leave-response", "DELETE", "/v1/register", None, [auth])
        self.assertEqual(left, {"node_id": "curl-node", "left": True})
        err = self.curl_json(401, "error", "POST", "/v1/heartbeat", None, [auth])
        self.assertEqual(err["error"], "unknown_token")

    def test_curl_refuses_other_ca(self):
        st, body, rc = self.curl("GET", "/healthz", cacert=self.pki.other_ca_path, check=False)
        self.assertNotEqual(rc, 0, "curl accepted the signal's certificate with another CA")
        self.assertEqual(rc, 60, "expected curl's certificate-verify failure (60), got %d" % rc)
        # the signal is fine afterwards
        self.curl_json(200, "healthz-response", "GET", "/healthz")

    def test_python_client_cycle(self):
        a, b = self.pki.node("tls-a"), self.pki.node("tls-b")
        ra = self.assertJson(a.register(self.c), 200, "register-response")
        self.assertEqual(ra["observed_address"], "127.0.0.1")
        self.assertJson(b.register(self.c), 200, "register-response")
        r = self.c.get("/v1/peers", a.auth())
        doc = self.assertJson(r, 200, "peers-response")
        self.assertTrue({"tls-a", "tls-b"} <= {p["node_id"] for p in doc["peers"]})
        r304 = self.c.get("/v1/peers", dict(a.auth(), **{"If-None-Match": r.header("ETag")}))
        self.assertEqual(r304.status, 304)
        # refusals over TLS are JSON too
        body, h = b.signed()
        h["X-AgentFlow-Signature"] = harness.sign(a.key, body)
        self.assertRefused(self.c.request("POST", "/v1/register", body, h), "bad_signature")
        self.assertJson(self.c.request("POST", "/v1/heartbeat", b"", b.auth()), 200, "heartbeat-response")
        self.assertJson(self.c.request("DELETE", "/v1/register", None, a.auth()), 200, "leave-response")
        self.assertJson(self.c.request("DELETE", "/v1/register", None, b.auth()), 200, "leave-response")

    def test_plain_http_to_https_port_is_refused_and_harmless(self):
        plain = harness.Client("127.0.0.1", self.sig.port)
        try:
            r = plain.get("/healthz")
            self.assertNotEqual(r.status, 200, "plain HTTP answered on the HTTPS port")
        except Exception:
            pass  # connection closed / TLS alert: fine
        self.assertJson(self.c.get("/healthz"), 200, "healthz-response")

    def test_stalled_handshakes_do_not_block_others(self):
        import socket
        import time
        socks = []
        try:
            for i in range(20):
                s = socket.create_connection(("127.0.0.1", self.sig.port), timeout=5)
                if i % 2:
                    s.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")  # half a ClientHello
                socks.append(s)
            started = time.monotonic()
            self.assertJson(self.c.get("/healthz"), 200, "healthz-response")
            self.assertLess(time.monotonic() - started, 5, "stalled TLS clients slowed the signal down")
        finally:
            for s in socks:
                s.close()
        self.assertJson(self.c.get("/healthz"), 200, "healthz-response")

    def test_garbage_handshake_is_harmless(self):
        import socket
        for payload in (b"\x16\x03\x01\x00\x05hello", b"\x00" * 100, b""):
            s = socket.create_connection(("127.0.0.1", self.sig.port), timeout=5)
            try:
                s.sendall(payload)
                s.shutdown(socket.SHUT_WR)
                s.recv(1024)
            except OSError:
                pass  # the signal may drop the connection at once: fine
            finally:
                s.close()
        self.assertJson(self.c.get("/healthz"), 200, "healthz-response")


if __name__ == "__main__":
    harness.main()
