"""Services (issue 18): processes kept in their desired state.

Three real nodes on loopback.  node-1 keeps services from --services:
one killed with SIGKILL is started again after its delay (a new pid,
restarts counted, seen from another node); one that exits 0 under
`restart: always` is started again until its budget is spent, then it
is failed everywhere; an `on-failure` one that exits 0 stays stopped.
Desired state set from another node with the CLI is kept over a restart
of node-1: a stopped service stays stopped, a running one is back
without any command.  A bad definition is refused with every error by
its path and changes nothing, and a node without --allow-adhoc takes
no definition from the API or the mesh; a frozen node starts nothing; a service
with a user runs with that user's ids (as root).  Bounded
polls throughout."""

import http.server
import json
import os
import threading
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

import harness

CLI = os.path.join(harness.BIN, "agentflow")
FORM_TIMEOUT = 40
SEEN_TIMEOUT = 15


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie is not alive for a user: its state says Z.
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def read_pid(path):
    try:
        with open(path) as f:
            return int(f.read().strip() or 0)
    except (OSError, ValueError):
        return 0


class Health(http.server.BaseHTTPRequestHandler):
    """GET /health answers the class's status; the test flips it."""
    status = 200
    hits = 0

    def do_GET(self):
        Health.hits += 1
        self.send_response(Health.status if self.path == "/health" else 404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


class Services(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="af-services-")
        cls.health = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Health)
        threading.Thread(target=cls.health.serve_forever, daemon=True).start()
        hport = cls.health.server_address[1]
        cls.pki = harness.Pki(cls.tmp)
        cls.sig = harness.Signal(["--rate", "0", "--heartbeat", "1", "--ttl", "5"],
                                 ca=cls.pki.ca_path).start()
        cls.pidfile = os.path.join(cls.tmp, "web.pid")
        cls.runs = os.path.join(cls.tmp, "oneshot.runs")
        fast = {"delay_s": 0.2, "max_delay_s": 0.4, "jitter": 0,
                "attempts": 3, "interval_s": 60}
        services = {
            # Writes its pid, then becomes the sleeper (same pid).
            "web": {"command": ["/bin/sh", "-c",
                                "echo $$ > %s; exec sleep 1000" % cls.pidfile],
                    "restart_policy": dict(fast, attempts=10),
                    "endpoints": [{"name": "http", "protocol": "http",
                                   "port": 18080, "tags": ["web"]}]},
            # Exits 0 at once: always → started again until the budget
            # (3 within 60 s) is spent.
            "oneshot": {"command": ["/bin/sh", "-c", "echo x >> %s" % cls.runs],
                        "restart_policy": fast},
            "tidy": {"command": ["/bin/true"], "restart": "on-failure",
                     "restart_policy": fast},
            # Its health is the test's HTTP server's answer.
            "api": {"command": ["/bin/sleep", "1000"],
                    "checks": [{"type": "http", "port": hport, "path": "/health",
                                "interval_s": 0.2, "timeout_s": 0.2, "failures": 2,
                                "successes": 1, "grace_s": 0}],
                    "endpoints": [{"name": "http", "protocol": "http", "port": hport}]},
        }
        cls.services_path = os.path.join(cls.tmp, "services.json")
        with open(cls.services_path, "w") as f:
            json.dump(services, f)
        cls.nodes = {}
        cls.dns_port = harness.free_port()
        for i in (1, 2, 3):
            node_id = "node-%d" % i
            args = ["--dead-ms", "3000", "--ping-ms", "300",
                    "--command-timeout-ms", "5000"]
            if i == 1:
                args += ["--services", cls.services_path]
            else:
                args += ["--allow-adhoc"]
            if i == 2:
                args += ["--dns", "127.0.0.1:%d" % cls.dns_port]
            cls.nodes[node_id] = harness.MeshNode(
                cls.pki, node_id, signals=[cls.sig.url], args=args).start()
        harness.wait_formed(list(cls.nodes.values()), FORM_TIMEOUT)

    @classmethod
    def tearDownClass(cls):
        cls.health.shutdown()
        cls.health.server_close()
        for n in cls.nodes.values():
            n.stop()
        cls.sig.stop()
        pid = read_pid(cls.pidfile)
        if pid and pid_alive(pid):
            os.kill(pid, signal.SIGKILL)
        shutil.rmtree(cls.tmp, True)

    # -- helpers

    def view(self, node, name, on="node-1"):
        """name on node `on` as `node` lists it, or None."""
        r = node.client(token="read").get("/api/services?name=%s&node=%s" % (name, on))
        self.assertEqual(r.status, 200, r)
        rows = r.json()["services"]
        return rows[0] if rows else None

    def wait_view(self, node, name, pred, timeout=SEEN_TIMEOUT, on="node-1"):
        last = [None]

        def ok():
            last[0] = self.view(node, name, on)
            return last[0] is not None and pred(last[0])
        if not harness.wait_until(ok, timeout):
            self.fail("%s on %s as %s sees it: %r" % (name, on, node.node_id, last[0]))
        return last[0]

    def cli(self, node, *args):
        return subprocess.run([CLI, "service"] + list(args) + [
            "--api", "127.0.0.1:%d" % node.api_port, "--token",
            node.tokens()["write"]], capture_output=True, text=True, timeout=30)

    def put(self, node, name, doc):
        return node.client().request("PUT", "/api/services/" + name,
                                     json.dumps(doc).encode(),
                                     {"Content-Type": "application/json"})

    # -- tests

    def test_1_killed_is_restarted_and_seen_everywhere(self):
        n1, n2 = self.nodes["node-1"], self.nodes["node-2"]
        first = self.wait_view(n2, "web", lambda s: s["state"] == "running" and s["pid"])
        self.assertEqual(first["desired"], "running")
        self.assertEqual(first["endpoints"][0]["port"], 18080)
        self.assertTrue(harness.wait_until(lambda: read_pid(self.pidfile) == first["pid"], 5))
        os.kill(first["pid"], signal.SIGKILL)
        again = self.wait_view(
            n2, "web", lambda s: s["state"] == "running" and s["pid"] not in (0, first["pid"]))
        self.assertGreaterEqual(again["restarts"], first["restarts"] + 1)
        self.assertEqual(again["last_exit"]["signal"], signal.SIGKILL)
        self.assertTrue(pid_alive(again["pid"]))
        # The node's own view says the same, with the run's task id.
        local = n1.client(token="read").get("/api/services/web").json()
        self.assertEqual(local["pid"], again["pid"])
        self.assertTrue(local["task_id"])

    def test_2_clean_exit_restarts_until_the_budget_is_spent(self):
        n3 = self.nodes["node-3"]
        failed = self.wait_view(n3, "oneshot", lambda s: s["state"] == "failed")
        self.assertIn("budget", failed["reason"])
        self.assertEqual(failed["restarts"], 3)
        with open(self.runs) as f:
            self.assertEqual(len(f.read().split()), 4)     # first run + 3 restarts
        # The default rule fires, and every node hears of it.
        def alert():
            r = n3.client(token="read").get("/api/alerts?node=node-1&state=firing")
            return [a for a in r.json()["alerts"]
                    if a["rule"] == "service_unhealthy" and a["subject"] == "oneshot"]
        self.assertTrue(harness.wait_until(alert, SEEN_TIMEOUT))
        self.assertIn("failed", alert()[0]["message"])
        # on-failure: a clean exit is the end of it.
        tidy = self.wait_view(n3, "tidy", lambda s: s["state"] == "stopped")
        self.assertEqual(tidy["restarts"], 0)
        self.assertEqual(tidy["last_exit"]["code"], 0)

    def test_3_desired_state_from_another_node_survives_a_restart(self):
        n1, n2 = self.nodes["node-1"], self.nodes["node-2"]
        running = self.wait_view(n2, "web", lambda s: s["state"] == "running" and s["pid"])
        r = self.cli(n2, "stop", "node-1", "web")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("node-1", r.stdout)
        self.wait_view(n2, "web", lambda s: s["state"] == "stopped" and s["desired"] == "stopped")
        self.assertTrue(harness.wait_until(lambda: not pid_alive(running["pid"]), 10))

        # Stopped stays stopped over a restart of its node.
        n1.stop(sig=signal.SIGKILL)
        n1.restart()
        harness.wait_formed(list(self.nodes.values()), FORM_TIMEOUT)
        time.sleep(1.5)
        local = n1.client(token="read").get("/api/services/web").json()
        self.assertEqual((local["desired"], local["state"]), ("stopped", "stopped"))

        # Started from elsewhere, then back after a restart without a command.
        r = self.cli(n2, "start", "node-1", "web")
        self.assertEqual(r.returncode, 0, r.stderr)
        before = self.wait_view(n2, "web", lambda s: s["state"] == "running" and s["pid"])
        n1.stop(sig=signal.SIGKILL)
        self.assertTrue(harness.wait_until(lambda: not pid_alive(before["pid"]), 10),
                        "a node killed with SIGKILL leaves its service running")
        n1.restart()
        after = self.wait_view(n1, "web",
                               lambda s: s["state"] == "running" and s["pid"] not in (0, before["pid"]))
        self.assertEqual(after["desired"], "running")

    def test_4_bad_definitions_change_nothing(self):
        n1, n3 = self.nodes["node-1"], self.nodes["node-3"]
        # test_3 restarted node-1: the refusal is node-1's word only once
        # node-3 has a route to it again (under ASan that can lag).
        harness.wait_formed(list(self.nodes.values()), FORM_TIMEOUT)
        # node-1 takes no command lines from outside (no --allow-adhoc):
        # its services come from its own --services file only.
        before1 = n1.client(token="read").get("/api/services/web").json()
        r = self.put(n1, "web", {"command": ["/bin/sh", "-c", "id"]})
        self.assertEqual(r.status, 403, r)
        self.assertIn("--allow-adhoc", r.json()["message"])
        good = os.path.join(self.tmp, "true.json")
        with open(good, "w") as f:
            json.dump({"command": ["/bin/true"]}, f)
        r = self.cli(n3, "put", "web", good, "--to", "node-1")
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn("--allow-adhoc", r.stdout + r.stderr)
        self.assertEqual(n1.client(token="read").get("/api/services/web").json()["version"],
                         before1["version"])

        # node-3 does; what it refuses changes nothing there either.
        self.assertEqual(self.put(n3, "cfg", {"command": ["/bin/sleep", "1000"],
                                              "desired": "stopped"}).status, 201)
        before = n3.client(token="read").get("/api/services/cfg").json()
        bad = {"command": ["/no/such/program"], "colour": "red",
               "restart_policy": {"interval_s": -5},
               "endpoints": [{"name": "http", "protocol": "tcp", "port": 70000}]}
        r = self.put(n3, "cfg", bad)
        self.assertEqual(r.status, 400, r)
        body = r.json()
        self.assertEqual(body["error"], "invalid_service")
        paths = {e["path"] for e in body["errors"]}
        self.assertIn("colour", paths)
        self.assertIn("restart_policy.interval_s", paths)
        self.assertIn("endpoints[0].port", paths)
        # Command not found is checked once the schema holds.
        r = self.put(n3, "cfg", {"command": ["/no/such/program"]})
        self.assertEqual(r.status, 400, r)
        self.assertEqual([e["path"] for e in r.json()["errors"]], ["command[0]"])
        after = n3.client(token="read").get("/api/services/cfg").json()
        self.assertEqual(after["version"], before["version"])
        self.assertEqual(after["definition"], before["definition"])
        # A name that is not one, and a verb that is not one.
        self.assertEqual(self.put(n3, "bad%20name", {"command": ["/bin/true"]}).status, 400)
        self.assertEqual(self.put(n3, "bad.name", {"command": ["/bin/true"]}).status, 400)
        r = n3.post("/api/services/cfg/explode", {})
        self.assertEqual(r.status, 404, r)
        # The CLI prints each error with its path and exits 1, here and
        # through another node.
        path = os.path.join(self.tmp, "bad.json")
        with open(path, "w") as f:
            json.dump(bad, f)
        r = self.cli(n3, "put", "cfg", path)
        self.assertEqual(r.returncode, 1)
        self.assertIn("restart_policy.interval_s", r.stderr)
        r = self.cli(n1, "put", "cfg", path, "--to", "node-3")
        self.assertEqual(r.returncode, 1)
        self.assertIn("interval_s", r.stdout + r.stderr)
        self.assertEqual(n3.client(token="read").get("/api/services/cfg").json()["version"],
                         before["version"])

    def test_5_added_at_run_time_and_removed(self):
        n1, n3 = self.nodes["node-1"], self.nodes["node-3"]
        r = self.put(n3, "sleeper", {"command": ["/bin/sleep", "1000"]})
        self.assertEqual(r.status, 201, r)
        s = self.wait_view(n1, "sleeper", lambda s: s["state"] == "running", on="node-3")
        r = self.put(n3, "sleeper", {"command": ["/bin/sleep", "999"]})
        self.assertEqual(r.status, 200, r)
        s2 = self.wait_view(n1, "sleeper",
                            lambda x: x["state"] == "running" and x["pid"] != s["pid"], on="node-3")
        self.assertNotEqual(s2["version"], s["version"])
        r = n3.client().request("DELETE", "/api/services/sleeper")
        self.assertEqual(r.status, 200, r)
        self.assertTrue(harness.wait_until(lambda: self.view(n1, "sleeper", "node-3") is None,
                                           SEEN_TIMEOUT))
        self.assertTrue(harness.wait_until(lambda: not pid_alive(s2["pid"]), 10))
        self.assertEqual(n3.client(token="read").get("/api/services/sleeper").status, 404)

    def test_6_a_frozen_node_starts_nothing(self):
        n2 = self.nodes["node-2"]
        self.assertEqual(self.put(n2, "idle", {"command": ["/bin/sleep", "1000"],
                                               "desired": "stopped"}).status, 201)
        r = subprocess.run([CLI, "freeze", "node-2", "--data-dir", n2.data_dir],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        try:
            r = n2.post("/api/services/idle/start", {})
            self.assertEqual(r.status, 423, r)
            self.assertEqual(self.view(n2, "idle", "node-2")["state"], "stopped")
        finally:
            r = subprocess.run([CLI, "unfreeze", "node-2", "--data-dir", n2.data_dir],
                               capture_output=True, text=True, timeout=30)
            self.assertEqual(r.returncode, 0, r.stderr)
        r = n2.post("/api/services/idle/start", {})
        self.assertEqual(r.status, 200, r)
        s = self.wait_view(n2, "idle", lambda s: s["state"] == "running", on="node-2")
        r = n2.post("/api/services/idle/stop", {})
        self.assertEqual(r.status, 200, r)
        self.wait_view(n2, "idle", lambda s: s["state"] == "stopped", on="node-2")
        self.assertTrue(harness.wait_until(lambda: not pid_alive(s["pid"]), 10))

    @unittest.skipUnless(os.geteuid() == 0, "running as another user needs root")
    def test_7_runs_as_its_user(self):
        import pwd
        n3 = self.nodes["node-3"]
        out = os.path.join(self.tmp, "ids")
        open(out, "w").close()
        os.chmod(out, 0o666)
        os.chmod(self.tmp, 0o755)
        r = self.put(n3, "asnobody", {"user": "nobody", "command": [
            "/bin/sh", "-c", "id -u > %s; id -g >> %s; exec sleep 1000" % (out, out)]})
        self.assertEqual(r.status, 201, r)
        s = self.wait_view(n3, "asnobody", lambda s: s["state"] == "running", on="node-3")
        nobody = pwd.getpwnam("nobody")
        def ids():
            with open(out) as f:
                return f.read().split()
        self.assertTrue(harness.wait_until(
            lambda: ids() == [str(nobody.pw_uid), str(nobody.pw_gid)], 5), ids())
        with open("/proc/%d/status" % s["pid"]) as f:
            uids = [l for l in f if l.startswith("Uid:")][0].split()[1:]
        self.assertEqual(set(uids), {str(nobody.pw_uid)})
        r = self.put(n3, "ghost", {"user": "no-such-user-af", "command": ["/bin/true"]})
        self.assertEqual(r.status, 400, r)
        self.assertEqual([e["path"] for e in r.json()["errors"]], ["user"])
        self.assertEqual(n3.client().request("DELETE", "/api/services/asnobody").status, 200)

    def dig(self, name, rtype):
        r = subprocess.run(["dig", "@127.0.0.1", "-p", str(self.dns_port), "+tries=1",
                            "+time=2", name, rtype], capture_output=True, text=True,
                           timeout=15)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        status = r.stdout.split("status: ", 1)[1].split(",", 1)[0]
        short = subprocess.run(["dig", "@127.0.0.1", "-p", str(self.dns_port), "+tries=1",
                                "+time=2", "+short", name, rtype], capture_output=True,
                               text=True, timeout=15).stdout.split("\n")
        return status, [l for l in short if l]

    @unittest.skipUnless(shutil.which("dig"), "dig (bind9-dnsutils) is not installed")
    def test_8_found_by_name_on_a_node_that_does_not_run_it(self):
        n1, n2 = self.nodes["node-1"], self.nodes["node-2"]
        r = n1.post("/api/services/web/start", {})
        self.assertEqual(r.status, 200, r)
        self.wait_view(n2, "web", lambda s: s["state"] == "running")
        c = n2.client(token="read")

        def instances():
            return c.get("/api/discovery?service=web").json()["instances"]
        self.assertTrue(harness.wait_until(lambda: len(instances()) == 1, SEEN_TIMEOUT))
        inst = instances()[0]
        self.assertEqual((inst["node"], inst["endpoint"], inst["port"], inst["address"]),
                         ("node-1", "http", 18080, "127.0.0.1"))
        self.assertEqual(c.get("/api/discovery?service=web&tag=web").json()["instances"],
                         [inst])
        self.assertEqual(c.get("/api/discovery?service=web&tag=nope").json()["instances"], [])
        one = c.get("/api/resolve?service=web&strategy=hash&key=user-7").json()["instance"]
        self.assertEqual(one, inst)
        self.assertEqual(c.get("/api/resolve?service=web&strategy=round_robin").status, 200)
        self.assertEqual(c.get("/api/resolve?service=web&strategy=fastest").status, 400)
        self.assertEqual(c.get("/api/resolve?service=web&strategy=hash").status, 400)
        self.assertEqual(c.get("/api/resolve?service=nothing").status, 404)
        self.assertEqual(c.get("/api/discovery").status, 400)
        self.assertEqual(c.get("/api/discovery?service=bad%20name").status, 400)

        status, recs = self.dig("web.service.agentflow", "SRV")
        self.assertEqual(status, "NOERROR")
        self.assertEqual(recs, ["1 1 18080 node-1.node.agentflow."])
        self.assertEqual(self.dig("web.service.agentflow", "A"), ("NOERROR", ["127.0.0.1"]))
        self.assertEqual(self.dig("WEB.Service.Agentflow.", "A"), ("NOERROR", ["127.0.0.1"]))
        self.assertEqual(self.dig("web.web.service.agentflow", "A")[1], ["127.0.0.1"])
        self.assertEqual(self.dig("node-1.node.agentflow", "A"), ("NOERROR", ["127.0.0.1"]))
        self.assertEqual(self.dig("nothing.service.agentflow", "A")[0], "NXDOMAIN")
        self.assertEqual(self.dig("example.com", "A")[0], "REFUSED")
        self.assertEqual(self.dig("web.service.agentflow", "MX")[0], "REFUSED")

        # Stopped: gone from discovery and DNS on the other node.
        r = n1.post("/api/services/web/stop", {})
        self.assertEqual(r.status, 200, r)
        self.assertTrue(harness.wait_until(lambda: instances() == [], SEEN_TIMEOUT))
        self.assertEqual(self.dig("web.service.agentflow", "SRV")[0], "NXDOMAIN")
        self.assertEqual(n1.post("/api/services/web/start", {}).status, 200)

    def test_9_unhealthy_leaves_discovery_everywhere(self):
        n1, n3 = self.nodes["node-1"], self.nodes["node-3"]
        c = n3.client(token="read")

        def found():
            return [i["node"] for i in
                    c.get("/api/discovery?service=api").json()["instances"]]
        Health.status = 200
        self.wait_view(n3, "api", lambda s: s["state"] == "healthy")
        self.assertTrue(harness.wait_until(lambda: found() == ["node-1"], SEEN_TIMEOUT))
        local = n1.client(token="read").get("/api/services/api").json()
        self.assertEqual(local["checks"][0]["status"], "healthy")
        self.assertTrue(local["checks"][0]["last"]["ok"])
        Health.status = 503
        bad = self.wait_view(n3, "api", lambda s: s["state"] == "unhealthy")
        self.assertIn("503", bad["reason"])
        self.assertTrue(harness.wait_until(lambda: found() == [], SEEN_TIMEOUT))
        self.assertEqual(self.view(self.nodes["node-2"], "api")["state"], "unhealthy")
        Health.status = 200
        self.wait_view(n3, "api", lambda s: s["state"] == "healthy")
        self.assertTrue(harness.wait_until(lambda: found() == ["node-1"], SEEN_TIMEOUT))
        # Not restarted: the check does not ask for it.
        self.assertEqual(self.view(n3, "api")["restarts"], local["restarts"])
        metrics = harness.parse_metrics(n1.client(token="read").get("/metrics").body.decode())
        self.assertEqual(metrics['agentflow_node_service_ready{service="api"}'], 1)
        self.assertEqual(metrics['agentflow_node_service_up{service="api"}'], 1)
        self.assertGreaterEqual(metrics['agentflow_node_service_checks_total'
                                        '{service="api",check="http-0",result="fail"}'], 2)
        self.assertGreater(metrics['agentflow_node_service_checks_total'
                                   '{service="api",check="http-0",result="pass"}'], 2)


if __name__ == "__main__":
    unittest.main()
