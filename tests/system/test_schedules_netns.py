"""A schedule across a partition (issue 17 item 6): five nodes, each in its
own network namespace (netns.Lab), split 3/2 by nftables rules on their
mesh port while an `@every 2s` schedule runs.  Every fire time after the
split runs exactly once, on the majority side (the task's marker names the
node it ran on); the minority, which sees 2 of 5 members alive, fires
none; after the heal the minority has the majority's last fires and the
schedule goes on once per fire time.  Skipped without CAP_NET_ADMIN."""

import glob
import json
import os
import time
import unittest

import harness
import netns

HOSTS = ("n1", "n2", "n3", "n4", "n5")
MAJORITY, MINORITY = HOSTS[:3], HOSTS[3:]
PERIOD_MS = 2000
FORM_TIMEOUT = 60
# From this long after the cut a fire time's owner is on the majority
# side: the cut noticed (3 s of silence and a link check) and the hold
# after it (2.75 s with --ping-ms 500).
DETECT_S = 7
CUT_S = 18
HEAL_TIMEOUT = 75      # links back (redial backoff)


class SchedulesPartition(netns.LabTest):

    TMP_PREFIX = "af-sched-netns-"
    HOSTS = HOSTS

    def setUp(self):
        super().setUp()                     # the lab of HOSTS, tmp, pki
        self.marks = os.path.join(self.tmp, "marks")
        os.mkdir(self.marks)
        self.sig = netns.Signal(self.lab, "sig", self.pki,
                                ["--rate", "0", "--heartbeat", "1", "--ttl", "5"])
        self.procs.append(self.sig)
        self.sig.start()
        self.nodes = {}
        for h in HOSTS:
            # The marker names the node the run was on.
            tasks = os.path.join(self.tmp, "tasks-%s.json" % h)
            with open(tasks, "w") as f:
                json.dump({"mark": {"command": [
                    "/bin/sh", "-c", 'cat "$AGENTFLOW_PAYLOAD_FILE" > '
                    '"%s/%s.$(date +%%s%%N).$$"' % (self.marks, h)]}}, f)
            n = netns.MeshNode(self.lab, h, self.pki, h, port=netns.MESH_PORT,
                               signals=[self.sig.url], args=[
                                   "--dead-ms", "3000", "--ping-ms", "500",
                                   "--signal-ca", self.pki.ca_path,
                                   "--tasks", tasks])
            self.procs.append(n)
            self.nodes[h] = n.start()
        self.wait(self.all_alive, FORM_TIMEOUT, "full mesh of five")
        self.log("five nodes formed")

    def runs(self, name):
        """{fire_ms: [host the run was on, ...]} from the markers."""
        out = {}
        for path in glob.glob(os.path.join(self.marks, "*")):
            try:
                with open(path) as f:
                    s = json.load(f).get("schedule", {})
            except (OSError, ValueError):
                continue
            if s.get("name") == name:
                out.setdefault(s["fire_ms"], []).append(
                    os.path.basename(path).split(".")[0])
        return out

    def test_partition_fires_once_on_the_majority(self):
        n1 = self.nodes["n1"]
        # at_most_once: a fire handed to a node on the other side just
        # before the cut is not placed again when that node looks dead
        # (docs/schedules.md: otherwise the job's at-least-once rule
        # runs it again, as any job's).
        r = n1.post("/api/schedules", {"name": "part", "cron": "@every 2s",
                                       "job": {"task": "mark", "to": "any",
                                               "at_most_once": True}})
        self.assertEqual(r.status, 201, r)
        self.wait(lambda: all(
            (n.client(token="read").get("/api/schedules/part").json()
             .get("last_fire")) for n in self.nodes.values()), 20,
            "a first fire seen everywhere")
        self.split(MINORITY, MAJORITY, True)
        cut = int(time.time() * 1000)
        self.log("split 3/2")
        time.sleep(CUT_S)
        healed_at = int(time.time() * 1000)
        self.split(MINORITY, MAJORITY, False)
        self.log("healed")
        self.wait(self.all_alive, HEAL_TIMEOUT, "the mesh back after the heal")
        # The minority holds the majority's last fire again.
        self.wait(lambda: len({json.dumps(n.client(token="read").get(
            "/api/schedules/part").json()["last_fire"]["fire_ms"])
            for n in self.nodes.values()}) == 1, 20,
            "one last fire everywhere")
        time.sleep(6)
        end = int(time.time() * 1000)
        r = n1.client().request("DELETE", "/api/schedules/part")
        self.assertEqual(r.status, 200, r)
        time.sleep(2)
        runs = self.runs("part")
        self.log("runs: %s" % sorted(runs.items()))
        self.assertTrue(all(len(v) == 1 for v in runs.values()),
                        "a fire time ran twice: %s" % sorted(runs.items()))
        during = range(((cut + DETECT_S * 1000) // PERIOD_MS + 1) * PERIOD_MS,
                       healed_at - PERIOD_MS, PERIOD_MS)
        self.assertGreaterEqual(len(during), 3)
        for t in during:
            self.assertIn(t, runs, "fire %d during the split did not run" % t)
            self.assertIn(runs[t][0], MAJORITY,
                          "fire %d ran on the minority side" % t)
        # No run on the minority side while it was cut off.
        for t, hosts in runs.items():
            if cut + DETECT_S * 1000 <= t < healed_at:
                self.assertNotIn(hosts[0], MINORITY, (t, hosts))
        after = [t for t in runs if healed_at + PERIOD_MS <= t < end - PERIOD_MS]
        self.assertTrue(after, "no fire after the heal: %s" % sorted(runs))


if __name__ == "__main__":
    unittest.main()
