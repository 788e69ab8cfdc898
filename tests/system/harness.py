"""Helpers for the signal's system tests (stdlib + Debian's python3-cryptography
and python3-jsonschema).

- Signal: starts build/bin/agentflow-signal on 127.0.0.1 port 0 in a private
  temporary directory, learns its port from the "listening" log line, keeps
  its stderr for assertions, and stops it by PID (SIGTERM, then SIGKILL after
  a bound).
- Pki: a test CA and node certificates made with python3-cryptography: an
  "other" CA, expired / not-yet-valid certificates, a revoked certificate and
  its CRL, certificates whose identity differs from the claimed node id.
- Node: builds and signs register bodies with ECDSA P-256/SHA-256 (DER
  signature, base64).  This signer is independent of the C code, so the tests
  prove that the signed format is specified well enough to be reimplemented.
- Client: HTTP or HTTPS via http.client, one connection per request.
- validate(): checks a JSON document against signal/schemas/<name>.json.

Binaries are taken from $AGENTFLOW_BIN and sources from $AGENTFLOW_SRC (set
by agentflow_system_test() in tests/CMakeLists.txt); both default to this
checkout's build/bin and root.
"""

import atexit
import base64
import datetime
import hashlib
import http.client
import ipaddress
import json
import os
import re
import secrets
import shutil
import signal as _signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

import jsonschema

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("AGENTFLOW_SRC") or os.path.abspath(os.path.join(HERE, "..", ".."))
BIN = os.environ.get("AGENTFLOW_BIN") or os.path.join(SRC, "build", "bin")
SIGNAL_BIN = os.path.join(BIN, "agentflow-signal")
NODE_BIN = os.path.join(BIN, "agentflow-node")
SCHEMA_DIR = os.path.join(SRC, "signal", "schemas")

# seconds to wait for the "listening" line (a sanitizer build starting
# 100 nodes on two cores needs more: AGENTFLOW_START_TIMEOUT=120)
START_TIMEOUT = float(os.environ.get("AGENTFLOW_START_TIMEOUT") or 20.0)
STOP_TIMEOUT = 10.0    # seconds between SIGTERM and SIGKILL
HTTP_TIMEOUT = 15.0

ERROR_STATUS = {
    "bad_json": 400, "invalid_field": 400, "too_many_addresses": 400,
    "too_many_labels": 400, "missing_signature": 401, "bad_signature": 401,
    "stale_timestamp": 401, "replayed_nonce": 401, "unknown_token": 401,
    "bad_certificate": 403, "certificate_expired": 403,
    "certificate_revoked": 403, "identity_mismatch": 403, "not_found": 404,
    "method_not_allowed": 405, "body_too_large": 413, "rate_limited": 429,
    "table_full": 503, "not_implemented": 501,
}


# ---------------------------------------------------------------- schemas

_schemas = {}


def schema(name):
    if name not in _schemas:
        with open(os.path.join(SCHEMA_DIR, name + ".json"), encoding="utf-8") as f:
            s = json.load(f)
        cls = jsonschema.validators.validator_for(s)
        cls.check_schema(s)
        _schemas[name] = cls(s, format_checker=jsonschema.FormatChecker())
    return _schemas[name]


def validate(name, doc):
    """Raises AssertionError naming every violation of schema `name`."""
    errors = sorted(schema(name).iter_errors(doc), key=lambda e: list(e.path))
    if errors:
        lines = ["%s: %s" % ("/".join(str(p) for p in e.path) or "<root>", e.message)
                 for e in errors]
        raise AssertionError("%s does not validate against %s.json:\n  %s"
                             % (json.dumps(doc)[:500], name, "\n  ".join(lines)))


# ---------------------------------------------------------------- PKI

def _now():
    return datetime.datetime.utcnow().replace(microsecond=0)


def _key():
    return ec.generate_private_key(ec.SECP256R1())


def key_pem(key):
    return key.private_bytes(serialization.Encoding.PEM,
                             serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def cert_pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def fingerprint(cert):
    return "sha256:" + hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


class CA:
    """A self-signed CA, or an intermediate when parent (a CA) is given."""

    def __init__(self, name, not_before=None, not_after=None, parent=None):
        self.key = _key()
        self.parent = parent
        now = _now()
        self.name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name),
                               x509.NameAttribute(NameOID.ORGANIZATION_NAME, "AgentFlow test")])
        ski = x509.SubjectKeyIdentifier.from_public_key(self.key.public_key())
        b = (x509.CertificateBuilder()
             .subject_name(self.name).issuer_name(parent.name if parent else self.name)
             .public_key(self.key.public_key())
             .serial_number(x509.random_serial_number())
             .not_valid_before(not_before or now - datetime.timedelta(days=1))
             .not_valid_after(not_after or now + datetime.timedelta(days=365))
             .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
             .add_extension(x509.KeyUsage(False, False, False, False, False,
                                          True, True, False, False), critical=True)
             .add_extension(ski, critical=False))
        if parent:
            b = b.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                parent.key.public_key()), critical=False)
        self.cert = b.sign(parent.key if parent else self.key, hashes.SHA256())
        self.revoked = []

    def chain_pem(self):
        """PEM of this CA and its parents up to (not including) the root."""
        out, ca = b"", self
        while ca.parent is not None:
            out += cert_pem(ca.cert)
            ca = ca.parent
        return out

    def issue(self, cn, dns_sans=None, ip_sans=(), not_before=None, not_after=None,
              key=None, server=True):
        """A leaf for `cn`; DNS SANs default to [cn]."""
        key = key or _key()
        now = _now()
        sans = [x509.DNSName(d) for d in (dns_sans if dns_sans is not None else [cn])]
        sans += [x509.IPAddress(ipaddress.ip_address(i)) for i in ip_sans]
        b = (x509.CertificateBuilder()
             .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
             .issuer_name(self.name)
             .public_key(key.public_key())
             .serial_number(x509.random_serial_number())
             .not_valid_before(not_before or now - datetime.timedelta(hours=1))
             .not_valid_after(not_after or now + datetime.timedelta(days=30))
             .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
             .add_extension(x509.KeyUsage(True, False, False, False, False,
                                          False, False, False, False), critical=True)
             .add_extension(x509.ExtendedKeyUsage(
                 [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
                 critical=False)
             .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                 self.key.public_key()), critical=False)
             .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                            critical=False))
        if sans:
            b = b.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        return b.sign(self.key, hashes.SHA256()), key

    def revoke(self, cert):
        self.revoked.append(cert.serial_number)

    def crl(self, encoding="pem"):
        now = _now()
        b = (x509.CertificateRevocationListBuilder()
             .issuer_name(self.name)
             .last_update(now - datetime.timedelta(minutes=5))
             .next_update(now + datetime.timedelta(days=7))
             .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                 self.key.public_key()), critical=False)
             .add_extension(x509.CRLNumber(1), critical=False))
        for serial in self.revoked:
            b = b.add_revoked_certificate(
                x509.RevokedCertificateBuilder().serial_number(serial)
                .revocation_date(now - datetime.timedelta(minutes=1)).build())
        crl = b.sign(self.key, hashes.SHA256())
        return crl.public_bytes(serialization.Encoding.DER if encoding == "der"
                                else serialization.Encoding.PEM)


class Pki:
    """A mesh CA in a directory, plus an unrelated CA ("other")."""

    def __init__(self, directory):
        self.dir = os.path.abspath(directory)   # the signal runs in its own cwd
        os.makedirs(directory, exist_ok=True)
        self.ca = CA("AgentFlow test mesh CA")
        self.other = CA("Some other CA")
        self.ca_path = self.write("ca.pem", cert_pem(self.ca.cert))
        self.other_ca_path = self.write("other-ca.pem", cert_pem(self.other.cert))

    def write(self, name, data, mode=0o644):
        path = os.path.join(self.dir, name)
        with open(path, "wb") as f:
            f.write(data)
        os.chmod(path, mode)
        return path

    def node(self, node_id, **kw):
        """A Node signed by the mesh CA (or kw['ca']) with identity node_id
        unless kw['cn'] / kw['dns_sans'] say otherwise."""
        ca = kw.pop("ca", self.ca)
        cn = kw.pop("cn", node_id)
        cert, key = ca.issue(cn, **kw)
        n = Node(node_id, cert, key)
        n.chain = ca.chain_pem().decode()
        return n

    def write_crl(self, name="crl.pem", encoding="pem"):
        return self.write(name, self.ca.crl(encoding))

    def server_cert(self, name="signal"):
        """Certificate + key files for the signal's HTTPS (IP SAN 127.0.0.1)."""
        cert, key = self.ca.issue(name, dns_sans=["localhost"], ip_sans=["127.0.0.1"])
        c = self.write(name + ".crt", cert_pem(cert))
        k = self.write(name + ".key", key_pem(key), 0o600)
        return c, k


def new_nonce():
    return base64.urlsafe_b64encode(secrets.token_bytes(18)).decode().rstrip("=")


def sign(key, body):
    """base64 of the DER ECDSA P-256/SHA-256 signature over body's exact bytes."""
    return base64.b64encode(key.sign(body, ec.ECDSA(hashes.SHA256()))).decode()


class Node:
    def __init__(self, node_id, cert, key):
        self.node_id = node_id
        self.cert = cert
        self.key = key
        self.token = None

    chain = ""   # PEM of intermediates sent after the leaf

    @property
    def pem(self):
        return cert_pem(self.cert).decode() + self.chain

    @property
    def fingerprint(self):
        return fingerprint(self.cert)

    def body_dict(self, **over):
        d = {"node_id": self.node_id, "cert": self.pem,
             "addresses": ["192.0.2.10:50051", "[2001:db8::10]:50051"],
             "labels": {"role": "test"}, "version": "0.1.0",
             "timestamp": int(time.time()), "nonce": new_nonce()}
        for k, v in over.items():
            if v is _DROP:
                d.pop(k, None)
            else:
                d[k] = v
        return d

    def body(self, **over):
        return json.dumps(self.body_dict(**over)).encode()

    def signed(self, body=None, **over):
        """(body bytes, headers) for POST /v1/register."""
        if body is None:
            body = self.body(**over)
        return body, {"X-AgentFlow-Signature": sign(self.key, body),
                      "Content-Type": "application/json"}

    def register(self, client, **over):
        body, headers = self.signed(**over)
        r = client.request("POST", "/v1/register", body, headers)
        if r.status == 200:
            self.token = r.json()["token"]
        return r

    def auth(self, token=None):
        return {"Authorization": "Bearer " + (token or self.token)}


_DROP = object()
DROP = _DROP   # Node.body(field=DROP) leaves the field out


# ---------------------------------------------------------------- HTTP

class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers   # http.client.HTTPMessage (case-insensitive)
        self.body = body

    def json(self):
        try:
            return json.loads(self.body.decode("utf-8"))
        except ValueError as e:
            raise AssertionError("reply %d is not JSON (%s): %r" % (self.status, e, self.body[:300]))

    def header(self, name):
        return self.headers.get(name)

    def __repr__(self):
        return "<%d %r>" % (self.status, self.body[:300])


class Client:
    def __init__(self, host, port, tls_ca=None, token=None):
        self.host, self.port = host, port
        self.token = token
        self.ctx = None
        if tls_ca:
            self.ctx = ssl.create_default_context(cafile=tls_ca)

    def connection(self):
        if self.ctx:
            return http.client.HTTPSConnection(self.host, self.port, timeout=HTTP_TIMEOUT,
                                               context=self.ctx)
        return http.client.HTTPConnection(self.host, self.port, timeout=HTTP_TIMEOUT)

    def request(self, method, path, body=None, headers=None):
        conn = self.connection()
        headers = dict(headers or {})
        if self.token and "Authorization" not in headers:
            headers["Authorization"] = "Bearer " + self.token
        try:
            try:
                conn.request(method, path, body=body, headers=headers)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the server may answer (413) before reading all of a large body
            r = conn.getresponse()
            return Response(r.status, r.headers, r.read())
        finally:
            conn.close()

    def get(self, path, headers=None):
        return self.request("GET", path, None, headers)



class Api:
    """One keep-alive connection to a node's local API, with a token (for
    benchmarks, which send many requests)."""

    def __init__(self, port, token=None, timeout=10.0):
        self.port = port
        self.token = token
        self.timeout = timeout
        self.conn = None

    def request(self, method, path, body=None):
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                                       timeout=self.timeout)
            try:
                headers = {"Content-Type": "application/json"} if body is not None else {}
                if self.token:
                    headers["Authorization"] = "Bearer " + self.token
                self.conn.request(method, path, body=body, headers=headers)
                r = self.conn.getresponse()
                data = r.read()
                return r.status, data
            except (http.client.HTTPException, OSError):
                self.close()
                if attempt == 1:
                    raise
        raise AssertionError("unreachable")

    def json(self, method, path, body=None):
        status, data = self.request(method, path, body)
        if status not in (200, 202):
            raise RuntimeError("%s %s on port %d answered %d: %r"
                               % (method, path, self.port, status, data[:300]))
        return json.loads(data.decode("utf-8"))

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None



class WsClient:
    """A minimal RFC 6455 client for tests and benchmarks (text frames,
    close, ping/pong); the product's side is wslay.  recv() returns the
    next JSON message, or raises WsClosed with the close code."""

    GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    def __init__(self, port, token=None, path="/ws", protocols=None, origin=None,
                 timeout=10.0, host="127.0.0.1", host_header=None):
        import socket
        self.sock = socket.create_connection((host, port), timeout=timeout)
        key = base64.b64encode(secrets.token_bytes(16)).decode()
        protos = list(protocols or [])
        if token and not protocols:
            protos = ["agentflow.v1", "token." + token]
        lines = ["GET %s HTTP/1.1" % path, "Host: " + (host_header or "%s:%d" % (host, port)),
                 "Upgrade: websocket", "Connection: Upgrade",
                 "Sec-WebSocket-Key: " + key, "Sec-WebSocket-Version: 13"]
        if protos:
            lines.append("Sec-WebSocket-Protocol: " + ", ".join(protos))
        if origin:
            lines.append("Origin: " + origin)
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                break
            head += chunk
        head, _, self.buf = head.partition(b"\r\n\r\n")
        status_line = head.split(b"\r\n")[0].decode()
        self.status = int(status_line.split()[1])
        self.headers = {}
        for l in head.split(b"\r\n")[1:]:
            k, _, v = l.decode().partition(":")
            self.headers[k.strip().lower()] = v.strip()
        if self.status == 101:
            want = base64.b64encode(hashlib.sha1((key + self.GUID).encode()).digest()).decode()
            if self.headers.get("sec-websocket-accept") != want:
                raise AssertionError("bad Sec-WebSocket-Accept")

    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise WsClosed(None, "connection closed")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def frame(self):
        b0, b1 = self._read(2)
        n = b1 & 0x7F
        if n == 126:
            n = int.from_bytes(self._read(2), "big")
        elif n == 127:
            n = int.from_bytes(self._read(8), "big")
        mask = self._read(4) if b1 & 0x80 else None
        data = self._read(n)
        if mask:
            data = bytes(c ^ mask[i % 4] for i, c in enumerate(data))
        return b0 & 0x0F, data

    def send(self, data, opcode=1):
        if isinstance(data, str):
            data = data.encode()
        mask = secrets.token_bytes(4)
        n = len(data)
        head = bytes([0x80 | opcode])
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 65536:
            head += bytes([0x80 | 126]) + n.to_bytes(2, "big")
        else:
            head += bytes([0x80 | 127]) + n.to_bytes(8, "big")
        self.sock.sendall(head + mask + bytes(c ^ mask[i % 4] for i, c in enumerate(data)))

    def recv(self):
        while True:
            op, data = self.frame()
            if op == 1:
                return json.loads(data.decode())
            if op == 9:
                self.send(data, 10)
            elif op == 8:
                code = int.from_bytes(data[:2], "big") if len(data) >= 2 else None
                raise WsClosed(code, data[2:].decode(errors="replace"))

    def recv_until(self, pred, timeout):
        """Messages until pred(msg) is true (that message is returned)."""
        import socket
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                raise AssertionError("no matching message within %ss" % timeout)
            self.sock.settimeout(left)
            try:
                m = self.recv()
            except socket.timeout:
                raise AssertionError("no matching message within %ss" % timeout)
            if pred(m):
                return m

    def close(self, code=1000):
        try:
            self.send(code.to_bytes(2, "big"), 8)
        except OSError:
            pass
        self.sock.close()


class WsClosed(Exception):
    def __init__(self, code, reason):
        super().__init__("closed %s %s" % (code, reason))
        self.code = code


def asan_runtime(binary):
    """The libasan a sanitizer-built binary links (to preload first when
    another library is preloaded), or None."""
    try:
        out = subprocess.run(["ldd", binary], capture_output=True, text=True,
                             timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    for line in out.splitlines():
        if "libasan" in line and "=>" in line:
            return line.split("=>")[1].split("(")[0].strip() or None
    return None


# ---------------------------------------------------------------- process

class StartError(Exception):
    pass


_running = set()


@atexit.register
def _reap():
    """A test that crashed before stop() must not leave a signal behind."""
    for s in list(_running):
        try:
            s.stop(timeout=2)
        except AssertionError as e:
            print(e, file=sys.stderr)


class Signal:
    """One agentflow-signal process.  Use as a context manager or call
    start()/stop(); stop() is idempotent and removes the temp dir."""

    READY_MSG = "listening"      # the log line that says the process is up
    NAME = "signal"

    def binary(self):
        return SIGNAL_BIN

    def _ready(self, obj):
        self.port = int(obj["port"])
        self.scheme = obj.get("scheme", "http")

    def __init__(self, args=(), ca=None, env=None, listen="127.0.0.1:0", workdir=None,
                 log_level="debug"):
        self.ca = ca
        self.extra = list(args)
        self.listen = listen
        self.log_level = log_level
        self.env = dict(os.environ)
        self.env.update(env or {})
        self._own_dir = workdir is None
        self.dir = workdir or tempfile.mkdtemp(prefix="af-signal-")
        self.proc = None
        self._reported = False
        self.lines = []
        self._lock = threading.Lock()
        self._listening = threading.Event()
        self.listening = None
        self.port = None
        self.scheme = None

    def restart(self, **kw):
        """Stops (if running) and starts again with the same arguments: for
        a node, the same mesh port and data directory."""
        self.stop(**kw)
        self.proc = None
        self.lines = []
        self._listening = threading.Event()
        self.listening = None
        if self._own_dir:
            self.dir = tempfile.mkdtemp(prefix="af-%s-" % self.NAME)
        return self.start()

    def argv(self):
        a = [SIGNAL_BIN]
        if self.listen is not None:
            a += ["--listen", self.listen]
        if self.ca:
            a += ["--ca", self.ca]
        if self.log_level:
            a += ["--log-level", self.log_level]
        return a + self.extra

    def _reader(self):
        for raw in self.proc.stderr:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            with self._lock:
                self.lines.append(line)
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            if isinstance(obj, dict) and obj.get("msg") == self.READY_MSG and not self._listening.is_set():
                self.listening = obj
                self._listening.set()

    def spawn(self):
        if not os.access(self.binary(), os.X_OK):
            raise StartError("%s is not built" % self.binary())
        self.stdout_path = os.path.join(self.dir, "stdout")
        self._stdout = open(self.stdout_path, "wb")
        self.proc = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL,
                                     stdout=self._stdout, stderr=subprocess.PIPE,
                                     cwd=self.dir, env=self.env, start_new_session=True)
        self._thread = threading.Thread(target=self._reader, daemon=True)
        self._thread.start()
        _running.add(self)
        return self

    def start(self, timeout=START_TIMEOUT):
        self.spawn()
        deadline = time.monotonic() + timeout
        while not self._listening.wait(0.05):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise StartError("%s did not log '%s' (exit %r); argv %s; stderr:\n%s"
                                 % (self.NAME, self.READY_MSG, self.proc.returncode,
                                    self.argv(), self.stderr()))
        self._ready(self.listening)
        return self

    def client(self, tls_ca=None):
        return Client("127.0.0.1", self.port, tls_ca=tls_ca)

    @property
    def url(self):
        return "%s://127.0.0.1:%d" % (self.scheme, self.port)

    def wait_exit(self, timeout):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def send(self, sig):
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, sig)

    def stop(self, sig=_signal.SIGTERM, timeout=STOP_TIMEOUT):
        """Signal by PID, then SIGKILL after timeout; returns the exit status."""
        rc = None
        if self.proc is not None:
            if self.proc.poll() is None:
                try:
                    os.kill(self.proc.pid, sig)
                except ProcessLookupError:
                    pass
                rc = self.wait_exit(timeout)
                if rc is None:
                    self.proc.kill()
                    self.proc.wait()
            rc = self.proc.returncode
            self._thread.join(5)
            self.proc.stderr.close()
            self._stdout.close()
            _running.discard(self)
        if self._own_dir:
            shutil.rmtree(self.dir, ignore_errors=True)
        report = self.sanitizer_report()
        if report and not self._reported:
            self._reported = True
            raise AssertionError("the %s's sanitizers reported:\n%s" % (self.NAME, report))
        return rc

    def sanitizer_report(self):
        """ASan / UBSan / LSan output on the signal's stderr, or ''."""
        text = self.stderr()
        for marker in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
            i = text.find(marker)
            if i >= 0:
                return text[max(0, i - 200):i + 4000]
        return ""

    def run(self, timeout=20):
        """For configs that must fail: run to exit, return (rc, stdout, stderr)."""
        self.spawn()
        rc = self.wait_exit(timeout)
        if rc is None:
            self.stop(_signal.SIGKILL)
            raise AssertionError("%s did not exit within %ss; stderr:\n%s"
                                 % (self.NAME, timeout, self.stderr()))
        self._thread.join(5)
        with open(self.stdout_path, "rb") as f:
            out = f.read().decode("utf-8", "replace")
        err = self.stderr()
        self.stop()
        return rc, out, err

    def stderr(self):
        with self._lock:
            return "\n".join(self.lines)

    def logs(self):
        """Parsed JSON log lines (non-JSON lines are returned as {'raw': line})."""
        out = []
        with self._lock:
            lines = list(self.lines)
        for l in lines:
            if not l.strip():
                continue
            try:
                out.append(json.loads(l))
            except ValueError:
                out.append({"raw": l})
        return out

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class MeshNode(Signal):
    """One agentflow-node process with its own certificate files and data
    directory.  The data directory outlives stop() (so a restart keeps the
    incarnation counter and stored peers); it is removed with the pki
    directory the test owns."""

    READY_MSG = "node started"
    NAME = "node"

    def __init__(self, pki, node_id, signals=(), args=(), mesh_port=0, ca=None,
                 cert_node=None, log_level="debug"):
        super().__init__(args=args, ca=ca or pki.ca_path, log_level=log_level)
        self.node_id = node_id
        n = cert_node or pki.node(node_id)
        self.cert = n.cert
        self.cert_path = pki.write(node_id + ".crt", cert_pem(n.cert))
        self.key_path = pki.write(node_id + ".key", key_pem(n.key), 0o600)
        self.data_dir = os.path.join(pki.dir, "data-" + node_id)
        self.signals = list(signals)
        self.mesh_port = mesh_port
        self.api_port = None
        self.incarnation = None

    def binary(self):
        return NODE_BIN

    def argv(self):
        a = [NODE_BIN, "--ca", self.ca, "--cert", self.cert_path, "--key", self.key_path,
             "--data-dir", self.data_dir, "--listen", "127.0.0.1:%d" % self.mesh_port,
             "--api", "127.0.0.1:0", "--log-level", self.log_level]
        if self.signals:
            a += ["--signal", ",".join(self.signals)]
        if "--write-rate" not in self.extra:
            a += ["--write-rate", "100000"]  # tests post fast; one test checks the limit
        return a + self.extra

    def _ready(self, obj):
        self.mesh_port = int(obj["mesh_port"])
        self.api_port = self.port = int(obj["api_port"])
        self.incarnation = int(obj["incarnation"])


    def tokens(self):
        """The API tokens the node generated into its data directory."""
        with open(os.path.join(self.data_dir, "tokens.json")) as f:
            return json.load(f)

    def client(self, tls_ca=None, token="write"):
        """A client of the node's API using its write (or read, or no:
        token=None) token."""
        return Client("127.0.0.1", self.api_port, tls_ca,
                      self.tokens()[token] if token else None)

    def post(self, path, doc, token="write"):
        return self.client(token=token).request(
            "POST", path, json.dumps(doc).encode(), {"Content-Type": "application/json"})

    def status(self):
        r = self.client().get("/api/cluster/status")
        if r.status != 200:
            raise AssertionError("status answered %r" % r)
        return r.json()

    def links(self):
        """{peer: link status dict} from the node's own view."""
        return {l["peer"]: l for l in self.status()["local"]["links"]}

    def up_peers(self):
        return sorted(p for p, l in self.links().items() if l["state"] == "up")


# ---------------------------------------------------------------- metrics

_METRIC = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)')


def parse_metrics(text):
    """{'name' or 'name{labels}': float}"""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = _METRIC.match(line)
        if not m:
            raise AssertionError("not a Prometheus sample line: %r" % line)
        out[m.group(1) + (m.group(2) or "")] = float(m.group(3))
    return out


def proc_cpu_s(pid):
    """A process's user + system CPU so far, seconds (/proc/PID/stat)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_rss_kib(pid):
    """A process's resident set (VmRSS), KiB (0 for a zombie)."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def raw_exchange(port, data, timeout=10):
    """Sends raw bytes on a fresh connection; returns what comes back until
    the server closes, the timeout, or a whole reply (its Content-Length)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(data)
        out = b""
        while True:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            out += chunk
            if b"\r\n\r\n" in out:
                head, _, rest = out.partition(b"\r\n\r\n")
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        if len(rest) >= int(line.split(b":")[1]):
                            return out
        return out
    finally:
        s.close()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_until(pred, timeout, interval=0.1):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            return v
        time.sleep(interval)


# ---------------------------------------------------------------- assertions


class SignalTest(unittest.TestCase):
    """Assertions shared by the signal's test files."""

    maxDiff = None

    def assertJson(self, r, status, schema_name):
        """r has `status`, Content-Type application/json and a body valid
        against schema_name; returns the decoded body."""
        self.assertEqual(r.status, status, "expected %d, got %r" % (status, r))
        ctype = (r.header("Content-Type") or "").split(";")[0].strip().lower()
        self.assertEqual(ctype, "application/json", "Content-Type of %r" % r)
        doc = r.json()
        validate(schema_name, doc)
        return doc

    def assertRefused(self, r, code, status=None, mentions=None):
        """A refusal: exact status and error code, a non-empty message,
        valid against error.json.  mentions: text the message must contain."""
        status = status or ERROR_STATUS[code]
        self.assertEqual(r.status, status, "expected %d %s, got %r" % (status, code, r))
        doc = self.assertJson(r, status, "error")
        self.assertEqual(doc["error"], code, "expected error %s, got %r" % (code, doc))
        self.assertTrue(doc["message"].strip(), "empty message in %r" % doc)
        if mentions is not None:
            self.assertIn(mentions.lower(), doc["message"].lower(),
                          "message should mention %r: %r" % (mentions, doc))
        return doc

    def table(self, client, node):
        """What a refused request must not change: generation and the list
        of (node_id, fingerprint, registered_at, addresses, labels)."""
        r = client.get("/v1/peers", node.auth())
        doc = self.assertJson(r, 200, "peers-response")
        peers = sorted((p["node_id"], p["cert_fingerprint"], p["registered_at"],
                        tuple(p["addresses"]), tuple(sorted(p["labels"].items())))
                       for p in doc["peers"])
        return doc["generation"], peers

    def metrics(self, client):
        r = client.get("/metrics")
        self.assertEqual(r.status, 200, repr(r))
        ctype = (r.header("Content-Type") or "").lower()
        self.assertTrue(ctype.startswith("text/plain"), "metrics Content-Type %r" % ctype)
        return parse_metrics(r.body.decode())


def main():
    unittest.main(verbosity=2)


def post_user_events(node, count, size, name="bulk", timeout=60):
    """Posts count user events of size bytes (8 <= size <= 65536) to node
    through its API, on one keep-alive connection with its write token,
    waiting when told 429; the i-th payload starts with i as 8 digits.
    Returns their seqs."""
    api = Api(node.api_port, node.tokens()["write"], timeout=timeout)
    seqs = []
    try:
        for i in range(count):
            body = json.dumps({"name": name, "payload": "%08d" % i + "x" * (size - 8)})
            status, data = api.request("POST", "/api/events", body)
            while status == 429:
                time.sleep(0.5)
                status, data = api.request("POST", "/api/events", body)
            if status != 200:
                raise AssertionError("POST /api/events answered %d: %r" % (status, data[:200]))
            seqs.append(json.loads(data)["seq"])
    finally:
        api.close()
    return seqs


def wait_formed(nodes, timeout):
    """Until every node in nodes has an up link to every other one (a
    full mesh among them); AssertionError after timeout seconds."""
    ids = sorted(n.node_id for n in nodes)

    def formed():
        try:
            return all(n.up_peers() == [i for i in ids if i != n.node_id]
                       for n in nodes)
        except (AssertionError, OSError):
            return False
    if not wait_until(formed, timeout, 0.3):
        seen = {}
        for n in nodes:
            try:
                seen[n.node_id] = n.up_peers()
            except (AssertionError, OSError) as e:
                seen[n.node_id] = repr(e)
        raise AssertionError("mesh did not form: %s" % seen)
