"""System tests of the API's principals through a real node: the roles
read < write < admin on their routes (403 naming the role needed and
held), signed tokens minted by POST /api/tokens and `agentflow token`
(used, listed without their text, audited under the person's name,
refused once expired, revoked, tampered with, or signed by a key that is
not the issuer's, or from an issuer whose certificate is not known), and
the live feed opened with a signed token, and tokens.json rotated without a restart (SIGHUP, or a changed file) while a
task runs, which ends normally."""

import base64
import json
import os
import shutil
import signal as _signal
import subprocess
import tempfile
import time
import unittest

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

import harness

CLI = os.path.join(harness.BIN, "agentflow")

TOKENS = {
    "read": "reader-0123456789abcdef",
    "write": "writer-0123456789abcdef",
    "admin": "admin-0123456789abcdef",
}
TASKS = {"slow": {"command": ["/bin/sh", "-c", "sleep 3; echo done"]},
         "hello": {"command": ["/bin/echo", "hello"]}}


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def forge(key, **claims):
    """A token over claims signed with key, as the node would make it."""
    payload = json.dumps(claims, separators=(",", ":"), sort_keys=True).encode()
    signed = "af1." + b64url(payload)
    sig = key.sign(signed.encode(), ec.ECDSA(hashes.SHA256()))
    return signed + "." + b64url(sig)


class Tokens(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="af-tokens-")
        pki = harness.Pki(cls.tmp)
        tasks = os.path.join(cls.tmp, "tasks.json")
        with open(tasks, "w") as f:
            json.dump(TASKS, f)
        cls.node = harness.MeshNode(pki, "node-1", args=["--tasks", tasks])
        os.makedirs(cls.node.data_dir, 0o700)
        cls.write_tokens(TOKENS)
        try:
            cls.node.start()
        except BaseException:
            shutil.rmtree(cls.tmp, True)
            raise

    @classmethod
    def tearDownClass(cls):
        cls.node.stop()
        shutil.rmtree(cls.tmp, True)

    @classmethod
    def write_tokens(cls, toks):
        path = os.path.join(cls.node.data_dir, "tokens.json")
        with open(path + ".new", "w") as f:
            json.dump(toks, f)
        os.chmod(path + ".new", 0o600)
        os.rename(path + ".new", path)

    def req(self, token, method, path, doc=None):
        c = harness.Client("127.0.0.1", self.node.api_port, token=token)
        body = json.dumps(doc).encode() if doc is not None else None
        return c.request(method, path, body, {"Content-Type": "application/json"})

    def cli(self, *args):
        e = dict(os.environ)
        for k in ("AGENTFLOW_API", "AGENTFLOW_TOKEN", "AGENTFLOW_DATA_DIR"):
            e.pop(k, None)
        p = subprocess.run([CLI] + list(args), capture_output=True, text=True,
                           timeout=30, env=e, stdin=subprocess.DEVNULL)
        return p.returncode, p.stdout, p.stderr

    def issue(self, name, role, ttl, token=TOKENS["admin"]):
        r = self.req(token, "POST", "/api/tokens", {"name": name, "role": role, "ttl": ttl})
        self.assertEqual(r.status, 200, r)
        return r.json()

    def assert_refused(self, r, status, needed=None, held=None, message=None):
        self.assertEqual(r.status, status, r)
        doc = r.json()
        if status == 403:
            self.assertEqual(doc["error"], "forbidden")
            self.assertEqual((doc["role_needed"], doc["role_held"]), (needed, held), doc)
        if message is not None:
            self.assertIn(message, doc["message"])

    def command(self, token, type_, args=None):
        doc = {"target": "node-1", "type": type_, "wait_ms": 10000}
        if args is not None:
            doc["args"] = args
        return self.req(token, "POST", "/api/commands", doc)

    def audit(self, action):
        r = self.req(TOKENS["read"], "GET", "/api/audit?action=" + action)
        self.assertEqual(r.status, 200, r)
        return r.json()["records"]

    def test_roles_on_routes(self):
        rd, wr, ad = TOKENS["read"], TOKENS["write"], TOKENS["admin"]
        # read: every GET
        for path in ("/api/tasks", "/api/cluster/status", "/api/audit", "/metrics"):
            self.assertEqual(self.req(rd, "GET", path).status, 200, path)
        self.assert_refused(self.req(rd, "POST", "/api/events", {"name": "x"}),
                            403, "write", "read", "POST /api/events needs the write role")
        self.assert_refused(self.command(rd, "ping"), 403, "write", "read")
        # write: events, tasks; not the kill switch, forget or tokens
        self.assertEqual(self.req(wr, "POST", "/api/events", {"name": "x"}).status, 200)
        self.assertEqual(self.command(wr, "ping").status, 200)
        for type_ in ("freeze", "unfreeze"):
            self.assert_refused(self.command(wr, type_), 403, "admin", "write",
                                "a %s command needs the admin role" % type_)
        self.assert_refused(self.req(wr, "POST", "/api/nodes/node-9/forget"), 403,
                            "admin", "write")
        self.assert_refused(self.req(wr, "GET", "/api/tokens"), 403, "admin", "write")
        self.assert_refused(self.req(wr, "POST", "/api/tokens",
                                     {"name": "x", "role": "read", "ttl": "1h"}),
                            403, "admin", "write")
        # admin: all of it
        self.assertEqual(self.req(ad, "GET", "/api/tokens").status, 200)
        r = self.command(ad, "freeze")
        self.assertEqual(r.status, 200, r)
        r = self.command(ad, "unfreeze")
        self.assertEqual(r.status, 200, r)
        self.assert_refused(self.req(ad, "POST", "/api/nodes/node-9/forget"), 404)
        # no token, a wrong token
        self.assert_refused(self.req(None, "GET", "/api/tasks"), 401)
        self.assert_refused(self.req("x" * 40, "GET", "/api/tasks"), 401)
        forbidden = [a for a in self.audit("auth.failed") if a["result"] == "forbidden"]
        self.assertTrue(any(a["details"].get("role_needed") == "admin" and
                            a["actor"] == "token:write" for a in forbidden), forbidden)

    def test_signed_token_names_its_person(self):
        tok = self.issue("alice", "write", "8h")
        self.assertTrue(tok["token"].startswith("af1."), tok)
        self.assertEqual((tok["name"], tok["role"], tok["iss"]), ("alice", "write", "node-1"))
        self.assertEqual(len(tok["kid"]), 16, tok)
        self.assertAlmostEqual(tok["exp"] - tok["iat"], 8 * 3600 * 1000, delta=1)
        t = tok["token"]
        # it writes, and the audit and the command carry alice
        self.assertEqual(self.req(t, "POST", "/api/events", {"name": "by-alice"}).status, 200)
        r = self.command(t, "run_task", {"task": "hello"})
        self.assertEqual(r.status, 200, r)
        rec = r.json()
        self.assertEqual(rec["principal"], "alice")
        issued = [a for a in self.audit("command.issued")
                  if a["details"]["command_id"] == rec["id"]]
        self.assertEqual(len(issued), 1)
        self.assertEqual(issued[0]["actor"], "alice")
        self.assertEqual(issued[0]["details"]["token_id"], tok["id"])
        ev = [a for a in self.audit("api.event") if a["details"]["name"] == "by-alice"]
        self.assertEqual((ev[0]["actor"], ev[0]["details"]["token_id"]), ("alice", tok["id"]))
        # the live feed takes it too (as a subprotocol and as ?token=)
        ws = harness.WsClient(self.node.api_port, token=t)
        self.addCleanup(ws.close)
        self.assertEqual(ws.status, 101)
        self.assertEqual(ws.recv()["role"], "write")
        ws2 = harness.WsClient(self.node.api_port, path="/ws?token=" + t)
        self.addCleanup(ws2.close)
        self.assertEqual(ws2.status, 101)
        # but not the kill switch: 403 naming both roles
        self.assert_refused(self.command(t, "freeze"), 403, "admin", "write",
                            "alice holds the write role")
        # listed, without its text
        r = self.req(TOKENS["admin"], "GET", "/api/tokens")
        rows = [x for x in r.json()["tokens"] if x["id"] == tok["id"]]
        self.assertEqual(len(rows), 1)
        self.assertEqual((rows[0]["name"], rows[0]["role"], rows[0]["revoked"]),
                         ("alice", "write", False))
        self.assertNotIn(t, r.body.decode())
        self.assertNotIn("token", rows[0])
        # a tampered token: one byte of the payload changed (role raised)
        head, payload, sig, key = t.split(".")
        claims = json.loads(unb64url(payload))
        self.assertEqual(len(unb64url(claims["pk"])), 32)
        self.assertEqual(len(unb64url(key)), 32)
        claims["role"] = "admin"
        raised = ".".join((head, b64url(json.dumps(claims, separators=(",", ":"),
                                                   sort_keys=True).encode()), sig, key))
        self.assert_refused(self.req(raised, "GET", "/api/tasks"), 401,
                            message="token signature invalid")
        bad = ".".join((head, payload, sig[:-2] + ("AA" if sig[-2:] != "AA" else "BB"), key))
        self.assert_refused(self.req(bad, "GET", "/api/tasks"), 401,
                            message="token signature invalid")
        # another key than the one its claims name
        other_key = b64url(bytes(32))
        self.assert_refused(self.req(".".join((head, payload, sig, other_key)),
                                     "GET", "/api/tasks"), 401,
                            message="token key does not match")
        self.assert_refused(self.req("af1.junk", "GET", "/api/tasks"), 401,
                            message="malformed token")
        # revoked: 401 saying so, audited
        r = self.req(TOKENS["admin"], "POST", "/api/tokens/%s/revoke" % tok["id"])
        self.assertEqual(r.status, 200, r)
        self.assert_refused(self.req(t, "GET", "/api/tasks"), 401, message="token revoked")
        self.assertEqual(harness.WsClient(self.node.api_port, token=t).status, 401)
        self.assertEqual(self.req(TOKENS["admin"], "POST",
                                  "/api/tokens/%s/revoke" % ("0" * 32)).status, 404)
        self.assertTrue(any(a["details"]["id"] == tok["id"] and a["result"] == "ok"
                            for a in self.audit("token.revoked")))

    def test_expired_and_foreign_tokens(self):
        tok = self.issue("bob", "read", "1s")
        self.assertEqual(self.req(tok["token"], "GET", "/api/tasks").status, 200)
        time.sleep(1.2)
        self.assert_refused(self.req(tok["token"], "GET", "/api/tasks"), 401,
                            message="token expired at ")
        # signed by a key that is not node-1's, claiming node-1: invalid
        other = ec.generate_private_key(ec.SECP256R1())
        now = int(time.time() * 1000)
        claims = {"id": "ab" * 16, "name": "mallory", "role": "admin",
                  "iss": "node-1", "iat": now, "exp": now + 3600000}
        self.assert_refused(self.req(forge(other, **claims), "GET", "/api/tasks"), 401,
                            message="token signature invalid")
        # from a node whose certificate is not known here
        claims["iss"] = "node-9"
        self.assert_refused(self.req(forge(other, **claims), "GET", "/api/tasks"), 401,
                            message="token issuer unknown")
        # bad requests to issue
        for doc in ({"name": "a b", "role": "read", "ttl": "1h"},
                    {"name": "a", "role": "root", "ttl": "1h"},
                    {"name": "a", "role": "read", "ttl": "31d"},
                    {"name": "a", "role": "read", "ttl": "1h", "extra": 1}):
            r = self.req(TOKENS["admin"], "POST", "/api/tokens", doc)
            self.assertEqual(r.status, 400, (doc, r))

    def test_cli_token_commands(self):
        dd = self.node.data_dir
        rc, out, err = self.cli("token", "issue", "--data-dir", dd, "--name", "carol",
                                "--role", "read", "--ttl", "30m")
        self.assertEqual(rc, 0, err)
        text = out.strip()
        self.assertTrue(text.startswith("af1."), out)
        self.assertIn("not shown again", err)
        self.assertEqual(self.req(text, "GET", "/api/tasks").status, 200)
        rc, out, err = self.cli("token", "ls", "--data-dir", dd, "--json")
        self.assertEqual(rc, 0, err)
        row = [x for x in json.loads(out)["tokens"] if x["name"] == "carol"][0]
        rc, out, err = self.cli("token", "ls", "--data-dir", dd)
        self.assertEqual(rc, 0, err)
        self.assertIn(row["id"], out)
        self.assertNotIn(text, out)
        # the certificate it was signed under, as its claims name it
        self.assertEqual(len(row["kid"]), 16, row)
        self.assertEqual(json.loads(unb64url(text.split(".")[1]))["kid"], row["kid"])
        self.assertIn("KID", out.splitlines()[0])
        self.assertIn(row["kid"], out)
        rc, out, err = self.cli("token", "revoke", "--data-dir", dd, row["id"])
        self.assertEqual(rc, 0, err)
        self.assertEqual(self.req(text, "GET", "/api/tasks").status, 401)
        rc, out, err = self.cli("token", "revoke", "--data-dir", dd, "zz")
        self.assertEqual(rc, 2, err)
        rc, out, err = self.cli("token", "issue", "--data-dir", dd, "--name", "x",
                                "--role", "read", "--ttl", "forever")
        self.assertEqual(rc, 2, err)
        # a read token cannot issue: the node's 403 is printed, exit 1
        rc, out, err = self.cli("token", "issue", "--data-dir", dd, "--token",
                                TOKENS["read"], "--name", "x", "--role", "read",
                                "--ttl", "1h")
        self.assertEqual(rc, 1, err)
        self.assertIn("admin role", err)

    def test_zz_rotation_without_restart_while_a_task_runs(self):
        r = self.command(TOKENS["write"], "run_task", {"task": "slow"})
        self.assertEqual(r.status, 200, r)
        res = r.json()["results"][0]
        self.assertEqual(res["status"], "ok", res)
        task_id = res["body"]["task_id"]
        pid = self.node.proc.pid
        try:
            # SIGHUP: the new write token works at once, the old one is gone
            new = dict(TOKENS, write="writer-rotated-0123456789")
            self.write_tokens(new)
            self.node.send(_signal.SIGHUP)
            ok = harness.wait_until(lambda: self.req(new["write"], "GET",
                                                     "/api/tasks").status == 200, 5)
            self.assertTrue(ok)
            self.assert_refused(self.req(TOKENS["write"], "GET", "/api/tasks"), 401)
            # a changed file alone is noticed within a second or so
            newer = dict(new, read="reader-rotated-0123456789")
            self.write_tokens(newer)
            ok = harness.wait_until(lambda: self.req(newer["read"], "GET",
                                                     "/api/tasks").status == 200, 5)
            self.assertTrue(ok)
            self.assert_refused(self.req(TOKENS["read"], "GET", "/api/tasks"), 401)
            # the task ran on, untouched, in the same process
            def state():
                r = self.req(newer["read"], "GET", "/api/tasks/node-1/" + task_id)
                return r.json().get("state") if r.status == 200 else None
            self.assertEqual(state(), "running")
            self.assertTrue(harness.wait_until(lambda: state() == "succeeded", 10),
                            state())
            self.assertEqual(self.node.proc.pid, pid)
            self.assertIsNone(self.node.proc.poll())
        finally:
            self.write_tokens(TOKENS)
            self.node.send(_signal.SIGHUP)
            harness.wait_until(lambda: self.req(TOKENS["write"], "GET",
                                                "/api/tasks").status == 200, 5)


if __name__ == "__main__":
    unittest.main()
