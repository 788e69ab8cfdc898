"""System tests of `agentflow silence add/ls/rm` and `agentflow ack --all`
(issue 20 item 3) against a real node on loopback whose two rules fire
at once (cpu_percent above -1): a silence is added, listed, marks the
alert silenced and is removed; ack --all acks every firing alert that
matches, a line each, and exits 1 when any ack was refused; usage errors
exit 2."""

import json
import os
import re
import shutil
import signal as _signal
import tempfile
import time
import unittest

import harness
from test_cli_work import cli
from test_node_mesh import MeshTest

RULES = [{"name": n, "metric": "cpu_percent", "above": -1, "for_s": 0}
         for n in ("always_a", "always_b")]


class CliSilence(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="af-clisil-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        rules = os.path.join(self.tmp, "rules.json")
        with open(rules, "w") as f:
            json.dump(RULES, f)
        self.n = harness.MeshNode(harness.Pki(self.tmp), "node-1",
                                  args=["--alerts", rules, "--labels", "site=home"])
        self.n.start()
        self.addCleanup(self.n.stop)
        self.assertTrue(harness.wait_until(lambda: len(self.alerts("firing")) == 2, 20))

    def on(self, *args):
        """The CLI as a user on the node runs it: --data-dir after the
        command (and a group's subcommand)."""
        n = 2 if args[0] == "silence" and len(args) > 1 else 1
        return cli(*args[:n], "--data-dir", self.n.data_dir, *args[n:])

    def alerts(self, state):
        rc, out, err = self.on("alerts", "--json", "--state", state)
        self.assertEqual(rc, 0, err)
        return {a["rule"]: a for a in json.loads(out)["alerts"]}

    def test_silence_add_ls_rm(self):
        rc, out, err = self.on("silence", "add", "--rule", "always_a", "--label",
                               "site=home", "--for", "2h", "--comment", "disk swap")
        self.assertEqual(rc, 0, (out, err))
        m = re.match(r"silence (sil-\d+-[0-9a-f]{12}) added: ", out)
        self.assertTrue(m, out)
        sid = m.group(1)
        self.assertIn("rule=always_a", out)
        self.assertIn("site=home", out)
        rc, out, err = self.on("silence", "ls")
        self.assertEqual(rc, 0, err)
        lines = out.splitlines()
        self.assertIn("MATCHERS", lines[0])
        self.assertEqual(lines[0].split()[:2], ["ID", "NODE"])
        self.assertEqual(len(lines), 2, out)
        self.assertEqual(lines[1].split()[:2], [sid, "node-1"])
        self.assertIn("disk swap", lines[1])
        self.assertRegex(lines[1], r" (1h59m|2h0m|2h) ")
        rc, out, err = self.on("silence", "ls", "--json")
        self.assertEqual(rc, 0, err)
        self.assertEqual([s["id"] for s in json.loads(out)["silences"]], [sid])
        firing = self.alerts("firing")
        self.assertEqual(firing["always_a"].get("silence_id"), sid, firing)
        self.assertFalse(firing["always_b"].get("silenced", False), firing)
        # the node refuses a bad duration: 1, its message
        rc, out, err = self.on("silence", "add", "--node", "node-1", "--for", "soon")
        self.assertEqual(rc, 1, (out, err))
        self.assertIn("for", err)
        rc, out, err = self.on("silence", "rm", sid)
        self.assertEqual(rc, 0, (out, err))
        self.assertIn("silence %s removed" % sid, out)
        rc, out, err = self.on("silence", "rm", sid)
        self.assertEqual(rc, 1, (out, err))
        # its events say who added and who removed it (the timeline's
        # "silence ... added by P", "... removed by P")
        r = self.n.client(token="read").get("/api/events?kind=silence")
        self.assertEqual(r.status, 200, r)
        bodies = [e["body"] for e in r.json()["events"] if e["body"]["id"] == sid]
        self.assertEqual([b["deleted"] for b in bodies], [False, True], bodies)
        self.assertEqual(bodies[0]["comment"], "disk swap")
        self.assertTrue(bodies[0]["created_by"], bodies)
        self.assertEqual(bodies[1]["principal"], bodies[0]["created_by"], bodies)
        rc, out, err = self.on("silence", "ls")
        self.assertEqual(out.splitlines()[1:], [])
        for args in (["silence", "add", "--for", "2h"],
                     ["silence", "add", "--rule", "r"],
                     ["silence", "add", "--rule", "bad rule", "--for", "2h"],
                     ["silence", "add", "--label", "novalue", "--for", "2h"],
                     ["silence", "rm"], ["silence", "rm", "bad/id"],
                     ["ack", "--all", "node-1", "a-1"], ["ack", "--rule", "x"],
                     ["ack", "--all", "--key", "k"]):
            rc, out, err = self.on(*args)
            self.assertEqual(rc, 2, (args, out, err))
            self.assertIn("usage", err, args)
        for args in (["silence", "--help"], ["silence", "add", "--help"],
                     ["ack", "--help"]):
            rc, out, err = cli(*args)
            self.assertEqual(rc, 0, (args, err))
        rc, out, err = cli("--help")
        self.assertIn("silence", out)

    def test_ack_all(self):
        # a read token may not ack: each refused, exit 1
        read = ["--api", "127.0.0.1:%d" % self.n.api_port,
                "--token", self.n.tokens()["read"]]
        rc, out, err = cli("ack", "--all", *read)
        self.assertEqual(rc, 1, (out, err))
        self.assertEqual(len(self.alerts("firing")), 2)
        rc, out, err = self.on("ack", "--all", "--rule", "always_a")
        self.assertEqual(rc, 0, (out, err))
        lines = out.splitlines()
        self.assertEqual(len(lines), 1, out)
        self.assertRegex(lines[0], r"^node-1\s+ok\s+alert \S+ acknowledged")
        self.assertEqual(list(self.alerts("firing")), ["always_b"])
        self.assertIn("always_a", self.alerts("acknowledged"))
        rc, out, err = self.on("ack", "--all", "--node", "node-1")
        self.assertEqual(rc, 0, (out, err))
        self.assertEqual(len(out.splitlines()), 1, out)
        self.assertEqual(self.alerts("firing"), {})
        rc, out, err = self.on("ack", "--all")
        self.assertEqual(rc, 0, (out, err))
        self.assertIn("no firing alert matches", out)


class AckAllDeadNode(MeshTest):
    """ack --all toward a node that stopped answering: every ack is issued
    before any is followed, so its alerts cost one command timeout, not
    one each; each is reported not acknowledged and the exit is 1."""

    def test_alerts_of_a_dead_node_cost_one_timeout(self):
        rules = os.path.join(self.tmp, "rules.json")
        with open(rules, "w") as f:
            json.dump(RULES + [dict(RULES[0], name="always_c")], f)
        sig = self.signal()
        a = self.node("node-1", signals=[sig.url])
        b = self.node("node-2", signals=[sig.url], args=["--alerts", rules])
        self.assertTrue(harness.wait_until(lambda: len([
            x for x in a.client().get("/api/alerts?state=firing").json()["alerts"]
            if x["node"] == "node-2"]) == 3, 30))
        os.kill(b.proc.pid, _signal.SIGSTOP)    # its links open, silent
        try:
            t = time.monotonic()
            rc, out, err = cli("ack", "--all", "--node", "node-2", "--timeout-ms",
                               "3000", "--data-dir", a.data_dir)
            took = time.monotonic() - t
        finally:
            b.stop(sig=_signal.SIGKILL)
        self.assertEqual(rc, 1, (out, err))
        self.assertLess(took, 6.0, (took, out, err))
        self.assertEqual(err.count("no answer yet from node-2"), 3, err)


if __name__ == "__main__":
    unittest.main(verbosity=2)
