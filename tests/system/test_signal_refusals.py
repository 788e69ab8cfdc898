#!/usr/bin/python3
"""Every refusal of agentflow-signal: exact status, error code and a clear
message; afterwards the signal still serves a valid request and the table
is unchanged.  Bodies are signed by harness.py's Python signer."""

import base64
import datetime
import json
import os
import secrets
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import DROP  # noqa: E402


class SignalRefusals(harness.SignalTest):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="af-signal-ref-")
        cls.pki = harness.Pki(cls.tmp.name)
        cls.revoked = cls.pki.node("revoked-node")
        cls.pki.ca.revoke(cls.revoked.cert)
        crl = cls.pki.write_crl()
        cls.sig = harness.Signal(["--rate", "0", "--crl", crl], ca=cls.pki.ca_path).start()
        cls.c = cls.sig.client()
        # a witness whose view of the table must not change on refusals
        cls.witness = cls.pki.node("witness")
        r = cls.witness.register(cls.c)
        assert r.status == 200, r

    @classmethod
    def tearDownClass(cls):
        cls.sig.stop()
        cls.tmp.cleanup()

    def setUp(self):
        self.before = self.table(self.c, self.witness)
        self.m_before = self.metrics(self.c)

    def post_register(self, body, headers):
        return self.c.request("POST", "/v1/register", body, headers)

    def refused(self, r, code, mentions=None):
        """Assert the refusal, that the table did not change, that the
        refusal was counted, and that the signal still serves."""
        doc = self.assertRefused(r, code, mentions=mentions)
        self.assertEqual(self.table(self.c, self.witness), self.before,
                         "a refused request (%s) changed the table" % code)
        self.assertJson(self.c.request("POST", "/v1/heartbeat", b"", self.witness.auth()),
                        200, "heartbeat-response")
        self.assertJson(self.c.get("/healthz"), 200, "healthz-response")
        m = self.metrics(self.c)
        key = 'agentflow_signal_refusals_total{reason="%s"}' % code
        self.assertGreaterEqual(m.get(key, 0) - self.m_before.get(key, 0), 1,
                                "%s not counted in /metrics" % key)
        return doc

    # ------------------------------------------------------------ signature

    def test_unsigned(self):
        n = self.pki.node("unsigned")
        r = self.post_register(n.body(), {"Content-Type": "application/json"})
        self.refused(r, "missing_signature")

    def test_empty_signature_header(self):
        n = self.pki.node("unsigned2")
        r = self.post_register(n.body(), {"X-AgentFlow-Signature": ""})
        self.assertIn(r.status, (401,), repr(r))
        self.assertIn(r.json().get("error"), ("missing_signature", "bad_signature"), repr(r))
        self.refused(r, r.json()["error"])

    def test_bad_signature_other_bytes(self):
        n = self.pki.node("badsig")
        body = n.body()
        sig = harness.sign(n.key, body + b" ")
        r = self.post_register(body, {"X-AgentFlow-Signature": sig})
        self.refused(r, "bad_signature")

    def test_bad_signature_wrong_key(self):
        n = self.pki.node("badsig2")
        other = self.pki.node("someone")
        body = n.body()
        r = self.post_register(body, {"X-AgentFlow-Signature": harness.sign(other.key, body)})
        self.refused(r, "bad_signature")

    def test_bad_signature_tampered_body(self):
        n = self.pki.node("tampered")
        body, h = n.signed(addresses=["192.0.2.1:1"])
        body = body.replace(b"192.0.2.1:1", b"192.0.2.9:1")
        self.refused(self.post_register(body, h), "bad_signature")

    def test_malformed_signature(self):
        n = self.pki.node("malsig")
        body = n.body()
        for sig in ("!!!not base64!!!", base64.b64encode(b"\x30\x03\x02\x01").decode(),
                    base64.b64encode(secrets.token_bytes(70)).decode()):
            with self.subTest(sig=sig):
                self.refused(self.post_register(body, {"X-AgentFlow-Signature": sig}), "bad_signature")

    # ------------------------------------------------------------ certificate

    def test_other_ca(self):
        n = self.pki.node("stranger", ca=self.pki.other)
        body, h = n.signed()
        self.refused(self.post_register(body, h), "bad_certificate")

    def test_other_ca_with_mesh_ca_appended(self):
        n = self.pki.node("stranger2", ca=self.pki.other)
        n.chain = harness.cert_pem(self.pki.ca.cert).decode()
        body, h = n.signed()
        self.refused(self.post_register(body, h), "bad_certificate")

    def test_self_signed_leaf(self):
        # a self-signed certificate (a CA of its own) presented as the node's
        ca = harness.CA("self-signed")
        n = harness.Node("self-signed", ca.cert, ca.key)
        body, h = n.signed()
        self.refused(self.post_register(body, h), "bad_certificate")

    def test_not_p256(self):
        from cryptography.hazmat.primitives.asymmetric import ec
        key = ec.generate_private_key(ec.SECP384R1())
        cert, _ = self.pki.ca.issue("p384-node", key=key)
        n = harness.Node("p384-node", cert, key)
        body, h = n.signed()
        # Either check may come first: the certificate's key is not P-256
        # (bad_certificate), or its P-384 signature is not a P-256 one
        # (bad_signature).  Refused either way.
        r = self.post_register(body, h)
        self.assertIn(r.json().get("error"), ("bad_certificate", "bad_signature"), repr(r))
        self.refused(r, r.json()["error"])

    def test_intermediate_chain(self):
        inter = harness.CA("AgentFlow test intermediate", parent=self.pki.ca)
        n = self.pki.node("via-inter", ca=inter)
        self.assertIn("BEGIN CERTIFICATE", n.chain)
        doc = self.assertJson(n.register(self.c), 200, "register-response")
        peers = self.assertJson(self.c.get("/v1/peers", n.auth()), 200, "peers-response")["peers"]
        me = [p for p in peers if p["node_id"] == "via-inter"]
        self.assertEqual([p["cert_fingerprint"] for p in me], [n.fingerprint],
                         "fingerprint is the leaf's, not the intermediate's")
        self.c.request("DELETE", "/v1/register", None, n.auth(doc["token"]))
        self.before = self.table(self.c, self.witness)
        # without the intermediate the leaf does not chain
        m = self.pki.node("via-inter2", ca=inter)
        m.chain = ""
        body, h = m.signed()
        self.refused(self.post_register(body, h), "bad_certificate")

    def test_unparsable_cert(self):
        n = self.pki.node("garbage-cert")
        body, h = n.signed(cert="-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
        self.refused(self.post_register(body, h), "bad_certificate")

    def test_identity_mismatch_cn(self):
        n = self.pki.node("claimed", cn="actual")
        body, h = n.signed()
        self.refused(self.post_register(body, h), "identity_mismatch")

    def test_identity_mismatch_san(self):
        # CN matches but it is not among the DNS SANs
        n = self.pki.node("sanless", dns_sans=["somebody-else"])
        body, h = n.signed()
        self.refused(self.post_register(body, h), "identity_mismatch")

    def test_expired(self):
        now = datetime.datetime.utcnow()
        n = self.pki.node("expired", not_before=now - datetime.timedelta(days=10),
                          not_after=now - datetime.timedelta(days=1))
        body, h = n.signed()
        self.refused(self.post_register(body, h), "certificate_expired")

    def test_not_yet_valid(self):
        now = datetime.datetime.utcnow()
        n = self.pki.node("future", not_before=now + datetime.timedelta(days=1),
                          not_after=now + datetime.timedelta(days=10))
        body, h = n.signed()
        self.refused(self.post_register(body, h), "certificate_expired")

    def test_revoked(self):
        body, h = self.revoked.signed()
        self.refused(self.post_register(body, h), "certificate_revoked")

    # ------------------------------------------------------------ freshness

    def test_stale_timestamp_past(self):
        n = self.pki.node("stale")
        body, h = n.signed(timestamp=int(time.time()) - 3600)
        self.refused(self.post_register(body, h), "stale_timestamp")

    def test_stale_timestamp_future(self):
        n = self.pki.node("stale2")
        body, h = n.signed(timestamp=int(time.time()) + 3600)
        self.refused(self.post_register(body, h), "stale_timestamp")

    def test_replayed_nonce(self):
        n = self.pki.node("replay")
        body, h = n.signed()
        first = self.post_register(body, h)
        doc = self.assertJson(first, 200, "register-response")
        self.before = self.table(self.c, self.witness)
        self.refused(self.post_register(body, h), "replayed_nonce")
        # the replay did not replace the entry: the first token still works
        self.assertJson(self.c.request("POST", "/v1/heartbeat", b"", n.auth(doc["token"])),
                        200, "heartbeat-response")
        # same nonce, new timestamp (a fresh signature): still a replay
        body2, h2 = n.signed(nonce=json.loads(body)["nonce"], timestamp=int(time.time()) + 1)
        self.refused(self.post_register(body2, h2), "replayed_nonce")
        # another node may use the same nonce
        m = self.pki.node("replay-other")
        body3, h3 = m.signed(nonce=json.loads(body)["nonce"])
        doc3 = self.assertJson(self.post_register(body3, h3), 200, "register-response")
        self.c.request("DELETE", "/v1/register", None, m.auth(doc3["token"]))
        self.c.request("DELETE", "/v1/register", None, n.auth(doc["token"]))

    def test_refused_attempt_does_not_burn_the_nonce(self):
        """A forged attempt carrying a node's nonce (bad signature) must not
        make the node's genuine registration look like a replay."""
        n = self.pki.node("nonce-burn")
        body, h = n.signed()
        forged = {"X-AgentFlow-Signature": harness.sign(self.pki.node("mallory").key, body)}
        self.refused(self.post_register(body, forged), "bad_signature")
        doc = self.assertJson(self.post_register(body, h), 200, "register-response")
        self.c.request("DELETE", "/v1/register", None, n.auth(doc["token"]))

    def test_replay_after_leave(self):
        """A captured registration cannot bring a node back after it left."""
        n = self.pki.node("replay-left")
        body, h = n.signed()
        doc = self.assertJson(self.post_register(body, h), 200, "register-response")
        self.assertJson(self.c.request("DELETE", "/v1/register", None, n.auth(doc["token"])),
                        200, "leave-response")
        self.before = self.table(self.c, self.witness)
        self.refused(self.post_register(body, h), "replayed_nonce")

    # ------------------------------------------------------------ body

    def test_oversized_body(self):
        n = self.pki.node("big")
        body, h = n.signed(version="x" * 20000)
        self.assertGreater(len(body), 16384)
        self.refused(self.post_register(body, h), "body_too_large")

    def test_oversized_heartbeat_body(self):
        r = self.c.request("POST", "/v1/heartbeat", b"x" * 20000, self.witness.auth())
        self.refused(r, "body_too_large")

    def test_malformed_json(self):
        n = self.pki.node("badjson")
        body = b'{"node_id": "badjson",\n "cert": '
        body, h = n.signed(body=body)
        doc = self.refused(self.post_register(body, h), "bad_json")
        self.assertRegex(doc["message"], r"\d", "message should carry the parser's line/column")

    def test_json_not_an_object(self):
        n = self.pki.node("array")
        for body in (b"[]", b'"alpha"', b"42", b""):
            with self.subTest(body=body):
                body_, h = n.signed(body=body)
                self.refused(self.post_register(body_, h), "bad_json")

    def test_invalid_fields(self):
        n = self.pki.node("fields")
        cases = [
            ("node_id", {"node_id": DROP}),
            ("node_id", {"node_id": 7}),
            ("node_id", {"node_id": ""}),
            ("node_id", {"node_id": "-fields"}),
            ("node_id", {"node_id": "fi elds"}),
            ("node_id", {"node_id": "f" * 64}),
            ("cert", {"cert": DROP}),
            ("cert", {"cert": 1}),
            ("cert", {"cert": "-----BEGIN CERTIFICATE-----\n" + "A" * 8300 + "\n-----END CERTIFICATE-----\n"}),
            ("timestamp", {"timestamp": DROP}),
            ("timestamp", {"timestamp": "now"}),
            ("timestamp", {"timestamp": 1.5}),
            ("nonce", {"nonce": DROP}),
            ("nonce", {"nonce": "short"}),
            ("nonce", {"nonce": "n" * 129}),
            ("nonce", {"nonce": "has spaces in it ok"}),
            ("addresses", {"addresses": "192.0.2.1:1"}),
            ("addresses", {"addresses": [1]}),
            ("addresses", {"addresses": ["x" * 250 + ":50051"]}),
            ("labels", {"labels": ["a"]}),
            ("labels", {"labels": {"k": 1}}),
            ("labels", {"labels": {"": "v"}}),
            ("labels", {"labels": {"k" * 64: "v"}}),
            ("labels", {"labels": {"bad key": "v"}}),
            ("labels", {"labels": {"k": "v" * 256}}),
            ("version", {"version": 1}),
            ("version", {"version": "v" * 33}),
            ("timestamp", {"timestamp": True}),
            ("addresses", {"addresses": ["nocolon"]}),
            ("addresses", {"addresses": ["192.0.2.1:0"]}),
            ("addresses", {"addresses": ["192.0.2.1:65536"]}),
            ("addresses", {"addresses": ["[2001:db8::1]"]}),
            ("addresses", {"addresses": [""]}),
            ("extra_field", {"extra_field": 1}),
        ]
        for field, over in cases:
            with self.subTest(field=field, over=repr(over)[:80]):
                body, h = n.signed(**over)
                # the schema and the signal agree that this body is invalid
                self.assertFalse(harness.schema("register-request").is_valid(json.loads(body)),
                                 "register-request.json accepts %r" % over)
                self.refused(self.post_register(body, h), "invalid_field", mentions=field)

    def test_valid_bodies_match_the_schema(self):
        n = self.pki.node("schema-ok")
        for over in ({}, {"addresses": harness.DROP, "labels": harness.DROP, "version": harness.DROP},
                     {"addresses": [], "labels": {}}):
            harness.validate("register-request", n.body_dict(**over))

    def test_bad_json_variants(self):
        n = self.pki.node("badjson2")
        for body in (b'\xff\xfe{"node_id": "x"}', b"[" * 5000 + b"]" * 5000,
                     b'{"node_id": "badjson2", "node_id": "badjson2"}', b'{"a": 1} trailing',
                     b'{"node_id": "bad\\u0000json"}'):
            with self.subTest(body=body[:40]):
                body_, h = n.signed(body=body)
                self.refused(self.post_register(body_, h), "bad_json")

    def test_too_many_addresses(self):
        n = self.pki.node("addrs")
        body, h = n.signed(addresses=["192.0.2.%d:1" % i for i in range(9)])
        self.refused(self.post_register(body, h), "too_many_addresses")

    def test_too_many_labels(self):
        n = self.pki.node("labels")
        body, h = n.signed(labels={"k%d" % i: "v" for i in range(17)})
        self.refused(self.post_register(body, h), "too_many_labels")

    # ------------------------------------------------------------ tokens

    def test_unknown_token(self):
        bogus = {"Authorization": "Bearer " + secrets.token_hex(32)}
        for method, path in (("POST", "/v1/heartbeat"), ("GET", "/v1/peers"),
                             ("DELETE", "/v1/register")):
            for headers in (bogus, {}, {"Authorization": "Bearer "},
                            {"Authorization": "Basic Zm9vOmJhcg=="},
                            {"Authorization": "Bearer " + self.witness.token.upper()}):
                with self.subTest(method=method, path=path, headers=headers):
                    r = self.c.request(method, path, b"" if method == "POST" else None, headers)
                    self.refused(r, "unknown_token")

    def test_refusals_do_not_stop_service_in_a_burst(self):
        """Many different refusals in a row, then normal traffic."""
        n = self.pki.node("burst")
        for _ in range(20):
            self.c.request("POST", "/v1/register", b"{", {"X-AgentFlow-Signature": "x"})
            self.c.request("POST", "/v1/heartbeat", b"", {"Authorization": "Bearer nope"})
        self.assertEqual(self.table(self.c, self.witness), self.before)
        doc = self.assertJson(n.register(self.c), 200, "register-response")
        self.c.request("DELETE", "/v1/register", None, n.auth(doc["token"]))


if __name__ == "__main__":
    harness.main()
