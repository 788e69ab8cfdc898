"""A short run of a signal and two nodes under valgrind (memcheck): the
mesh forms, a command routes, a task runs with its log, a user event
goes round, a dashboard client reads the feed, then everything stops on
SIGTERM.  Valgrind must report no error and no definitely lost block in
either node or the signal.

Run on the normal build only (the sanitizer build has its own checks,
which cannot share a process with valgrind)."""

import json
import os
import re
import shutil
import signal as _signal
import tempfile
import unittest

import harness

VALGRIND = shutil.which("valgrind")
VG = ["--error-exitcode=99", "--leak-check=full", "--errors-for-leak-kinds=definite",
      "--show-leak-kinds=definite", "--trace-children=no", "--num-callers=30"]


class Valgrind:
    """A mixin: the process runs under valgrind, its report in a file."""

    def vg_argv(self, argv):
        self.vg_log = os.path.join(self.vg_dir, "%s.valgrind" % self.vg_name)
        return [VALGRIND, "--log-file=" + self.vg_log] + VG + argv

    def report(self):
        with open(self.vg_log) as f:
            return f.read()


class VgSignal(Valgrind, harness.Signal):
    def argv(self):
        return self.vg_argv(super().argv())


class VgNode(Valgrind, harness.MeshNode):
    def argv(self):
        return self.vg_argv(super().argv())


@unittest.skipIf(VALGRIND is None, "valgrind is not installed")
class UnderValgrind(unittest.TestCase):

    def test_a_short_busy_run_is_clean(self):
        tmp = tempfile.mkdtemp(prefix="af-vg-")
        self.addCleanup(shutil.rmtree, tmp, True)
        pki = harness.Pki(tmp)
        tasks = os.path.join(tmp, "tasks.json")
        with open(tasks, "w") as f:
            json.dump({"hello": {"command": ["/bin/echo", "hello"]}}, f)
        sig = VgSignal(["--rate", "0", "--heartbeat", "1"], ca=pki.ca_path)
        sig.vg_dir, sig.vg_name = tmp, "signal"
        sig.start(timeout=60)
        self.addCleanup(sig.stop)
        nodes = []
        for i in (1, 2):
            n = VgNode(pki, "vg-%d" % i, signals=[sig.url], args=["--tasks", tasks])
            n.vg_dir, n.vg_name = tmp, n.node_id
            n.start(timeout=60)
            self.addCleanup(n.stop)
            nodes.append(n)
        a, b = nodes
        self.assertTrue(harness.wait_until(
            lambda: a.up_peers() == ["vg-2"] and b.up_peers() == ["vg-1"], 60, 0.5))
        ws = harness.WsClient(a.api_port, token=a.tokens()["read"], timeout=30)
        self.assertEqual(ws.recv()["type"], "hello")
        self.assertEqual(ws.recv()["type"], "snapshot")

        r = a.post("/api/commands", {"target": "vg-2", "type": "run_task",
                                     "args": {"task": "hello"}, "wait_ms": 30000})
        self.assertEqual(r.status, 200, r)
        task_id = r.json()["results"][0]["body"]["task_id"]
        self.assertTrue(harness.wait_until(lambda: (a.client().get(
            "/api/tasks/vg-2/%s" % task_id).json() or {}).get("state") == "succeeded",
            60, 0.5))
        self.assertEqual(b.post("/api/events", {"name": "vg"}).status, 200)
        ws.recv_until(lambda m: m["type"] == "event" and m["event"]["kind"] == "user", 30)
        ws.close()
        # a scrape walks every renderer: /proc reading, peers, histograms
        for p in (a, b, sig):
            m = harness.parse_metrics(p.client().get("/metrics").body.decode())
            self.assertGreater(m["process_resident_memory_bytes"], 0)
        self.assertEqual(harness.parse_metrics(a.client().get("/metrics").body.decode())[
            "agentflow_node_command_latency_seconds_count"], 1)

        for p in (a, b, sig):
            p.send(_signal.SIGTERM)
        for p in (a, b, sig):
            p.wait_exit(60)
            report = p.report()
            self.assertIn("ERROR SUMMARY: 0 errors", report, report[-3000:])
            lost = re.search(r"definitely lost: ([\d,]+) bytes", report)
            self.assertTrue(lost is None or lost.group(1) == "0", report[-3000:])
            self.assertEqual(p.proc.returncode, 0, report[-3000:])


if __name__ == "__main__":
    unittest.main()
