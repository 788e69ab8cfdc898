#!/usr/bin/python3
"""Retention is configuration (issue 16, point 7), with a real node: the
audit log rotated by size with the files kept (the chain verified across
them, the index answering for what is kept, an edited or removed file
named), and `agentflow purge --older-than` removing what is older and
leaving what is newer."""

import glob
import json
import os
import shutil
import sqlite3
import unittest

import harness
import test_commands

from test_cli_work import cli

MAX_BYTES = 4096
KEEP = 3
DAY_MS = 86400 * 1000


def post_event(node, i):
    r = node.post("/api/events", {"name": "fill", "payload": {"i": i, "pad": "x" * 200}})
    assert r.status == 200, r


def audit_lines(node):
    """Every record in the node's audit files, oldest first."""
    out = []
    base = os.path.join(node.data_dir, "audit.jsonl")
    for k in range(KEEP + 5, 0, -1):
        path = "%s.%d" % (base, k)
        if os.path.exists(path):
            with open(path) as f:
                out += [json.loads(line) for line in f]
    with open(base) as f:
        out += [json.loads(line) for line in f]
    return out


class Retention(test_commands.Mesh):

    COUNT = 1
    EXTRA = ("--audit-max-bytes", str(MAX_BYTES), "--audit-keep", str(KEEP))

    def verify(self, node):
        return cli("audit", "verify", "--data-dir", node.data_dir)

    def test_audit_rotates_by_size_and_verifies_across_files(self):
        n = self.nodes[0]
        for i in range(60):
            post_event(n, i)
        base = os.path.join(n.data_dir, "audit.jsonl")
        files = sorted(glob.glob(base + "*"))
        self.assertEqual(files, [base] + ["%s.%d" % (base, k) for k in range(1, KEEP + 1)],
                         files)
        for path in files:
            self.assertLessEqual(os.path.getsize(path), MAX_BYTES, path)
        kept = audit_lines(n)
        # The oldest files went: fewer records kept than were written.
        self.assertLess(len([r for r in kept if r["action"] == "api.event"]), 60)
        rc, out, err = self.verify(n)
        self.assertEqual(rc, 0, out + err)
        self.assertIn("OK: %d records" % len(kept), out)
        # The index answers for what the files keep, and for nothing else.
        r = n.client().get("/api/audit?limit=10000")
        self.assertEqual(r.status, 200, r)
        indexed = [x["hash"] for x in r.json()["records"]]
        self.assertEqual(indexed, [x["hash"] for x in kept])

        # An edited record in a rotated file is named.
        path2 = base + ".2"
        with open(path2) as f:
            saved = f.read()
        lines = saved.splitlines(True)
        lines[1] = lines[1].replace('"api.event"', '"api.evenT"')
        with open(path2, "w") as f:
            f.writelines(lines)
        rc, out, err = self.verify(n)
        self.assertEqual(rc, 1, out + err)
        self.assertIn("audit.jsonl.2:2", out + err)
        # A rotated file removed: the next one no longer follows on.
        os.unlink(path2)
        rc, out, err = self.verify(n)
        self.assertEqual(rc, 1, out + err)
        self.assertIn("audit.jsonl.1:1", out + err)
        self.assertIn("lines before it were removed", out + err)
        with open(path2, "w") as f:
            f.write(saved)
        rc, out, err = self.verify(n)
        self.assertEqual(rc, 0, out + err)

        # A restart goes on with the same chain: nothing damaged.
        n.restart()
        post_event(n, 99)
        rc, out, err = self.verify(n)
        self.assertEqual(rc, 0, out + err)
        self.assertEqual([r for r in audit_lines(n) if r["action"] == "audit.damaged"], [])

    def test_rotation_loses_no_record(self):
        # With room for every file, every record written is in them.
        m = self.make_node("node-9", extra=["--audit-keep", "100"]).start()
        self.nodes.append(m)
        for i in range(40):
            post_event(m, i)
        self.assertGreater(len(glob.glob(os.path.join(m.data_dir, "audit.jsonl.*"))), 2)
        events = [r for r in audit_lines(m) if r["action"] == "api.event"]
        self.assertEqual(len(events), 40)
        rc, out, err = self.verify(m)
        self.assertEqual(rc, 0, out + err)

    def finished_task(self, n):
        tid = self.run_task(n, n.node_id, "hello")
        self.wait_task(n, n.node_id, tid, ("succeeded",))
        return tid

    def test_purge_removes_what_is_older_and_keeps_what_is_newer(self):
        n = self.nodes[0]
        old_tid = self.finished_task(n)
        new_tid = self.finished_task(n)
        rc, out, err = cli("purge", "--older-than", "1h", "--data-dir", n.data_dir, "--json")
        self.assertEqual(rc, 0, out + err)
        removed = json.loads(out)["removed"]
        self.assertEqual(removed["tasks"], 0, removed)
        self.assertEqual(removed["events"], 0, removed)
        self.assertIsNotNone(self.task(n, n.node_id, old_tid))

        # Three days pass for one task and its log (the node stopped).
        n.stop()
        db = sqlite3.connect(os.path.join(n.data_dir, "agentflow.db"))
        with db:
            db.execute("UPDATE tasks SET updated_ms = updated_ms - ? WHERE task_id = ?",
                       (3 * DAY_MS, old_tid))
            db.execute("UPDATE task_logs SET time_ms = time_ms - ? WHERE task_id = ?",
                       (3 * DAY_MS, old_tid))
        db.close()
        n.restart()
        rc, out, err = cli("purge", "--older-than", "2d", "--data-dir", n.data_dir)
        self.assertEqual(rc, 0, out + err)
        self.assertIn("older than 2d: 1 tasks", out)
        self.assertIsNone(self.task(n, n.node_id, old_tid))
        self.assertEqual(n.client().get("/api/tasks/%s/%s/logs" % (n.node_id, old_tid))
                         .json().get("lines", []), [])
        self.assertIsNotNone(self.task(n, n.node_id, new_tid))
        self.assertTrue(self.lines(n, n.node_id, new_tid))
        purged = self.audit(n, "purge")
        self.assertTrue(purged)
        self.assertEqual(purged[-1]["details"]["removed"]["tasks"], 1)
        self.assertTrue(purged[-1]["actor"])

    def test_purge_removes_finished_workflows_only(self):
        n = self.nodes[0]
        one = {"name": "one", "steps": [
            {"name": "a", "task": "hello", "to": n.node_id}]}
        gate = {"name": "gate", "steps": [
            {"name": "ok", "approval": {"prompt": "go?"}}]}
        ids = {}
        for d in (one, gate):
            r = n.post("/api/workflows", {"definition": d}, token="write")
            self.assertEqual(r.status, 202, r)
            ids[d["name"]] = r.json()["id"]
        get = lambda w: n.client().get("/api/workflows/" + ids[w])
        self.assertTrue(harness.wait_until(
            lambda: get("one").json().get("state") == "succeeded", 20, 0.2))
        # Three days pass for both (the node stopped).
        n.stop()
        db = sqlite3.connect(os.path.join(n.data_dir, "agentflow.db"))
        with db:
            db.execute("UPDATE workflows SET updated_ms = updated_ms - ?, "
                       "created_ms = created_ms - ?", (3 * DAY_MS, 3 * DAY_MS))
        db.close()
        n.restart()
        rc, out, err = cli("purge", "--older-than", "2d", "--data-dir",
                           n.data_dir)
        self.assertEqual(rc, 0, out + err)
        self.assertIn("and 1 finished workflows", out)
        # The finished one is gone with its steps and history; the one
        # waiting for a person stays whole.
        self.assertEqual(get("one").status, 404)
        w = get("gate").json()
        self.assertEqual(w["state"], "running", w)
        self.assertEqual(w["steps"][0]["state"], "waiting-approval")
        self.assertTrue(w["history"])
        db = sqlite3.connect(os.path.join(n.data_dir, "agentflow.db"))
        left = db.execute("SELECT count(*) FROM workflow_steps WHERE "
                          "workflow_id = ?", (ids["one"],)).fetchone()[0]
        left += db.execute("SELECT count(*) FROM workflow_history WHERE "
                           "workflow_id = ?", (ids["one"],)).fetchone()[0]
        db.close()
        self.assertEqual(left, 0)

    def test_purge_bad_input_and_roles(self):
        n = self.nodes[0]
        for body in ({"older_than": "5m"}, {}, {"older_than": 30},
                     {"older_than": "30d", "x": 1}, {"older_than": "soon"}):
            r = n.post("/api/purge", body)
            self.assertEqual(r.status, 400, (body, r))
            self.assertIn("older_than", r.json()["message"])
        read = n.client(token="read").request(
            "POST", "/api/purge", json.dumps({"older_than": "30d"}).encode(),
            {"Content-Type": "application/json"})
        self.assertEqual(read.status, 403, read)
        rc, out, err = cli("purge", "--data-dir", n.data_dir)
        self.assertEqual(rc, 2, out + err)
        self.assertIn("--older-than", err)


if __name__ == "__main__":
    unittest.main()
