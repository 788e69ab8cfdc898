"""System tests of the agentflow CLI's work commands against three real
nodes and a signal on loopback: run (following one node's task and its
log to the end, or --detach), logs -f from another node, cancel, ping,
freeze / unfreeze, tasks / alerts / audit tables and their --json, and
the exit status 0 / 1 / 2 each documents.

node-2 alone has tasks (--tasks FILE); the CLI is pointed at a node with
--data-dir, as a user on that node would.  One mesh serves every test;
a test that freezes the mesh unfreezes it again."""

import json
import time
import os
import re
import shutil
import subprocess
import tempfile
import unittest

import harness
from test_node_mesh import FORM_TIMEOUT

CLI = os.path.join(harness.BIN, "agentflow")

TASKS = {
    "hello": {"command": ["/bin/sh", "-c", "echo hello; echo oops >&2"]},
    "slow": {"command": ["/bin/sh", "-c", "echo start; sleep 30"]},
    "fail": {"command": ["/bin/sh", "-c", "exit 3"]},
    "count": {"command": ["/bin/sh", "-c",
                          "for i in 1 2 3; do echo line $i; sleep 0.5; done"]},
    "echo": {"command": ["/bin/echo"], "allow_args": True},
    "both": {"command": ["/bin/sh", "-c", "echo two says hi"]},
    "differ": {"command": ["/bin/sh", "-c", "echo two is fine"]},
}
# node-3's: the same names, other output and ends.
TASKS3 = {
    "both": {"command": ["/bin/sh", "-c", "echo three says hi; echo three warns >&2"]},
    "differ": {"command": ["/bin/sh", "-c", "echo three is not; exit 5"]},
    "killed": {"command": ["/bin/sh", "-c", "kill -TERM $$"]},
}


def cli(*args, timeout=60):
    e = dict(os.environ)
    for k in ("AGENTFLOW_API", "AGENTFLOW_TOKEN", "AGENTFLOW_DATA_DIR"):
        e.pop(k, None)
    p = subprocess.run([CLI] + list(args), capture_output=True, text=True,
                       errors="replace", timeout=timeout, env=e,
                       stdin=subprocess.DEVNULL)
    return p.returncode, p.stdout, p.stderr


def task_id(out):
    m = re.search(r"^node-2\s+ok\s+task (\S+)", out, re.M)
    return m.group(1) if m else None


class CliWork(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="af-cliwork-")
        cls.procs = []
        try:
            pki = harness.Pki(cls.tmp)
            tasks = os.path.join(cls.tmp, "tasks.json")
            with open(tasks, "w") as f:
                json.dump(TASKS, f)
            tasks3 = os.path.join(cls.tmp, "tasks3.json")
            with open(tasks3, "w") as f:
                json.dump(TASKS3, f)
            sig = harness.Signal(["--rate", "0", "--heartbeat", "1", "--ttl", "5"],
                                 ca=pki.ca_path).start()
            cls.procs.append(sig)
            for node_id, extra in (("node-1", []),
                                   ("node-2", ["--tasks", tasks, "--labels", "pair=yes"]),
                                   ("node-3", ["--tasks", tasks3, "--labels", "pair=yes"])):
                n = harness.MeshNode(pki, node_id, signals=[sig.url],
                                     args=["--dead-ms", "3000", "--ping-ms", "500"] + extra)
                cls.procs.append(n)
                n.start()
            cls.n1, cls.n2, cls.n3 = cls.procs[1:]
            harness.wait_formed(cls.procs[1:], FORM_TIMEOUT)
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        for p in reversed(cls.procs):
            p.stop()
        shutil.rmtree(cls.tmp, True)

    def on(self, node, *args, **kw):
        """The CLI as a user on `node` runs it (options first: an
        operand after -- must stay last)."""
        return cli(args[0], "--data-dir", node.data_dir, *args[1:], **kw)

    def task(self, node, tid):
        rc, out, err = self.on(node, "tasks", "--json", "--node", "node-2")
        self.assertEqual(rc, 0, err)
        return {t["task_id"]: t for t in json.loads(out)["tasks"]}.get(tid)

    def test_run_follows_the_task_and_its_log(self):
        rc, out, err = self.on(self.n1, "run", "node-2", "hello")
        self.assertEqual(rc, 0, (out, err))
        tid = task_id(out)
        self.assertTrue(tid, out)
        self.assertIn("rtt", out)
        # stdout lines on stdout, stderr lines on stderr, then the end
        self.assertIn("hello", out.splitlines())
        self.assertIn("oops", err.splitlines())
        self.assertRegex(out, r"task %s on node-2 succeeded" % re.escape(tid))
        # the task is known on every node, ended
        t = harness.wait_until(lambda: self.task(self.n3, tid), 10)
        self.assertEqual(t["state"], "succeeded", t)
        # args reach a task that allows them; -- lets them start with -
        rc, out, err = self.on(self.n1, "run", "node-2", "echo", "--", "-n", "x", "y")
        self.assertEqual(rc, 0, (out, err))
        self.assertIn("x y", out.splitlines())

    def test_run_of_a_failing_task_exits_with_its_status(self):
        rc, out, err = self.on(self.n1, "run", "node-2", "fail")
        self.assertEqual(rc, 3, (out, err))
        self.assertIn("failed", out + err)
        self.assertIn("exit 3", out + err)
        # killed by a signal: 128 + it, as a shell says
        rc, out, err = self.on(self.n1, "run", "node-3", "killed")
        self.assertEqual(rc, 128 + 15, (out, err))
        self.assertIn("signal 15", out)
        # not ended in time: 124, as timeout(1)
        rc, out, err = self.on(self.n1, "run", "node-2", "slow", "--timeout-ms", "1500")
        self.assertEqual(rc, 124, (out, err))
        self.assertIn("has not ended after 1500 ms", err)
        tid = task_id(out)
        self.on(self.n1, "cancel", "node-2", tid, "--hard")
        # an unknown task is the node's answer, not a usage error
        rc, out, err = self.on(self.n1, "run", "node-2", "no-such-task")
        self.assertEqual(rc, 1, (out, err))
        self.assertRegex(out, r"node-2\s+not_found")
        # as is a node that has no such task at all
        rc, out, err = self.on(self.n1, "run", "node-3", "hello")
        self.assertEqual(rc, 1, (out, err))
        # a node name no node has heard of: a hint, not a wait for a node
        # that is down; nothing is issued
        before = self.n1.client(token="read").get("/api/commands").json()
        rc, out, err = self.on(self.n1, "run", "nod-2", "hello")
        self.assertEqual(rc, 1, (out, err))
        self.assertIn("no node named nod-2 (did you mean node-2?)", err)
        rc, out, err = self.on(self.n1, "ping", "zebra-77")
        self.assertEqual(rc, 1, (out, err))
        self.assertIn("no node named zebra-77", err)
        self.assertNotIn("did you mean", err)
        self.assertEqual(self.n1.client(token="read").get("/api/commands").json(), before)

    def test_run_on_several_nodes_follows_every_task(self):
        # Both run it: each node's answer, each line after its node's
        # name (stdout to stdout, stderr to stderr), each end; 0.
        rc, out, err = self.on(self.n1, "run", "pair=yes", "both")
        self.assertEqual(rc, 0, (out, err))
        lines = out.splitlines()
        self.assertIn("node-2 | two says hi", lines)
        self.assertIn("node-3 | three says hi", lines)
        self.assertIn("node-3 | three warns", err.splitlines())
        for node in ("node-2", "node-3"):
            self.assertRegex(out, r"(?m)^%s\s+ok\s+task \S+" % node)
            self.assertRegex(out, r"(?m)^task \S+ on %s succeeded \(exit 0\)$" % node)
        # One task fails: the others still followed to their end; 1.
        rc, out, err = self.on(self.n1, "run", "pair=yes", "differ")
        self.assertEqual(rc, 1, (out, err))
        self.assertIn("node-2 | two is fine", out.splitlines())
        self.assertIn("node-3 | three is not", out.splitlines())
        self.assertRegex(out, r"(?m)^task \S+ on node-2 succeeded \(exit 0\)$")
        self.assertRegex(out, r"(?m)^task \S+ on node-3 failed \(exit 5\)$")
        # all: node-1 has no such task (its answer says so), the others
        # run theirs: still followed, and 1 for the one that did not run.
        rc, out, err = self.on(self.n1, "run", "all", "both")
        self.assertEqual(rc, 1, (out, err))
        self.assertRegex(out, r"(?m)^node-1\s+not_found")
        self.assertIn("node-2 | two says hi", out.splitlines())
        self.assertIn("node-3 | three says hi", out.splitlines())
        # --json: each line names its node
        rc, out, err = self.on(self.n1, "run", "pair=yes", "both", "--json")
        self.assertEqual(rc, 0, (out, err))
        docs = [json.loads(l) for l in out.splitlines()]
        said = {(d.get("node"), d.get("text")) for d in docs if "line_seq" in d}
        self.assertIn(("node-2", "two says hi"), said)
        self.assertIn(("node-3", "three says hi"), said)
        self.assertEqual(sorted(d["state"] for d in docs if "task_id" in d and "state" in d
                                and "line_seq" not in d), ["succeeded", "succeeded"])

    def test_run_json_streams_the_record_and_the_task(self):
        rc, out, err = self.on(self.n3, "run", "node-2", "hello", "--json")
        self.assertEqual(rc, 0, (out, err))
        docs = [json.loads(l) for l in out.splitlines()]
        self.assertEqual(docs[0]["type"], "run_task")
        self.assertEqual(docs[0]["state"], "done")
        self.assertEqual(docs[0]["results"][0]["status"], "ok")
        lines = [d["text"] for d in docs if "line_seq" in d]
        self.assertEqual(sorted(lines), ["hello", "oops"])
        self.assertEqual(docs[-1]["state"], "succeeded")
        self.assertEqual(docs[-1]["task_id"], docs[0]["results"][0]["body"]["task_id"])

    def test_detach_then_logs_follow_from_another_node(self):
        rc, out, err = self.on(self.n1, "run", "--detach", "node-2", "count")
        self.assertEqual(rc, 0, (out, err))
        tid = task_id(out)
        self.assertTrue(tid, out)
        self.assertNotIn("line 1", out)
        rc, out, err = self.on(self.n3, "logs", "-f", "node-2", tid)
        self.assertEqual(rc, 0, (out, err))
        self.assertEqual(out.splitlines(), ["line 1", "line 2", "line 3"])
        # without -f, the log as it is; --json: one line object a line
        rc, out, err = self.on(self.n1, "logs", "node-2", tid, "--json")
        self.assertEqual(rc, 0, err)
        docs = [json.loads(l) for l in out.splitlines()]
        self.assertEqual([d["text"] for d in docs], ["line 1", "line 2", "line 3"])
        self.assertEqual([d["line_seq"] for d in docs],
                         sorted(d["line_seq"] for d in docs))
        # a task nobody knows
        rc, out, err = self.on(self.n1, "logs", "node-2", "node-2-nope")
        self.assertEqual(rc, 1)
        self.assertIn("404", err)

    def test_cancel(self):
        rc, out, err = self.on(self.n1, "run", "--detach", "node-2", "slow")
        self.assertEqual(rc, 0, (out, err))
        tid = task_id(out)
        running = harness.wait_until(
            lambda: (self.task(self.n1, tid) or {}).get("state") == "running", 10)
        self.assertTrue(running, self.task(self.n1, tid))
        rc, out, err = self.on(self.n3, "cancel", "node-2", tid, "--hard")
        self.assertEqual(rc, 0, (out, err))
        self.assertRegex(out, r"node-2\s+ok\s+hard cancel of task %s" % re.escape(tid))
        t = harness.wait_until(lambda: (self.task(self.n1, tid) or {}).get(
            "state") == "cancelled" and self.task(self.n1, tid), 15)
        self.assertTrue(t, self.task(self.n1, tid))
        # cancelling an ended task is the node's refusal
        rc, out, err = self.on(self.n3, "cancel", "node-2", tid)
        self.assertEqual(rc, 1, (out, err))
        rc, out, err = self.on(self.n1, "tasks", "--node", "node-2", "--state", "cancelled")
        self.assertEqual(rc, 0, err)
        self.assertIn("TASK", out.splitlines()[0])
        row = [l for l in out.splitlines() if tid in l]
        self.assertEqual(len(row), 1, out)
        self.assertIn("cancelled", row[0])
        self.assertIn("slow", row[0])

    def test_ping_shows_the_path_and_rtt(self):
        rc, out, err = self.on(self.n1, "ping", "node-2")
        self.assertEqual(rc, 0, (out, err))
        self.assertRegex(out, r"^node-2\s+ok\s+node-1( -> node-\d)* -> node-2\s+rtt "
                              r"[0-9.]+ ms$")
        rc, out, err = self.on(self.n1, "ping", "all", "--json")
        self.assertEqual(rc, 0, (out, err))
        rec = json.loads(out)
        self.assertEqual(sorted(r["node"] for r in rec["results"]),
                         ["node-1", "node-2", "node-3"])
        self.assertTrue(all(r["status"] == "ok" for r in rec["results"]), rec)
        # -c N: N of them, a second apart, and a line that sums them up
        t0 = time.monotonic()
        rc, out, err = self.on(self.n1, "ping", "node-3", "-c", "3")
        self.assertEqual(rc, 0, (out, err))
        self.assertGreaterEqual(time.monotonic() - t0, 2)
        self.assertEqual(len([l for l in out.splitlines() if " rtt " in l]), 3, out)
        self.assertIn("3 pings, 3 answered by every node", out)
        # one key names one command: not with -c
        rc, out, err = self.on(self.n1, "ping", "node-3", "-c", "2", "--key", "k1")
        self.assertEqual(rc, 2, (out, err))
        self.assertIn("--key names one command", err)

    def test_freeze_refuses_runs_until_unfreeze(self):
        self.addCleanup(self.on, self.n1, "unfreeze")
        rc, out, err = self.on(self.n1, "freeze")
        self.assertEqual(rc, 0, (out, err))
        for n in ("node-1", "node-2", "node-3"):
            self.assertRegex(out, r"(?m)^%s\s+ok\s+frozen" % n)
        # refused by the issuing node itself (423) ...
        rc, out, err = self.on(self.n1, "run", "node-2", "hello")
        self.assertEqual(rc, 1, (out, err))
        self.assertIn("frozen", err)
        # ... and acks too; the read side still answers
        rc, out, err = self.on(self.n3, "ack", "node-2", "alert-1")
        self.assertEqual(rc, 1, (out, err))
        self.assertIn("frozen", err)
        rc, out, err = self.on(self.n1, "unfreeze")
        self.assertEqual(rc, 0, (out, err))
        self.assertRegex(out, r"(?m)^node-2\s+ok\s+unfrozen")
        rc, out, err = self.on(self.n1, "run", "node-2", "hello")
        self.assertEqual(rc, 0, (out, err))

    def test_audit_and_alerts(self):
        rc, out, err = self.on(self.n1, "ping", "node-3", "--key", "audit-ping")
        self.assertEqual(rc, 0, (out, err))
        rc, out, err = self.on(self.n1, "audit", "--json")
        self.assertEqual(rc, 0, err)
        issued = [r for r in json.loads(out)["records"] if r["action"] == "command.issued"]
        self.assertTrue(issued, out)
        rc, out, err = self.on(self.n1, "audit", "--action", "command.issued",
                               "--node", "node-1")
        self.assertEqual(rc, 0, err)
        lines = out.splitlines()
        self.assertIn("ACTION", lines[0])
        self.assertTrue(lines[1:] and all("command.issued" in l for l in lines[1:]), out)
        # the same key again: the first command's record, nothing run anew
        rc, out, err = self.on(self.n1, "ping", "node-3", "--key", "audit-ping")
        self.assertEqual(rc, 0, (out, err))
        self.assertIn("same idempotency key", out)
        rc, out, err = self.on(self.n1, "alerts", "--state", "firing")
        self.assertEqual(rc, 0, err)
        self.assertIn("ALERT", out.splitlines()[0])
        rc, out, err = self.on(self.n1, "alerts", "--json")
        self.assertEqual(rc, 0, err)
        self.assertIsInstance(json.loads(out)["alerts"], list)
        # an alert nobody has
        rc, out, err = self.on(self.n1, "ack", "node-2", "alert-none")
        self.assertEqual(rc, 1, (out, err))
        self.assertRegex(out, r"node-2\s+not_found")

    def test_usage_errors_exit_2(self):
        for args in (["run"], ["run", "node-2"], ["run", "bad id!", "hello"],
                     ["run", "node-2", ""], ["run", "node-2", "hello", "--timeout-ms", "0"],
                     ["run", "node-2", "hello", "--bogus"],
                     ["logs", "node-2"], ["logs", "node-2", "a", "b"],
                     ["logs", "node-2", "bad/id"], ["cancel", "node-2"],
                     ["cancel", "node/2", "t"], ["ack", "node-2"], ["ping"],
                     ["ping", "a", "b"], ["freeze", "a", "b"], ["unfreeze", "no good"],
                     ["tasks", "extra"], ["tasks", "--state", "bogus"],
                     ["tasks", "--node", "x/y"], ["alerts", "--state", "running"],
                     ["audit", "--since", "x"], ["audit", "--limit", "0"]):
            rc, out, err = self.on(self.n1, *args)
            self.assertEqual(rc, 2, (args, out, err))
            self.assertIn("usage", err, args)
        for cmd in ("run", "logs", "cancel", "ack", "freeze", "unfreeze", "ping",
                    "tasks", "alerts", "audit"):
            rc, out, err = cli(cmd, "--help")
            self.assertEqual(rc, 0, (cmd, err))
            self.assertIn("--api", out)
        rc, out, err = cli("--help")
        self.assertIn("unfreeze", out)
        # no node there: 1, not 2
        rc, out, err = cli("ping", "node-2", "--api", "127.0.0.1:1")
        self.assertEqual(rc, 1)
        self.assertIn("cannot reach", err)
        # a read token may list but not issue
        read = ["--api", "127.0.0.1:%d" % self.n1.api_port,
                "--token", self.n1.tokens()["read"]]
        rc, out, err = cli("tasks", *read)
        self.assertEqual(rc, 0, err)
        rc, out, err = cli("ping", "node-2", *read)
        self.assertEqual(rc, 1)
        self.assertIn("403", err)


if __name__ == "__main__":
    unittest.main(verbosity=2)
