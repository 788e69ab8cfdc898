"""System tests of the agentflow CLI's mesh commands against real nodes:
status, nodes and event find the node's API (flag, data directory), print
what a user needs, offer --json, and exit 0 / 1 / 2 as documented."""

import json
import os
import shutil
import subprocess
import tempfile
import unittest

import harness
from test_node_mesh import MeshTest

CLI = os.path.join(harness.BIN, "agentflow")


def cli(*args, env=None):
    e = dict(os.environ)
    e.pop("AGENTFLOW_API", None)
    e.update(env or {})
    p = subprocess.run([CLI] + list(args), capture_output=True, text=True,
                       timeout=30, env=e, stdin=subprocess.DEVNULL)
    return p.returncode, p.stdout, p.stderr


class Cli(MeshTest):

    def setUp(self):
        super().setUp()
        self.sig, (self.a, self.b) = self.mesh(2)

    def test_status_from_the_data_directory(self):
        want = "127.0.0.1:%d" % self.b.mesh_port
        # the peer's address arrives with the signal's list
        harness.wait_until(lambda: want in cli("status", "--data-dir", self.a.data_dir)[1], 10)
        rc, out, err = cli("status", "--data-dir", self.a.data_dir)
        self.assertEqual(rc, 0, err)
        lines = out.splitlines()
        self.assertIn("node-1", lines[0])
        self.assertIn("this node", lines[0])
        self.assertIn("signal reachable", lines[0])
        peer = [l for l in lines if l.startswith("node-2")]
        self.assertEqual(len(peer), 1, out)
        self.assertIn("alive", peer[0])
        self.assertIn("direct", peer[0])
        self.assertIn(want, peer[0])

    def test_status_json_and_nodes(self):
        # --api and --token instead of the data directory; a read token reads.
        rc, out, err = cli("status", "--json", "--api", "127.0.0.1:%d" % self.b.api_port,
                           "--token", self.b.tokens()["read"])
        self.assertEqual(rc, 0, err)
        doc = json.loads(out)
        self.assertEqual(doc["local"]["node_id"], "node-2")
        self.assertEqual([r["node_id"] for r in doc["remote"]], ["node-1"])
        rc, out, err = cli("nodes", "--api", "127.0.0.1:%d" % self.b.api_port,
                           "--token", self.b.tokens()["read"])
        self.assertEqual(rc, 0, err)
        self.assertIn("NODE", out.splitlines()[0])
        self.assertTrue(any(l.startswith("node-1") for l in out.splitlines()), out)
        self.assertTrue(any(l.startswith("node-2") and "self" in l
                            for l in out.splitlines()), out)

    def test_event_reaches_the_other_node(self):
        rc, out, err = cli("event", "deploy", "v2", "--data-dir", self.a.data_dir)
        self.assertEqual(rc, 0, err)
        self.assertIn("deploy", out)
        self.assertIn("node-1", out)
        got = harness.wait_until(lambda: [
            e for e in self.b.client().get("/api/events?kind=user").json()["events"]
            if e["body"]["name"] == "deploy"], 10)
        self.assertTrue(got)
        self.assertEqual(got[0]["body"]["payload"], "v2")

    def test_history_of_this_node_and_of_another(self):
        """history prints this node's samples, a line a point, and another
        node's own history over the mesh; bad flags are usage errors."""
        def lines(out):
            return [l for l in out.splitlines() if l[:2] == "20"]
        got = harness.wait_until(lambda: len(lines(cli(
            "history", "--data-dir", self.a.data_dir)[1])) >= 3, 15, 0.5)
        self.assertTrue(got)
        rc, out, err = cli("history", "--data-dir", self.a.data_dir)
        self.assertEqual(rc, 0, err)
        self.assertRegex(out.splitlines()[0], r"^node-1: \d+ points from its samples")
        self.assertEqual(out.splitlines()[1].split(),
                         ["TIME", "CPU", "MAX", "MEM", "DISK", "LOAD", "RX/S", "TX/S"])
        row = lines(out)[-1].split()
        self.assertRegex(row[2], r"^\d+\.\d%$")       # CPU mean
        mem = float(row[4].rstrip("%"))
        self.assertTrue(0 < mem <= 100, row)
        # node-2's own, asked through node-1, at most 2 points
        rc, out, err = cli("history", "--node", "node-2", "--limit", "2",
                           "--since", "10m", "--json", "--data-dir", self.a.data_dir)
        self.assertEqual(rc, 0, err)
        doc = json.loads(out)
        self.assertEqual(doc["node"], "node-2")
        self.assertTrue(1 <= len(doc["t_ms"]) <= 2, doc)
        self.assertEqual(len(doc["series"]["cpu_percent"]), len(doc["t_ms"]))
        for bad in (["--node", "no such/node"], ["--limit", "5000"],
                    ["--since", "yesterday"], ["extra"]):
            rc, out, err = cli("history", "--data-dir", self.a.data_dir, *bad)
            self.assertEqual(rc, 2, (bad, out, err))
        rc, out, err = cli("history", "--node", "node-9", "--data-dir", self.a.data_dir)
        self.assertEqual(rc, 1, out)
        self.assertIn("node-9", err)

    @unittest.skipUnless(os.geteuid() == 0, "needs root to run as another user")
    def test_a_data_directory_it_may_not_read_is_named(self):
        """A user who may not read the node's data directory (a host
        install's is the agentflow user's, 0700) is told so, with what to
        do, not sent to 127.0.0.1:8080 without a token."""
        bindir = tempfile.mkdtemp(prefix="af-cli-bin-")
        self.addCleanup(shutil.rmtree, bindir, True)
        os.chmod(bindir, 0o755)
        shutil.copy(CLI, bindir)
        os.chmod(self.a.data_dir, 0o700)
        p = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup",
                            "--clear-groups", os.path.join(bindir, "agentflow"),
                            "status", "--data-dir", self.a.data_dir],
                           capture_output=True, text=True, timeout=30,
                           stdin=subprocess.DEVNULL, cwd="/")
        self.assertEqual(p.returncode, 1, (p.stdout, p.stderr))
        self.assertIn("cannot read %s/api.json: permission denied" % self.a.data_dir,
                      p.stderr)
        self.assertIn("sudo agentflow", p.stderr)

    def test_versions(self):
        """agentflow version names its own and the node's; both daemons
        answer --version and exit 0 without starting."""
        rc, out, err = cli("version", "--data-dir", self.a.data_dir)
        self.assertEqual(rc, 0, err)
        lines = out.splitlines()
        self.assertRegex(lines[0], r"^agentflow \d+\.\d+\.\d+$")
        self.assertRegex(lines[1], r"^node node-1: agentflow-node \d+\.\d+\.\d+$")
        rc, out, err = cli("version", "--json", "--api", "127.0.0.1:1")
        self.assertEqual(rc, 0, err)
        doc = json.loads(out)
        self.assertIsNone(doc["node"])
        self.assertEqual(doc["cli"], lines[0].split()[1])
        for binary in ("agentflow-node", "agentflow-signal"):
            p = subprocess.run([os.path.join(harness.BIN, binary), "--version"],
                               capture_output=True, text=True, timeout=10)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(p.stdout.strip(), "%s %s" % (binary, doc["cli"]))

    def test_completion_from_the_command_tables(self):
        """The bash script completes commands, a group's commands and a
        command's options, as the tables behind --help list them; zsh and
        fish get their scripts; another shell is a usage error."""
        rc, script, err = cli("completion", "bash")
        self.assertEqual(rc, 0, err)

        def complete(*words):
            prog = ("PATH=%s:$PATH\n%s\nCOMP_WORDS=(agentflow %s)\n"
                    "COMP_CWORD=%d\n_agentflow\nprintf '%%s\\n' \"${COMPREPLY[@]}\"\n"
                    % (harness.BIN, script, " ".join("'%s'" % w for w in words),
                       len(words)))
            p = subprocess.run(["bash", "-c", prog], capture_output=True, text=True,
                               timeout=30)
            self.assertEqual(p.returncode, 0, p.stderr)
            return [l for l in p.stdout.splitlines() if l]
        self.assertEqual(complete("servi"), ["service"])
        self.assertEqual(complete("service", "st"), ["start", "stop"])
        self.assertEqual(complete("rollout", "start", "web", "f.json", "--m"),
                         ["--max-parallel", "--min-healthy"])
        self.assertIn("--data-dir", complete("status", "--"))
        self.assertEqual(complete("certs", "iss"), ["issue"])
        # every top-level command --help lists is offered, and nothing else
        rc, out, err = cli("--help")
        listed = {l.split()[0] for l in out.splitlines() if l.startswith("  ")}
        self.assertEqual(set(complete("")), listed)
        for shell, marker in (("zsh", "compdef _agentflow agentflow"),
                              ("fish", "complete -c agentflow")):
            rc, out, err = cli("completion", shell)
            self.assertEqual(rc, 0, err)
            self.assertIn(marker, out)
        rc, out, err = cli("completion", "tcsh")
        self.assertEqual(rc, 2, (out, err))
        self.assertIn("bash, zsh or fish", err)

    def test_ui_prints_the_dashboard_with_a_token_of_its_own(self):
        rc, out, err = cli("ui", "--data-dir", self.a.data_dir, env={"USER": "alice"})
        self.assertEqual(rc, 0, err)
        url = out.strip()
        self.assertRegex(url, r"^http://127\.0\.0\.1:%d/\?token=af1\." % self.a.api_port)
        self.assertIn("a read token for ui-alice", err)
        token = url.split("token=", 1)[1]
        self.assertNotIn(token, json.dumps(self.a.tokens()))
        c = harness.Client("127.0.0.1", self.a.api_port, None, token)
        self.assertEqual(c.get("/api/cluster/status").status, 200)
        self.assertEqual(c.request("POST", "/api/events", b'{"name": "x"}',
                                   {"Content-Type": "application/json"}).status, 403)
        # the page itself is served at that address
        page = c.get("/")
        self.assertEqual(page.status, 200)
        self.assertIn(b"<title>", page.body)
        rc, out, err = cli("ui", "--role", "write", "--ttl", "1h", "--json",
                           "--data-dir", self.a.data_dir)
        self.assertEqual(rc, 0, err)
        doc = json.loads(out)
        self.assertEqual(doc["role"], "write")
        # an admin token does not go in a URL
        rc, out, err = cli("ui", "--role", "admin", "--data-dir", self.a.data_dir)
        self.assertEqual(rc, 2, (out, err))
        self.assertIn("read or write", err)
        # a read token cannot mint one: said, with what to do
        rc, out, err = cli("ui", "--api", "127.0.0.1:%d" % self.a.api_port,
                           "--token", self.a.tokens()["read"])
        self.assertEqual(rc, 1, (out, err))
        self.assertIn("admin role", err)

    def test_global_flags_before_the_command_and_a_missing_token_explained(self):
        api = "127.0.0.1:%d" % self.b.api_port
        rc, out, err = cli("--api", api, "--token", self.b.tokens()["read"], "--json",
                           "status")
        self.assertEqual(rc, 0, err)
        self.assertEqual(json.loads(out)["local"]["node_id"], "node-2")
        # a group's command too, and a -- after it stays the command's
        rc, out, err = cli("--data-dir", self.a.data_dir, "service", "ls")
        self.assertEqual(rc, 0, err)
        self.assertIn("NODE", out.splitlines()[0])
        # options and no command: a usage error that never repeats their values
        rc, out, err = cli("--token=SECRET-tok-42")
        self.assertEqual(rc, 2, (out, err))
        self.assertIn("a command is needed", err)
        self.assertNotIn("SECRET-tok-42", out + err)
        rc, out, err = cli("--api", api, "service")
        self.assertEqual(rc, 2, (out, err))
        self.assertIn("usage: agentflow service", err + out)
        rc, out, err = cli("--json", "--version")
        self.assertEqual(rc, 0, err)
        self.assertRegex(out, r"^agentflow \d")
        # no token anywhere: where it looked, not the server's bare 401
        empty = os.path.join(self.tmp, "empty")
        os.makedirs(empty)
        rc, out, err = cli("status", "--api", api, "--data-dir", empty,
                           env={"AGENTFLOW_TOKEN": ""})
        self.assertEqual(rc, 1, (out, err))
        self.assertIn("none was found", err)
        self.assertIn(empty + "/tokens.json", err)

    def test_exit_codes(self):
        rc, out, err = cli("status", "--api", "127.0.0.1:1")
        self.assertEqual(rc, 1)
        self.assertIn("cannot reach", err)
        rc, out, err = cli("event", "", "--data-dir", self.a.data_dir)
        self.assertEqual(rc, 1)
        self.assertIn("400", err)
        # A wrong token and a read token that tries to write are refused.
        rc, out, err = cli("status", "--api", "127.0.0.1:%d" % self.a.api_port,
                           "--token", "x" * 32)
        self.assertEqual(rc, 1)
        self.assertIn("401", err)
        rc, out, err = cli("event", "e", "--data-dir", self.a.data_dir,
                           "--token", self.a.tokens()["read"])
        self.assertEqual(rc, 1)
        self.assertIn("403", err)
        for args in (["event"], ["status", "--bogus"], ["status", "extra"], ["nope"],
                     ["event", "a", "b", "c"]):
            rc, out, err = cli(*args)
            self.assertEqual(rc, 2, (args, out, err))
        rc, out, err = cli("status", "--help")
        self.assertEqual(rc, 0)
        self.assertIn("--api", out)


if __name__ == "__main__":
    unittest.main()
