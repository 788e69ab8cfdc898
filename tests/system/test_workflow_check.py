#!/usr/bin/python3
"""Workflow definitions checked whole before anything runs (issue 17,
point 1), with a real node: POST /api/workflows/check and `agentflow
workflow check FILE --set K=V` answer every error at once with the path
to its field, name a cycle, and give the order a valid definition's steps
would run in; a malformed request is refused precisely; nothing runs."""

import json
import os

import test_commands

from test_cli_work import cli

GOOD = {
    "name": "nightly-backup",
    "params": {"dest": None},
    "budget": "2h",
    "steps": [
        {"name": "report", "task": "hello", "to": "node-1", "needs": ["prune"],
         "payload": {"bytes": "${steps.backup.result.bytes}"}},
        {"name": "backup", "task": "hello", "to": "any:role=worker",
         "payload": {"to": "${params.dest}"}, "retries": 2, "backoff": "5s"},
        {"name": "verify", "task": "hello", "to": "node-2", "needs": ["backup"]},
        {"name": "ok", "approval": {"prompt": "prune old archives?"},
         "needs": ["verify"]},
        {"name": "prune", "task": "hello", "to": "node-2", "needs": ["ok"]},
    ],
}

GOOD_YAML = """\
# GOOD, in YAML
name: nightly-backup
params: {dest: null}
budget: 2h
steps:
  - name: report
    task: hello
    to: node-1
    needs: [prune]
    payload: {bytes: "${steps.backup.result.bytes}"}
  - name: backup
    task: hello
    to: any:role=worker
    payload:
      to: ${params.dest}
    retries: 2
    backoff: 5s
  - {name: verify, task: hello, to: node-2, needs: [backup]}
  - name: ok
    approval:
      prompt: prune old archives?
    needs: [verify]
  - {name: prune, task: hello, to: node-2, needs: [ok]}
"""

BAD = {
    "name": "broken",
    "steps": [
        {"name": "a", "task": "hello", "to": "node-1", "needs": ["c"]},
        {"name": "b", "task": "hello", "to": "node-1", "needs": ["a"], "retries": -1},
        {"name": "c", "task": "hello", "to": "node-1", "needs": ["b"]},
        {"name": "d", "to": "node-1", "needs": ["ghost"]},
    ],
}


class WorkflowCheck(test_commands.Mesh):

    COUNT = 2

    def write(self, name, doc):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            json.dump(doc, f)
        return path

    def test_a_valid_definition_answers_its_order(self):
        n = self.nodes[0]
        r = n.post("/api/workflows/check", {"definition": GOOD, "set": {"dest": "/srv"}},
                   token="read")
        self.assertEqual(r.status, 200, r)
        wf = r.json()["workflow"]
        self.assertEqual(wf["order"], ["backup", "verify", "ok", "prune", "report"])
        self.assertEqual(wf["params"], {"dest": "/srv"})
        self.assertEqual(wf["budget_ms"], 7200000)
        # Checking runs nothing: no task, no job, no command on any node.
        for node in self.nodes:
            self.assertEqual(node.client().get("/api/jobs").json()["jobs"], [])
            self.assertEqual(node.client().get("/api/tasks").json()["tasks"], [])

    def test_every_error_at_once_with_its_path(self):
        r = self.nodes[0].post("/api/workflows/check", {"definition": BAD})
        self.assertEqual(r.status, 400, r)
        doc = r.json()
        self.assertEqual(doc["error"], "invalid_workflow")
        errs = {(e["path"], e["error"]) for e in doc["errors"]}
        paths = {p for p, _ in errs}
        self.assertIn("steps[1].retries", paths)
        self.assertIn("steps[3].task", paths)
        self.assertIn("steps[3].needs[0]", paths)
        self.assertIn("%d errors" % len(doc["errors"]), doc["message"])
        # The unknown need keeps the graph from being ordered; without it,
        # the cycle is named.
        fixed = json.loads(json.dumps(BAD))
        fixed["steps"][3] = {"name": "d", "task": "hello", "to": "node-1"}
        fixed["steps"][1].pop("retries")
        r = self.nodes[0].post("/api/workflows/check", {"definition": fixed})
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.json()["errors"],
                         [{"path": "steps", "error": "the needs form a cycle: a → c → b → a"}])

    def test_a_missing_parameter_is_named(self):
        r = self.nodes[0].post("/api/workflows/check", {"definition": GOOD})
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.json()["errors"],
                         [{"path": "params.dest",
                           "error": "has no default: give it with --set dest=VALUE"}])

    def test_malformed_requests_are_refused(self):
        n = self.nodes[0]
        c = n.client()
        r = c.request("POST", "/api/workflows/check", b"{not json",
                      {"Content-Type": "application/json"})
        self.assertEqual(r.status, 400, r)
        for body in ({}, {"definition": GOOD, "extra": 1}, {"definition": GOOD, "set": [1]}):
            r = n.post("/api/workflows/check", body)
            self.assertEqual(r.status, 400, (body, r))
            self.assertEqual(r.json()["error"], "invalid_field", r)
        r = n.post("/api/workflows/check", {"definition": [1, 2]})
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.json()["errors"][0]["path"], "")
        # Without a token: refused before anything is read.
        r = n.client(token=None).request("POST", "/api/workflows/check",
                                         json.dumps({"definition": GOOD}).encode(),
                                         {"Content-Type": "application/json"})
        self.assertEqual(r.status, 401, r)
        # And the node keeps serving.
        self.assertEqual(n.client().get("/api/cluster/status").status, 200)

    def test_cli_check(self):
        n = self.nodes[0]
        good = self.write("good.json", GOOD)
        rc, out, err = cli("workflow", "check", good, "--set", "dest=/srv",
                           "--data-dir", n.data_dir)
        self.assertEqual(rc, 0, out + err)
        self.assertIn("workflow nightly-backup is valid: 5 steps", out)
        self.assertIn("backup → verify → ok → prune → report", out)
        rc, out, err = cli("workflow", "check", self.write("bad.json", BAD),
                           "--data-dir", n.data_dir)
        self.assertEqual(rc, 1, out + err)
        self.assertIn("steps[3].needs[0]: \"ghost\" is not a step of this workflow", err)
        self.assertIn("steps[1].retries: an integer 0-20", err)
        rc, out, err = cli("workflow", "check", good, "--set", "colour=red",
                           "--set", "dest=x", "--data-dir", n.data_dir)
        self.assertEqual(rc, 1, out + err)
        self.assertIn("set.colour: not a parameter of this workflow", err)
        # Usage errors never reach the node.
        rc, out, err = cli("workflow", "check", good, "--set", "novalue",
                           "--data-dir", n.data_dir)
        self.assertEqual(rc, 2, out + err)
        with open(os.path.join(self.tmp, "notjson.json"), "w") as f:
            f.write("{\"name\": ")
        rc, out, err = cli("workflow", "check", os.path.join(self.tmp, "notjson.json"),
                           "--data-dir", n.data_dir)
        self.assertEqual(rc, 1, out + err)
        self.assertIn("not JSON", err)

    def test_cli_check_yaml(self):
        # The same definition written in YAML (a file named *.yaml).
        n = self.nodes[0]
        path = os.path.join(self.tmp, "good.yaml")
        with open(path, "w") as f:
            f.write(GOOD_YAML)
        rc, out, err = cli("workflow", "check", path, "--set", "dest=/srv",
                           "--data-dir", n.data_dir)
        self.assertEqual(rc, 0, out + err)
        self.assertIn("workflow nightly-backup is valid: 5 steps", out)
        self.assertIn("backup → verify → ok → prune → report", out)
        # Its errors name the fields as JSON's do; what JSON cannot hold
        # is refused with its line before the node is asked.
        with open(path, "w") as f:
            f.write(GOOD_YAML.replace("retries: 2", "retries: -1"))
        rc, out, err = cli("workflow", "check", path, "--set", "dest=/srv",
                           "--data-dir", n.data_dir)
        self.assertEqual(rc, 1, out + err)
        self.assertIn("steps[1].retries: an integer 0-20", err)
        with open(path, "w") as f:
            f.write("name: x\nsteps: &s []\nmore: *s\n")
        rc, out, err = cli("workflow", "check", path, "--data-dir", n.data_dir)
        self.assertEqual(rc, 1, out + err)
        self.assertIn("good.yaml: not YAML as JSON holds it: line 2", err)


if __name__ == "__main__":
    import unittest
    unittest.main()
