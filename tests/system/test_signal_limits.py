#!/usr/bin/python3
"""agentflow-signal limits and timing, each on a dedicated instance: TTL
eviction, per-IP rate limit, table size, configured body / address / label
limits and skew, --trust-proxy, a DER CRL.  Timing margins are wide: the
machine running this is shared and noisy."""

import os
import shutil
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


class SignalLimits(harness.SignalTest):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="af-signal-lim-")
        cls.pki = harness.Pki(cls.tmp.name)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def signal(self, *args, **kw):
        s = harness.Signal(list(args), ca=self.pki.ca_path, **kw).start()
        self.addCleanup(s.stop)
        return s

    def test_eviction_after_ttl(self):
        s = self.signal("--rate", "0", "--ttl", "3", "--heartbeat", "1", "--sweep-ms", "100")
        c = s.client()
        keeper, quiet = self.pki.node("keeper"), self.pki.node("quiet")
        rk = self.assertJson(keeper.register(c), 200, "register-response")
        self.assertEqual(rk["ttl_s"], 3)
        self.assertEqual(rk["heartbeat_s"], 1)
        t_reg = time.monotonic()
        self.assertJson(quiet.register(c), 200, "register-response")
        m0 = self.metrics(c)
        r0 = c.get("/v1/peers", keeper.auth())
        doc0 = self.assertJson(r0, 200, "peers-response")
        self.assertEqual(sorted(p["node_id"] for p in doc0["peers"]), ["keeper", "quiet"])

        stop = threading.Event()
        hb_errors = []

        def beat():
            while not stop.wait(0.25):
                r = c.request("POST", "/v1/heartbeat", b"", keeper.auth())
                if r.status != 200:
                    hb_errors.append(r)
        t = threading.Thread(target=beat, daemon=True)
        t.start()
        try:
            def gone():
                r = c.get("/v1/peers", keeper.auth())
                if r.status != 200:
                    return None
                ids = [p["node_id"] for p in r.json()["peers"]]
                return r if "quiet" not in ids else None
            r = harness.wait_until(gone, 20)
            waited = time.monotonic() - t_reg
        finally:
            stop.set()
            t.join(10)
        self.assertIsNotNone(r, "quiet was not evicted within 20 s of a 3 s TTL")
        self.assertGreaterEqual(waited, 2.9, "quiet was evicted before its TTL (%.2fs)" % waited)
        doc = self.assertJson(r, 200, "peers-response")
        self.assertEqual([p["node_id"] for p in doc["peers"]], ["keeper"],
                         "a heartbeating node must stay")
        self.assertEqual(hb_errors, [], "keeper's heartbeats were refused")
        self.assertNotEqual(doc["generation"], doc0["generation"], "eviction changes the generation")
        self.assertEqual(c.get("/v1/peers", dict(keeper.auth(), **{"If-None-Match": r0.header("ETag")})).status,
                         200, "a list cached before the eviction must not get 304")
        self.assertRefused(c.request("POST", "/v1/heartbeat", b"", quiet.auth()), "unknown_token")
        m1 = self.metrics(c)
        self.assertEqual(m1["agentflow_signal_evictions_total"] - m0["agentflow_signal_evictions_total"], 1)
        self.assertEqual(m1["agentflow_signal_nodes"], 1)
        self.assertEqual(self.assertJson(c.get("/healthz"), 200, "healthz-response")["nodes"], 1)
        # the evicted node registers again and is back
        self.assertJson(quiet.register(c), 200, "register-response")
        doc = self.assertJson(c.get("/v1/peers", quiet.auth()), 200, "peers-response")
        self.assertEqual(sorted(p["node_id"] for p in doc["peers"]), ["keeper", "quiet"])

    def test_rate_limit(self):
        s = self.signal("--rate", "5", "--burst", "5")
        c = s.client()
        statuses, limited = [], None
        started = time.monotonic()
        for _ in range(100):
            r = c.get("/healthz")
            statuses.append(r.status)
            if r.status == 429:
                limited = r
                break
        took = time.monotonic() - started
        self.assertIn(200, statuses)
        self.assertIsNotNone(limited, "no 429 after 100 quick requests at --rate 5 --burst 5 (%.1fs)" % took)
        self.assertLessEqual(statuses.count(200), 5 + 5 * took + 2,
                             "more requests served than --burst 5 + 5/s allows in %.1fs" % took)
        self.assertGreaterEqual(statuses.index(429), 5, "refused before the burst was spent: %r" % statuses)
        doc = self.assertRefused(limited, "rate_limited")
        self.assertTrue(doc["message"])
        retry = limited.header("Retry-After")
        self.assertIsNotNone(retry, "429 without Retry-After")
        self.assertRegex(retry.strip(), r"^\d+$", "Retry-After in seconds")
        self.assertGreaterEqual(int(retry), 1)
        self.assertLessEqual(int(retry), 60)
        # the bucket refills: after waiting, requests are served again
        ok = harness.wait_until(lambda: c.get("/healthz").status == 200, 15, interval=0.5)
        self.assertTrue(ok, "still rate limited 15 s later")
        # a signed registration goes through once the bucket has refilled
        time.sleep(1.5)
        n = self.pki.node("after-limit")
        r = n.register(c)
        self.assertJson(r, 200, "register-response")
        time.sleep(1.5)
        m = harness.wait_until(lambda: (lambda r: r if r.status == 200 else None)(c.get("/metrics")),
                               15, interval=0.5)
        self.assertTrue(m, "metrics still rate limited")
        mm = harness.parse_metrics(m.body.decode())
        self.assertGreaterEqual(mm['agentflow_signal_refusals_total{reason="rate_limited"}'], 1)

    def test_rate_zero_disables(self):
        s = self.signal("--rate", "0", "--burst", "1")
        c = s.client()
        for i in range(60):
            self.assertEqual(c.get("/healthz").status, 200, "request %d limited with --rate 0" % i)

    def test_table_full(self):
        s = self.signal("--rate", "0", "--max-nodes", "2")
        c = s.client()
        a, b, d = self.pki.node("full-a"), self.pki.node("full-b"), self.pki.node("full-c")
        self.assertJson(a.register(c), 200, "register-response")
        self.assertJson(b.register(c), 200, "register-response")
        before = self.table(c, a)
        self.assertRefused(d.register(c), "table_full")
        self.assertEqual(self.table(c, a), before, "table_full changed the table")
        self.assertJson(c.request("POST", "/v1/heartbeat", b"", b.auth()), 200, "heartbeat-response")
        # a full table still accepts a re-registration of a known node (it replaces)
        self.assertJson(a.register(c), 200, "register-response")
        m = self.metrics(c)
        self.assertGreaterEqual(m['agentflow_signal_refusals_total{reason="table_full"}'], 1)
        self.assertEqual(m["agentflow_signal_nodes"], 2)
        # room again after a leave
        self.assertJson(c.request("DELETE", "/v1/register", None, b.auth()), 200, "leave-response")
        self.assertJson(d.register(c), 200, "register-response")
        doc = self.assertJson(c.get("/v1/peers", d.auth()), 200, "peers-response")
        self.assertEqual(sorted(p["node_id"] for p in doc["peers"]), ["full-a", "full-c"])

    def test_configured_limits(self):
        s = self.signal("--rate", "0", "--max-body", "3000", "--max-addresses", "2",
                        "--max-labels", "1", "--skew", "5", "--ttl", "7", "--heartbeat", "3")
        c = s.client()
        n = self.pki.node("cfg")
        body, h = n.signed(version="x" * 32, labels={"k": "v" * 255}, addresses=["a:1"] * 2)
        body, h = n.signed(body=body + b" " * (3001 - len(body)))
        self.assertRefused(c.request("POST", "/v1/register", body, h), "body_too_large")
        self.assertRefused(n.register(c, addresses=["192.0.2.1:1"] * 3), "too_many_addresses")
        self.assertRefused(n.register(c, labels={"a": "1", "b": "2"}), "too_many_labels")
        self.assertRefused(n.register(c, timestamp=int(time.time()) - 120), "stale_timestamp")
        r = self.assertJson(n.register(c, addresses=["192.0.2.1:1"] * 2, labels={"a": "1"}),
                            200, "register-response")
        self.assertEqual(r["ttl_s"], 7)
        self.assertEqual(r["heartbeat_s"], 3)

    def test_trust_proxy(self):
        plain = self.signal("--rate", "0")
        n = self.pki.node("proxied")
        r = self.assertJson(n.register(plain.client()), 200, "register-response")
        self.assertEqual(r["observed_address"], "127.0.0.1")
        # without --trust-proxy the header is ignored
        body, h = n.signed()
        h["X-Forwarded-For"] = "198.51.100.7"
        r = self.assertJson(plain.client().request("POST", "/v1/register", body, h), 200, "register-response")
        self.assertEqual(r["observed_address"], "127.0.0.1", "X-Forwarded-For used without --trust-proxy")

        proxy = self.signal("--rate", "0", "--trust-proxy")
        c = proxy.client()
        body, h = n.signed()
        h["X-Forwarded-For"] = "198.51.100.7, 203.0.113.9"
        r = self.assertJson(c.request("POST", "/v1/register", body, h), 200, "register-response")
        self.assertEqual(r["observed_address"], "203.0.113.9", "the last X-Forwarded-For address")
        doc = self.assertJson(c.get("/v1/peers", n.auth(r["token"])), 200, "peers-response")
        self.assertEqual(doc["peers"][0]["observed_address"], "203.0.113.9")
        m = self.pki.node("proxied6")
        body, h = m.signed()
        h["X-Forwarded-For"] = "2001:db8::7"
        r = self.assertJson(c.request("POST", "/v1/register", body, h), 200, "register-response")
        self.assertEqual(r["observed_address"], "2001:db8::7")
        # and without the header, the socket's address
        r = self.assertJson(self.pki.node("direct").register(c), 200, "register-response")
        self.assertEqual(r["observed_address"], "127.0.0.1")

    def test_der_crl(self):
        tmp = tempfile.mkdtemp(prefix="af-signal-crl-")
        self.addCleanup(shutil.rmtree, tmp, True)
        pki = harness.Pki(tmp)
        bad, good = pki.node("der-revoked"), pki.node("der-good")
        pki.ca.revoke(bad.cert)
        crl = pki.write_crl("crl.der", encoding="der")
        s = harness.Signal(["--rate", "0", "--crl", crl], ca=pki.ca_path).start()
        self.addCleanup(s.stop)
        c = s.client()
        self.assertRefused(bad.register(c), "certificate_revoked")
        self.assertJson(good.register(c), 200, "register-response")

    def test_fresh_metrics(self):
        s = self.signal()
        m = self.metrics(s.client())
        for name in ("agentflow_signal_nodes", "agentflow_signal_registrations_total",
                     "agentflow_signal_heartbeats_total", "agentflow_signal_leaves_total",
                     "agentflow_signal_evictions_total"):
            self.assertEqual(m.get(name), 0, "%s on a fresh signal" % name)
        for result in ("200", "304"):
            self.assertEqual(m.get('agentflow_signal_list_requests_total{result="%s"}' % result), 0)
        for code in harness.ERROR_STATUS:
            key = 'agentflow_signal_refusals_total{reason="%s"}' % code
            self.assertEqual(m.get(key), 0, "%s must be present from start at 0" % key)

    def test_etag_does_not_survive_a_restart(self):
        """The ETag includes a per-start id: a restarted signal that reached
        the same generation never answers 304 to its previous life's list."""
        n = self.pki.node("restart")
        etags, gens = [], []
        for _ in range(2):
            s = harness.Signal(["--rate", "0"], ca=self.pki.ca_path).start()
            try:
                c = s.client()
                self.assertJson(n.register(c), 200, "register-response")
                if etags:
                    r = c.get("/v1/peers", dict(n.auth(), **{"If-None-Match": etags[0]}))
                    self.assertEqual(r.status, 200, "a new signal answered %d to an old ETag" % r.status)
                r = c.get("/v1/peers", n.auth())
                gens.append(self.assertJson(r, 200, "peers-response")["generation"])
                etags.append(r.header("ETag"))
            finally:
                self.assertEqual(s.stop(), 0)
        self.assertEqual(gens[0], gens[1], "same history, same generation")
        self.assertNotEqual(etags[0], etags[1])

    def test_crl_reloaded_when_the_file_changes(self):
        """--help: the CRL is re-read when its file changes; a broken new
        file leaves the old CRL in force."""
        tmp = tempfile.mkdtemp(prefix="af-signal-crl2-")
        self.addCleanup(shutil.rmtree, tmp, True)
        pki = harness.Pki(tmp)
        x, y = pki.node("crl-x"), pki.node("crl-y")
        crl = pki.write_crl()
        s = harness.Signal(["--rate", "0", "--crl", crl, "--sweep-ms", "100"], ca=pki.ca_path).start()
        self.addCleanup(s.stop)
        c = s.client()
        self.assertJson(x.register(c), 200, "register-response")
        pki.ca.revoke(x.cert)
        pki.write_crl()
        later = time.time() + 2
        os.utime(crl, (later, later))   # a new mtime even on coarse clocks
        refused = harness.wait_until(
            lambda: (lambda r: r if r.status == 403 else None)(x.register(c)), 15, interval=0.3)
        self.assertIsNotNone(refused, "a CRL rewritten while running was not picked up in 15 s")
        self.assertRefused(refused, "certificate_revoked")
        # a broken CRL file: the old one stays in force, the signal keeps going
        with open(crl, "wb") as f:
            f.write(b"garbage")
        later += 2
        os.utime(crl, (later, later))
        time.sleep(1.0)
        self.assertRefused(x.register(c), "certificate_revoked")
        self.assertJson(y.register(c), 200, "register-response")
        self.assertJson(c.get("/healthz"), 200, "healthz-response")


if __name__ == "__main__":
    harness.main()
