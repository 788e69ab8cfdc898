"""System tests of agentflow-node: real nodes and a real signal on loopback
form a mutual-TLS mesh, survive the signal's death, notice a killed peer,
take it back after a restart, and refuse a node from another CA.

Timing: generous bounds (this machine is shared); the signal is told to
ask for heartbeats every second so discovery moves quickly."""

import json
import os
import re
import shutil
import signal as _signal
import sqlite3
import subprocess
import tempfile
import time
import unittest

import harness

FORM_TIMEOUT = 40


class MeshTest(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="af-mesh-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.pki = harness.Pki(self.tmp)
        self.procs = []

    def tearDown(self):
        for p in reversed(self.procs):
            p.stop()

    def signal(self, *args):
        s = harness.Signal(["--rate", "0", "--heartbeat", "1", "--ttl", "5"] + list(args),
                           ca=self.pki.ca_path).start()
        self.procs.append(s)
        return s

    def node(self, node_id, signals=(), args=(), **kw):
        n = harness.MeshNode(self.pki, node_id, signals=signals,
                             args=["--dead-ms", "3000", "--ping-ms", "500"] + list(args), **kw)
        self.procs.append(n)
        return n.start()

    def wait_full_mesh(self, nodes, timeout=FORM_TIMEOUT):
        want = {n.node_id: sorted(m.node_id for m in nodes if m is not n) for n in nodes}

        def formed():
            return all(n.up_peers() == want[n.node_id] for n in nodes)
        if not harness.wait_until(formed, timeout, interval=0.3):
            self.fail("mesh did not form in %ss: %s" % (
                timeout, {n.node_id: n.up_peers() for n in nodes}))

    def mesh(self, count, sig=None):
        sig = sig or self.signal()
        nodes = [self.node("node-%d" % i, [sig.url]) for i in range(1, count + 1)]
        self.wait_full_mesh(nodes)
        return sig, nodes


class Formation(MeshTest):

    def test_three_nodes_form_a_full_mesh(self):
        sig, nodes = self.mesh(3)
        a = nodes[0].status()
        self.assertEqual(a["local"]["node_id"], "node-1")
        self.assertTrue(a["local"]["signal"]["reachable"])
        self.assertEqual(a["local"]["signal"]["signals"][0]["observed_address"], "127.0.0.1")
        remote = {r["node_id"]: r for r in a["remote"]}
        self.assertEqual(sorted(remote), ["node-2", "node-3"])
        for r in remote.values():
            self.assertEqual(r["member"], "alive")
            self.assertEqual(r["link"]["state"], "up")
            self.assertGreater(r["incarnation"], 0)
        # application pings give every link an RTT
        rtts = harness.wait_until(lambda: all(
            l["rtt_ms"] is not None for n in nodes for l in n.links().values()), 10)
        self.assertTrue(rtts, [n.links() for n in nodes])
        # both sides dial at once: the tie-break keeps one stream per pair
        # (each node holds exactly two), without flapping
        time.sleep(2)
        for n in nodes:
            for peer, l in n.links().items():
                self.assertEqual(l["state"], "up", (n.node_id, peer, l))
                self.assertEqual(l["reconnects"], 0, (n.node_id, peer, l))
            m = harness.parse_metrics(n.client().get("/metrics").body.decode())
            self.assertEqual(m["agentflow_node_streams"], 2, n.node_id)
            self.assertGreater(m['agentflow_node_link_bytes_total{direction="in"}'], 0)
        # the signal lists all three
        c = sig.client()
        self.assertEqual(c.get("/healthz").json()["nodes"], 3)

    def test_five_nodes_form_a_full_mesh(self):
        self.mesh(5)

    def test_https_signal(self):
        crt, key = self.pki.server_cert()
        sig = self.signal("--tls-cert", crt, "--tls-key", key)
        url = "https://localhost:%d" % sig.port
        nodes = [self.node("tls-%d" % i, [url], ["--signal-ca", self.pki.ca_path])
                 for i in (1, 2)]
        self.wait_full_mesh(nodes)
        self.assertTrue(nodes[0].status()["local"]["signal"]["reachable"])


DEPLOY = os.path.join(os.path.dirname(__file__), "..", "..", "deploy")
DASHBOARD = os.path.join(DEPLOY, "grafana", "agentflow.json")


def scrape(proc):
    return harness.parse_metrics(proc.client().get("/metrics").body.decode())


def families(proc):
    """The names proc's /metrics declares (# TYPE, a family with no series
    yet too) and the names of its samples (a histogram's _bucket...)."""
    text = proc.client().get("/metrics").body.decode()
    declared = {l.split()[2] for l in text.splitlines() if l.startswith("# TYPE ")}
    return declared | {k.split("{")[0] for k in harness.parse_metrics(text)}


class Metrics(MeshTest):
    """What a Prometheus scraping a running mesh sees: build and process
    families on node and signal, per-peer link gauges, the propagation and
    command histograms moving, and a dashboard naming only real series."""

    def assertHistogram(self, m, name):
        """Buckets cumulative, +Inf equal to _count; returns _count."""
        buckets = sorted((float(k.split('le="')[1].split('"')[0]), v)
                         for k, v in m.items() if k.startswith(name + "_bucket{"))
        self.assertGreater(len(buckets), 1, name)
        self.assertEqual(buckets[-1][0], float("inf"), name)
        counts = [v for _, v in buckets]
        self.assertEqual(counts, sorted(counts), "%s buckets not cumulative" % name)
        self.assertEqual(counts[-1], m[name + "_count"], name)
        self.assertGreaterEqual(m[name + "_sum"], 0, name)
        return m[name + "_count"]

    def assertProcess(self, m, proc, who):
        version = subprocess.run([proc.binary(), "--version"], capture_output=True,
                                 text=True, check=True).stdout.split()[-1]
        self.assertEqual(m.get('agentflow_build_info{version="%s"}' % version), 1, (who, version))
        self.assertGreater(m["process_resident_memory_bytes"], 1 << 20, who)
        self.assertGreaterEqual(m["process_virtual_memory_bytes"],
                                m["process_resident_memory_bytes"], who)
        rss = harness.proc_rss_kib(proc.proc.pid) * 1024
        self.assertLess(abs(m["process_resident_memory_bytes"] - rss), rss / 2, who)
        self.assertGreaterEqual(m["process_open_fds"], 3, who)
        self.assertGreater(m["process_max_fds"], m["process_open_fds"], who)
        self.assertGreaterEqual(m["process_cpu_seconds_total"], 0, who)
        # boot time + start ticks, as the client libraries compute it: /proc's
        # btime drifts from the wall clock by seconds on a VM, not minutes
        now = time.time()
        self.assertTrue(now - 300 < m["process_start_time_seconds"] < now + 60,
                        (who, m["process_start_time_seconds"], now))

    def test_mesh_exposes_prometheus_families(self):
        sig, nodes = self.mesh(3)
        a, b, c = nodes
        # every link gets an RTT from the application pings (--ping-ms 500)
        def rtts():
            ms = [scrape(n) for n in nodes]
            return all(m.get('agentflow_node_peer_rtt_seconds{peer="%s"}' % p.node_id, 0) > 0
                       for n, m in zip(nodes, ms) for p in nodes if p is not n) and ms
        ms = harness.wait_until(rtts, 15, interval=0.5)
        self.assertTrue(ms, [n.links() for n in nodes])
        for n, m in zip(nodes, ms):
            for p in nodes:
                if p is not n:
                    self.assertEqual(m['agentflow_node_peer_link_up{peer="%s"}' % p.node_id], 1)
                    self.assertLess(m['agentflow_node_peer_rtt_seconds{peer="%s"}' % p.node_id], 5)
            self.assertNotIn('agentflow_node_peer_link_up{peer="%s"}' % n.node_id, m)
            self.assertProcess(m, n, n.node_id)
            # one label, one meaning: no dir= left, direction and outcome apart
            self.assertFalse([k for k in m if "dir=" in k], n.node_id)
            self.assertIn('agentflow_node_events_total{direction="in",outcome="duplicate"}', m)
            self.assertIn('agentflow_node_link_bytes_total{direction="out"}', m)
        self.assertProcess(scrape(sig), sig, "signal")

        # events posted on a are applied on b: b's delay histogram counts them
        before = self.assertHistogram(scrape(b), "agentflow_node_event_delay_seconds")
        harness.post_user_events(a, 5, 64)
        grown = harness.wait_until(lambda: self.assertHistogram(
            scrape(b), "agentflow_node_event_delay_seconds") >= before + 5, 15)
        self.assertTrue(grown, before)
        m = scrape(b)
        self.assertLess(m["agentflow_node_event_delay_seconds_sum"] /
                        m["agentflow_node_event_delay_seconds_count"], 10)

        # a command answered: one more latency observation on its issuer
        before = self.assertHistogram(scrape(a), "agentflow_node_command_latency_seconds")
        r = a.post("/api/commands", {"target": "node-2", "type": "ping", "wait_ms": 15000})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["state"], "done", r.json())
        m = scrape(a)
        self.assertEqual(self.assertHistogram(m, "agentflow_node_command_latency_seconds"),
                         before + 1)
        self.assertGreater(m["agentflow_node_command_latency_seconds_sum"], 0)

        # the Grafana dashboard names only series these processes expose
        exposed = families(a) | families(sig)
        with open(DASHBOARD) as f:
            dash = json.load(f)
        exprs = [t["expr"] for p in dash["panels"] for t in p["targets"]]
        self.assertGreater(len(exprs), 10)
        for e in exprs:
            names = re.findall(r"\b((?:agentflow|process)_[a-z0-9_]+)", e)
            self.assertTrue(names, e)
            for name in names:
                self.assertIn(name, exposed, "dashboard expr %r names no exposed series" % e)

        # deploy/prometheus.yml scrapes the node as it answers: plain HTTP,
        # the read token from a file as the Authorization bearer
        import yaml   # python3-yaml comes with Debian's docker-compose
        with open(os.path.join(DEPLOY, "prometheus.yml")) as f:
            jobs = {j["job_name"]: j for j in yaml.safe_load(f)["scrape_configs"]}
        job = jobs["agentflow-node"]
        self.assertEqual((job["scheme"], job["metrics_path"]), ("http", "/metrics"))
        self.assertEqual(job["authorization"]["type"], "Bearer")
        self.assertIn("credentials_file", job["authorization"])
        self.assertEqual(jobs["agentflow-signal"]["scheme"], "https")
        self.assertIn("ca_file", jobs["agentflow-signal"]["tls_config"])
        token_file = os.path.join(self.tmp, "read.token")
        with open(token_file, "w") as f:
            f.write(a.tokens()["read"] + "\n")
        with open(token_file) as f:   # Prometheus trims the file's newline
            bearer = f.read().strip()
        r = a.client(token=None).get("/metrics", {"Authorization": "Bearer " + bearer})
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.header("Content-Type").startswith("text/plain; version=0.0.4"))
        self.assertEqual(a.client(token=None).get("/metrics").status, 401)

    def test_failed_dial_names_the_peer_and_address(self):
        sig, (a, b) = self.mesh(2)
        b.stop(_signal.SIGKILL)

        def said():
            return [l for l in a.logs() if l.get("msg") == "cannot link to peer"]
        lines = harness.wait_until(said, 30, interval=0.5)
        self.assertTrue(lines, a.stderr()[-3000:])
        self.assertEqual(lines[0]["peer"], "node-2")
        self.assertEqual(lines[0]["level"], "warn")
        self.assertRegex(lines[0]["address"], r":\d+$")
        self.assertTrue(lines[0]["reason"], lines[0])
        m = harness.wait_until(lambda: (lambda m: m.get(
            'agentflow_node_peer_link_up{peer="node-2"}') == 0 and m)(scrape(a)), 30)
        self.assertTrue(m)
        self.assertNotIn('agentflow_node_peer_rtt_seconds{peer="node-2"}', m)


class Failures(MeshTest):

    def test_signal_death_keeps_links(self):
        sig, nodes = self.mesh(3)
        sig.stop(_signal.SIGKILL)
        # the mesh stays up: no link drops while the signal is gone
        time.sleep(4)
        for n in nodes:
            self.assertEqual(n.up_peers(), sorted(m.node_id for m in nodes if m is not n))
            for l in n.links().values():
                self.assertEqual(l["reconnects"], 0)
        # and the nodes say the rendezvous is down
        down = harness.wait_until(lambda: not any(
            n.status()["local"]["signal"]["reachable"] for n in nodes), 30, interval=0.5)
        self.assertTrue(down, [n.status()["local"]["signal"] for n in nodes])

    def test_killed_node_is_marked_dead_and_rejoins_with_a_new_incarnation(self):
        sig, (a, b, c) = self.mesh(3)
        old_inc = c.incarnation
        c.stop(_signal.SIGKILL)

        def dead_everywhere():
            return all(n.links()["node-3"]["member"] == "dead" for n in (a, b))
        self.assertTrue(harness.wait_until(dead_everywhere, 30, interval=0.3),
                        [n.links().get("node-3") for n in (a, b)])
        self.assertEqual(a.links()["node-3"]["state"] in ("down", "connecting"), True)

        c.restart()
        self.assertGreater(c.incarnation, old_inc)
        self.wait_full_mesh([a, b, c])
        for n in (a, b):
            l = n.links()["node-3"]
            self.assertEqual(l["member"], "alive")
            self.assertEqual(l["incarnation"], c.incarnation)

    def test_an_idle_link_is_pinged_from_one_end_and_both_know_its_rtt(self):
        # node/mesh/links.c pings(): node-1 pings, node-2 answers; each
        # hears the other every --ping-ms (500) with half the messages
        sig, (a, b) = self.mesh(2)
        time.sleep(6)           # past the statuses of the link's coming up
        out = 'agentflow_node_link_frames_total{direction="out"}'
        before = {n.node_id: scrape(n)[out] for n in (a, b)}
        time.sleep(5)
        sent = {n.node_id: scrape(n)[out] - before[n.node_id] for n in (a, b)}
        # both pinging: 4 frames a period (2 pings, 2 pongs), 32 in 5 s
        # here (the links' 250 ms tick makes a period 750 ms); one: 16
        self.assertLessEqual(sum(sent.values()), 24, sent)
        self.assertGreaterEqual(min(sent.values()), 5, sent)
        for n, peer in ((a, "node-2"), (b, "node-1")):
            rtt = scrape(n).get('agentflow_node_peer_rtt_seconds{peer="%s"}' % peer)
            self.assertTrue(rtt is not None and 0 < rtt < 1, (n.node_id, rtt))
        self.assertEqual(a.links()["node-2"]["reconnects"], 0)

    def test_frozen_node_is_noticed_and_comes_back(self):
        sig, (a, b, c) = self.mesh(3)
        c.send(_signal.SIGSTOP)     # alive to TCP, silent to the mesh
        try:
            self.assertTrue(harness.wait_until(
                lambda: "node-3" not in a.up_peers() and "node-3" not in b.up_peers(),
                20, interval=0.3), (a.links().get("node-3"), b.links().get("node-3")))
            # noticed by the silence, long before any TCP timeout
            self.assertTrue(any(l.get("msg") == "link silent; closing it" and
                                l.get("peer") == "node-3" for l in a.logs() + b.logs()))
        finally:
            c.send(_signal.SIGCONT)
        self.wait_full_mesh([a, b, c])
        # node-3 knows it was the one stopped: a stall of its own loop,
        # counted, and no peer's link closed by node-3 for a silence
        # that was its own
        self.assertTrue(any(l.get("msg") == "our loop stalled; links' silence counts "
                            "from now" for l in c.logs()), c.stderr())
        self.assertFalse([l for l in c.logs() if l.get("msg") == "link silent; closing it"])
        self.assertGreaterEqual(scrape(c)["agentflow_node_loop_stalls_total"], 1)

    def test_graceful_stop_is_seen_as_left(self):
        sig, (a, b, c) = self.mesh(3)
        self.assertEqual(c.stop(), 0)
        self.assertTrue(harness.wait_until(
            lambda: a.links()["node-3"]["member"] == "left", 15, interval=0.3),
            a.links()["node-3"])
        # it also left the signal
        self.assertTrue(harness.wait_until(
            lambda: sig.client().get("/healthz").json()["nodes"] == 2, 10))

    def test_restart_while_signal_is_down_uses_stored_peers(self):
        sig, (a, b, c) = self.mesh(3)
        sig.stop(_signal.SIGKILL)
        c.restart()
        self.wait_full_mesh([a, b, c])
        self.assertFalse(c.status()["local"]["signal"]["reachable"])

    def test_node_from_another_ca_is_refused(self):
        sig, (a, b) = self.mesh(2)
        # x has a certificate of another CA (and trusts that CA, so it starts)
        other_dir = os.path.join(self.tmp, "other")
        os.makedirs(other_dir)
        xcert = self.pki.node("intruder", ca=self.pki.other)
        x = harness.MeshNode(self.pki, "intruder", signals=[sig.url],
                             ca=self.pki.other_ca_path, cert_node=xcert)
        self.procs.append(x)
        x.start()
        # the signal refuses its registration ...
        self.assertTrue(harness.wait_until(lambda: "bad_certificate" in (
            x.status()["local"]["signal"]["signals"][0]["last_error"]) or
            "certificate" in x.status()["local"]["signal"]["signals"][0]["last_error"],
            15, interval=0.3), x.status()["local"]["signal"])
        # ... and when it learns a's address anyway, a refuses the link
        x.stop()
        db = sqlite3.connect(os.path.join(x.data_dir, "agentflow.db"))
        db.execute("INSERT INTO peers(node_id, addresses, observed_address, labels, "
                   "cert_fingerprint, last_seen_ms) VALUES (?, ?, ?, ?, ?, ?)",
                   ("node-1", '["127.0.0.1:%d"]' % a.mesh_port, "127.0.0.1", "{}", "", 0))
        db.commit()
        db.close()
        x.restart()
        time.sleep(5)
        self.assertNotIn("intruder", a.links())
        self.assertNotEqual(x.links().get("node-1", {}).get("state"), "up")
        self.assertEqual(a.up_peers(), ["node-2"])


class Revocation(MeshTest):

    def test_revoked_node_is_cut_off_and_cannot_come_back(self):
        crl = self.pki.write_crl("mesh.crl")
        sig = self.signal("--crl", crl)
        nodes = [self.node("node-%d" % i, [sig.url], ["--crl", crl]) for i in (1, 2, 3)]
        self.wait_full_mesh(nodes)
        a, b, c = nodes
        # node-3 is revoked: the CRL file is rewritten where everybody reads it
        self.pki.ca.revoke(c.cert)
        self.pki.write_crl("mesh.crl")
        later = time.time() + 2
        os.utime(crl, (later, later))

        def cut_off():
            return "node-3" not in a.up_peers() and "node-3" not in b.up_peers()
        self.assertTrue(harness.wait_until(cut_off, 15, interval=0.3),
                        (a.links().get("node-3"), b.links().get("node-3")))
        self.assertEqual(a.up_peers(), ["node-2"])
        # it keeps trying, and keeps being refused, by peers and signal alike
        time.sleep(3)
        self.assertNotIn("node-3", a.up_peers())
        self.assertIn("revoked", a.links()["node-3"]["last_error"])
        self.assertTrue(harness.wait_until(lambda: "revoked" in c.status()["local"][
            "signal"]["signals"][0]["last_error"] or sig.client().get(
            "/healthz").json()["nodes"] == 2, 20, interval=0.5))


class Rotation(MeshTest):

    def test_a_node_restarted_with_a_new_certificate_is_taken_back(self):
        sig, (a, b, c) = self.mesh(3)
        old = c.cert
        c.stop()
        # a new key and certificate for the same node id, same data directory
        fresh = harness.MeshNode(self.pki, "node-3", signals=[sig.url],
                                 args=["--dead-ms", "3000", "--ping-ms", "500"],
                                 cert_node=self.pki.node("node-3"))
        self.assertNotEqual(harness.fingerprint(fresh.cert), harness.fingerprint(old))
        self.procs.append(fresh)
        fresh.start()
        self.assertGreater(fresh.incarnation, c.incarnation)
        self.wait_full_mesh([a, b, fresh])
        # its peers hold the new incarnation's state, no manual step taken
        self.assertTrue(harness.wait_until(lambda: any(
            r["node_id"] == "node-3" and r.get("incarnation") == fresh.incarnation
            for r in a.status()["remote"]), 10, 0.3), a.status()["remote"])


class Configuration(MeshTest):

    def test_missing_identity_files_fail_clearly(self):
        n = harness.MeshNode(self.pki, "cfg-1")
        n.extra = []
        n.key_path = os.path.join(self.tmp, "missing.key")
        rc, out, err = n.run()
        self.assertNotEqual(rc, 0)
        self.assertIn("missing.key", err)

    def test_empty_environment_values_mean_unset(self):
        # as a container's environment gives them: AGENTFLOW_CRL= and so on
        # (an https:// signal makes the node load --signal-ca at start)
        n = harness.MeshNode(self.pki, "cfg-4", signals=["https://localhost:1"])
        n.env.update({"AGENTFLOW_CRL": "", "AGENTFLOW_SIGNAL_CA": ""})
        self.procs.append(n)
        n.start()
        self.assertEqual(n.client(token=None).get("/healthz").status, 200)

    def test_a_malformed_allowed_origin_fails_clearly(self):
        for value, why in (("nas.example:8080", "not http:// or https://"),
                           ("http://nas.example/dash", "more than scheme://host[:port]")):
            n = harness.MeshNode(self.pki, "cfg-3", args=["--allow-origins", value])
            rc, out, err = n.run()
            self.assertNotEqual(rc, 0, value)
            self.assertIn("--allow-origins", err)
            self.assertIn(why, err)

    def test_a_label_the_signal_would_refuse_fails_at_start(self):
        # the signal refuses every registration with such a label (400), so
        # the node must not start and keep trying
        for value, bad in (("role=db,bad key!=x", "bad key!=x"),
                           ("role=db,site", "site"),
                           ("k" * 64 + "=v", "k" * 64 + "=v"),
                           ("role=" + "v" * 256, "role=" + "v" * 256),
                           ("role=a\tb", "role=a\tb")):
            n = harness.MeshNode(self.pki, "cfg-5", args=["--labels", value])
            rc, out, err = n.run()
            self.assertNotEqual(rc, 0, value)
            self.assertIn('--labels: "%s"' % bad, err)
            self.assertNotIn("node started", out + err)

    def test_help_lists_flags_and_environment(self):
        n = harness.MeshNode(self.pki, "cfg-2", args=["--help"])
        rc, out, err = n.run()
        self.assertEqual(rc, 0)
        for word in ("--signal", "--data-dir", "AGENTFLOW_SIGNAL", "--config"):
            self.assertIn(word, out)


if __name__ == "__main__":
    unittest.main()
