"""System tests of the agentflow CLI without flags (issue 20 item 2) and
of details of its output, against four real nodes and a signal on
loopback.

Where the CLI finds the node and its token, each step of the order as a
user meets it: $AGENTFLOW_API/$AGENTFLOW_TOKEN win over ./agentflow-data,
which wins over the user's cli.conf ($XDG_CONFIG_HOME, else ~/.config);
a token in a file others may read is refused; nothing found names every
place looked at, in order, and what to do.  Each step points at another
node, so the node that answers says which step was taken.  The CLI runs
in a private working directory with a private $HOME.

/var/lib/agentflow (the step between ./agentflow-data and the user's
file) is not tested here: making it would change every other test and
program on this machine; the tests of the later steps are skipped on a
machine that has one.

Also: status and nodes list this node first, then the others by name;
uptimes read 42s / 3m; `ping -c 0` pings until SIGINT, then sums up;
a --data-dir after `run ... --` is the remote command's, not the CLI's."""

import json
import os
import re
import shutil
import signal as _signal
import subprocess
import tempfile
import time
import unittest

import harness
from test_node_mesh import FORM_TIMEOUT

CLI = os.path.join(harness.BIN, "agentflow")
HOST_INSTALL = os.path.exists("/var/lib/agentflow")

TASKS = {"echo": {"command": ["/bin/echo"], "allow_args": True}}


class CliFind(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="af-clifind-")
        cls.procs = []
        try:
            pki = harness.Pki(cls.tmp)
            tasks = os.path.join(cls.tmp, "tasks.json")
            with open(tasks, "w") as f:
                json.dump(TASKS, f)
            sig = harness.Signal(["--rate", "0", "--heartbeat", "1", "--ttl", "5"],
                                 ca=pki.ca_path).start()
            cls.procs.append(sig)
            # names whose order is not the order they join in
            for node_id in ("zulu", "mike", "alpha", "kilo"):
                n = harness.MeshNode(pki, node_id, signals=[sig.url],
                                     args=["--dead-ms", "3000", "--ping-ms", "500",
                                           "--tasks", tasks])
                cls.procs.append(n)
                n.start()
            cls.zulu, cls.mike, cls.alpha, cls.kilo = cls.procs[1:]
            harness.wait_formed(cls.procs[1:], FORM_TIMEOUT)
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        for p in reversed(cls.procs):
            p.stop()
        shutil.rmtree(cls.tmp, True)

    def setUp(self):
        # a private working directory and $HOME for each test
        self.cwd = tempfile.mkdtemp(prefix="cwd-", dir=self.tmp)
        self.home = tempfile.mkdtemp(prefix="home-", dir=self.tmp)

    def env(self, **over):
        e = dict(os.environ)
        for k in ("AGENTFLOW_API", "AGENTFLOW_TOKEN", "AGENTFLOW_DATA_DIR",
                  "XDG_CONFIG_HOME"):
            e.pop(k, None)
        e["HOME"] = self.home
        e.update(over)
        return e

    def cli(self, *args, **env):
        p = subprocess.run([CLI] + list(args), capture_output=True, text=True,
                           errors="replace", timeout=60, env=self.env(**env),
                           cwd=self.cwd, stdin=subprocess.DEVNULL)
        return p.returncode, p.stdout, p.stderr

    def answered_by(self, **env):
        """The node `status --json` reached, with what the CLI found."""
        rc, out, err = self.cli("status", "--json", **env)
        self.assertEqual(rc, 0, (out, err))
        return json.loads(out)["local"]["node_id"]

    def conf(self, node, base=None, mode=0o600):
        """A cli.conf under base (default ~/.config) naming node's API and
        a token-file with its read token."""
        d = os.path.join(base or os.path.join(self.home, ".config"), "agentflow")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "token"), "w") as f:
            f.write(node.tokens()["read"] + "\n")
        os.chmod(os.path.join(d, "token"), mode)
        path = os.path.join(d, "cli.conf")
        with open(path, "w") as f:
            f.write("# the node I look after\napi = 127.0.0.1:%d\n"
                    "token-file = token\n" % node.api_port)
        return path

    # ------------------------------------------------ where the node is

    @unittest.skipIf(HOST_INSTALL, "/var/lib/agentflow exists: it is a step before cli.conf")
    def test_each_step_in_order(self):
        """Variables, then ./agentflow-data, then the user's file: each
        step wins over the ones after it; $XDG_CONFIG_HOME before
        ~/.config."""
        os.symlink(self.alpha.data_dir, os.path.join(self.cwd, "agentflow-data"))
        self.conf(self.mike)
        zulu = {"AGENTFLOW_API": "127.0.0.1:%d" % self.zulu.api_port,
                "AGENTFLOW_TOKEN": self.zulu.tokens()["read"]}
        self.assertEqual(self.answered_by(**zulu), "zulu")
        self.assertEqual(self.answered_by(), "alpha")
        os.unlink(os.path.join(self.cwd, "agentflow-data"))
        self.assertEqual(self.answered_by(), "mike")
        xdg = os.path.join(self.tmp, "xdg-" + os.path.basename(self.home))
        self.conf(self.kilo, base=xdg)
        self.assertEqual(self.answered_by(XDG_CONFIG_HOME=xdg), "kilo")
        # the user's file supplies what the variables leave out
        self.assertEqual(self.answered_by(
            AGENTFLOW_API="127.0.0.1:%d" % self.mike.api_port), "mike")
        # and the human output too, with the token it read
        rc, out, err = self.cli("nodes")
        self.assertEqual(rc, 0, err)
        self.assertRegex(out.splitlines()[1], r"^mike\s+self\s")

    @unittest.skipUnless(os.geteuid() == 0, "needs root to make /var/lib/agentflow")
    @unittest.skipIf(HOST_INSTALL, "/var/lib/agentflow exists: not this test's to change")
    def test_a_host_install_after_agentflow_data_before_the_users_file(self):
        """A host install's /var/lib/agentflow (here a link to kilo's data
        directory, removed after; ctest runs no package test beside this
        one: RESOURCE_LOCK var_lib_agentflow)."""
        os.symlink(self.kilo.data_dir, "/var/lib/agentflow")
        self.addCleanup(os.unlink, "/var/lib/agentflow")
        self.conf(self.mike)
        self.assertEqual(self.answered_by(), "kilo")
        os.symlink(self.alpha.data_dir, os.path.join(self.cwd, "agentflow-data"))
        self.assertEqual(self.answered_by(), "alpha")

    @unittest.skipIf(HOST_INSTALL, "/var/lib/agentflow exists: it is a step before cli.conf")
    def test_a_token_others_may_read_is_refused(self):
        path = self.conf(self.mike, mode=0o644)
        token = os.path.join(os.path.dirname(path), "token")
        rc, out, err = self.cli("status")
        self.assertEqual(rc, 1, (out, err))
        self.assertIn("%s holds a token and others may read it (mode 0644): refused"
                      % token, err)
        self.assertIn("chmod 600 %s" % token, err)
        self.assertNotIn(self.mike.tokens()["read"], out + err)
        self.assertNotIn("401", err)
        os.chmod(token, 0o600)
        self.assertEqual(self.answered_by(), "mike")

    @unittest.skipIf(HOST_INSTALL, "/var/lib/agentflow exists: it is a step before cli.conf")
    def test_nothing_found_says_where_it_looked(self):
        rc, out, err = self.cli("status")
        self.assertEqual(rc, 1, (out, err))
        conf = os.path.join(self.home, ".config/agentflow/cli.conf")
        places = ["--api, $AGENTFLOW_API: not given",
                  "./agentflow-data/api.json: No such file or directory",
                  "/var/lib/agentflow/api.json: No such file or directory",
                  "%s: No such file or directory" % conf]
        at = [err.find(p) for p in places]
        self.assertTrue(all(i >= 0 for i in at), err)
        self.assertEqual(at, sorted(at), err)
        self.assertIn("give --data-dir DIR", err)
        self.assertIn("AGENTFLOW_API=HOST:PORT and AGENTFLOW_TOKEN", err)
        self.assertIn('"api = HOST:PORT" and "token-file = FILE" in %s' % conf, err)
        self.assertNotIn("cannot reach", err)
        self.assertNotIn("401", err)
        # a data directory named but empty: that one place, not the others
        rc, out, err = self.cli("status", "--data-dir", self.cwd)
        self.assertEqual(rc, 1, (out, err))
        self.assertIn("%s/api.json (the data directory given): not there" % self.cwd,
                      err)
        self.assertNotIn("cli.conf", err)

    @unittest.skipUnless(os.geteuid() == 0, "needs root to run as another user")
    @unittest.skipIf(HOST_INSTALL, "/var/lib/agentflow exists: it is a step before cli.conf")
    def test_the_users_file_stands_in_for_a_data_directory_it_may_not_read(self):
        """A host install's data directory is the agentflow user's: a user
        who may not read it but has a cli.conf reaches the node with it;
        without one, is told so and what to do."""
        for d in (self.tmp, self.cwd, self.home):
            os.chmod(d, 0o755)
        bindir = os.path.join(self.tmp, "bin")
        os.makedirs(bindir, exist_ok=True)
        os.chmod(bindir, 0o755)
        shutil.copy(CLI, bindir)
        data = os.path.join(self.cwd, "agentflow-data")
        shutil.copytree(self.alpha.data_dir, data, ignore=lambda d, names: [
            n for n in names if n not in ("api.json", "tokens.json")])
        os.chmod(data, 0o700)      # root's, as /var/lib/agentflow is agentflow's

        def as_nobody():
            p = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup",
                                "--clear-groups", os.path.join(bindir, "agentflow"),
                                "status", "--json"], capture_output=True, text=True,
                               timeout=30, env=self.env(), cwd=self.cwd,
                               stdin=subprocess.DEVNULL)
            return p.returncode, p.stdout, p.stderr
        rc, out, err = as_nobody()
        self.assertEqual(rc, 1, (out, err))
        self.assertIn("cannot read ./agentflow-data/api.json: permission denied", err)
        self.assertIn("or put api and token-file in %s"
                      % os.path.join(self.home, ".config/agentflow/cli.conf"), err)
        path = self.conf(self.mike)
        for root, dirs, files in os.walk(os.path.join(self.home, ".config")):
            for n in dirs + files:
                shutil.chown(os.path.join(root, n), "nobody", "nogroup")
        rc, out, err = as_nobody()
        self.assertEqual(rc, 0, (out, err))
        self.assertEqual(json.loads(out)["local"]["node_id"], "mike")
        self.assertTrue(os.path.exists(path))

    # ------------------------------------------------ what it prints

    def test_rows_sorted_by_name_and_uptimes_for_people(self):
        """This node first, then the others by name, in status and in
        nodes; an uptime (the host's) reads as people read it: 42s, 3m,
        1h14m or 2d3h, never a count of seconds."""
        rc, out, err = self.cli("status", "--data-dir", self.zulu.data_dir)
        self.assertEqual(rc, 0, err)
        names = [l.split()[0] for l in out.splitlines()]
        self.assertEqual(names, ["zulu", "alpha", "kilo", "mike"], out)
        rc, out, err = self.cli("nodes", "--data-dir", self.zulu.data_dir)
        self.assertEqual(rc, 0, err)
        rows = [l.split() for l in out.splitlines()[1:]]
        self.assertEqual([r[0] for r in rows], ["zulu", "alpha", "kilo", "mike"], out)
        for r in rows:
            self.assertRegex(r[-1], r"^(\d+s|\d+m|\d+h\d+m|\d+d\d+h)$", out)

    # ------------------------------------------------ ping and run

    def test_continuous_ping_until_interrupted(self):
        p = subprocess.Popen([CLI, "ping", "alpha", "-c", "0", "--data-dir",
                              self.zulu.data_dir], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=self.env(),
                             cwd=self.cwd, stdin=subprocess.DEVNULL)
        self.addCleanup(p.kill)
        replies = []
        deadline = time.monotonic() + 30
        while len(replies) < 2 and time.monotonic() < deadline:
            line = p.stdout.readline()
            if not line:
                break
            if re.match(r"^alpha\s+ok\s+zulu( -> \S+)* -> alpha\s+rtt [0-9.]+ ms$",
                        line.rstrip("\n")):
                replies.append(line)
        self.assertEqual(len(replies), 2, replies)
        self.assertIsNone(p.poll(), "ping -c 0 stopped by itself")
        p.send_signal(_signal.SIGINT)
        out, err = p.communicate(timeout=30)
        self.assertEqual(p.returncode, 0, (out, err))
        m = re.search(r"^(\d+) pings, (\d+) answered by every node$", out, re.M)
        self.assertTrue(m, out)
        self.assertGreaterEqual(int(m.group(1)), 2)
        self.assertEqual(m.group(1), m.group(2))

    def test_a_data_dir_after_double_dash_is_the_commands(self):
        for args in (["run", "zulu", "echo", "--data-dir", self.zulu.data_dir],
                     ["--data-dir", self.zulu.data_dir, "run", "zulu", "echo"]):
            rc, out, err = self.cli(*args, "--", "--data-dir", "/x")
            self.assertEqual(rc, 0, (args, out, err))
            self.assertIn("--data-dir /x", out.splitlines(), (args, out))


if __name__ == "__main__":
    unittest.main(verbosity=2)
