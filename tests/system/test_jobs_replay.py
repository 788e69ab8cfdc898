"""System tests of replaying jobs, lost at the deadline, per-task job
metrics and the executor's entries in a job's story
(node/work/jobs_replay.h): the mesh of test_jobs.py (a signal, node-1
issuing, node-2 and node-3 workers, the same tasks writing runs-NODE),
real processes on loopback, bounded polls."""

import json
import os
import re
import sqlite3
import signal as _signal
import time
import unittest

import harness
import test_jobs as tj

cli = tj.cli


class JobsReplay(unittest.TestCase):
    """test_jobs.Jobs's mesh and helpers, not its tests."""


for _name in ("setUpClass", "tearDownClass", "make_node", "wait_formed", "n",
              "submit", "job", "wait_job", "runs", "all_runs", "events",
              "restart", "signed_token", "submit_as"):
    setattr(JobsReplay, _name, tj.Jobs.__dict__[_name])




class Replay(JobsReplay):

    def failed_job(self, task="fail3", to="node-2", payload=None):
        doc = {"task": task, "to": to, "deadline_ms": 600000}
        if payload is not None:
            doc["payload"] = payload
        jid = self.submit(self.n(1), doc)["id"]
        job = self.wait_job(self.n(1), jid)
        self.assertEqual(job["state"], "failed", job)
        return jid

    def test_replay_of_a_failed_job_runs_again_and_links_both(self):
        first = self.failed_job(payload={"x": 1})
        r = self.n(1).post("/api/jobs/%s/replay" % first, {})
        self.assertEqual(r.status, 202, r)
        doc = r.json()
        self.assertEqual(doc["replay_of"], first)
        self.assertIn("callback", doc["note"])
        new = doc["id"]
        self.assertNotEqual(new, first)
        job = self.wait_job(self.n(1), new)
        self.assertEqual(job["state"], "failed", job)
        self.assertEqual(job["replay_of"], first)
        self.assertEqual(job["result"]["payload"], {"x": 1})
        self.assertEqual(job["to"], "node-2")
        self.assertNotIn("key", job)
        old = self.job(self.n(1), first)
        self.assertEqual(old["replayed_as"], new)
        rep = self.events(old, "replayed")
        self.assertEqual(len(rep), 1, old["history"])
        self.assertEqual(rep[0]["as"], new)
        self.assertEqual(rep[0]["by"], "node-1")
        # Both ran on node-2, each once.
        self.assertEqual(self.runs("node-2", first), ["1"])
        self.assertEqual(self.runs("node-2", new), ["1"])
        # The CLI: replay prints FIRST -> NEW.
        rc, out, err = cli(self.n(1), "replay", first)
        self.assertEqual(rc, 0, err)
        m = re.match(r"^(\S+) -> (\S+)$", out.strip())
        self.assertTrue(m, out)
        self.assertEqual(m.group(1), first)
        self.assertEqual(self.job(self.n(1), m.group(2))["replay_of"], first)

    def replay_as(self, node, token, jid, status=202):
        r = harness.Client("127.0.0.1", node.api_port, None, token).request(
            "POST", "/api/jobs/%s/replay" % jid, b"", {})
        self.assertEqual(r.status, status, r)
        return r.json()

    def test_a_replay_is_the_callers_job_with_its_own_grant(self):
        bob = self.signed_token(self.n(1), "bob", "write")
        carol = self.signed_token(self.n(1), "carol", "write")
        jid = self.submit_as(self.n(1), bob, {"task": "fail3", "to": "node-2",
                                              "payload": {"b": 1}})["id"]
        self.assertEqual(self.wait_job(self.n(1), jid)["state"], "failed")
        new = self.replay_as(self.n(1), carol, jid)["id"]
        job = self.wait_job(self.n(1), new)
        # It ran on node-2 (the executor checked carol's grant): exit 3.
        self.assertEqual(job["state"], "failed", job)
        self.assertEqual(job["exit_code"], 3, job)
        self.assertEqual(job["principal"], "carol")
        self.assertEqual(job["result"]["payload"], {"b": 1})
        self.assertNotIn("grant", job)
        self.assertEqual(self.runs("node-2", new), ["1"])
        rep = self.events(self.job(self.n(1), jid), "replayed")
        self.assertEqual([(h["as"], h["principal"]) for h in rep], [(new, "carol")])
        audit = self.n(1).client(token="read").get(
            "/api/audit?action=job.replayed&limit=1000").json()["records"]
        self.assertTrue([a for a in audit if a["actor"] == "carol" and
                         a["details"]["job_id"] == jid and
                         a["details"]["as"] == new], audit)
        # A read token may not replay.
        rita = self.signed_token(self.n(1), "rita", "read")
        self.replay_as(self.n(1), rita, jid, 403)
        r = harness.Client("127.0.0.1", self.n(1).api_port, None, rita).request(
            "POST", "/api/jobs/replay", b'{"dry_run": true}',
            {"Content-Type": "application/json"})
        self.assertEqual(r.status, 403, r)

    def test_replay_refused_for_a_succeeded_open_or_unknown_job(self):
        jid = self.submit(self.n(1), {"task": "report", "to": "node-3"})["id"]
        self.assertEqual(self.wait_job(self.n(1), jid)["state"], "succeeded")
        r = self.n(1).post("/api/jobs/%s/replay" % jid, {})
        self.assertEqual(r.status, 409, r)
        self.assertIn("succeeded", r.json()["message"])
        slow = self.submit(self.n(1), {"task": "slow", "to": "node-3"})["id"]
        r = self.n(1).post("/api/jobs/%s/replay" % slow, {})
        self.assertEqual(r.status, 409, r)
        r = self.n(1).post("/api/jobs/jnosuchjob0000/replay", {})
        self.assertEqual(r.status, 404, r)
        # Another node did not issue it.
        r = self.n(2).post("/api/jobs/%s/replay" % jid, {})
        self.assertEqual(r.status, 404, r)
        rc, out, err = cli(self.n(1), "replay", jid)
        self.assertEqual(rc, 1, (out, err))
        self.assertIn("succeeded", err)
        self.assertEqual(self.job(self.n(1), jid).get("replayed_as"), None)
        self.wait_job(self.n(1), slow)

    def test_batch_replay_picks_exactly_the_matching_failed_jobs(self):
        time.sleep(0.05)
        since = int(time.time() * 1000)
        a = self.failed_job(to="node-2")
        b = self.failed_job(to="node-3")
        ok = self.submit(self.n(1), {"task": "report", "to": "node-2"})["id"]
        other = self.failed_job(task="nosuch", to="node-2")
        self.wait_job(self.n(1), ok)
        # Bad requests: 400, nothing replayed.
        for bad in ({"states": ["succeeded"]}, {"states": []},
                    {"since_ms": -1}, {"task": "a b"}, {"nope": 1},
                    {"dry_run": "yes"}, {"states": ["failed", "failed"]}):
            r = self.n(1).post("/api/jobs/replay", bad)
            self.assertEqual(r.status, 400, (bad, r))
        # Dry run: the pairs, nothing changed.
        r = self.n(1).post("/api/jobs/replay", {"states": ["failed"],
                                                "since_ms": since,
                                                "task": "fail3",
                                                "dry_run": True})
        self.assertEqual(r.status, 200, r)
        d = r.json()
        self.assertEqual(sorted(p["of"] for p in d["pairs"]), sorted([a, b]))
        self.assertTrue(all(p["as"] is None for p in d["pairs"]))
        self.assertFalse(d["cut"])
        for jid in (a, b):
            self.assertNotIn("replayed_as", self.job(self.n(1), jid))
        rc, out, err = cli(self.n(1), "replay", "--failed", "--since", "1h",
                           "--task", "fail3", "--node", "node-3", "--dry-run")
        self.assertEqual(rc, 0, err)
        self.assertEqual(out.strip(), "%s -> -" % b)
        self.assertNotIn("replayed_as", self.job(self.n(1), b))
        # For real, by task and since: a and b, not ok nor other.
        r = self.n(1).post("/api/jobs/replay", {"states": ["failed"],
                                                "since_ms": since,
                                                "task": "fail3"})
        self.assertEqual(r.status, 200, r)
        pairs = {p["of"]: p["as"] for p in r.json()["pairs"]}
        self.assertEqual(sorted(pairs), sorted([a, b]))
        for first, new in pairs.items():
            self.assertEqual(self.job(self.n(1), new)["replay_of"], first)
            self.wait_job(self.n(1), new)
        self.assertNotIn("replayed_as", self.job(self.n(1), other))
        self.assertNotIn("replayed_as", self.job(self.n(1), ok))
        # Once each: now only a's replay (failed on node-2) matches there;
        # --again takes the replayed ones too.
        r = self.n(1).post("/api/jobs/replay", {"since_ms": since,
                                                "task": "fail3",
                                                "node": "node-2"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual([p["of"] for p in r.json()["pairs"]], [pairs[a]])
        r = self.n(1).post("/api/jobs/replay", {"since_ms": since,
                                                "task": "fail3",
                                                "node": "node-3",
                                                "again": True,
                                                "dry_run": True})
        self.assertEqual(sorted(p["of"] for p in r.json()["pairs"]),
                         sorted([b, pairs[b]]))
        # Usage errors.
        self.assertEqual(cli(self.n(1), "replay", "--failed")[0], 2)
        self.assertEqual(cli(self.n(1), "replay", "--since", "1h")[0], 2)
        self.assertEqual(cli(self.n(1), "replay", a, "--failed")[0], 2)


class LostAtDeadline(JobsReplay):

    def test_the_issuer_restarting_past_the_deadline_keeps_the_run(self):
        # Its first ticks come before any link is up: no route to node-3
        # for a moment is not node-3 dead, and the run's result is the
        # job's.
        doc = self.submit(self.n(1), {"task": "slow", "to": "node-3",
                                      "deadline_ms": 1500})
        jid = doc["id"]
        self.wait_job(self.n(1), jid, ("running",))
        self.n(1).stop(_signal.SIGKILL)
        time.sleep(2)
        self.restart(self.n(1))
        job = self.wait_job(self.n(1), jid, timeout=30)
        self.assertEqual(job["state"], "succeeded", job)
        self.assertEqual(self.events(job, "lost"), [])
        self.assertEqual(self.all_runs(jid), {"node-3": ["1"]})

    def test_a_named_job_on_a_killed_node_is_lost_at_its_deadline(self):
        doc = self.submit(self.n(1), {"task": "slow", "to": "node-3",
                                      "deadline_ms": 8000})
        jid = doc["id"]
        self.wait_job(self.n(1), jid, ("running",))
        self.assertTrue(harness.wait_until(lambda: self.runs("node-3", jid),
                                           10, 0.05))
        self.n(3).stop(_signal.SIGKILL)
        try:
            time.sleep(1)
            # Before the deadline a named job waits for its node.
            self.assertEqual(self.job(self.n(1), jid)["state"], "running")
            job = self.wait_job(self.n(1), jid, timeout=20)
            self.assertEqual(job["state"], "lost", job)
            self.assertIn("node node-3 dead or gone at the deadline",
                          job["reason"])
            self.assertIn("last heard from at", job["reason"])
            lost = self.events(job, "lost")
            self.assertEqual(len(lost), 1, job["history"])
            self.assertEqual(lost[0]["node"], "node-3")
            self.assertLessEqual(lost[0]["last_heard_ms"], lost[0]["time_ms"])
            fence = self.events(job, "fence")
            self.assertEqual([(f["node"], f["epoch"]) for f in fence],
                             [("node-3", 1)])
            self.assertGreaterEqual(lost[0]["time_ms"], job["deadline_ms"])
        finally:
            self.restart(self.n(3))
        # Back: its old run is fenced, never the job's result.
        got = harness.wait_until(
            lambda: [h for h in self.job(self.n(1), jid)["history"]
                     if h["event"] == "fenced" and h["node"] == "node-3"],
            30, 0.3)
        self.assertTrue(got, self.job(self.n(1), jid)["history"])
        job = self.job(self.n(1), jid)
        self.assertEqual(job["state"], "lost")
        self.assertNotIn("result_from", job)
        self.assertEqual(self.all_runs(jid), {"node-3": ["1"]})
        # Replayable: lost is one of the states.
        r = self.n(1).post("/api/jobs/%s/replay" % jid, {})
        self.assertEqual(r.status, 202, r)
        new = self.wait_job(self.n(1), r.json()["id"], timeout=30)
        self.assertEqual(new["state"], "succeeded", new)
        self.assertEqual(new["replay_of"], jid)


class TaskMetrics(JobsReplay):

    def metrics(self):
        return harness.parse_metrics(
            self.n(1).client().get("/metrics").body.decode())

    def by_task(self, m, what, task):
        return m.get('agentflow_node_jobs_total{what="%s",task="%s"}'
                     % (what, task), 0)

    def test_per_task_counters_and_their_bound(self):
        before = self.metrics()
        ids = [self.submit(self.n(1), {"task": t, "to": "node-2"})["id"]
               for t in ("report", "report", "fail3")]
        for jid in ids:
            self.wait_job(self.n(1), jid)
        m = self.metrics()
        delta = lambda what, task: (self.by_task(m, what, task) -
                                    self.by_task(before, what, task))
        self.assertEqual(delta("submitted", "report"), 2)
        self.assertEqual(delta("dispatched", "report"), 2)
        self.assertEqual(delta("succeeded", "report"), 2)
        self.assertEqual(delta("failed", "report"), 0)
        self.assertEqual(delta("submitted", "fail3"), 1)
        self.assertEqual(delta("failed", "fail3"), 1)
        self.assertEqual(delta("succeeded", "fail3"), 0)
        # Every counter of a named task is there, zeros too; the totals
        # stay as they were.
        for what in ("submitted", "dispatched", "redispatched", "fenced",
                     "lost", "succeeded", "failed", "expired", "cancelled"):
            self.assertIn('agentflow_node_jobs_total{what="%s",task="report"}'
                          % what, m)
        self.assertEqual(m['agentflow_node_jobs_total{what="submitted"}'] -
                         before.get('agentflow_node_jobs_total{what="submitted"}',
                                    0), 3)
        # At most 64 task names: 70 more names (expiring: their node
        # never comes) leave the rest as "(other)".
        for i in range(70):
            self.submit(self.n(1), {"task": "t%02d" % i, "to": "node-9",
                                    "deadline_ms": 500})
        m = self.metrics()
        tasks = {k.split('task="')[1].rstrip('"}') for k in m
                 if k.startswith("agentflow_node_jobs_total{") and "task=" in k}
        self.assertIn("(other)", tasks)
        self.assertEqual(len(tasks - {"(other)"}), 64, sorted(tasks))
        named = sum(self.by_task(m, "submitted", t) for t in tasks
                    if t.startswith("t") and len(t) == 3)
        self.assertEqual(named + self.by_task(m, "submitted", "(other)"), 70)
        got = harness.wait_until(
            lambda: self.by_task(self.metrics(), "expired", "(other)") ==
            self.by_task(m, "submitted", "(other)"), 10, 0.3)
        self.assertTrue(got, self.metrics())


HOUR_MS = 3600 * 1000


class RetainJobs(JobsReplay):

    def test_retention_and_purge_trim_settled_jobs_by_age(self):
        n1 = self.n(1)
        ids = {}
        for name, task in (("old", "report"), ("mid", "fail3"),
                           ("new", "report")):
            ids[name] = self.submit(n1, {"task": task, "to": "node-2"})["id"]
            self.wait_job(n1, ids[name])
        # Open (its node never comes): never trimmed, whatever its age.
        ids["open"] = self.submit(n1, {"task": "report", "to": "node-9",
                                       "deadline_ms": 600000})["id"]
        n1.stop()
        db = sqlite3.connect(os.path.join(n1.data_dir, "agentflow.db"))
        with db:
            for name, hours in (("old", 6), ("mid", 3), ("open", 6)):
                db.execute("UPDATE jobs SET updated_ms = updated_ms - ? "
                           "WHERE id = ?", (hours * HOUR_MS, ids[name]))
        db.close()
        n1.extra += ["--retain-jobs", "5h"]
        self.restart(n1)
        gone = harness.wait_until(
            lambda: n1.client().get("/api/jobs/" + ids["old"]).status == 404,
            20, 0.3)
        self.assertTrue(gone, "a job settled 6 h ago outlived --retain-jobs 5h")
        for name in ("mid", "new", "open"):
            job = self.job(n1, ids[name])
            self.assertTrue(job["history"], job)
        db = sqlite3.connect(os.path.join(n1.data_dir, "agentflow.db"))
        left = db.execute("SELECT count(*) FROM job_history WHERE job_id = ?",
                          (ids["old"],)).fetchone()[0]
        db.close()
        self.assertEqual(left, 0)
        # purge --older-than takes jobs too: mid (3 h) goes, new stays.
        rc, out, err = cli(n1, "purge", "--older-than", "2h", "--json")
        self.assertEqual(rc, 0, (out, err))
        self.assertEqual(json.loads(out)["removed"]["jobs"], 1, out)
        self.assertEqual(n1.client().get("/api/jobs/" + ids["mid"]).status, 404)
        self.assertEqual(self.job(n1, ids["new"])["state"], "succeeded")
        self.assertEqual(self.job(n1, ids["open"])["state"], "queued")
        rc, out, err = cli(n1, "purge", "--older-than", "2h")
        self.assertEqual(rc, 0, (out, err))
        self.assertIn("and 0 settled jobs", out)


class ExecutorStory(JobsReplay):

    def executor_entries(self, jid):
        return [h for h in self.job(self.n(1), jid)["history"]
                if h.get("source") == "executor"]

    def test_the_trace_shows_the_executors_own_entries(self):
        jid = self.submit(self.n(1), {"task": "report", "to": "node-3"})["id"]
        job = self.wait_job(self.n(1), jid)
        self.assertEqual(job["state"], "succeeded", job)
        # The executor's task updates reach the issuer as events.
        got = harness.wait_until(
            lambda: {h["event"] for h in self.executor_entries(jid)} >=
            {"queued", "started", "finished"}, 10, 0.2)
        self.assertTrue(got, self.job(self.n(1), jid)["history"])
        job = self.job(self.n(1), jid)
        ex = [h for h in job["history"] if h.get("source") == "executor"]
        for h in ex:
            self.assertEqual(h["by"], "node-3")
            self.assertEqual(h["node"], "node-3")
            self.assertEqual(h["epoch"], 1)
            self.assertEqual(h["task_id"], job["task_id"])
        fin = [h for h in ex if h["event"] == "finished"]
        self.assertEqual(len(fin), 1, ex)
        self.assertEqual(fin[0]["state"], "succeeded")
        self.assertEqual(fin[0]["exit_code"], 0)
        started = [h for h in ex if h["event"] == "started"][0]
        self.assertEqual(started["attempt"], 1)
        self.assertLessEqual(started["time_ms"], fin[0]["time_ms"])
        # One story in time order; the issuer's entries all there.
        times = [h["time_ms"] for h in job["history"]]
        self.assertEqual(times, sorted(times))
        self.assertEqual([h["event"] for h in job["history"]
                          if h.get("source") != "executor"],
                         ["submitted", "dispatched", "running", "succeeded"])
        # The command id of its dispatch is what ties the task to the job.
        self.assertEqual(len(job["run_commands"]), 1, job)
        self.assertEqual(list(job["run_commands"].values()), [1])
        # agentflow trace shows the same entries.
        rc, out, err = cli(self.n(1), "trace", jid, "--json")
        self.assertEqual(rc, 0, err)
        self.assertEqual(json.loads(out), job["history"])
        rc, out, err = cli(self.n(1), "trace", jid)
        self.assertEqual(rc, 0, err)
        self.assertIn("started", out)
        self.assertIn("finished", out)
        # Not stored: the issuer's own history has none of them.
        db = sqlite3.connect("file:%s?mode=ro" % os.path.join(
            self.n(1).data_dir, "agentflow.db"), uri=True)
        rows = [json.loads(r[0]) for r in db.execute(
            "SELECT body FROM job_history WHERE job_id = ?", (jid,))]
        db.close()
        self.assertFalse([r for r in rows if r.get("source") == "executor"])


if __name__ == "__main__":
    unittest.main()
