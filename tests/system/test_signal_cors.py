#!/usr/bin/python3
"""agentflow-signal --cors-origins: off by default (no CORS header for
anyone); when set, a listed origin gets Access-Control-Allow-Origin and its
preflight is answered, an unlisted origin gets no CORS header and its
preflight is refused like any OPTIONS; a malformed list stops the start."""

import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

LISTED = "https://dash.example:8443"
OTHER = "https://evil.example"
CORS = "Access-Control-Allow-Origin"


class SignalCors(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="af-signal-cors-")
        cls.pki = harness.Pki(cls.tmp.name)
        cls.sig = harness.Signal(["--rate", "0", "--cors-origins",
                                  "http://localhost:5173, " + LISTED],
                                 ca=cls.pki.ca_path).start()
        cls.plain = harness.Signal(["--rate", "0"], ca=cls.pki.ca_path).start()

    @classmethod
    def tearDownClass(cls):
        cls.sig.stop()
        cls.plain.stop()
        cls.tmp.cleanup()

    def preflight(self, sig, origin, path="/v1/register", method="POST"):
        return sig.client().request("OPTIONS", path, None, {
            "Origin": origin, "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "content-type, x-agentflow-signature"})

    def test_listed_origin_gets_the_header(self):
        r = self.sig.client().get("/healthz", {"Origin": LISTED})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header(CORS), LISTED)
        self.assertIn("Origin", r.header("Vary") or "")
        # errors too: a browser page can read why it was refused
        r = self.sig.client().get("/v1/peers", {"Origin": LISTED})
        self.assertEqual(r.status, 401, r)
        self.assertEqual(r.header(CORS), LISTED)

    def test_unlisted_origin_gets_none(self):
        for origin in (OTHER, LISTED + "/", "https://dash.example", "null"):
            r = self.sig.client().get("/healthz", {"Origin": origin})
            self.assertEqual(r.status, 200, r)
            self.assertIsNone(r.header(CORS), origin)
        r = self.sig.client().get("/healthz")
        self.assertIsNone(r.header(CORS))

    def test_preflight(self):
        r = self.preflight(self.sig, LISTED)
        self.assertEqual(r.status, 204, r)
        self.assertEqual(r.header(CORS), LISTED)
        self.assertEqual(r.header("Access-Control-Allow-Methods"), "POST, DELETE")
        self.assertIn("X-AgentFlow-Signature", r.header("Access-Control-Allow-Headers"))
        r = self.preflight(self.sig, "http://LOCALHOST:5173", "/v1/peers", "GET")
        self.assertEqual(r.status, 204, r)
        self.assertEqual(r.header("Access-Control-Allow-Methods"), "GET")
        # an unlisted origin: no CORS, the usual 405
        r = self.preflight(self.sig, OTHER)
        self.assertEqual(r.status, 405, r)
        self.assertIsNone(r.header(CORS))
        self.assertIsNone(r.header("Access-Control-Allow-Methods"))
        # an unknown path is not pre-approved
        r = self.preflight(self.sig, LISTED, "/v1/nothing")
        self.assertEqual(r.status, 404, r)

    def test_off_by_default(self):
        r = self.plain.client().get("/healthz", {"Origin": LISTED})
        self.assertEqual(r.status, 200, r)
        self.assertIsNone(r.header(CORS))
        r = self.preflight(self.plain, LISTED)
        self.assertEqual(r.status, 405, r)
        self.assertIsNone(r.header(CORS))

    def test_malformed_list_stops_the_start(self):
        for bad in ("dash.example", "https://dash.example/app", "ftp://x"):
            p = subprocess.run([harness.SIGNAL_BIN, "--ca", self.pki.ca_path,
                                "--listen", "127.0.0.1:0", "--cors-origins", bad],
                               capture_output=True, text=True, timeout=10)
            self.assertEqual(p.returncode, 2, (bad, p.stderr))
            self.assertIn("--cors-origins", p.stderr)


if __name__ == "__main__":
    unittest.main()
