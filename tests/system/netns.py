"""Network namespaces for multi-host system tests (iproute2 + nftables).

A Lab is a private test network made only of namespaces it creates:

    <prefix>-lan   a bridge br0 and one veth end "v-<host>" per host
    <prefix>-<h>   one namespace per host (e.g. sig, n1, n2, n3): "eth0" (the
                   other veth end) with 10.231.X.<k>/24, and "lo" up

<prefix> is "afnt<pid>-<4 hex>" and X is random, so runs in parallel never
meet.  Both ends of every veth are created directly inside namespaces
(`ip -n LAN link add ... peer ... netns HOST`): nothing is created, addressed
or bound in the root namespace, whose routes stay untouched.

How the test talks to processes inside: processes run under
`ip netns exec NS` (which execs the binary, so the PID the harness keeps is
the daemon's own and stop-by-PID works).  The test process itself reaches
any namespace's 127.0.0.1 or bridge addresses through sockets *created* in
that namespace: a short-lived thread calls setns(2) on /run/netns/NS, makes
the socket and exits (the network namespace of a socket is fixed at
creation; the test's other threads stay in the root namespace).  So each
node's API keeps its default, 127.0.0.1 inside its own namespace, and stays
reachable even while that host's eth0 is down.

Teardown: close() deletes the namespaces (and with them the veths, the
bridge and nft rules); callers stop their processes first, by PID
(harness.Signal.stop).  At exit, harness's reaper stops what is still
running, then the labs close.  Namespaces left by a run that was SIGKILLed
(the pid in their name gone) are deleted when the next Lab starts.
A missing CAP_NET_ADMIN / CAP_SYS_ADMIN raises unittest.SkipTest.
"""

import atexit
import ctypes
import http.client
import json
import os
import random
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import harness

CLONE_NEWNET = 0x40000000
NETNS_DIR = "/run/netns"
IP = shutil.which("ip") or "/usr/sbin/ip"
NFT = shutil.which("nft") or "/usr/sbin/nft"
_NAME = re.compile(r"^afnt(\d+)-[0-9a-f]{4}-[a-z0-9]+$")

_libc = ctypes.CDLL(None, use_errno=True)
_labs = set()


@atexit.register
def _close_all():
    """At exit (a test that crashed before its cleanups): the processes
    first, by PID (harness's own reaper, idempotent), then the namespaces."""
    if _labs:
        harness._reap()
    for lab in list(_labs):
        lab.close()


def _run(argv, check=True, timeout=20):
    r = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=timeout)
    if check and r.returncode != 0:
        raise RuntimeError("%s exited %d: %s" % (" ".join(argv), r.returncode,
                                                 r.stderr.decode(errors="replace").strip()))
    return r


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_stale():
    """Deletes namespaces of earlier runs whose test process is gone."""
    try:
        names = os.listdir(NETNS_DIR)
    except OSError:
        return
    for name in names:
        m = _NAME.match(name)
        if m and int(m.group(1)) != os.getpid() and not _pid_alive(int(m.group(1))):
            left = _run([IP, "netns", "pids", name], check=False).stdout.split()
            if left:   # a SIGKILLed run's daemons: said, not killed
                print("netns: %s still holds pids %s (a killed run's?)"
                      % (name, " ".join(p.decode() for p in left)), file=sys.stderr)
            _run([IP, "netns", "del", name], check=False)


class Lab:
    """A bridge in a "lan" namespace and one namespace per host on it."""

    def __init__(self, hosts):
        self.prefix = "afnt%d-%s" % (os.getpid(), secrets.token_hex(2))
        self.net = "10.231.%d" % random.randint(0, 255)
        self.hosts = list(hosts)
        self.addrs = {h: "%s.%d" % (self.net, 10 + i) for i, h in enumerate(self.hosts)}
        self.made = []          # namespace names, in creation order
        self.lan = self.ns("lan")

    def ns(self, host):
        """The namespace name of host (or "lan")."""
        return "%s-%s" % (self.prefix, host)

    def addr(self, host):
        return self.addrs[host]

    def exec_prefix(self, host):
        """argv prefix that runs a command inside host's namespace."""
        return [IP, "netns", "exec", self.ns(host)]

    # -- building and tearing down

    def _add_ns(self, name):
        r = _run([IP, "netns", "add", name], check=False)
        if r.returncode != 0:
            err = r.stderr.decode(errors="replace").strip()
            if "Operation not permitted" in err or "Permission denied" in err:
                raise unittest.SkipTest("cannot create network namespaces "
                                        "(no CAP_NET_ADMIN / CAP_SYS_ADMIN): " + err)
            raise RuntimeError("ip netns add %s: %s" % (name, err))
        self.made.append(name)

    def up(self):
        if not os.access(IP, os.X_OK):
            raise unittest.SkipTest("iproute2 (ip) is not installed")
        sweep_stale()
        _labs.add(self)
        try:
            self._add_ns(self.lan)
            self.ip("lan", "link", "set", "lo", "up")
            self.ip("lan", "link", "add", "br0", "type", "bridge")
            self.ip("lan", "link", "set", "br0", "up")
            for h in self.hosts:
                self._add_ns(self.ns(h))
                # both ends made in namespaces: the lan end, its peer moved
                # into the host's namespace at creation
                self.ip("lan", "link", "add", "v-" + h, "type", "veth", "peer",
                        "name", "eth0", "netns", self.ns(h))
                self.ip("lan", "link", "set", "v-" + h, "master", "br0")
                self.ip("lan", "link", "set", "v-" + h, "up")
                self.ip(h, "link", "set", "lo", "up")
                self.ip(h, "addr", "add", self.addrs[h] + "/24", "dev", "eth0")
                self.ip(h, "link", "set", "eth0", "up")
        except BaseException:
            self.close()
            raise
        return self

    def close(self):
        """Deletes every namespace made (idempotent)."""
        while self.made:
            _run([IP, "netns", "del", self.made.pop()], check=False)
        _labs.discard(self)

    # -- commands inside namespaces

    def ip(self, host, *args):
        return _run([IP, "-n", self.ns(host)] + list(args))

    def sh(self, host, *argv, check=True):
        return _run(self.exec_prefix(host) + list(argv), check=check)

    def link(self, host, up):
        """Takes host's eth0 (its only path to the lan) down or up."""
        self.ip(host, "link", "set", "eth0", "up" if up else "down")

    def nft(self, host, ruleset):
        """Loads an nft ruleset (text) inside host's namespace."""
        if not os.access(NFT, os.X_OK):
            raise unittest.SkipTest("nftables (nft) is not installed")
        r = subprocess.run(self.exec_prefix(host) + [NFT, "-f", "-"], input=ruleset.encode(),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=20)
        if r.returncode != 0:
            raise RuntimeError("nft in %s failed (%d): %s\n%s" % (
                host, r.returncode, r.stderr.decode(errors="replace"), ruleset))

    def lose(self, host, percent):
        """Drops a random `percent` of host's eth0 packets, both directions
        (this kernel has no sch_netem: nftables' numgen does it);
        loopback, where the API is, is left alone."""
        self.nft(host, """
table inet afloss {
  chain in { type filter hook input priority 0; policy accept;
    iifname "eth0" numgen random mod 100 < %(p)d counter drop; }
  chain out { type filter hook output priority 0; policy accept;
    oifname "eth0" numgen random mod 100 < %(p)d counter drop; }
}
""" % {"p": percent})

    def stop_losing(self, host):
        """Removes lose()'s rule; returns the packets it dropped (in, out)."""
        ruleset = self.sh(host, NFT, "list", "table", "inet", "afloss").stdout.decode()
        self.sh(host, NFT, "delete", "table", "inet", "afloss")
        return [int(x) for x in re.findall(r"packets (\d+)", ruleset)]

    def block(self, host, peer, port):
        """In host: drop TCP to peer:port and from peer to our :port, so
        neither side can open (or keep) a connection to the other's port."""
        self.nft(host, """
table inet aftest {
  chain out { type filter hook output priority 0; policy accept;
    ip daddr %(peer)s tcp dport %(port)d drop; }
  chain in { type filter hook input priority 0; policy accept;
    ip saddr %(peer)s tcp dport %(port)d drop; }
}
""" % {"peer": self.addr(peer), "port": port})

    def unblock(self, host):
        self.sh(host, NFT, "delete", "table", "inet", "aftest", check=False)

    # -- sockets of the test process inside a namespace

    def socket(self, host, family=socket.AF_INET, type_=socket.SOCK_STREAM):
        """A socket created inside host's namespace (usable from any thread)."""
        out = {}

        def make():
            try:
                fd = os.open(os.path.join(NETNS_DIR, self.ns(host)), os.O_RDONLY)
                try:
                    if _libc.setns(fd, CLONE_NEWNET) != 0:
                        e = ctypes.get_errno()
                        raise OSError(e, "setns(%s): %s" % (self.ns(host), os.strerror(e)))
                finally:
                    os.close(fd)
                out["sock"] = socket.socket(family, type_)
            except BaseException as e:
                out["error"] = e
        t = threading.Thread(target=make, name="setns-" + host)
        t.start()
        t.join()
        if "error" in out:
            raise out["error"]
        return out["sock"]

    def connect(self, host, address, timeout):
        s = self.socket(host)
        try:
            s.settimeout(timeout)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            s.connect(address)
        except BaseException:
            s.close()
            raise
        return s


class _Connection(http.client.HTTPConnection):
    """An HTTP(S) connection whose socket is created in from_host's namespace."""

    def __init__(self, lab, from_host, host, port, timeout, context=None):
        super().__init__(host, port, timeout=timeout)
        self._lab, self._from, self._ctx = lab, from_host, context

    def connect(self):
        sock = self._lab.connect(self._from, (self.host, self.port), self.timeout)
        if self._ctx is not None:
            sock = self._ctx.wrap_socket(sock, server_hostname=self.host)
        self.sock = sock


class Client(harness.Client):
    """harness.Client whose connections start inside a namespace."""

    def __init__(self, lab, from_host, host, port, tls_ca=None, token=None):
        super().__init__(host, port, tls_ca=tls_ca, token=token)
        self.lab, self.from_host = lab, from_host

    def connection(self):
        return _Connection(self.lab, self.from_host, self.host, self.port,
                           harness.HTTP_TIMEOUT, self.ctx)


class Signal(harness.Signal):
    """agentflow-signal inside host's namespace, on its lan address, over
    HTTPS (it refuses plain HTTP off loopback): a certificate from pki's CA
    for the address; nodes verify it with --signal-ca."""

    def __init__(self, lab, host, pki, args=(), port=7000, **kw):
        addr = lab.addr(host)
        # The address is also a DNS SAN: the node's mbedTLS 2.28 client
        # matches the URL's host against DNS names only, never IP SANs.
        cert, key = pki.ca.issue("signal", dns_sans=[addr], ip_sans=[addr])
        self.tls_cert = pki.write("signal-%s.crt" % host, harness.cert_pem(cert))
        self.tls_key = pki.write("signal-%s.key" % host, harness.key_pem(key), 0o600)
        self.tls_ca = pki.ca_path
        super().__init__(args=["--tls-cert", self.tls_cert, "--tls-key", self.tls_key]
                         + list(args), ca=pki.ca_path, listen="%s:%d" % (addr, port), **kw)
        self.lab, self.host = lab, host

    def argv(self):
        return self.lab.exec_prefix(self.host) + super().argv()

    def client(self, tls_ca=None):
        return Client(self.lab, self.host, self.lab.addr(self.host), self.port,
                      tls_ca=tls_ca or self.tls_ca)

    @property
    def url(self):
        return "%s://%s:%d" % (self.scheme, self.lab.addr(self.host), self.port)


class MeshNode(harness.MeshNode):
    """agentflow-node inside host's namespace: the mesh on ADDR:port
    (listen, and advertise unless `advertise` names another address, a
    proxy's say), the API on 127.0.0.1 inside the namespace."""

    def __init__(self, lab, host, pki, node_id, port=50051, advertise=None, **kw):
        super().__init__(pki, node_id, mesh_port=port, **kw)
        self.lab, self.host = lab, host
        self.advertise = advertise

    def argv(self):
        a = super().argv()
        i = a.index("--listen")
        a[i + 1] = "%s:%d" % (self.lab.addr(self.host), self.mesh_port)
        a[i + 2:i + 2] = ["--advertise", self.advertise or a[i + 1]]
        return self.lab.exec_prefix(self.host) + a

    def client(self, tls_ca=None, token="write"):
        return Client(self.lab, self.host, "127.0.0.1", self.api_port, tls_ca,
                      self.tokens()[token] if token else None)


class SkewedNode(MeshNode):
    """A MeshNode whose wall clock runs `skew_s` ahead (libfaketime preloaded;
    the monotonic clock is left real).  The process is the daemon itself
    (no faketime wrapper in between), so stop-by-PID works."""

    LIBFAKETIME = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"

    def __init__(self, *a, skew_s, **kw):
        super().__init__(*a, **kw)
        self.env.update({"LD_PRELOAD": self.LIBFAKETIME, "FAKETIME": "+%ds" % skew_s,
                         "FAKETIME_DONT_FAKE_MONOTONIC": "1",
                         "FAKETIME_NO_CACHE": "1"})

    @classmethod
    def skip_unless_possible(cls):
        if not os.path.exists(cls.LIBFAKETIME):
            raise unittest.SkipTest("libfaketime is not installed (apt-get install faketime): "
                                    "cannot skew a node's clock")
        if harness.asan_runtime(harness.NODE_BIN):
            raise unittest.SkipTest("libfaketime and AddressSanitizer cannot share a "
                                    "process (the node hangs at start); the normal "
                                    "build runs this scenario")


# ---------------------------------------------------------------- tests

NODES = ("n1", "n2", "n3")
MESH_PORT = 50051
FORM_TIMEOUT = 40      # all links up and every status known


def events(node, **query):
    """A node's event log (GET /api/events), up to 10,000 by default."""
    q = "&".join("%s=%s" % kv for kv in dict(dict(limit=10000), **query).items())
    r = node.client().get("/api/events?" + q)
    if r.status != 200:
        raise AssertionError("GET /api/events on %s answered %r" % (node.node_id, r))
    return r.json()["events"]


def user_events(node):
    """[(origin, incarnation, seq, name, payload)] of every user event held."""
    return [(e["origin"], e["incarnation"], e["seq"], e["body"]["name"], e["body"]["payload"])
            for e in events(node, kind="user")]


def remotes(node):
    return {r["node_id"]: r for r in node.status()["remote"]}


class LabTest(unittest.TestCase):
    """A test on a Lab of a signal namespace and NODES: processes in
    self.procs are stopped, then the namespaces removed, whatever happens.
    Subclasses set self.sig and self.nodes {host: MeshNode} as they start
    them."""

    maxDiff = None
    TMP_PREFIX = "af-lab-"
    HOSTS = NODES          # the nodes' namespaces, beside "sig"

    def setUp(self):
        self.t0 = time.monotonic()
        self.lab = Lab(("sig",) + self.HOSTS)
        self.lab.up()                       # SkipTest without privileges
        self.addCleanup(self.lab.close)     # runs last: after the processes stop
        self.tmp = tempfile.mkdtemp(prefix=self.TMP_PREFIX)
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.pki = harness.Pki(self.tmp)
        self.procs = []
        self.addCleanup(self.stop_all)
        self.sig = None
        self.nodes = {}

    def stop_all(self):
        errors = []
        for p in reversed(self.procs):
            try:
                p.stop()
            except AssertionError as e:    # a sanitizer report
                errors.append(str(e))
        self.procs = []
        if errors:
            raise AssertionError("\n".join(errors))

    def log(self, what):
        print("  [%6.1fs] %s" % (time.monotonic() - self.t0, what), flush=True)

    # -- the mesh: a signal on "sig" and a node on every host of NODES

    def start_mesh(self, args=(), skewed=None, skew_s=0, advertise=None):
        """Starts the signal and the nodes (fast failure detection, the
        signal's CA) with `args` after the common flags; the `skewed` host
        runs a SkewedNode `skew_s` ahead; `advertise` maps hosts to the
        address they advertise.  Returns the nodes in NODES order."""
        self.sig = Signal(self.lab, "sig", self.pki,
                          ["--rate", "0", "--heartbeat", "1", "--ttl", "5"])
        self.procs.append(self.sig)
        self.sig.start()
        for h in NODES:
            kw = dict(port=MESH_PORT, signals=[self.sig.url],
                      advertise=(advertise or {}).get(h),
                      args=["--dead-ms", "3000", "--ping-ms", "500",
                            "--signal-ca", self.pki.ca_path] + list(args))
            if h == skewed:
                n = SkewedNode(self.lab, h, self.pki, h, skew_s=skew_s, **kw)
            else:
                n = MeshNode(self.lab, h, self.pki, h, **kw)
            self.procs.append(n)
            self.nodes[h] = n.start()
        self.log("signal and nodes started")
        return [self.nodes[h] for h in NODES]

    def full_mesh(self):
        """Every node has a link up to every other."""
        return all(n.up_peers() == sorted(x for x in NODES if x != h)
                   for h, n in self.nodes.items())

    def wait_full_mesh(self, timeout=FORM_TIMEOUT, direct=False):
        """A full mesh, each node knowing every other's status as alive
        (and, with direct, reaching it over its own link)."""
        def formed():
            if not self.full_mesh():
                return False
            for h, n in self.nodes.items():
                rs = remotes(n)
                if any(not rs.get(o) or not rs[o]["status"] or rs[o]["member"] != "alive"
                       or (direct and rs[o].get("path") != "direct")
                       for o in NODES if o != h):
                    return False
            return True
        self.wait(formed, timeout, "full mesh of %slinks" % ("direct " if direct else ""))

    # -- user events: posted, then (origin, name, payload) everywhere once

    def post_event(self, node, name, payload):
        """POSTs a user event (the API is on the node's loopback, where no
        fault a test injects applies, and a POST is never retried, so a
        duplicate could only come from the mesh)."""
        r = node.post("/api/events", {"name": name, "payload": payload})
        self.assertEqual(r.status, 200, r)
        return r.json()

    def has_all(self, node, expected):
        have = {(g[0], g[3], g[4]) for g in user_events(node)}
        return all(e in have for e in expected)

    def wait_everything_everywhere(self, expected, timeout, what):
        missing = {}

        def done():
            missing.clear()
            for h, n in self.nodes.items():
                have = {(g[0], g[3], g[4]) for g in user_events(n)}
                lost = [e for e in expected if e not in have]
                if lost:
                    missing[h] = lost
            return not missing
        if not harness.wait_until(done, timeout, 0.5):
            self.fail("%s: user events missing after %ss: %s\n%s"
                      % (what, timeout, json.dumps(missing)[:2000], self.views()))

    def assert_exactly_once(self, expected):
        """Every node holds each (origin, name, payload) of expected exactly
        once, in each origin's order, and no other user event."""
        for h, n in self.nodes.items():
            got = user_events(n)
            keys = [g[:3] for g in got]
            self.assertEqual(len(keys), len(set(keys)), "duplicates on %s: %s" % (h, got))
            for origin in NODES:
                mine = sorted((g for g in got if g[0] == origin), key=lambda g: (g[1], g[2]))
                self.assertEqual([(g[3], g[4]) for g in mine],
                                 [(e[1], e[2]) for e in expected if e[0] == origin],
                                 "%s's user events as seen on %s" % (origin, h))

    def all_alive(self):
        """Every node sees every other as an alive member."""
        for h, n in self.nodes.items():
            rs = remotes(n)
            if any(not rs.get(o) or rs[o]["member"] != "alive"
                   for o in self.nodes if o != h):
                return False
        return True

    def split(self, minority, majority, on):
        """Cuts (on) or heals the mesh port between the two sides."""
        for h in minority:
            if on:
                for p in majority:
                    self.lab.block(h, p, MESH_PORT)
            else:
                self.lab.unblock(h)

    def wait(self, pred, timeout, what, interval=0.3):
        got = harness.wait_until(pred, timeout, interval)
        if not got:
            self.fail("%s: not within %ss\n%s" % (what, timeout, self.views()))
        return got

    def views(self):
        """Every node's links, remotes and signal state and the ends of the
        logs, for failure messages."""
        out = []
        for h, n in self.nodes.items():
            try:
                st = n.status()
                out.append("%s links %s" % (h, json.dumps(
                    {l["peer"]: [l["state"], l["address"], l["last_error"]]
                     for l in st["local"]["links"]})))
                out.append("%s remote %s" % (h, json.dumps(
                    {r["node_id"]: [r["member"], r.get("path")] for r in st["remote"]})))
                out.append("%s signal %s" % (h, json.dumps(st["local"].get("signal"))))
            except Exception as e:           # the view is for the failure message only
                out.append("%s: %s" % (h, e))
            notes = [l for l in n.stderr().splitlines() if '"level":"debug"' not in l]
            out.append("%s log (last lines but debug):\n    %s" % (h, "\n    ".join(notes[-12:])))
        if self.sig is not None:
            notes = [l for l in self.sig.stderr().splitlines() if '"level":"debug"' not in l]
            out.append("signal log (last lines but debug):\n    %s" % "\n    ".join(notes[-12:]))
        return "\n".join(out)
