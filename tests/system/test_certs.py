#!/usr/bin/python3
"""System test of `agentflow certs`: the real binary in a private directory,
its output checked by OpenSSL's command line, which shares no code with it."""

import hashlib
import os
import shutil
import socket
import ssl
import stat
import subprocess
import tempfile
import threading
import unittest

import harness

BIN = os.path.join(os.environ.get("AGENTFLOW_BIN", "build/bin"), "agentflow")


def run(*args, env_dir=None):
    env = dict(os.environ)
    env.pop("AGENTFLOW_CERTS_DIR", None)
    if env_dir is not None:
        env["AGENTFLOW_CERTS_DIR"] = env_dir
    return subprocess.run([BIN, "certs", *args], capture_output=True,
                          text=True, env=env, timeout=60)


def read(path, mode="rb"):
    with open(path, mode) as f:
        return f.read()


def openssl(*args):
    return subprocess.run(["openssl", *args], capture_output=True, text=True,
                          timeout=60)


class CertsCLI(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="agentflow-certs-")
        self.dir = os.path.join(self.tmp, "pki")
        self.other = os.path.join(self.tmp, "other")

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def p(self, name, d=None):
        return os.path.join(d or self.dir, name)

    def ok(self, *args, **kw):
        r = run(*args, **kw)
        self.assertEqual(r.returncode, 0, f"{args}: {r.stderr}")
        return r

    def init(self, d=None):
        return self.ok("init-ca", "--dir", d or self.dir, "--days", "30")

    def verify(self, cert, ca=None, crl=False):
        args = ["verify", "-CAfile", ca or self.p("ca.crt")]
        if crl:
            args += ["-crl_check", "-CRLfile", self.p("ca.crl")]
        return openssl(*args, cert)

    def test_chain_verifies_with_openssl(self):
        self.init()
        self.ok("issue", "node-1", "--dir", self.dir)
        r = self.verify(self.p("node-1.crt"))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        # The empty CRL shipped by init-ca is valid, signed and accepted.
        r = self.verify(self.p("node-1.crt"), crl=True)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        r = openssl("crl", "-in", self.p("ca.crl"), "-CAfile",
                    self.p("ca.crt"), "-noout", "-verify")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("verify OK", r.stdout + r.stderr)
        # Python's ssl (OpenSSL again, but through the TLS stack's loader)
        # accepts the pair as a client/server identity.
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_cert_chain(self.p("node-1.crt"), self.p("node-1.key"))
        ctx.load_verify_locations(self.p("ca.crt"))

    def test_mutual_tls_handshake(self):
        """Two issued certificates complete a mutual-TLS handshake in
        OpenSSL's TLS stack, each side checking the other's node id."""
        self.init()
        self.ok("issue", "node-a", "--dir", self.dir)
        self.ok("issue", "node-b", "--dir", self.dir)
        srv = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        srv.load_cert_chain(self.p("node-a.crt"), self.p("node-a.key"))
        srv.load_verify_locations(self.p("ca.crt"))
        srv.verify_mode = ssl.CERT_REQUIRED
        cli = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        cli.load_cert_chain(self.p("node-b.crt"), self.p("node-b.key"))
        cli.load_verify_locations(self.p("ca.crt"))
        lsock = socket.create_server(("127.0.0.1", 0))
        seen = {}

        def serve():
            conn, _ = lsock.accept()
            with srv.wrap_socket(conn, server_side=True) as s:
                seen["client"] = dict(x[0] for x in s.getpeercert()["subject"])
                s.sendall(b"ok")

        t = threading.Thread(target=serve)
        t.start()
        with socket.create_connection(lsock.getsockname()) as raw:
            with cli.wrap_socket(raw, server_hostname="node-a") as s:
                self.assertEqual(s.recv(2), b"ok")
        t.join(10)
        lsock.close()
        self.assertEqual(seen["client"]["commonName"], "node-b")

    def test_identity_usages_and_sans(self):
        self.init()
        self.ok("issue", "signal", "--dir", self.dir, "--dns", "localhost",
                "--ip", "127.0.0.1", "--ip", "::1")
        r = openssl("x509", "-in", self.p("signal.crt"), "-noout", "-text")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("Subject: CN = signal", r.stdout)
        self.assertIn("DNS:signal, DNS:localhost, IP Address:127.0.0.1, "
                      "IP Address:0:0:0:0:0:0:0:1", r.stdout)
        self.assertIn("TLS Web Server Authentication, "
                      "TLS Web Client Authentication", r.stdout)
        self.assertIn("Digital Signature", r.stdout)
        self.assertIn("CA:FALSE", r.stdout)
        self.assertIn("prime256v1", r.stdout)
        for purpose in ("sslserver", "sslclient"):
            r = openssl("verify", "-purpose", purpose, "-CAfile",
                        self.p("ca.crt"), self.p("signal.crt"))
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        r = openssl("verify", "-CAfile", self.p("ca.crt"), "-verify_ip",
                    "127.0.0.1", "-verify_hostname", "signal",
                    self.p("signal.crt"))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        r = openssl("x509", "-in", self.p("ca.crt"), "-noout", "-text")
        self.assertIn("CA:TRUE", r.stdout)
        self.assertIn("Certificate Sign, CRL Sign", r.stdout)

    def test_other_ca_fails(self):
        self.init()
        self.init(self.other)
        self.ok("issue", "node-1", "--dir", self.other)
        r = self.verify(self.p("node-1.crt", self.other))
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("unable to get local issuer certificate",
                      r.stdout + r.stderr)

    def test_expired_fails(self):
        self.init()
        self.ok("issue", "old", "--dir", self.dir, "--valid-from",
                "2020-01-01", "--days", "1")
        r = self.verify(self.p("old.crt"))
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("certificate has expired", r.stdout + r.stderr)
        r = self.ok("show", self.p("old.crt"))
        self.assertIn("not before:    2020-01-01 00:00:00 UTC", r.stdout)
        self.assertIn("(expired)", r.stdout)

    def test_revoke(self):
        self.init()
        for n in ("node-1", "node-2", "node-3"):
            self.ok("issue", n, "--dir", self.dir)
        self.ok("revoke", "node-1", "--dir", self.dir)
        self.ok("revoke", "node-2", "--dir", self.dir)
        for n in ("node-1", "node-2"):
            r = self.verify(self.p(n + ".crt"), crl=True)
            self.assertNotEqual(r.returncode, 0, n)
            self.assertIn("certificate revoked", r.stdout + r.stderr)
            # Without the CRL OpenSSL has no way to know.
            self.assertEqual(self.verify(self.p(n + ".crt")).returncode, 0)
        r = self.verify(self.p("node-3.crt"), crl=True)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        # Both serials are listed, as OpenSSL reads them.
        crl = openssl("crl", "-in", self.p("ca.crl"), "-noout", "-text")
        for n in ("node-1", "node-2"):
            serial = openssl("x509", "-in", self.p(n + ".crt"), "-noout",
                             "-serial").stdout.strip().split("=")[1]
            self.assertIn("Serial Number: " + serial, crl.stdout)
        self.assertIn("X509v3 CRL Number: \n                3", crl.stdout)
        # Revoking again changes nothing.
        before = read(self.p("ca.crl"))
        r = self.ok("revoke", "node-1", "--dir", self.dir)
        self.assertIn("already revoked", r.stdout)
        self.assertEqual(read(self.p("ca.crl")), before)
        r = self.ok("show", self.p("ca.crl"))
        self.assertIn("revoked:       2", r.stdout)

    def test_show(self):
        self.init()
        self.ok("issue", "node-1", "--dir", self.dir, "--dns", "n1.lan")
        r = self.ok("show", self.p("node-1.crt"))
        der = ssl.PEM_cert_to_DER_cert(read(self.p("node-1.crt"), "r"))
        self.assertIn("fingerprint:   sha256:" + hashlib.sha256(der).hexdigest(),
                      r.stdout)
        serial = openssl("x509", "-in", self.p("node-1.crt"), "-noout",
                         "-serial").stdout.strip().split("=")[1]
        self.assertIn("serial:        " + serial, r.stdout)
        self.assertIn("subject:       CN=node-1", r.stdout)
        self.assertIn("issuer:        CN=AgentFlow Mesh CA", r.stdout)
        self.assertIn("alt names:     DNS:node-1, DNS:n1.lan", r.stdout)
        self.assertIn("ext key usage: serverAuth, clientAuth", r.stdout)
        self.assertIn("key usage:     digitalSignature", r.stdout)
        key_id = [l for l in r.stdout.splitlines() if "public key id" in l]
        r = self.ok("show", self.p("node-1.key"))
        self.assertIn("private key", r.stdout)
        self.assertIn("EC P-256", r.stdout)
        self.assertIn(key_id[0], r.stdout)   # the key matches its cert
        self.assertNotIn("BEGIN", r.stdout)
        r = self.ok("show", self.p("ca.crl"))
        self.assertIn("CRL", r.stdout)
        self.assertIn("revoked:       0", r.stdout)
        # DER works too.
        der_path = self.p("node-1.der")
        with open(der_path, "wb") as f:
            f.write(der)
        self.assertIn("CN=node-1", self.ok("show", der_path).stdout)
        r = run("show", self.p("missing.crt"))
        self.assertEqual(r.returncode, 1)
        self.assertIn("missing.crt", r.stderr)
        junk = self.p("junk.txt")
        with open(junk, "w") as f:
            f.write("hello\n")
        r = run("show", junk)
        self.assertEqual(r.returncode, 1)
        self.assertIn("not a certificate, CRL or key", r.stderr)

    def test_modes(self):
        self.init()
        self.ok("issue", "node-1", "--dir", self.dir)
        for name, mode in (("ca.key", 0o600), ("node-1.key", 0o600),
                           ("ca.crt", 0o644), ("node-1.crt", 0o644),
                           ("ca.crl", 0o644)):
            got = stat.S_IMODE(os.stat(self.p(name)).st_mode)
            self.assertEqual(got, mode, name)
        self.ok("revoke", "node-1", "--dir", self.dir)
        self.assertEqual(stat.S_IMODE(os.stat(self.p("ca.crl")).st_mode),
                         0o644)

    def test_never_overwrites(self):
        self.init()
        self.ok("issue", "node-1", "--dir", self.dir)
        snap = {n: read(self.p(n)) for n in os.listdir(self.dir)}
        r = run("init-ca", "--dir", self.dir)
        self.assertEqual(r.returncode, 1)
        self.assertIn("refusing to overwrite", r.stderr)
        self.assertIn(self.p("ca.key"), r.stderr)
        r = run("issue", "node-1", "--dir", self.dir)
        self.assertEqual(r.returncode, 1)
        self.assertIn("refusing to overwrite", r.stderr)
        self.assertIn(self.p("node-1.key"), r.stderr)
        # A key left behind alone is protected just the same.
        os.unlink(self.p("node-1.crt"))
        del snap["node-1.crt"]
        r = run("issue", "node-1", "--dir", self.dir)
        self.assertEqual(r.returncode, 1)
        self.assertIn(self.p("node-1.key"), r.stderr)
        self.assertFalse(os.path.exists(self.p("node-1.crt")))
        now = {n: read(self.p(n)) for n in os.listdir(self.dir)}
        self.assertEqual(now, snap)

    def test_bad_node_id(self):
        self.init()
        for bad in ("_x", ".hidden", "a b", "../evil", "x" * 64, ""):
            for cmd in ("issue", "revoke"):
                r = run(cmd, bad, "--dir", self.dir)
                self.assertEqual(r.returncode, 2, (cmd, bad))
                self.assertIn("invalid node id", r.stderr)
        # Looks like an option, so it is refused as one (still a usage error).
        r = run("issue", "-x", "--dir", self.dir)
        self.assertEqual(r.returncode, 2)
        self.assertEqual(sorted(os.listdir(self.dir)),
                         ["ca.crl", "ca.crt", "ca.key"])

    def test_missing_ca(self):
        os.mkdir(self.dir)
        r = run("issue", "node-1", "--dir", self.dir)
        self.assertEqual(r.returncode, 1)
        self.assertIn("no CA in " + self.dir, r.stderr)
        self.assertIn("init-ca", r.stderr)
        r = run("revoke", "node-1", "--dir", self.dir)
        self.assertEqual(r.returncode, 1)
        self.assertIn("no CA in", r.stderr)
        self.assertEqual(os.listdir(self.dir), [])
        # A CA key that is unreadable garbage is named, not guessed at.
        self.init(self.other)
        with open(self.p("ca.key", self.other), "r+") as f:
            f.write("garbage")
        r = run("issue", "n", "--dir", self.other)
        self.assertEqual(r.returncode, 1)
        self.assertIn("cannot load the CA", r.stderr)
        self.assertIn("ca.key", r.stderr)

    def test_revoke_unknown_node(self):
        self.init()
        r = run("revoke", "ghost", "--dir", self.dir)
        self.assertEqual(r.returncode, 1)
        self.assertIn("no certificate for node \"ghost\"", r.stderr)

    def test_usage_errors(self):
        cases = [
            ("frobnicate",),
            ("issue",),
            ("issue", "a", "b"),
            ("issue", "a", "--days", "0"),
            ("issue", "a", "--days", "x"),
            ("issue", "a", "--valid-from", "2024-02-30"),
            ("issue", "a", "--ip", "1.2.3"),
            ("issue", "a", "--dns", "bad..name"),
            ("issue", "a", "--bogus"),
            ("init-ca", "--dir"),
            ("show",),
        ]
        for args in cases:
            r = run(*args, env_dir=self.dir)
            self.assertEqual(r.returncode, 2, (args, r.stderr))
            self.assertTrue(r.stderr.strip(), args)
        for sub in ("init-ca", "issue", "bundle", "revoke", "show"):
            r = run(sub, "--help")
            self.assertEqual(r.returncode, 0)
            self.assertIn("usage: agentflow certs " + sub, r.stdout)
        r = subprocess.run([BIN, "--help"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0)
        self.assertIn("certs", r.stdout)
        r = subprocess.run([BIN, "nope"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 2)

    def test_env_dir(self):
        self.ok("init-ca", env_dir=self.dir)
        self.ok("issue", "node-9", env_dir=self.dir)
        self.assertTrue(os.path.exists(self.p("node-9.key")))
        r = self.verify(self.p("node-9.crt"))
        self.assertEqual(r.returncode, 0)


class CertsBundle(unittest.TestCase):
    """`agentflow certs bundle`: the CA, node certificates and the signal's
    from one command; running it again keeps what exists and is sound."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="agentflow-bundle-")
        self.dir = os.path.join(self.tmp, "pki")

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def p(self, name):
        return os.path.join(self.dir, name)

    def bundle(self, *args, rc=0):
        r = run("bundle", "--dir", self.dir, *args)
        self.assertEqual(r.returncode, rc, f"{args}: {r.stdout}{r.stderr}")
        return r

    def snapshot(self):
        return {n: read(self.p(n)) for n in os.listdir(self.dir)}

    def pubkey(self, *args):
        r = openssl(*args)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout

    def test_one_command_makes_a_working_pki(self):
        self.bundle("node-1", "node-2", "node-3")
        names = ["ca.crt", "ca.key", "ca.crl"] + [
            f"{n}.{ext}" for n in ("node-1", "node-2", "node-3", "signal")
            for ext in ("crt", "key")]
        self.assertEqual(sorted(os.listdir(self.dir)), sorted(names))
        for name in names:
            mode = stat.S_IMODE(os.stat(self.p(name)).st_mode)
            self.assertEqual(mode, 0o600 if name.endswith(".key") else 0o644,
                             name)
        for n in ("node-1", "node-2", "node-3", "signal"):
            crt = self.p(n + ".crt")
            r = openssl("verify", "-CAfile", self.p("ca.crt"), "-crl_check",
                        "-CRLfile", self.p("ca.crl"), "-purpose", "sslserver",
                        crt)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            r = openssl("x509", "-in", crt, "-noout", "-subject")
            self.assertIn("CN = " + n, r.stdout)
            # Each key is the key of its certificate.
            self.assertEqual(
                self.pubkey("x509", "-in", crt, "-noout", "-pubkey"),
                self.pubkey("pkey", "-in", self.p(n + ".key"), "-pubout"))
        # Nodes verify the signal by the names they dial: the compose
        # service name and localhost by default.
        for host in ("signal", "localhost"):
            r = openssl("verify", "-CAfile", self.p("ca.crt"),
                        "-verify_hostname", host, self.p("signal.crt"))
            self.assertEqual(r.returncode, 0, host + r.stdout + r.stderr)
        r = openssl("x509", "-in", self.p("signal.crt"), "-noout", "-ext",
                    "subjectAltName")
        self.assertIn("DNS:signal, DNS:localhost", r.stdout)

    def test_signal_names_and_addresses(self):
        self.bundle("--signal-name", "signal.example.org", "--signal-ip",
                    "203.0.113.7", "--signal-ip", "2001:db8::7", "home-1")
        r = openssl("x509", "-in", self.p("signal.crt"), "-noout", "-ext",
                    "subjectAltName")
        # An IPv4 address is a DNS name too (what nodes match: Debian's
        # mbedTLS never matches an IP entry); an IPv6 one cannot be.
        self.assertIn("DNS:signal, DNS:signal.example.org, DNS:203.0.113.7, "
                      "IP Address:203.0.113.7, IP Address:2001:DB8:0:0:0:0:0:7",
                      r.stdout)
        self.assertNotIn("localhost", r.stdout)   # names given replace it
        r = openssl("verify", "-CAfile", self.p("ca.crt"), "-verify_hostname",
                    "signal.example.org", "-verify_ip", "203.0.113.7",
                    self.p("signal.crt"))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_rerun_keeps_everything_and_adds_new_nodes(self):
        self.bundle("node-1", "node-2")
        before = self.snapshot()
        r = self.bundle("node-1", "node-2")
        self.assertEqual(self.snapshot(), before)
        self.assertIn("using the existing CA", r.stdout)
        self.assertIn('kept the existing certificate for "node-1"', r.stdout)
        self.assertIn('kept the existing certificate for "signal"', r.stdout)
        r = self.bundle("node-1", "node-2", "node-3")
        after = self.snapshot()
        self.assertEqual({k: after[k] for k in before}, before)
        self.assertEqual(sorted(set(after) - set(before)),
                         ["node-3.crt", "node-3.key"])
        r = openssl("verify", "-CAfile", self.p("ca.crt"), self.p("node-3.crt"))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_uses_an_existing_ca(self):
        run("init-ca", "--dir", self.dir, "--name", "Home CA")
        ca = read(self.p("ca.crt"))
        os.unlink(self.p("ca.crl"))         # a missing CRL alone is made
        self.bundle("node-1")
        self.assertEqual(read(self.p("ca.crt")), ca)
        self.assertTrue(os.path.exists(self.p("ca.crl")))
        r = openssl("verify", "-CAfile", self.p("ca.crt"), "-crl_check",
                    "-CRLfile", self.p("ca.crl"), self.p("node-1.crt"))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        # Half a CA is not completed with a new key.
        os.unlink(self.p("ca.crt"))
        r = self.bundle("node-2", rc=1)
        self.assertIn("incomplete CA", r.stderr)
        self.assertFalse(os.path.exists(self.p("node-2.key")))

    def test_refuses_existing_files_it_cannot_vouch_for(self):
        self.bundle("node-1")
        other = os.path.join(self.tmp, "other")
        run("bundle", "--dir", other, "node-1")
        # Another CA's pair under node-1's name.
        shutil.copy(os.path.join(other, "node-1.crt"), self.p("node-1.crt"))
        shutil.copy(os.path.join(other, "node-1.key"), self.p("node-1.key"))
        before = self.snapshot()
        r = self.bundle("node-1", rc=1)
        self.assertIn(self.p("node-1.crt"), r.stderr)
        self.assertIn("does not chain to the mesh CA", r.stderr)
        self.assertEqual(self.snapshot(), before)
        # A key that is not the certificate's.
        shutil.rmtree(self.dir)
        self.bundle("node-1")
        with open(self.p("node-1.key"), "wb") as f:
            f.write(read(os.path.join(other, "node-1.key")))
        r = self.bundle("node-1", rc=1)
        self.assertIn("is not the key of", r.stderr)
        # A key left alone is never overwritten.
        os.unlink(self.p("node-1.crt"))
        r = self.bundle("node-1", rc=1)
        self.assertIn("refusing to overwrite", r.stderr)
        self.assertFalse(os.path.exists(self.p("node-1.crt")))
        # A revoked certificate is not kept.
        shutil.rmtree(self.dir)
        self.bundle("node-1")
        run("revoke", "node-1", "--dir", self.dir)
        r = self.bundle("node-1", rc=1)
        self.assertIn("revoked", r.stderr)
        # The signal's certificate must carry the names asked for now.
        shutil.rmtree(self.dir)
        self.bundle("node-1")
        r = self.bundle("--signal-name", "signal.example.org", "node-1", rc=1)
        self.assertIn("without the name signal.example.org", r.stderr)

    def test_bad_node_ids_are_usage_errors(self):
        for args in (("../evil",), ("_x",), ("a b",), ("x" * 64,), ("",),
                     ("node-1", "bad/id"), ("signal",), ("n", "n"), ()):
            r = run("bundle", "--dir", self.dir, *args)
            self.assertEqual(r.returncode, 2, (args, r.stderr))
            self.assertIn("usage: agentflow certs bundle", r.stderr)
            self.assertFalse(os.path.exists(self.dir), args)
        r = run("bundle", "--dir", self.dir, "node-1", "../evil")
        self.assertIn('invalid node id "../evil"', r.stderr)
        r = run("bundle", "--dir", self.dir, "signal")
        self.assertIn("taken by the signal", r.stderr)
        for args in (("--signal-name", "bad..name", "n"),
                     ("--signal-ip", "1.2.3", "n"), ("--days", "0", "n"),
                     ("--bogus", "n")):
            r = run("bundle", "--dir", self.dir, *args)
            self.assertEqual(r.returncode, 2, (args, r.stderr))
        self.assertFalse(os.path.exists(self.dir))



class SignalByAddress(unittest.TestCase):
    """A signal's HTTPS certificate from `certs bundle --signal-ip
    127.0.0.1`: nodes reach it at https://127.0.0.1:PORT and find each
    other.  One with the address as an IP entry alone (`certs issue
    --ip`) is refused by the node, as docs/troubleshooting.md says, and
    the node's log names the signal's URL and the cause."""

    def test_nodes_reach_a_signal_by_its_address(self):
        tmp = tempfile.mkdtemp(prefix="af-sigip-")
        self.addCleanup(shutil.rmtree, tmp, True)
        d = os.path.join(tmp, "pki")
        r = run("bundle", "--dir", d, "--signal-ip", "127.0.0.1", "node-1")
        self.assertEqual(r.returncode, 0, r.stderr)
        r = run("issue", "ip-only", "--dir", d, "--ip", "127.0.0.1")
        self.assertEqual(r.returncode, 0, r.stderr)
        pki = harness.Pki(os.path.join(tmp, "mesh"))

        def signal(name):
            s = harness.Signal(["--rate", "0", "--heartbeat", "1",
                                "--tls-cert", os.path.join(d, name + ".crt"),
                                "--tls-key", os.path.join(d, name + ".key")],
                               ca=pki.ca_path).start()
            self.addCleanup(s.stop)
            return "https://127.0.0.1:%d" % s.port

        good, bad = signal("signal"), signal("ip-only")
        nodes = []
        for nid, url in (("node-1", good), ("node-2", good), ("node-3", bad)):
            n = harness.MeshNode(pki, nid, signals=[url],
                                 args=["--signal-ca", os.path.join(d, "ca.crt")])
            self.addCleanup(n.stop)
            n.start()
            nodes.append(n)
        n1, n2, n3 = nodes
        self.assertTrue(harness.wait_until(
            lambda: n1.up_peers() == ["node-2"] and n2.up_peers() == ["node-1"],
            30, 0.3), (n1.up_peers(), n2.up_peers()))

        # The cause under the signal's host:port, the failure under its
        # URL: the two lines troubleshooting.md tells a user to look for.
        def refused():
            logs = n3.logs()
            return any(l.get("msg") == "TLS handshake failed"
                       and l.get("peer") == bad[len("https://"):]
                       and "Certificate verification failed" in l.get("error", "")
                       for l in logs) and any(
                l.get("msg") == "signal request failed" and l.get("url") == bad
                for l in logs)
        self.assertTrue(harness.wait_until(refused, 20, 0.3), n3.stderr()[-3000:])
        self.assertEqual(n3.up_peers(), [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
