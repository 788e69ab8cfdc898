#!/usr/bin/python3
"""agentflow-signal as a process: configuration errors exit non-zero with a
clear message, --help, environment variables, clean exit 0 on SIGTERM and
SIGINT."""

import os
import signal
import socket
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


class SignalProcess(harness.SignalTest):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="af-signal-proc-")
        cls.pki = harness.Pki(cls.tmp.name)
        cls.garbage = cls.pki.write("garbage.pem", b"this is not a certificate\n")

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def fails(self, args, ca="default", mentions=(), listen="127.0.0.1:0", env=None):
        """Runs the signal with a bad configuration: it must exit non-zero
        without listening and say why on stderr."""
        s = harness.Signal(args, ca=self.pki.ca_path if ca == "default" else ca,
                           listen=listen, env=env)
        rc, out, err = s.run()
        self.assertNotEqual(rc, 0, "signal accepted %s; stderr:\n%s" % (s.argv(), err))
        self.assertGreater(rc, 0, "signal died by a signal (%d) instead of exiting" % rc)
        self.assertIsNone(s.listening, "signal logged 'listening' with a bad config")
        self.assertTrue(err.strip(), "no message on stderr for %s" % s.argv())
        for word in mentions:
            self.assertIn(word.lower(), err.lower(),
                          "stderr for %s should mention %r:\n%s" % (s.argv(), word, err))
        return err

    def test_missing_ca(self):
        self.fails([], ca=None, mentions=["--ca"])

    def test_unreadable_ca(self):
        missing = os.path.join(self.tmp.name, "no-such-ca.pem")
        self.fails([], ca=missing, mentions=[missing])

    def test_garbage_ca(self):
        self.fails([], ca=self.garbage, mentions=[self.garbage])

    def test_unreadable_crl(self):
        missing = os.path.join(self.tmp.name, "no-such-crl.pem")
        self.fails(["--crl", missing], mentions=[missing])

    def test_garbage_crl(self):
        self.fails(["--crl", self.garbage], mentions=[self.garbage])

    def test_plain_http_on_public_address(self):
        self.fails([], listen="0.0.0.0:0", mentions=["--plain-http"])

    def test_plain_http_allowed_with_flag(self):
        s = harness.Signal(["--plain-http"], ca=self.pki.ca_path, listen="0.0.0.0:0").start()
        try:
            self.assertEqual(s.listening["address"], "0.0.0.0")
            self.assertEqual(s.listening["scheme"], "http")
            self.assertJson(s.client().get("/healthz"), 200, "healthz-response")
        finally:
            self.assertEqual(s.stop(), 0)

    def test_https_on_public_address_needs_no_flag(self):
        cert, key = self.pki.server_cert("proc-signal")
        s = harness.Signal(["--tls-cert", cert, "--tls-key", key], ca=self.pki.ca_path,
                           listen="0.0.0.0:0").start()
        try:
            self.assertEqual(s.listening["scheme"], "https")
            self.assertJson(s.client(tls_ca=self.pki.ca_path).get("/healthz"), 200, "healthz-response")
        finally:
            self.assertEqual(s.stop(), 0)

    def test_empty_tls_environment_means_plain_http_on_loopback(self):
        s = harness.Signal([], ca=self.pki.ca_path,
                           env={"AGENTFLOW_TLS_CERT": "", "AGENTFLOW_TLS_KEY": ""})
        s.start()
        try:
            self.assertEqual(s.client().get("/healthz").status, 200)
        finally:
            s.stop()

    def test_tls_cert_without_key(self):
        cert, _ = self.pki.server_cert("half")
        self.fails(["--tls-cert", cert], mentions=["--tls-key"])

    def test_tls_key_not_matching(self):
        cert, _ = self.pki.server_cert("mismatch-a")
        _, key = self.pki.server_cert("mismatch-b")
        self.fails(["--tls-cert", cert, "--tls-key", key])

    def test_bad_numbers(self):
        for args, word in ((["--ttl", "0"], "ttl"), (["--ttl", "abc"], "ttl"),
                           (["--max-body", "-1"], "max-body"), (["--rate", "-5"], "rate"),
                           (["--log-level", "loud"], "log-level"), (["--listen", "nonsense"], "listen"),
                           (["--listen", "127.0.0.1:99999"], "listen"), (["--no-such-flag"], "no-such-flag")):
            with self.subTest(args=args):
                self.fails(args, mentions=[word])

    def test_port_in_use(self):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        try:
            self.fails([], listen="127.0.0.1:%d" % port, mentions=[str(port)])
        finally:
            s.close()

    def test_help(self):
        s = harness.Signal(["--help"], ca=None, listen=None, log_level=None)
        rc, out, err = s.run()
        self.assertEqual(rc, 0, err)
        for flag in ("--listen", "--ca", "--crl", "--tls-cert", "--tls-key", "--plain-http",
                     "--ttl", "--heartbeat", "--sweep-ms", "--max-nodes", "--max-body",
                     "--max-addresses", "--max-labels", "--rate", "--burst", "--skew",
                     "--trust-proxy", "--log-level"):
            self.assertIn(flag, out, "--help does not document %s" % flag)
        self.assertIn("AGENTFLOW_", out, "--help does not name the environment variables")

    def test_environment_variables(self):
        s = harness.Signal([], ca=None, listen=None, env={
            "AGENTFLOW_CA": self.pki.ca_path, "AGENTFLOW_LISTEN": "127.0.0.1:0",
            "AGENTFLOW_TTL": "7", "AGENTFLOW_RATE": "0"}).start()
        try:
            n = self.pki.node("env-node")
            r = self.assertJson(n.register(s.client()), 200, "register-response")
            self.assertEqual(r["ttl_s"], 7)
        finally:
            self.assertEqual(s.stop(), 0)
        # a flag wins over the environment
        s = harness.Signal(["--ttl", "9"], ca=self.pki.ca_path, env={"AGENTFLOW_TTL": "7"}).start()
        try:
            r = self.assertJson(self.pki.node("env-node2").register(s.client()), 200, "register-response")
            self.assertEqual(r["ttl_s"], 9)
        finally:
            s.stop()

    def check_clean_exit(self, sig):
        s = harness.Signal(["--rate", "0"], ca=self.pki.ca_path).start()
        try:
            c = s.client()
            n = self.pki.node("exit-node")
            self.assertJson(n.register(c), 200, "register-response")
            # an idle keep-alive connection must not hold the exit up
            idle = socket.create_connection(("127.0.0.1", s.port), timeout=5)
            lines_before = len(s.logs())
            started = time.monotonic()
            s.send(sig)
            rc = s.wait_exit(10)
            took = time.monotonic() - started
            idle.close()
            self.assertEqual(rc, 0, "exit status after %s; stderr:\n%s" % (sig.name, s.stderr()))
            self.assertLess(took, 10)
            s._thread.join(5)
            after = s.logs()[lines_before:]
            self.assertTrue(after, "no log line on %s" % sig.name)
            for e in after:
                self.assertNotIn("raw", e, "non-JSON log line: %r" % e)
        finally:
            s.stop()

    def test_sigterm(self):
        self.check_clean_exit(signal.SIGTERM)

    def test_sigint(self):
        self.check_clean_exit(signal.SIGINT)


if __name__ == "__main__":
    harness.main()
