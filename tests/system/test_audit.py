#!/usr/bin/python3
"""The complete audit (issue 19, point 5), with real nodes: an ad-hoc run
recorded with its argv and hash on the issuer and the executor, refusals
recorded before a command leaves, `audit --node X` answered from X's own
log over the mesh (filters, the 64 KiB bound), and `audit verify` naming
an edited or deleted line of audit.jsonl."""

import hashlib
import json
import os
import shutil
import time

import harness
import test_commands

from test_cli_work import cli

ARGV = ["/bin/echo", "rm", "-rf", "/srv/backup"]


class Audit(test_commands.Mesh):

    EXTRA = ("--allow-adhoc",)

    def on(self, node, *args):
        return cli(args[0], "--data-dir", node.data_dir, *args[1:])

    def records(self, node, query=""):
        r = node.client().get("/api/audit" + query)
        self.assertEqual(r.status, 200, r)
        return r.json()

    def mine(self, node, action, cid):
        return [r for r in self.records(node, "?action=" + action)["records"]
                if r.get("details", {}).get("command_id") == cid]

    def adhoc(self):
        rec = self.ok_command(self.nodes[0], "node-2", "run_task", {"command": ARGV})
        self.assertEqual(rec["results"][0]["status"], "ok", rec)
        return rec

    def test_adhoc_run_is_audited_with_its_argv_on_issuer_and_executor(self):
        a, b, _ = self.nodes
        rec = self.adhoc()
        digest = hashlib.sha256(json.dumps({"command": ARGV}, separators=(",", ":"))
                                .encode()).hexdigest()
        issued = self.mine(a, "command.issued", rec["id"])
        self.assertEqual(len(issued), 1, issued)
        d = issued[0]["details"]
        self.assertEqual(issued[0]["actor"], "token:write")
        self.assertEqual(d["args"]["command"], ARGV)
        self.assertEqual(d["args_sha256"], digest)
        self.assertEqual(d["destinations"], ["node-2"])
        executed = harness.wait_until(lambda: self.mine(b, "command.executed", rec["id"]), 10)
        self.assertTrue(executed)
        d = executed[0]["details"]
        self.assertEqual(executed[0]["result"], "ok")
        self.assertEqual(executed[0]["actor"], "token:write")
        self.assertEqual(d["args"]["command"], ARGV)
        self.assertEqual(d["args_sha256"], digest)
        self.assertEqual(d["origin"], "node-1")
        self.assertEqual(d["task_id"], rec["results"][0]["body"]["task_id"])
        done = harness.wait_until(lambda: self.mine(a, "command.done", rec["id"]), 10)
        self.assertTrue(done)
        self.assertEqual(done[0]["result"], "ok")
        self.assertEqual(done[0]["details"]["results"][0]["node"], "node-2")
        # every record is chained
        for r in self.records(a)["records"]:
            self.assertRegex(r["hash"], "^[0-9a-f]{64}$")
            self.assertRegex(r["prev"], "^[0-9a-f]{64}$")

    def test_refused_before_leaving_is_audited(self):
        a = self.nodes[0]
        r = self.command(a, "no such node!", "ping", {"x": 1})
        self.assertEqual(r.status, 400, r)
        refused = [x for x in self.records(a, "?action=command.refused")["records"]
                   if x["details"].get("target") == "no such node!"]
        self.assertEqual(len(refused), 1, refused)
        self.assertEqual(refused[0]["result"], r.json()["error"])
        self.assertEqual(refused[0]["actor"], "token:write")
        self.assertEqual(refused[0]["details"]["args_sha256"],
                         hashlib.sha256(b'{"x":1}').hexdigest())

    def test_audit_of_another_node_over_the_mesh(self):
        a, b, c = self.nodes
        rec = self.adhoc()
        harness.wait_until(lambda: self.mine(b, "command.executed", rec["id"]), 10)
        rc, out, err = self.on(a, "audit", "--node", "node-2", "--json")
        self.assertEqual(rc, 0, err)
        doc = json.loads(out)
        self.assertEqual(doc["node"], "node-2")
        self.assertIs(doc["truncated"], False)
        self.assertTrue(doc["records"])
        self.assertTrue(all(r["node"] == "node-2" for r in doc["records"]), doc)
        self.assertTrue(any(r["action"] == "command.executed" and
                            r["details"]["command_id"] == rec["id"]
                            for r in doc["records"]))
        # the same shape as node-2's own answer, and the same records
        local = self.records(b, "?action=command.executed")
        remote = self.records(a, "?node=node-2&action=command.executed")
        self.assertEqual(set(local), set(remote))
        self.assertEqual([r["hash"] for r in remote["records"]][:len(local["records"])],
                         [r["hash"] for r in local["records"]][:len(remote["records"])])
        # filters: action, actor, since (a duration), in table form too
        rc, out, err = self.on(c, "audit", "--node", "node-2", "--action",
                               "command.executed", "--actor", "token:write",
                               "--since", "1h")
        self.assertEqual(rc, 0, err)
        lines = out.splitlines()
        self.assertIn("ACTION", lines[0])
        self.assertTrue(lines[1:] and all("command.executed" in l and "node-2" in l
                                          for l in lines[1:]), out)
        self.assertEqual(self.records(a, "?node=node-2&actor=token:nobody")["records"], [])
        future = int(time.time() * 1000) + 3600 * 1000
        self.assertEqual(self.records(a, "?node=node-2&since=%d" % future)["records"], [])
        # a read: the read token asks another node too, and node-2 audits
        # the query under that token's name
        r = a.client(token="read").get("/api/audit?node=node-2&action=command.executed")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["node"], "node-2")
        self.assertTrue(harness.wait_until(lambda: any(
            x["details"].get("type") == "audit_query" and x["actor"] == "token:read"
            for x in self.records(b, "?action=command.executed")["records"]), 10))
        r = a.client().get("/api/audit?node=node-9")
        self.assertEqual(r.status, 404, r)
        self.assertEqual(r.json()["error"], "unknown_node")
        self.assertIn("no node named node-9", r.json()["message"])
        rc, out, err = self.on(a, "audit", "--since", "2x")
        self.assertEqual(rc, 2, err)

    def test_remote_answer_is_bounded(self):
        a, _, c = self.nodes
        pad = "x" * 6000
        for _ in range(14):
            self.ok_command(a, "node-3", "ping", {"pad": pad})
        newest = self.records(c)["records"][-1]
        body = a.client().get("/api/audit?node=node-3").body
        doc = json.loads(body)
        self.assertIs(doc["truncated"], True)
        self.assertLessEqual(len(body), 65536 + 1024)
        self.assertTrue(doc["records"])
        # the newest were kept
        self.assertEqual(doc["records"][-1]["hash"], newest["hash"])

    def test_verify_names_an_edited_or_deleted_line(self):
        a = self.nodes[0]
        self.adhoc()
        rc, out, err = self.on(a, "audit", "verify")
        self.assertEqual(rc, 0, (out, err))
        self.assertRegex(out, r"^OK: \d+ records")
        copy = os.path.join(self.tmp, "audit-copy.jsonl")
        shutil.copy(os.path.join(a.data_dir, "audit.jsonl"), copy)
        rc, out, err = cli("audit", "verify", "--file", copy)
        self.assertEqual(rc, 0, (out, err))
        with open(copy) as f:
            lines = f.readlines()
        self.assertGreaterEqual(len(lines), 3)
        edited = list(lines)
        edited[1] = edited[1].replace('"token:write"', '"token:other"')
        self.assertNotEqual(edited[1], lines[1])
        with open(copy, "w") as f:
            f.writelines(edited)
        rc, out, err = cli("audit", "verify", "--file", copy)
        self.assertEqual(rc, 1, (out, err))
        self.assertIn(copy + ":2: hash mismatch", out)
        with open(copy, "w") as f:
            f.writelines(lines[:1] + lines[2:])
        rc, out, err = cli("audit", "verify", "--file", copy, "--json")
        self.assertEqual(rc, 1, (out, err))
        v = json.loads(out)
        self.assertEqual((v["ok"], v["line"]), (False, 2))
        self.assertIn("prev mismatch", v["error"])
        rc, out, err = cli("audit", "verify", "--file", os.path.join(self.tmp, "none"))
        self.assertEqual(rc, 1, (out, err))


if __name__ == "__main__":
    import unittest
    unittest.main()
