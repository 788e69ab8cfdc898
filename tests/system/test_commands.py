"""System tests of commands, tasks, audit, freeze and API tokens: real
nodes on loopback, a command issued on one node's API, routed over the
mutual-TLS links to its target, and its result, task state and log lines
observed through the APIs of the issuing node and of a third node.

Timing: generous bounds (this machine is shared)."""

import hashlib
import json
import os
import re
import shutil
import signal as _signal
import tempfile
import time
import unittest

import harness

FORM_TIMEOUT = 40

TASKS = {
    "hello": {"command": ["/bin/sh", "-c", "echo hello; echo oops >&2"]},
    "fail": {"command": ["/bin/sh", "-c", "echo about to fail; exit 3"]},
    "polite": {"command": ["/bin/sh", "-c",
                           "trap 'echo bye; exit 0' TERM; echo started; "
                           "while :; do sleep 0.1; done"]},
    "stubborn": {"command": ["/bin/sh", "-c",
                             "trap '' TERM; echo started; while :; do sleep 0.1; done"]},
    "slow": {"command": ["/bin/sh", "-c", "echo started; sleep 30"], "timeout_s": 1},
    "long": {"command": ["/bin/sh", "-c", "echo started; sleep 60"]},
    "echo": {"command": ["/bin/echo"], "allow_args": True},
}


def flaky_task(directory):
    """Fails twice, then succeeds: counts its attempts in a file."""
    counter = os.path.join(directory, "flaky-count")
    return {"command": ["/bin/sh", "-c",
                        'n=$(cat %s 2>/dev/null || echo 0); n=$((n+1)); echo $n > %s; '
                        'echo attempt $n; [ $n -ge 3 ]' % (counter, counter)],
            "retries": 3, "retry_backoff_ms": 100}


class Mesh(unittest.TestCase):
    """A signal and nodes node-1..N; tasks on every node."""

    COUNT = 3
    NAME = "node-%d"
    EXTRA = ()

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="af-cmd-")
        cls.pki = harness.Pki(cls.tmp)
        tasks = dict(TASKS, flaky=flaky_task(cls.tmp))
        cls.tasks_path = os.path.join(cls.tmp, "tasks.json")
        with open(cls.tasks_path, "w") as f:
            json.dump(tasks, f)
        cls.prepare()
        cls.sig = harness.Signal(["--rate", "0", "--heartbeat", "1", "--ttl", "5"],
                                 ca=cls.pki.ca_path).start()
        cls.nodes = []
        for i in range(1, cls.COUNT + 1):
            cls.nodes.append(cls.make_node(cls.NAME % i).start())
        cls.wait_formed()

    @classmethod
    def prepare(cls):
        """Files a subclass's nodes need, in cls.tmp."""

    @classmethod
    def make_node(cls, node_id, extra=()):
        labels = "role=worker" if node_id != "node-1" else "role=desk"
        return harness.MeshNode(cls.pki, node_id, signals=[cls.sig.url], args=[
            "--dead-ms", "3000", "--ping-ms", "500", "--tasks", cls.tasks_path,
            "--labels", labels, "--command-timeout-ms", "10000"] + list(cls.EXTRA)
            + list(extra))

    @classmethod
    def wait_formed(cls):
        want = {n.node_id: sorted(m.node_id for m in cls.nodes if m is not n)
                for n in cls.nodes}
        ok = harness.wait_until(lambda: all(
            n.up_peers() == want[n.node_id] and
            len([r for r in n.status()["remote"] if r.get("status")]) == cls.COUNT - 1
            for n in cls.nodes), FORM_TIMEOUT, interval=0.3)
        if not ok:
            raise AssertionError("mesh did not form: %s" % {
                n.node_id: n.up_peers() for n in cls.nodes})

    @classmethod
    def tearDownClass(cls):
        for n in reversed(cls.nodes):
            n.stop()
        cls.sig.stop()
        shutil.rmtree(cls.tmp, True)

    # -- helpers

    def command(self, node, target, type_, args=None, wait_ms=15000, **kw):
        doc = dict(target=target, type=type_, wait_ms=wait_ms, **kw)
        if args is not None:
            doc["args"] = args
        return node.post("/api/commands", doc)

    def ok_command(self, node, target, type_, args=None, **kw):
        r = self.command(node, target, type_, args, **kw)
        self.assertEqual(r.status, 200, r)
        rec = r.json()
        self.assertEqual(rec["state"], "done", rec)
        return rec

    def task(self, viewer, origin, task_id):
        r = viewer.client().get("/api/tasks/%s/%s" % (origin, task_id))
        return r.json() if r.status == 200 else None

    def wait_task(self, viewer, origin, task_id, states, timeout=20):
        got = harness.wait_until(lambda: (self.task(viewer, origin, task_id) or {}).get(
            "state") in states and self.task(viewer, origin, task_id), timeout, 0.1)
        self.assertTrue(got, self.task(viewer, origin, task_id))
        return got

    def lines(self, viewer, origin, task_id):
        r = viewer.client().get("/api/tasks/%s/%s/logs" % (origin, task_id))
        self.assertEqual(r.status, 200, r)
        return r.json()["lines"]

    def run_task(self, issuer, target, name, **kw):
        rec = self.ok_command(issuer, target, "run_task", {"task": name}, **kw)
        self.assertEqual(len(rec["results"]), 1, rec)
        res = rec["results"][0]
        self.assertEqual(res["status"], "ok", res)
        return res["body"]["task_id"]

    def audit(self, node, action):
        r = node.client().get("/api/audit?action=" + action)
        self.assertEqual(r.status, 200, r)
        return r.json()["records"]


class Commands(Mesh):

    def test_run_on_a_remote_node_and_follow_its_logs_from_a_third(self):
        a, b, c = self.nodes
        task_id = self.run_task(a, "node-2", "hello")
        t = self.wait_task(c, "node-2", task_id, ("succeeded",))
        self.assertEqual(t["exit_code"], 0)
        self.assertEqual(t["name"], "hello")
        self.assertEqual(t["principal"], "token:write")
        got = harness.wait_until(lambda: len(self.lines(c, "node-2", task_id)) >= 2, 10)
        self.assertTrue(got)
        lines = {(l["stream"], l["text"]) for l in self.lines(c, "node-2", task_id)}
        self.assertEqual(lines, {("stdout", "hello"), ("stderr", "oops")})
        # the same through the issuing node, and the task_logs command
        self.assertEqual(self.wait_task(a, "node-2", task_id, ("succeeded",))["state"],
                         "succeeded")
        rec = self.ok_command(a, "node-2", "task_logs", {"task_id": task_id})
        texts = [l["text"] for l in rec["results"][0]["body"]["lines"]]
        self.assertEqual(sorted(texts), ["hello", "oops"])

    def test_failure_is_recorded_with_its_exit_code(self):
        a, b, c = self.nodes
        task_id = self.run_task(a, "node-3", "fail")
        t = self.wait_task(b, "node-3", task_id, ("failed",))
        self.assertEqual(t["exit_code"], 3)
        self.assertIn("3", t["reason"])

    def test_arguments_only_where_allowed(self):
        a = self.nodes[0]
        rec = self.ok_command(a, "node-2", "run_task", {"task": "echo", "args": ["x", "y z"]})
        task_id = rec["results"][0]["body"]["task_id"]
        self.wait_task(a, "node-2", task_id, ("succeeded",))
        self.assertTrue(harness.wait_until(
            lambda: [l["text"] for l in self.lines(a, "node-2", task_id)] == ["x y z"], 10))
        rec = self.ok_command(a, "node-2", "run_task", {"task": "hello", "args": ["x"]})
        self.assertEqual(rec["results"][0]["status"], "refused", rec)

    def test_fan_out_to_all_and_to_a_label_selector(self):
        a = self.nodes[0]
        rec = self.ok_command(a, "all", "ping")
        self.assertEqual(sorted(r["node"] for r in rec["results"]),
                         ["node-1", "node-2", "node-3"])
        for r in rec["results"]:
            self.assertEqual(r["status"], "ok", r)
            self.assertEqual(r["body"]["node"], r["node"])
            self.assertEqual(r["path"][0], "node-1")
            self.assertEqual(r["path"][-1], r["node"])
        rec = self.ok_command(a, "role=worker", "run_task", {"task": "hello"})
        self.assertEqual(sorted(r["node"] for r in rec["results"]), ["node-2", "node-3"])
        self.assertTrue(all(r["status"] == "ok" for r in rec["results"]), rec)
        # The same task on two nodes: two ids, each naming its node
        # ("node-2.t1-5"), where both were once "t1-5".
        ids = {r["node"]: r["body"]["task_id"] for r in rec["results"]}
        self.assertNotEqual(ids["node-2"], ids["node-3"], ids)
        for node, task_id in ids.items():
            self.assertRegex(task_id, r"^%s\.t\d+-\d+$" % re.escape(node))
            self.assertEqual(self.wait_task(a, node, task_id, ("succeeded",))["task_id"],
                             task_id)
        rec = self.ok_command(a, {"labels": {"role": "desk"}}, "ping")
        self.assertEqual([r["node"] for r in rec["results"]], ["node-1"])

    def test_metrics_count_commands(self):
        a, b, c = self.nodes

        def m(node, name):
            return harness.parse_metrics(node.client().get("/metrics").body.decode()).get(name, 0)
        issued = m(a, 'agentflow_node_commands_total{what="issued"}')
        executed = m(b, 'agentflow_node_commands_total{what="executed"}')
        self.ok_command(a, "node-2", "ping")
        self.assertEqual(m(a, 'agentflow_node_commands_total{what="issued"}'), issued + 1)
        self.assertEqual(m(b, 'agentflow_node_commands_total{what="executed"}'), executed + 1)
        self.assertEqual(m(a, "agentflow_node_commands_pending"), 0)
        self.assertEqual(m(a, "agentflow_node_frozen"), 0)

    def test_results_can_be_followed_after_a_detached_issue(self):
        a = self.nodes[0]
        r = self.command(a, "all", "ping", wait_ms=0)
        self.assertIn(r.status, (200, 202), r)
        cid = r.json()["id"]
        r = a.client().get("/api/commands/%s?wait_ms=10000" % cid)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["state"], "done")
        self.assertEqual(len(r.json()["results"]), 3)
        listed = a.client().get("/api/commands?limit=50").json()["commands"]
        self.assertIn(cid, [c["id"] for c in listed])

    def test_soft_and_hard_cancel(self):
        a, b, c = self.nodes
        soft = self.run_task(a, "node-2", "polite")
        self.assertTrue(harness.wait_until(
            lambda: any(l["text"] == "started" for l in self.lines(a, "node-2", soft)), 10))
        rec = self.ok_command(c, "node-2", "cancel_task", {"task_id": soft})
        self.assertEqual(rec["results"][0]["status"], "ok", rec)
        t = self.wait_task(a, "node-2", soft, ("cancelled",))
        self.assertEqual(t["term_signal"], 0)   # it exited by itself on TERM
        self.assertTrue(harness.wait_until(
            lambda: any(l["text"] == "bye" for l in self.lines(a, "node-2", soft)), 10))

        hard = self.run_task(a, "node-3", "stubborn")
        self.assertTrue(harness.wait_until(
            lambda: any(l["text"] == "started" for l in self.lines(a, "node-3", hard)), 10))
        rec = self.ok_command(a, "node-3", "cancel_task", {"task_id": hard, "hard": True})
        self.assertEqual(rec["results"][0]["status"], "ok", rec)
        t = self.wait_task(a, "node-3", hard, ("cancelled",))
        self.assertEqual(t["term_signal"], 9)
        # cancelling again: it has finished
        rec = self.ok_command(a, "node-3", "cancel_task", {"task_id": hard})
        self.assertEqual(rec["results"][0]["status"], "error", rec)
        rec = self.ok_command(a, "node-3", "cancel_task", {"task_id": "t999-1"})
        self.assertEqual(rec["results"][0]["status"], "not_found", rec)

    def test_timeout_and_retries(self):
        a = self.nodes[0]
        slow = self.run_task(a, "node-2", "slow")
        t = self.wait_task(a, "node-2", slow, ("timed-out",), timeout=30)
        self.assertIn("1 s", t["reason"])
        flaky = self.run_task(a, "node-3", "flaky")
        t = self.wait_task(a, "node-3", flaky, ("succeeded",), timeout=30)
        self.assertEqual(t["attempt"], 3)
        self.assertEqual(t["max_attempts"], 4)
        texts = [l["text"] for l in self.lines(a, "node-3", flaky)]
        self.assertEqual(texts, ["attempt 1", "attempt 2", "attempt 3"])
        # every state it went through reached the event log of a third node
        evs = self.nodes[1].client().get("/api/events?node=node-3&kind=task&limit=10000")
        states = [e["body"]["state"] for e in evs.json()["events"]
                  if e["body"]["task_id"] == flaky]
        self.assertEqual(states.count("retrying"), 2, states)
        self.assertEqual(states[-1], "succeeded")

    def test_idempotency_key_returns_the_first_result(self):
        a = self.nodes[0]
        first = self.ok_command(a, "node-2", "run_task", {"task": "hello"},
                                idempotency_key="deploy-42")
        again = self.ok_command(a, "node-2", "run_task", {"task": "hello"},
                                idempotency_key="deploy-42")
        self.assertEqual(again["id"], first["id"])
        self.assertTrue(again.get("duplicate"))
        self.assertEqual(again["results"], first["results"])
        cid = first["id"]
        time.sleep(1)
        runs = [t for t in a.client().get("/api/tasks?node=node-2&limit=10000").json()["tasks"]
                if t.get("command_id") == cid]
        self.assertEqual(len(runs), 1, runs)

    def test_adhoc_commands_are_refused_and_audited(self):
        a, b, c = self.nodes
        rec = self.ok_command(a, "node-2", "run_task", {"command": ["/bin/touch",
                              os.path.join(self.tmp, "pwned")]})
        res = rec["results"][0]
        self.assertEqual(res["status"], "refused", res)
        self.assertIn("ad-hoc", res["error"])
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "pwned")))
        refused = [r for r in self.audit(b, "command.refused")
                   if r["details"]["command_id"] == rec["id"]]
        self.assertEqual(len(refused), 1)
        self.assertEqual(refused[0]["actor"], "token:write")
        issued = [r for r in self.audit(a, "command.issued")
                  if r["details"]["command_id"] == rec["id"]]
        self.assertEqual(len(issued), 1)
        # the append-only file holds the same record
        with open(os.path.join(b.data_dir, "audit.jsonl")) as f:
            file_records = [json.loads(l) for l in f]
        self.assertTrue(any(r["action"] == "command.refused" and
                            r["details"]["command_id"] == rec["id"] for r in file_records))

    def test_unknown_task_and_alert(self):
        a = self.nodes[0]
        rec = self.ok_command(a, "node-2", "run_task", {"task": "no-such"})
        self.assertEqual(rec["results"][0]["status"], "not_found")
        rec = self.ok_command(a, "node-2", "ack_alert", {"alert_id": "a999-1"})
        self.assertEqual(rec["results"][0]["status"], "not_found")
        rec = self.ok_command(a, "node-2", "run_task", {})
        self.assertEqual(rec["results"][0]["status"], "invalid")
        self.assertIn("args.task", rec["results"][0]["error"])

    def test_bad_requests_get_clear_errors(self):
        a = self.nodes[0]
        c = a.client()
        hdr = {"Content-Type": "application/json"}
        r = c.request("POST", "/api/commands", b"{not json", hdr)
        self.assertEqual((r.status, r.json()["error"]), (400, "bad_json"))
        r = c.request("POST", "/api/commands", b"[1,2]", hdr)
        self.assertEqual((r.status, r.json()["error"]), (400, "bad_json"))
        r = self.command(a, "node-2", "reboot_everything")
        self.assertEqual((r.status, r.json()["error"]), (400, "unknown_type"))
        self.assertIn("run_task", r.json()["message"])
        r = self.command(a, "node-2", "ping", {"blob": "x" * 70000})
        self.assertEqual((r.status, r.json()["error"]), (413, "too_large"))
        r = self.command(a, "not a node!", "ping")
        self.assertEqual((r.status, r.json()["error"]), (400, "invalid_target"))
        r = self.command(a, "role=nobody", "ping")
        self.assertEqual((r.status, r.json()["error"]), (404, "no_target"))
        r = self.command(a, "node-2", "ping", [1])
        self.assertEqual(r.status, 400)
        r = self.command(a, "node-2", "ping", deadline_ms=-5)
        self.assertEqual((r.status, r.json()["error"]), (400, "invalid_field"))
        r = c.request("GET", "/api/commands/does-not-exist")
        self.assertEqual(r.status, 404)
        r = c.request("GET", "/api/tasks?state=sleeping")
        self.assertEqual(r.status, 400)
        r = c.request("DELETE", "/api/commands")
        self.assertEqual(r.status, 405)
        # and the node still serves
        self.assertEqual(self.ok_command(a, "node-2", "ping")["results"][0]["status"], "ok")

    def test_tokens(self):
        a = self.nodes[0]
        toks = a.tokens()
        self.assertEqual(os.stat(os.path.join(a.data_dir, "tokens.json")).st_mode & 0o777,
                         0o600)
        r = a.client(token=None).get("/api/cluster/status")
        self.assertEqual((r.status, r.json()["error"]), (401, "unauthorized"))
        r = harness.Client("127.0.0.1", a.api_port, token="x" * 40).get("/api/tasks")
        self.assertEqual(r.status, 401)
        self.assertEqual(a.client(token=None).get("/healthz").status, 200)
        # a read token reads, and cannot write
        self.assertEqual(a.client(token="read").get("/api/tasks").status, 200)
        r = self.command(a, "node-2", "ping")
        self.assertEqual(r.status, 200)
        r = a.post("/api/commands", {"target": "node-2", "type": "run_task",
                                     "args": {"task": "hello"}}, token="read")
        self.assertEqual((r.status, r.json()["error"]), (403, "forbidden"))
        r = a.post("/api/events", {"name": "x"}, token="read")
        self.assertEqual(r.status, 403)
        # the token works as ?token= too (for WebSocket clients)
        r = harness.Client("127.0.0.1", a.api_port).get("/api/tasks?token=" + toks["read"])
        self.assertEqual(r.status, 200)
        failed = self.audit(a, "auth.failed")
        self.assertTrue(any(x["result"] == "forbidden" for x in failed), failed)
        self.assertTrue(any(x["result"] == "unauthorized" for x in failed), failed)

    def test_deadline_passes_while_the_target_is_stopped(self):
        a, b, c = self.nodes
        c.send(_signal.SIGSTOP)
        try:
            start = time.monotonic()
            rec = self.ok_command(a, "node-3", "ping", deadline_ms=800, wait_ms=10000)
            self.assertLess(time.monotonic() - start, 8)
            res = rec["results"][0]
            self.assertEqual(res["status"], "timeout", res)
            self.assertIn("deadline", res["error"])
        finally:
            c.send(_signal.SIGCONT)


class Freeze(Mesh):

    def test_freeze_stops_new_tasks_mesh_wide_and_survives_a_restart(self):
        a, b, c = self.nodes
        start = time.monotonic()
        rec = self.ok_command(a, "all", "freeze")
        self.assertTrue(all(r["status"] == "ok" for r in rec["results"]), rec)

        def everyone_sees_frozen():
            for viewer in self.nodes:
                st = viewer.status()
                if not st["local"]["state"]["status"]["frozen"]:
                    return False
                if not all(r["status"]["frozen"] for r in st["remote"]):
                    return False
            return True
        self.assertTrue(harness.wait_until(everyone_sees_frozen, 10, 0.2))
        self.assertLess(time.monotonic() - start, 10)
        # writes are refused where the request is made ...
        r = self.command(b, "node-3", "run_task", {"task": "hello"})
        self.assertEqual((r.status, r.json()["error"]), (423, "frozen"))
        r = b.post("/api/events", {"name": "x"})
        self.assertEqual((r.status, r.json()["error"]), (423, "frozen"))
        # ... and where they would run (a command queued before the freeze)
        self.assertEqual(self.ok_command(a, "node-2", "ping")["results"][0]["status"], "ok")
        # it survives a restart
        c.restart()
        self.assertTrue(harness.wait_until(
            lambda: c.status()["local"]["state"]["status"]["frozen"], 10))
        self.assertTrue(json.loads(c.client().get("/api/definitions").body)["frozen"])
        self.wait_formed()
        rec = self.ok_command(a, "all", "unfreeze")
        self.assertTrue(all(r["status"] == "ok" for r in rec["results"]), rec)
        self.assertFalse(json.loads(c.client().get("/api/definitions").body)["frozen"])
        task_id = self.run_task(b, "node-3", "hello")
        self.wait_task(b, "node-3", task_id, ("succeeded",))


class LongNodeId(Mesh):
    """A node whose id, 63 characters, is too long to stand whole in its
    task ids (node/work/work_ids.h)."""

    COUNT = 1
    NAME = "livingroom-" + "r" * 50 + "-%d"

    def test_its_task_ids_carry_a_tag(self):
        node = self.nodes[0]
        self.assertEqual(len(node.node_id), 63)
        task_id = self.run_task(node, node.node_id, "hello")
        tag = "livingroom--" + hashlib.sha256(node.node_id.encode()).hexdigest()[:8]
        self.assertRegex(task_id, r"^%s\.t\d+-\d+$" % re.escape(tag))
        self.wait_task(node, node.node_id, task_id, ("succeeded",))
        self.assertTrue(harness.wait_until(lambda: sorted(
            l["text"] for l in self.lines(node, node.node_id, task_id)) == ["hello", "oops"], 10))


class Alerts(Mesh):
    """Every node with rules that fire at once (load above -1) and on a
    failed task."""

    RULES = [
        {"name": "load_any", "metric": "load1", "above": -1, "for_s": 0,
         "severity": "info"},
        {"name": "task_failed", "on": "task_failed", "severity": "critical"},
    ]

    @classmethod
    def prepare(cls):
        cls.rules_path = os.path.join(cls.tmp, "alerts.json")
        with open(cls.rules_path, "w") as f:
            json.dump(cls.RULES, f)
        cls.EXTRA = ("--alerts", cls.rules_path, "--allow-adhoc")

    def alerts(self, viewer, query):
        r = viewer.client().get("/api/alerts?" + query)
        self.assertEqual(r.status, 200, r)
        return r.json()["alerts"]

    def open_alert(self, viewer, node, rule, state="firing"):
        found = harness.wait_until(lambda: [
            x for x in self.alerts(viewer, "node=%s&state=%s" % (node, state))
            if x["rule"] == rule], 15, 0.2)
        self.assertTrue(found, self.alerts(viewer, "node=" + node))
        self.assertEqual(len(found), 1, found)
        return found[0]

    def test_alerts_fire_are_acknowledged_and_survive_a_restart(self):
        a, b, c = self.nodes
        alert = self.open_alert(a, "node-2", "load_any")
        self.assertEqual(alert["severity"], "info")
        # The same rule on another node: each alert's id names its node.
        other = self.open_alert(a, "node-3", "load_any")
        self.assertRegex(alert["alert_id"], r"^node-2\.a\d+-\d+$")
        self.assertRegex(other["alert_id"], r"^node-3\.a\d+-\d+$")
        self.assertEqual(alert["threshold"], -1)
        rec = self.ok_command(c, "node-2", "ack_alert", {"alert_id": alert["alert_id"]})
        self.assertEqual(rec["results"][0]["status"], "ok", rec)
        acked = self.open_alert(a, "node-2", "load_any", "acknowledged")
        self.assertEqual(acked["alert_id"], alert["alert_id"])
        self.assertEqual(acked["acked_by"], "token:write")
        # after a restart the same alert goes on: no second one for the rule
        b.restart()
        self.wait_formed()
        time.sleep(2)
        same = self.open_alert(a, "node-2", "load_any", "acknowledged")
        self.assertEqual(same["alert_id"], alert["alert_id"])
        self.assertEqual(self.alerts(a, "node=node-2&state=firing"), [])

    def test_a_failed_task_raises_an_alert_everywhere(self):
        a, b, c = self.nodes
        task_id = self.run_task(a, "node-3", "fail")
        self.wait_task(a, "node-3", task_id, ("failed",))
        for viewer in self.nodes:
            alert = self.open_alert(viewer, "node-3", "task_failed")
            self.assertEqual(alert["subject"], "fail")
            self.assertEqual(alert["severity"], "critical")
            self.assertIn(task_id, alert["message"])

    def test_adhoc_commands_run_where_allowed(self):
        a = self.nodes[0]
        rec = self.ok_command(a, "node-2", "run_task", {"command": ["/bin/echo", "ad", "hoc"]})
        res = rec["results"][0]
        self.assertEqual(res["status"], "ok", res)
        task_id = res["body"]["task_id"]
        t = self.wait_task(a, "node-2", task_id, ("succeeded",))
        self.assertEqual(t["name"], "adhoc")
        self.assertTrue(harness.wait_until(
            lambda: [l["text"] for l in self.lines(a, "node-2", task_id)] == ["ad hoc"], 10))


class WriteRate(unittest.TestCase):
    """One node alone, allowed one write per second (bursts of three)."""

    def test_writes_beyond_the_rate_get_429_and_reads_still_work(self):
        tmp = tempfile.mkdtemp(prefix="af-rate-")
        self.addCleanup(shutil.rmtree, tmp, True)
        n = harness.MeshNode(harness.Pki(tmp), "solo", args=["--write-rate", "1"]).start()
        self.addCleanup(n.stop)
        codes = [n.post("/api/events", {"name": "e%d" % i}).status for i in range(10)]
        self.assertIn(429, codes)
        self.assertLessEqual(codes.count(200), 5, codes)
        r = n.post("/api/events", {"name": "again"})
        if r.status == 429:
            self.assertEqual(r.json()["error"], "rate_limited")
            self.assertGreaterEqual(int(r.header("Retry-After")), 1)
        # the read token has its own budget, and reads are not limited
        for _ in range(20):
            self.assertEqual(n.client(token="read").get("/api/tasks").status, 200)
        # the budget refills
        self.assertTrue(harness.wait_until(
            lambda: n.post("/api/events", {"name": "later"}).status == 200, 10, 0.5))


class Restart(Mesh):

    def test_a_task_running_at_a_crash_is_failed_not_run_again(self):
        a, b, c = self.nodes
        task_id = self.run_task(a, "node-2", "long")
        self.assertTrue(harness.wait_until(
            lambda: any(l["text"] == "started" for l in self.lines(a, "node-2", task_id)), 10))
        b.send(_signal.SIGKILL)
        b.wait_exit(10)
        b.restart()
        t = self.wait_task(a, "node-2", task_id, ("failed",), timeout=30)
        self.assertIn("restarted", t["reason"])
        time.sleep(1.5)
        # it did not start again: one "started" line, no new run of it
        starts = [l for l in self.lines(b, "node-2", task_id) if l["text"] == "started"]
        self.assertEqual(len(starts), 1)
        self.assertEqual(self.task(b, "node-2", task_id)["state"], "failed")

    def test_a_graceful_stop_fails_running_tasks_with_a_reason(self):
        a, b, c = self.nodes
        task_id = self.run_task(a, "node-3", "long")
        self.assertTrue(harness.wait_until(
            lambda: any(l["text"] == "started" for l in self.lines(a, "node-3", task_id)), 10))
        c.restart()
        t = self.wait_task(a, "node-3", task_id, ("failed",), timeout=30)
        self.assertIn("stopped", t["reason"])


class Unreachable(Mesh):

    def test_a_dead_node_is_answered_unreachable_at_once(self):
        a, b, c = self.nodes
        c.send(_signal.SIGKILL)
        c.wait_exit(10)
        self.assertTrue(harness.wait_until(lambda: all(
            "node-3" not in n.up_peers() for n in (a, b)), 15, 0.2))
        time.sleep(1.5)     # both statuses without the link have gone out
        # heard from a moment ago, but no route is left to it
        far = {r["node_id"]: r for r in a.status()["remote"]}
        self.assertEqual(far["node-3"]["path"], "none", far["node-3"])
        # and no longer alive: cut off, it is what our link says of it
        self.assertIn(far["node-3"]["member"], ("suspect", "dead"), far["node-3"])
        start = time.monotonic()
        rec = self.ok_command(a, "all", "ping", wait_ms=15000)
        took = time.monotonic() - start
        by = {r["node"]: r for r in rec["results"]}
        self.assertEqual(sorted(by), ["node-1", "node-2", "node-3"])
        self.assertEqual(by["node-1"]["status"], "ok")      # its own answer, not the relay's
        self.assertEqual(by["node-2"]["status"], "ok")
        self.assertEqual(by["node-3"]["status"], "unreachable", by["node-3"])
        self.assertIn("no route", by["node-3"]["error"])
        # well before the 10 s per-node timeout: the answer was not lost
        self.assertLess(took, 5, rec)


class Relay(Mesh):
    """Five nodes, each linked only to its two ring neighbours."""

    COUNT = 5
    EXTRA = ("--max-links", "2")

    @classmethod
    def wait_formed(cls):
        ids = sorted(n.node_id for n in cls.nodes)
        ring = {ids[i]: sorted({ids[(i + 1) % 5], ids[(i - 1) % 5]}) for i in range(5)}

        def formed():
            for n in cls.nodes:
                if n.up_peers() != ring[n.node_id]:
                    return False
                rs = [r for r in n.status()["remote"] if r.get("status") and
                      r["member"] == "alive"]
                if len(rs) != 4:
                    return False
            return True
        if not harness.wait_until(formed, FORM_TIMEOUT, interval=0.3):
            raise AssertionError("ring did not form: %s" % {
                n.node_id: n.up_peers() for n in cls.nodes})
        time.sleep(2)   # link tables settle everywhere

    def test_commands_and_results_travel_through_a_relay(self):
        a = self.nodes[0]
        rec = self.ok_command(a, "node-3", "ping")
        res = rec["results"][0]
        self.assertEqual(res["status"], "ok", res)
        self.assertEqual(len(res["path"]), 3, res)       # node-1, a relay, node-3
        self.assertEqual(res["path"][0], "node-1")
        self.assertEqual(res["path"][-1], "node-3")
        self.assertIn(res["path"][1], ("node-2", "node-4"))
        relay = self.nodes[int(res["path"][1][-1]) - 1]
        fwd = [r for r in self.audit(relay, "command.forwarded")
               if r["details"]["command_id"] == rec["id"]]
        self.assertEqual(len(fwd), 1, fwd)
        task_id = self.run_task(a, "node-4", "hello")
        self.wait_task(a, "node-4", task_id, ("succeeded",))
        rec = self.ok_command(a, "all", "ping")
        self.assertEqual(sorted(r["node"] for r in rec["results"]),
                         ["node-%d" % i for i in range(1, 6)])
        self.assertTrue(all(r["status"] == "ok" for r in rec["results"]), rec)


if __name__ == "__main__":
    unittest.main()
