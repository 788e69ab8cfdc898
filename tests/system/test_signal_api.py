#!/usr/bin/python3
"""agentflow-signal over plain HTTP on loopback: register, heartbeat, list,
leave; ETag / 304; re-registration; observed address; /healthz, /metrics;
404 / 405; JSON Schemas on every reply; logs."""

import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import DROP  # noqa: E402


class SignalApi(harness.SignalTest):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="af-signal-api-")
        cls.pki = harness.Pki(cls.tmp.name)
        cls.sig = harness.Signal(["--rate", "0"], ca=cls.pki.ca_path).start()
        cls.c = cls.sig.client()

    @classmethod
    def tearDownClass(cls):
        cls.sig.stop()
        cls.tmp.cleanup()

    def register(self, node, **over):
        r = node.register(self.c, **over)
        return self.assertJson(r, 200, "register-response")

    def peers(self, node, headers=None):
        h = node.auth()
        h.update(headers or {})
        return self.c.get("/v1/peers", h)

    def test_listening_log_line(self):
        ln = self.sig.listening
        self.assertEqual(ln["address"], "127.0.0.1")
        self.assertEqual(ln["scheme"], "http")
        self.assertEqual(ln["component"], "signal")
        self.assertIn(ln["level"], ("info", "debug"))
        self.assertIn("ts", ln)
        self.assertGreater(ln["port"], 0)

    def test_full_lifecycle(self):
        a = self.pki.node("life-a")
        b = self.pki.node("life-b")
        ra = self.register(a, addresses=["192.0.2.10:50051", "[2001:db8::10]:50051"],
                           labels={"role": "storage", "zone/x": "eu-1"}, version="0.1.0")
        self.assertEqual(ra["node_id"], "life-a")
        self.assertEqual(ra["ttl_s"], 30)
        self.assertEqual(ra["heartbeat_s"], 10)
        self.assertEqual(ra["observed_address"], "127.0.0.1")
        t0 = int(time.time() * 1000)
        rb = self.register(b, addresses=DROP, labels=DROP, version=DROP)
        self.assertEqual(rb["observed_address"], "127.0.0.1")
        self.assertNotEqual(ra["token"], rb["token"])
        self.assertNotEqual(rb["generation"], ra["generation"], "a registration changes the generation")

        hb = self.assertJson(self.c.request("POST", "/v1/heartbeat", b"", a.auth()),
                             200, "heartbeat-response")
        self.assertEqual(hb["ttl_s"], 30)
        self.assertEqual(hb["generation"], rb["generation"])

        r = self.peers(a)
        doc = self.assertJson(r, 200, "peers-response")
        self.assertTrue(r.header("ETag"), "peers reply without ETag")
        self.assertEqual(doc["generation"], rb["generation"])
        by_id = {p["node_id"]: p for p in doc["peers"]}
        self.assertIn("life-a", by_id, "the caller itself is included")
        self.assertIn("life-b", by_id)
        pa, pb = by_id["life-a"], by_id["life-b"]
        self.assertEqual(pa["addresses"], ["192.0.2.10:50051", "[2001:db8::10]:50051"])
        self.assertEqual(pa["labels"], {"role": "storage", "zone/x": "eu-1"})
        self.assertEqual(pa.get("version"), "0.1.0")
        self.assertEqual(pa["observed_address"], "127.0.0.1")
        self.assertEqual(pa["cert_fingerprint"], a.fingerprint)
        self.assertEqual(pb["cert_fingerprint"], b.fingerprint)
        self.assertEqual(pb["addresses"], [])
        self.assertEqual(pb["labels"], {})
        now = int(time.time() * 1000)
        for p in (pa, pb):
            self.assertLess(abs(p["registered_at"] - t0), 60000, "registered_at is Unix ms: %r" % p)
            self.assertGreaterEqual(p["last_seen"], p["registered_at"])
            self.assertLessEqual(p["last_seen"], now + 5000)
        self.assertGreaterEqual(pa["last_seen"], pa["registered_at"])

        # b sees the same list
        doc_b = self.assertJson(self.peers(b), 200, "peers-response")
        self.assertEqual(sorted(p["node_id"] for p in doc_b["peers"]),
                         sorted(p["node_id"] for p in doc["peers"]))

        # leave
        lv = self.assertJson(self.c.request("DELETE", "/v1/register", None, b.auth()),
                             200, "leave-response")
        self.assertEqual(lv, {"node_id": "life-b", "left": True})
        self.assertRefused(self.c.request("POST", "/v1/heartbeat", b"", b.auth()), "unknown_token")
        self.assertRefused(self.peers(b), "unknown_token")
        self.assertRefused(self.c.request("DELETE", "/v1/register", None, b.auth()), "unknown_token")
        doc2 = self.assertJson(self.peers(a), 200, "peers-response")
        ids = [p["node_id"] for p in doc2["peers"]]
        self.assertNotIn("life-b", ids)
        self.assertIn("life-a", ids)
        self.assertNotEqual(doc2["generation"], doc["generation"], "a leave changes the generation")
        self.assertJson(self.c.request("DELETE", "/v1/register", None, a.auth()), 200, "leave-response")

    def test_heartbeat_moves_last_seen_not_generation(self):
        a = self.pki.node("hb-a")
        ra = self.register(a)
        p1 = {p["node_id"]: p for p in self.assertJson(self.peers(a), 200, "peers-response")["peers"]}["hb-a"]
        time.sleep(0.05)
        hb = self.assertJson(self.c.request("POST", "/v1/heartbeat", None, a.auth()), 200, "heartbeat-response")

        # The signal may serve a rendering of the list up to about a second
        # old while membership is unchanged (API.md: last_seen may be old),
        # but a heartbeat's last_seen must show within a few seconds.
        def refreshed():
            d = self.assertJson(self.peers(a), 200, "peers-response")
            p = {p["node_id"]: p for p in d["peers"]}["hb-a"]
            return (d, p) if p["last_seen"] > p1["last_seen"] else None
        got = harness.wait_until(refreshed, 5, interval=0.2)
        self.assertIsNotNone(got, "a heartbeat's last_seen did not show in the list within 5 s")
        doc, p2 = got
        self.assertEqual(p2["registered_at"], p1["registered_at"])
        self.assertEqual(hb["generation"], doc["generation"])
        self.assertGreaterEqual(doc["generation"], ra["generation"])
        # a heartbeat with a body (ignored up to the body limit)
        self.assertJson(self.c.request("POST", "/v1/heartbeat", b'{"anything": 1}', a.auth()),
                        200, "heartbeat-response")
        self.c.request("DELETE", "/v1/register", None, a.auth())

    def test_etag_304(self):
        a = self.pki.node("etag-a")
        self.register(a)
        r1 = self.peers(a)
        self.assertJson(r1, 200, "peers-response")
        etag = r1.header("ETag")
        self.assertTrue(etag)
        r2 = self.peers(a, {"If-None-Match": etag})
        self.assertEqual(r2.status, 304, repr(r2))
        self.assertEqual(r2.body, b"", "304 has no body")
        # heartbeats do not change the list
        self.assertJson(self.c.request("POST", "/v1/heartbeat", b"", a.auth()), 200, "heartbeat-response")
        self.assertEqual(self.peers(a, {"If-None-Match": etag}).status, 304)
        # a wrong / foreign ETag gets the list
        r3 = self.peers(a, {"If-None-Match": '"not-the-etag"'})
        self.assertJson(r3, 200, "peers-response")
        # a change: 200 with a new ETag and generation
        b = self.pki.node("etag-b")
        self.register(b)
        r4 = self.peers(a, {"If-None-Match": etag})
        doc4 = self.assertJson(r4, 200, "peers-response")
        self.assertNotEqual(r4.header("ETag"), etag)
        self.assertIn("etag-b", [p["node_id"] for p in doc4["peers"]])
        self.assertEqual(self.peers(a, {"If-None-Match": r4.header("ETag")}).status, 304)
        # a leave is a change too
        self.c.request("DELETE", "/v1/register", None, b.auth())
        r5 = self.peers(a, {"If-None-Match": r4.header("ETag")})
        self.assertJson(r5, 200, "peers-response")
        # so is a re-registration with a new certificate, even with the same
        # addresses and labels: the listed fingerprint changes
        a2 = self.pki.node("etag-a")
        self.assertJson(a2.register(self.c, addresses=a.body_dict()["addresses"],
                                    labels=a.body_dict()["labels"]), 200, "register-response")
        r6 = self.peers(a2, {"If-None-Match": r5.header("ETag")})
        doc6 = self.assertJson(r6, 200, "peers-response")
        self.assertEqual([p["cert_fingerprint"] for p in doc6["peers"] if p["node_id"] == "etag-a"],
                         [a2.fingerprint])
        self.c.request("DELETE", "/v1/register", None, a2.auth())

    def test_reregister_replaces_and_invalidates_old_token(self):
        a = self.pki.node("rereg-a")
        r1 = self.register(a, addresses=["192.0.2.1:1"])
        old = r1["token"]
        r2 = self.register(a, addresses=["192.0.2.2:2"])
        self.assertNotEqual(old, r2["token"])
        self.assertRefused(self.c.request("POST", "/v1/heartbeat", b"", a.auth(old)), "unknown_token")
        doc = self.assertJson(self.peers(a), 200, "peers-response")
        mine = [p for p in doc["peers"] if p["node_id"] == "rereg-a"]
        self.assertEqual(len(mine), 1, "one entry per node id: %r" % mine)
        self.assertEqual(mine[0]["addresses"], ["192.0.2.2:2"])
        # a re-registration with a new key / certificate for the same id replaces it too
        a2 = self.pki.node("rereg-a")
        self.assertJson(a2.register(self.c), 200, "register-response")
        doc = self.assertJson(self.peers(a2), 200, "peers-response")
        mine = [p for p in doc["peers"] if p["node_id"] == "rereg-a"]
        self.assertEqual([p["cert_fingerprint"] for p in mine], [a2.fingerprint])
        self.assertRefused(self.peers(a), "unknown_token")
        self.c.request("DELETE", "/v1/register", None, a2.auth())

    def test_exact_limits_accepted(self):
        a = self.pki.node("a" * 63)
        self.register(a, addresses=["192.0.2.%d:%d" % (i, 1000 + i) for i in range(8)],
                      labels={("k%02d" % i): "v" * 255 for i in range(16)},
                      version="v" * 32, nonce="n" * 128)
        doc = self.assertJson(self.peers(a), 200, "peers-response")
        me = [p for p in doc["peers"] if p["node_id"] == "a" * 63][0]
        self.assertEqual(len(me["addresses"]), 8)
        self.assertEqual(len(me["labels"]), 16)
        self.c.request("DELETE", "/v1/register", None, a.auth())
        b = self.pki.node("b.x_y-1")
        self.register(b, nonce="A" * 16, timestamp=int(time.time()) - 200)
        self.c.request("DELETE", "/v1/register", None, b.auth())

    def test_signature_with_whitespace_and_key_order(self):
        """The signature covers the exact bytes; any JSON layout is fine."""
        a = self.pki.node("layout-a")
        d = a.body_dict()
        body = ("{\n  " + ",\n  ".join("%s : %s" % (json.dumps(k), json.dumps(v))
                                       for k, v in reversed(list(d.items()))) + "\n}\n").encode()
        body, h = a.signed(body=body)
        r = self.c.request("POST", "/v1/register", body, h)
        doc = self.assertJson(r, 200, "register-response")
        self.c.request("DELETE", "/v1/register", None, a.auth(doc["token"]))

    def test_healthz(self):
        doc = self.assertJson(self.c.get("/healthz"), 200, "healthz-response")
        self.assertEqual(doc["status"], "ok")
        self.assertEqual(doc["version"], "0.1.0")
        a = self.pki.node("health-a")
        before = doc["nodes"]
        self.register(a)
        doc2 = self.assertJson(self.c.get("/healthz"), 200, "healthz-response")
        self.assertEqual(doc2["nodes"], before + 1)
        self.assertGreaterEqual(doc2["uptime_s"], doc["uptime_s"])
        self.c.request("DELETE", "/v1/register", None, a.auth())
        doc3 = self.assertJson(self.c.get("/healthz"), 200, "healthz-response")
        self.assertEqual(doc3["nodes"], before)

    def test_metrics(self):
        m0 = self.metrics(self.c)
        for name in ("agentflow_signal_nodes", "agentflow_signal_registrations_total",
                     "agentflow_signal_heartbeats_total", "agentflow_signal_leaves_total",
                     "agentflow_signal_evictions_total"):
            self.assertIn(name, m0, "missing metric %s" % name)
        for code in harness.ERROR_STATUS:
            key = 'agentflow_signal_refusals_total{reason="%s"}' % code
            self.assertIn(key, m0, "missing series %s (present from start at 0)" % key)
        a = self.pki.node("metrics-a")
        self.register(a)
        self.c.request("POST", "/v1/heartbeat", b"", a.auth())
        self.c.request("POST", "/v1/heartbeat", b"", a.auth())
        r = self.peers(a)
        self.peers(a, {"If-None-Match": r.header("ETag")})
        self.c.request("POST", "/v1/heartbeat", b"", {"Authorization": "Bearer " + "0" * 64})
        self.c.get("/no/such/path")
        self.c.request("DELETE", "/v1/register", None, a.auth())
        m1 = self.metrics(self.c)

        def delta(k):
            return m1.get(k, 0) - m0.get(k, 0)
        self.assertEqual(delta("agentflow_signal_registrations_total"), 1)
        self.assertEqual(delta("agentflow_signal_heartbeats_total"), 2)
        self.assertEqual(delta("agentflow_signal_leaves_total"), 1)
        self.assertEqual(delta('agentflow_signal_list_requests_total{result="200"}'), 1)
        self.assertEqual(delta('agentflow_signal_list_requests_total{result="304"}'), 1)
        self.assertEqual(delta('agentflow_signal_refusals_total{reason="unknown_token"}'), 1)
        self.assertEqual(delta('agentflow_signal_refusals_total{reason="not_found"}'), 1)
        self.assertEqual(m1["agentflow_signal_nodes"], m0["agentflow_signal_nodes"])

    def test_not_found(self):
        for method, path in (("GET", "/"), ("GET", "/v1/nope"), ("POST", "/v2/register"),
                             ("GET", "/v1/registerx"), ("GET", "/healthz/extra")):
            with self.subTest(method=method, path=path):
                self.assertRefused(self.c.request(method, path), "not_found")

    def test_method_not_allowed(self):
        cases = (("GET", "/v1/register", {"POST", "DELETE"}),
                 ("PUT", "/v1/register", {"POST", "DELETE"}),
                 ("GET", "/v1/heartbeat", {"POST"}),
                 ("POST", "/v1/peers", {"GET"}),
                 ("DELETE", "/v1/peers", {"GET"}),
                 ("POST", "/healthz", {"GET"}),
                 ("POST", "/metrics", {"GET"}))
        for method, path, allowed in cases:
            with self.subTest(method=method, path=path):
                r = self.c.request(method, path, b"" if method in ("POST", "PUT") else None)
                self.assertRefused(r, "method_not_allowed")
                allow = {m.strip().upper() for m in (r.header("Allow") or "").split(",") if m.strip()}
                # HEAD may be allowed with GET
                self.assertEqual(allow - {"HEAD"}, allowed, "Allow header of %s %s: %r"
                                 % (method, path, r.header("Allow")))

    def test_query_string_ignored(self):
        self.assertJson(self.c.get("/healthz?x=1"), 200, "healthz-response")

    def test_logs_are_json_and_never_carry_tokens(self):
        a = self.pki.node("log-a")
        tok = self.register(a)["token"]
        self.c.request("POST", "/v1/heartbeat", b"", a.auth())
        self.c.request("DELETE", "/v1/register", None, a.auth())
        time.sleep(0.2)
        for entry in self.sig.logs():
            self.assertNotIn("raw", entry, "non-JSON log line: %r" % entry.get("raw"))
            for k in ("ts", "level", "component", "msg"):
                self.assertIn(k, entry, "log line without %s: %r" % (k, entry))
        self.assertNotIn(tok, self.sig.stderr(), "a session token was written to the log")


if __name__ == "__main__":
    harness.main()
