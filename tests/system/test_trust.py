"""System test of issue 19's first rule, "no member speaks for another":
a member holding a valid certificate of the mesh CA (agentflow-node-forger,
tests/extra/node_forger.c) sends every peer, over and over, events that
claim another origin (unsigned, and with a signature that does not
verify), a snapshot that makes another node frozen at seq 10^12, run_task
commands claiming another origin and principal (unsigned, and signed with
its own key), and events of 1,100 invented origins.  Every one is refused
and counted; the real nodes' events keep flowing and their state stays
theirs; the forged command runs nowhere and is audited as refused; the
forger's links are closed for it."""

import base64
import json
import os
import time
import unittest

import harness
from test_node_mesh import MeshTest
from test_node_sync import events, post_event

FORGER_BIN = os.path.join(harness.BIN, "agentflow-node-forger")
WAIT = 30


class ForgerNode(harness.MeshNode):
    """A MeshNode running the forger build."""

    def binary(self):
        return FORGER_BIN

    def argv(self):
        return [FORGER_BIN] + super().argv()[1:]


def metrics(node):
    return harness.parse_metrics(node.client().get("/metrics").body.decode())


def remote(node, origin):
    st = node.client().get("/api/cluster/status").json()
    return {r["node_id"]: r for r in st["remote"]}.get(origin)


def hello_mesh(test, count):
    """A signal and count linked nodes (node-1...) that know task hello."""
    tasks = os.path.join(test.tmp, "tasks.json")
    with open(tasks, "w") as f:
        json.dump({"hello": {"command": ["/bin/sh", "-c", "echo hello"]}}, f)
    sig = test.signal()
    nodes = [test.node("node-%d" % (i + 1), [sig.url], args=["--tasks", tasks])
             for i in range(count)]
    test.wait_full_mesh(nodes)
    return sig, nodes


class NoMemberSpeaksForAnother(MeshTest):

    def test_forged_events_snapshots_commands_and_origins_are_refused(self):
        sig, (a, b, c) = hello_mesh(self, 3)
        x = ForgerNode(self.pki, "node-x", signals=[sig.url],
                       args=["--dead-ms", "3000", "--ping-ms", "500"])
        x.env["AGENTFLOW_TEST_FORGE"] = "node-1,node-2,node-3"
        self.procs.append(x)
        x.start()

        # it forges for a while: long enough to be closed for it
        def closed_everywhere():
            return all(metrics(n).get("agentflow_node_forger_links_closed_total", 0) >= 1
                       for n in (a, c))
        self.assertTrue(harness.wait_until(closed_everywhere, WAIT, interval=0.5),
                        {n.node_id: metrics(n).get("agentflow_node_forger_links_closed_total")
                         for n in (a, b, c)})
        forged_ids = [l["id"] for l in x.logs() if l.get("msg") == "forged command"]
        self.assertGreater(len(forged_ids), 0, "the forger sent no command")
        self.assertTrue(any(l.get("msg") == "forged invented origins" for l in x.logs()))
        # the invented origins were counted (no key for them) and dropped
        self.assertTrue(harness.wait_until(lambda: all(
            metrics(n).get('agentflow_node_unvouched_total{why="unknown_key"}', 0) >= 1100
            for n in (a, b, c)), WAIT, interval=0.5),
            [metrics(n).get('agentflow_node_unvouched_total{why="unknown_key"}') for n in (a, b, c)])

        # real events keep flowing, and only real ones are node-2's
        self.assertEqual(post_event(b, "real", {"n": 1}).status, 200)
        for n in (a, c):
            self.assertTrue(harness.wait_until(
                lambda: any(e["body"]["name"] == "real" for e in events(n, node="node-2", kind="user")),
                WAIT, interval=0.3), n.node_id)
            names = {e["body"]["name"] for e in events(n, node="node-2", kind="user", limit=1000)}
            self.assertEqual(names, {"real"}, n.node_id)
            m = metrics(n)
            self.assertGreater(m.get('agentflow_node_unvouched_total{why="forged"}', 0), 0,
                               n.node_id)

        # node-3's state is its own: not frozen, its cursor where it is
        for n in (a, b):
            r = remote(n, "node-3")
            self.assertLess(r["seq"], 10 ** 9, (n.node_id, r["seq"]))
            self.assertFalse((r.get("status") or {}).get("frozen"), n.node_id)
        seq = remote(a, "node-3")["seq"]
        self.assertTrue(harness.wait_until(
            lambda: remote(a, "node-3")["seq"] > seq, WAIT, interval=0.3),
            "node-3's real events stopped reaching node-1")

        # no invented origin took a slot anywhere
        for n in (a, b, c):
            ids = {r["node_id"] for r in n.client().get("/api/cluster/status").json()["remote"]}
            self.assertFalse([i for i in ids if i.startswith("ghost-")], n.node_id)
            self.assertFalse([i for i in ids if i.startswith("lure-")], n.node_id)

        # its Offers (node-2 up to seq 10^12, 1000 invented origins)
        # answered no ask of theirs: not taken, and nothing moved
        for n in (a, c):
            m = metrics(n)
            self.assertGreaterEqual(m.get("agentflow_node_offers_ignored_total", 0), 1,
                                    n.node_id)
            self.assertLess(m.get('agentflow_node_catchup_pulls_total{outcome="asked"}', 0),
                            1000, n.node_id)
            self.assertLess(remote(n, "node-2")["seq"], 10 ** 9, n.node_id)
        seq = remote(c, "node-2")["seq"]
        self.assertEqual(post_event(b, "real", {"n": 2}).status, 200)
        self.assertTrue(harness.wait_until(
            lambda: remote(c, "node-2")["seq"] > seq, WAIT, interval=0.3),
            "node-2's real events stopped reaching node-3")

        # the forged commands ran nowhere, and node-3 audited each refusal
        tasks_c = c.client().get("/api/tasks?limit=1000").json()["tasks"]
        self.assertEqual([t for t in tasks_c if t.get("command_id") in forged_ids], [])
        self.assertEqual(tasks_c, [])
        refused = c.client().get("/api/audit?action=command.refused&limit=1000").json()["records"]
        flat = json.dumps(refused)
        self.assertTrue(any(i in flat for i in forged_ids), refused[:3])
        self.assertIn("not signed by node-1", flat)
        self.assertIn("does not match the certificate identity", flat)
        # its own freeze, signed, for a principal that holds read, or no role
        self.assertIn("freeze needs the admin role; token:read holds the read role", flat)
        # its own run_task for a signed token's principal: node-3 checks
        # the principal's proof, not the role node-x claims for it
        self.assertIn("principal alice carries no proof", flat)
        self.assertIn("principal proof does not verify", flat)
        self.assertIn("role read may not run_task", flat)
        self.assertIn("principal alice: token expired at", flat)
        self.assertIn("principal alice: token revoked", flat)
        # a job run whose grant was made for other arguments
        self.assertIn("job grant does not verify", flat)
        self.assertIn('role \\"root\\" is not a role', flat)
        self.assertFalse((remote(a, "node-3").get("status") or {}).get("frozen"))
        # an unsigned unfreeze in its Hello, claiming node-1 and an admin;
        # and its own, signed, for a signed token's principal without proof
        whys = set()
        for n in (a, b, c):
            refusals = [l for l in n.logs() if l.get("msg") == "a peer's freeze state refused"
                        and l.get("peer") == "node-x"]
            self.assertTrue(refusals, n.node_id)
            whys.update(l.get("why", "") for l in refusals)
            self.assertFalse(any(l.get("msg") == "unfreeze applied" for l in n.logs()))
        self.assertTrue(any("not signed by node-1" in w for w in whys), whys)
        self.assertTrue(any("principal mallory carries no proof" in w for w in whys), whys)
        self.assertGreater(metrics(c).get('agentflow_node_commands_total{what="forged"}', 0), 0)


class TokensAcrossTheMesh(MeshTest):

    def test_a_token_minted_on_one_node_works_on_another(self):
        # node-1's certificate reaches node-2 with node-1's origin key, so
        # node-2 checks a token node-1 signed
        sig = self.signal()
        a = self.node("node-1", [sig.url])
        b = self.node("node-2", [sig.url])
        self.wait_full_mesh([a, b])
        r = a.client().request("POST", "/api/tokens", json.dumps(
            {"name": "alice", "role": "read", "ttl": "1h"}).encode(),
            {"Content-Type": "application/json"})
        self.assertEqual(r.status, 200, r)
        tok, tid = r.json()["token"], r.json()["id"]
        c = harness.Client("127.0.0.1", b.api_port, token=tok)
        self.assertTrue(harness.wait_until(
            lambda: c.get("/api/tasks").status == 200, WAIT, interval=0.3))
        # read, not write: node-2 holds it to the role node-1 signed
        r = c.request("POST", "/api/events", json.dumps({"name": "x"}).encode(),
                      {"Content-Type": "application/json"})
        self.assertEqual(r.status, 403, r)
        # its signature changed: refused
        other = harness.Client("127.0.0.1", b.api_port, token=tok.replace(
            tok.split(".")[2], "A" * len(tok.split(".")[2])))
        self.assertEqual(other.get("/api/tasks").status, 401)
        # revoked on its issuer: refused everywhere, and after a restart
        r = a.client().request("POST", "/api/tokens/%s/revoke" % tid, b"{}",
                               {"Content-Type": "application/json"})
        self.assertEqual(r.status, 200, r)

        def refused_on_b():
            r = c.get("/api/tasks")
            return r.status == 401 and "token revoked" in r.json()["message"]
        self.assertTrue(harness.wait_until(refused_on_b, WAIT, interval=0.2))
        b.restart()
        c = harness.Client("127.0.0.1", b.api_port, token=tok)
        self.assertEqual(c.get("/api/tasks").status, 401)
        self.wait_full_mesh([a, b])
        self.assertTrue(harness.wait_until(refused_on_b, WAIT, interval=0.2))
        # node-2 lists only the tokens it issued
        self.assertEqual(b.client().get("/api/tokens").json()["tokens"], [])

    def test_a_command_for_a_token_principal_carries_its_proof(self):
        # alice's write token, served by node-1: node-2 runs her task,
        # having checked her proof; the same token without its key part
        # is refused everywhere
        _, (a, b) = hello_mesh(self, 2)
        r = a.client().request("POST", "/api/tokens", json.dumps(
            {"name": "alice", "role": "write", "ttl": "1h"}).encode(),
            {"Content-Type": "application/json"})
        self.assertEqual(r.status, 200, r)
        tok = r.json()["token"]
        self.assertEqual(len(tok.split(".")), 4, tok)

        def run(token, target="node-2"):
            c = harness.Client("127.0.0.1", a.api_port, token=token)
            r = c.request("POST", "/api/commands", json.dumps(
                {"target": target, "type": "run_task", "wait_ms": 10000,
                 "args": {"task": "hello"}}).encode(),
                {"Content-Type": "application/json"})
            self.assertEqual(r.status, 200, r)
            rec = r.json()
            self.assertEqual(rec["state"], "done", rec)
            self.assertEqual(len(rec["results"]), 1, rec)
            return rec["id"], rec["results"][0]

        cid, res = run(tok)
        self.assertEqual(res["status"], "ok", res)
        executed = b.client().get("/api/audit?action=command.executed&limit=100").json()["records"]
        mine = [x for x in executed if x["details"].get("command_id") == cid]
        self.assertEqual(len(mine), 1, executed)
        self.assertEqual(mine[0]["actor"], "alice")
        # without its key part the text is no credential anywhere: its
        # claims and issuer signature travel in every proof, so a relay
        # could rebuild it
        keyless = ".".join(tok.split(".")[:3])
        for node in (a, b):
            r = harness.Client("127.0.0.1", node.api_port, token=keyless).get("/api/tasks")
            self.assertEqual(r.status, 401, r)
            self.assertIn("token key part missing", r.json()["message"])
        # a command for alice without her proof (the forger's) is refused
        # at the destination: test_forged_events_snapshots_commands_and_origins_are_refused

    def test_a_token_outlives_its_issuers_certificate(self):
        # node-1 restarts with a new certificate: what it issued before
        # still works everywhere (the old certificate is kept by kid, also
        # across restarts), what it issues after too, until the CRL
        # revokes the old certificate
        crl = self.pki.write_crl("mesh.crl")
        sig = self.signal("--crl", crl)
        a = self.node("node-1", [sig.url], ["--crl", crl])
        b = self.node("node-2", [sig.url], ["--crl", crl])
        self.wait_full_mesh([a, b])

        def issue():
            r = a.client().request("POST", "/api/tokens", json.dumps(
                {"name": "alice", "role": "read", "ttl": "1h"}).encode(),
                {"Content-Type": "application/json"})
            self.assertEqual(r.status, 200, r)
            return r.json()["token"], r.json()["id"]

        def answer(node, tok):
            return harness.Client("127.0.0.1", node.api_port, token=tok).get("/api/tasks")

        def kid(tok):
            payload = tok.split(".")[1]
            return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["kid"]

        before, before_id = issue()
        self.assertTrue(harness.wait_until(lambda: answer(b, before).status == 200, WAIT,
                                           interval=0.3))
        ls = a.client().get("/api/tokens").json()["tokens"]
        self.assertEqual([t["kid"] for t in ls if t["id"] == before_id], [kid(before)])
        old_cert = a.cert
        a.stop()
        fresh = self.pki.node("node-1")
        a.cert = fresh.cert
        self.pki.write("node-1.crt", harness.cert_pem(fresh.cert))
        self.pki.write("node-1.key", harness.key_pem(fresh.key), 0o600)
        a.restart()
        self.wait_full_mesh([a, b])
        after, _ = issue()
        self.assertNotEqual(kid(before), kid(after))
        for n in (a, b):
            self.assertTrue(harness.wait_until(lambda: answer(n, after).status == 200,
                                               WAIT, interval=0.3), n.node_id)
            self.assertEqual(answer(n, before).status, 200, n.node_id)
        # node-2 forgets nothing of node-1's old certificate on a restart
        b.restart()
        self.wait_full_mesh([a, b])
        self.assertEqual(answer(b, before).status, 200)
        self.assertTrue(harness.wait_until(lambda: answer(b, after).status == 200, WAIT,
                                           interval=0.3))
        # the CA revokes the old certificate: its tokens are refused, saying so
        self.pki.ca.revoke(old_cert)
        self.pki.write_crl("mesh.crl")
        later = time.time() + 2
        os.utime(crl, (later, later))
        for n in (a, b):
            def refused():
                r = answer(n, before)
                return r.status == 401 and "certificate revoked" in r.json()["message"]
            self.assertTrue(harness.wait_until(refused, WAIT, interval=0.3),
                            (n.node_id, answer(n, before).body))
            self.assertEqual(answer(n, after).status, 200, n.node_id)


if __name__ == "__main__":
    unittest.main()
