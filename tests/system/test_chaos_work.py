"""The work a mesh carries, under faults: on a namespace mesh (netns.Lab: a
signal and three nodes, each in its own network namespace) tasks are run
by command across the mesh, a failing task raises an alert that is then
acknowledged from another node, all while a fault is on:

- packet loss: 15 % of n3's packets dropped at random, both directions;
- added latency: every node reachable only through a TCP proxy that delays
  each direction by 100 +- 20 ms (this kernel has no sch_netem), so every
  link's round trip is over 200 ms;
- a partition: n3's interface down while it runs tasks of its own and
  acknowledges its alert, then healed;
- a signal stopped and started three times while work is issued;
- a node whose wall clock is 90 s ahead (libfaketime; not under ASan);
- a link blackholed (a firewall rule) just before a command goes into it:
  the issuer sends the copy again, and it reaches its target through the
  third node.

Afterwards nothing is lost, as every node's API shows it:
- every command issued reached `done` with its result on the issuing node;
- every task is on every node with its final state and its whole log,
  each line once and in order;
- every alert is on every node under its id, acknowledged;
- the audit: each command is `command.issued` once on its issuer and
  `command.executed` once on its target (at most once despite the
  retransmissions and relinks), and each node's audit.jsonl holds exactly
  the records its index answers with.

Skipped without CAP_NET_ADMIN.  Timing: generous bounds (shared machine)."""

import json
import os
import subprocess
import sys
import time
import unittest

import harness
import netns

SETTLE_TIMEOUT = 60
MESH_PORT = netns.MESH_PORT
PROXY_PORT = 50052
NODES = netns.NODES
LOSS_PERCENT = 15
DELAY_MS = 100
JITTER_MS = 20
LINES = 20
FLAPS = 3
FLAP_GAP_S = 2
SKEW_S = 90
TASKS = {
    # LINES lines over about 2 s: log events flow while the fault is on
    "count": {"command": ["/bin/sh", "-c",
                          "i=1; while [ $i -le %d ]; do echo line $i; i=$((i+1)); "
                          "sleep 0.1; done" % LINES]},
    # two names: a task_failed alert is one per node and task name while open
    "fail": {"command": ["/bin/sh", "-c", "echo about to fail; exit 3"]},
    "fail_again": {"command": ["/bin/sh", "-c", "echo about to fail; exit 3"]},
}
EXPECTED = {"count": ("succeeded", ["line %d" % i for i in range(1, LINES + 1)]),
            "fail": ("failed", ["about to fail"]),
            "fail_again": ("failed", ["about to fail"])}
RULES = [{"name": "task_failed", "on": "task_failed", "severity": "critical"}]
PROXY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "delay_proxy.py")


class DelayProxy:
    """delay_proxy.py in host's namespace: LISTEN -> TARGET, delayed."""

    def __init__(self, lab, host, listen, target, delay_ms, jitter_ms):
        self.argv = lab.exec_prefix(host) + [sys.executable, PROXY, listen, target,
                                             str(delay_ms), str(jitter_ms)]
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(self.argv, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL)
        line = self.proc.stdout.readline()
        if not line:
            raise AssertionError("the delay proxy did not start: %s" % self.argv)
        return self

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()    # by PID
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None:
            self.proc.stdout.close()


class WorkUnderFaults(netns.LabTest):

    TMP_PREFIX = "af-chaoswork-"

    def start(self, proxied=False, skewed=None):
        tasks = os.path.join(self.tmp, "tasks.json")
        rules = os.path.join(self.tmp, "alerts.json")
        with open(tasks, "w") as f:
            json.dump(TASKS, f)
        with open(rules, "w") as f:
            json.dump(RULES, f)
        advertise = {}
        if proxied:
            for h in NODES:
                addr = self.lab.addr(h)
                advertise[h] = "%s:%d" % (addr, PROXY_PORT)
                p = DelayProxy(self.lab, h, advertise[h], "%s:%d" % (addr, MESH_PORT),
                               DELAY_MS, JITTER_MS)
                self.procs.append(p)
                p.start()
        self.issued = []      # (issuer, command id, target, task name or None)
        self.alerts = {}      # (node, alert id) -> the state every node must show
        return self.start_mesh(["--tasks", tasks, "--alerts", rules,
                                "--command-timeout-ms", "30000"],
                               skewed=skewed, skew_s=SKEW_S, advertise=advertise)

    # -- the work

    def command(self, issuer, target, type_, args, task=None):
        """Issues a command without waiting for it (its result is checked
        later, on the issuer)."""
        r = issuer.post("/api/commands", {"target": target, "type": type_, "args": args,
                                          "wait_ms": 0})
        self.assertIn(r.status, (200, 202), r)     # done, or accepted and pending
        cid = r.json()["id"]
        self.issued.append((issuer.node_id, cid, target, task))
        return cid

    def run_task(self, issuer, target, task):
        return self.command(issuer, target, "run_task", {"task": task}, task)

    def record(self, issuer, cid):
        r = self.nodes[issuer].client().get("/api/commands/" + cid)
        self.assertIn(r.status, (200, 202), r)
        return r.json()

    def wait_done(self, since=0, timeout=SETTLE_TIMEOUT):
        """Every command issued so far is done on its issuer; returns the
        tasks that those from the since'th on started: [(origin, task id,
        name)]."""
        def all_done():
            return all(self.record(i, c)["state"] == "done" for i, c, _, _ in self.issued)
        if not harness.wait_until(all_done, timeout, 0.5):
            self.fail("commands not done after %ss: %s\n%s" % (timeout, json.dumps(
                [self.record(i, c) for i, c, _, _ in self.issued])[:3000], self.views()))
        started = []
        for issuer, cid, target, task in self.issued[since:]:
            rec = self.record(issuer, cid)
            self.assertEqual(len(rec["results"]), 1, rec)
            res = rec["results"][0]
            self.assertEqual((res["node"], res["status"]), (target, "ok"), rec)
            if task is not None:
                started.append((target, res["body"]["task_id"], task))
        return started

    def task(self, viewer, origin, task_id):
        r = viewer.client().get("/api/tasks/%s/%s" % (origin, task_id))
        return r.json() if r.status == 200 else None

    def lines(self, viewer, origin, task_id):
        r = viewer.client().get("/api/tasks/%s/%s/logs" % (origin, task_id))
        return [l["text"] for l in r.json()["lines"]] if r.status == 200 else None

    def failed_alert(self, node, task_id):
        """The task_failed alert that node raised for task_id, as node sees it."""
        r = node.client().get("/api/alerts?node=%s&limit=1000" % node.node_id)
        self.assertEqual(r.status, 200, r)
        found = [a for a in r.json()["alerts"]
                 if a["rule"] == "task_failed" and task_id in a["message"]]
        return found[0] if found else None

    def failure_alerts(self, started):
        """The alert each failed task raised on its node: [(node, alert id)]."""
        found = []
        for origin, task_id, name in started:
            if EXPECTED[name][0] != "failed":
                continue
            owner = self.nodes[origin]
            alert = self.wait(lambda: self.failed_alert(owner, task_id), 20,
                              "the alert for %s on %s" % (task_id, origin))
            found.append((origin, alert["alert_id"]))
            self.alerts.setdefault(found[-1], "firing")
        return found

    def ack_failures(self, issuer, started):
        """Acknowledges, from issuer, the alert of every failed task."""
        for origin, alert_id in self.failure_alerts(started):
            self.command(issuer, origin, "ack_alert", {"alert_id": alert_id})
            self.alerts[(origin, alert_id)] = "acknowledged"

    # -- nothing lost

    def assert_nothing_lost(self, started):
        missing = []

        def everywhere():
            missing.clear()
            for viewer in self.nodes.values():
                for origin, task_id, name in started:
                    state, lines = EXPECTED[name]
                    t = self.task(viewer, origin, task_id) or {}
                    got = self.lines(viewer, origin, task_id)
                    if t.get("state") != state or got != lines:
                        missing.append("%s sees %s/%s (%s) %s with %s lines" % (
                            viewer.node_id, origin, task_id, name, t.get("state"),
                            None if got is None else len(got)))
                for (origin, alert_id), state in self.alerts.items():
                    r = viewer.client().get("/api/alerts?node=%s&limit=1000" % origin)
                    a = [a for a in r.json()["alerts"] if a["alert_id"] == alert_id]
                    if [x["state"] for x in a] != [state]:
                        missing.append("%s sees alert %s/%s as %s" % (
                            viewer.node_id, origin, alert_id, [x["state"] for x in a]))
            return not missing
        if not harness.wait_until(everywhere, SETTLE_TIMEOUT, 0.5):
            self.fail("lost after the fault: %s\n%s" % ("\n".join(missing[:20]), self.views()))
        # the logs hold each line once: no duplicate from a replay or a relink
        for viewer in self.nodes.values():
            for origin, task_id, name in started:
                self.assertEqual(self.lines(viewer, origin, task_id), EXPECTED[name][1])
        self.assert_audit()

    def audit(self, node, action):
        r = node.client().get("/api/audit?limit=10000&action=" + action)
        self.assertEqual(r.status, 200, r)
        return [rec["details"]["command_id"] for rec in r.json()["records"]]

    def assert_audit(self):
        for h, n in self.nodes.items():
            mine = sorted(c for i, c, _, _ in self.issued if i == h)
            self.assertEqual(sorted(self.audit(n, "command.issued")), mine,
                             "command.issued records on " + h)
            for_me = sorted(c for _, c, t, _ in self.issued if t == h)
            self.assertEqual(sorted(self.audit(n, "command.executed")), for_me,
                             "command.executed records on " + h)
            self.assertEqual(self.audit(n, "command.refused"), [])
            # the file and its index agree, record for record
            with open(os.path.join(n.data_dir, "audit.jsonl")) as f:
                in_file = sorted(line.strip() for line in f if line.strip())
            r = n.client().get("/api/audit?limit=10000")
            indexed = sorted(json.dumps(rec, separators=(",", ":"), sort_keys=True)
                             for rec in r.json()["records"])
            self.assertEqual(len(in_file), len(indexed), "audit.jsonl vs /api/audit on " + h)
            self.assertEqual(sorted(json.dumps(json.loads(l), separators=(",", ":"),
                                               sort_keys=True) for l in in_file), indexed)

    def work_round(self, n1, n2, n3, failing=True):
        """Tasks in every direction, one of them failing (a second failure
        of a task would join its open alert, not raise one)."""
        self.run_task(n1, "n3", "count")
        if failing:
            self.run_task(n1, "n3", "fail")
        self.run_task(n2, "n1", "count")
        self.run_task(n3, "n2", "count")

    # -- the scenarios

    def test_work_survives_packet_loss(self):
        n1, n2, n3 = self.start()
        self.wait_full_mesh()
        self.lab.lose("n3", LOSS_PERCENT)
        lossy = time.monotonic()
        self.work_round(n1, n2, n3)
        started = self.wait_done()
        self.ack_failures(n2, started)
        self.wait_done()
        self.log("commands done with %d %% loss on n3 after %.1fs"
                 % (LOSS_PERCENT, time.monotonic() - lossy))
        # the tasks' logs have finished flowing before the loss stops
        time.sleep(max(0.0, 4.0 - (time.monotonic() - lossy)))
        dropped = self.lab.stop_losing("n3")
        self.log("loss rule removed; packets dropped (in, out): %s" % dropped)
        self.assertGreater(sum(dropped), 0, "the loss rule dropped nothing")
        self.wait_full_mesh()
        self.assert_nothing_lost(started)
        self.log("%d tasks, %d alerts, audit: nothing lost" % (len(started), len(self.alerts)))

    def test_work_survives_added_latency(self):
        n1, n2, n3 = self.start(proxied=True)
        self.wait_full_mesh()
        # every link crosses one proxy: both directions delayed
        def slow_everywhere():
            rtts = [l.get("rtt_ms") for n in self.nodes.values() for l in n.links().values()]
            return len(rtts) == 6 and all(r is not None for r in rtts) and rtts
        rtts = self.wait(slow_everywhere, 20, "an RTT on every link")
        self.log("link RTTs through the proxies: %s ms" % sorted(round(r) for r in rtts))
        for r in rtts:
            self.assertGreater(r, 2 * (DELAY_MS - JITTER_MS) - 5, rtts)
        t0 = time.monotonic()
        self.work_round(n1, n2, n3)
        started = self.wait_done()
        self.ack_failures(n2, started)
        self.wait_done()
        self.log("commands done over slow links after %.1fs" % (time.monotonic() - t0))
        self.assert_nothing_lost(started)
        self.log("%d tasks, %d alerts, audit: nothing lost; copies sent again: %s"
                 % (len(started), len(self.alerts), {h: harness.parse_metrics(
                     n.client().get("/metrics").body.decode())[
                     'agentflow_node_commands_total{what="retransmitted"}']
                     for h, n in self.nodes.items()}))

    def test_a_command_in_a_dying_link_is_sent_again(self):
        n1, n2, n3 = self.start()
        self.wait_full_mesh()
        # n1 <-> n2 blackholed: the link looks up until keepalive gives up,
        # so the command goes into a stream that will never deliver it
        self.lab.block("n1", "n2", MESH_PORT)
        blocked = time.monotonic()
        self.assertIn("n2", n1.up_peers())
        cid = self.run_task(n1, "n2", "count")
        started = self.wait_done()
        rec = self.record("n1", cid)
        self.log("done %.1fs after the block: %s" % (
            time.monotonic() - blocked, {k: rec["results"][0][k] for k in ("path", "result_path")}))
        # the copy or its result (whichever way the rule cut the link) went
        # round through n3 once the direct link was seen dead; if the
        # first copy had run, the answer is its stored result (duplicate)
        res = rec["results"][0]
        self.assertIn("n3", res["path"] + res["result_path"], rec)
        self.assertGreater(res["rtt_ms"], 1000, rec)
        self.assertNotIn("n2", n1.up_peers())
        metrics = harness.parse_metrics(n1.client().get("/metrics").body.decode())
        self.assertGreater(metrics['agentflow_node_commands_total{what="retransmitted"}'], 0)
        self.lab.unblock("n1")
        self.wait_full_mesh(SETTLE_TIMEOUT)
        self.assert_nothing_lost(started)

    def test_work_survives_a_flapping_signal(self):
        n1, n2, n3 = self.start()
        self.wait_full_mesh()
        started = []
        for flap in range(FLAPS):
            self.sig.stop()
            mark = len(self.issued)
            self.work_round(n1, n2, n3, failing=flap == 0)
            if flap == 1:
                self.ack_failures(n2, started)     # the signal is down
            time.sleep(FLAP_GAP_S)
            self.sig.restart()
            started += self.wait_done(mark)
            time.sleep(FLAP_GAP_S)
            self.log("flap %d: %d tasks so far" % (flap, len(started)))
        self.wait_done()
        self.assert_nothing_lost(started)
        self.log("%d tasks, %d alerts, audit: nothing lost" % (len(started), len(self.alerts)))

    def test_work_on_a_node_with_a_skewed_clock(self):
        netns.SkewedNode.skip_unless_possible()
        n1, n2, n3 = self.start(skewed="n3")
        self.wait_full_mesh()
        self.log("full mesh with n3 %d s ahead" % SKEW_S)
        self.work_round(n1, n2, n3)
        started = self.wait_done()
        self.ack_failures(n2, started)
        self.wait_done()
        self.assert_nothing_lost(started)
        # n3's clock shows in what it reports: its task's times are ahead
        t = [s for s in started if s[0] == "n3"][0]
        seen = self.task(n1, "n3", t[1])
        self.assertGreater(seen["queued_ms"] - time.time() * 1000, (SKEW_S - 30) * 1000, seen)
        self.log("%d tasks, %d alerts, audit: nothing lost" % (len(started), len(self.alerts)))

    def test_work_survives_a_partition(self):
        n1, n2, n3 = self.start()
        self.wait_full_mesh()
        self.work_round(n1, n2, n3)
        before = self.wait_done()
        self.failure_alerts(before)
        self.lab.link("n3", False)
        cut = time.monotonic()
        self.wait(lambda: "n3" not in n1.up_peers() and "n3" not in n2.up_peers()
                  and n3.up_peers() == [], 20, "n3's links dropped")
        self.log("n3 cut off (noticed after %.1fs)" % (time.monotonic() - cut))
        # each side works on: n3 runs tasks of its own and acknowledges its
        # alert; n1 and n2 run tasks on each other
        mark = len(self.issued)
        self.run_task(n3, "n3", "count")
        self.run_task(n3, "n3", "fail_again")
        self.run_task(n1, "n2", "count")
        self.run_task(n2, "n1", "fail_again")
        during = self.wait_done(mark)
        for side in ((n3, [s for s in during if s[0] == "n3"]),
                     (n1, [s for s in during if s[0] != "n3"])):
            self.ack_failures(*side)
        self.wait_done()
        # the work of each side finishes while it is cut off
        for viewer, part in ((n3, [s for s in during if s[0] == "n3"]),
                             (n1, [s for s in during if s[0] != "n3"])):
            for origin, task_id, name in part:
                self.wait(lambda: (self.task(viewer, origin, task_id) or {}).get("state")
                          == EXPECTED[name][0], 20, "%s's task %s" % (origin, task_id))
        self.assertIsNone(self.task(n1, "n3", [s for s in during if s[0] == "n3"][0][1]),
                          "n1 saw n3's task through the partition")
        self.lab.link("n3", True)
        healed = time.monotonic()
        self.log("healed after a %.1fs cut" % (healed - cut))
        self.wait_full_mesh(SETTLE_TIMEOUT)
        self.assert_nothing_lost(before + during)
        self.log("%d tasks, %d alerts, audit: nothing lost, %.1fs after the heal"
                 % (len(before + during), len(self.alerts), time.monotonic() - healed))


if __name__ == "__main__":
    unittest.main(verbosity=2)
