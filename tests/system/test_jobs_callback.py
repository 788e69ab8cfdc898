#!/usr/bin/python3
"""Job result callbacks (issue 16, point 6) with real nodes and a real HTTP
receiver the test starts on 127.0.0.1: the issuer POSTs the result,
signed with HMAC-SHA256 over "timestamp.body", retried with backoff while
the receiver refuses, every attempt in the job's history, exactly one
acknowledged delivery; a receiver holding another secret refuses every
attempt until the callback gives up; the secret never shows in the API;
bad callbacks are refused before anything is stored."""

import hashlib
import hmac
import http.server
import json
import os
import threading
import time
import unittest

import harness
from test_jobs import Jobs, cli

SECRET = "shared-with-the-receiver-0123"


class Receiver(http.server.ThreadingHTTPServer):
    """Answers 503 to the first `refuse` well-signed deliveries, then 204;
    401 to a delivery whose signature or timestamp does not verify."""

    def __init__(self, secret, refuse=0):
        super().__init__(("127.0.0.1", 0), Handler)
        self.secret = secret.encode()
        self.refuse = refuse
        self.lock = threading.Lock()
        self.seen = []          # (status answered, job header, body)
        self.accepted = []      # parsed bodies acknowledged with 2xx
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return "http://127.0.0.1:%d/hooks/agentflow" % self.server_address[1]

    def stop(self):
        self.shutdown()
        self.server_close()


class Handler(http.server.BaseHTTPRequestHandler):

    def log_message(self, *args):
        pass

    def do_POST(self):
        srv = self.server
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        ts = self.headers.get("X-AgentFlow-Timestamp", "")
        sig = self.headers.get("X-AgentFlow-Signature", "")
        want = "sha256=" + hmac.new(srv.secret, ts.encode() + b"." + body,
                                    hashlib.sha256).hexdigest()
        fresh = ts.isdigit() and abs(int(ts) - time.time() * 1000) < 300000
        with srv.lock:
            if not (fresh and hmac.compare_digest(sig, want)):
                status = 401
            elif srv.refuse > 0:
                srv.refuse -= 1
                status = 503
            else:
                status = 204
                srv.accepted.append(json.loads(body))
            srv.seen.append((status, self.headers.get("X-AgentFlow-Job"), body))
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()


class JobCallbacks(Jobs):

    def wait_callback(self, node, jid, states, timeout=40):
        def done():
            j = self.job(node, jid)
            cb = j.get("callback") or {}
            return j if cb.get("state") in states else None
        j = harness.wait_until(done, timeout, 0.3)
        self.assertTrue(j, self.job(node, jid))
        return j

    def test_delivered_after_three_refusals_signed_and_recorded(self):
        rx = Receiver(SECRET, refuse=3)
        self.addCleanup(rx.stop)
        a = self.n(1)
        r = self.submit(a, {"task": "report", "to": "node-2", "payload": {"n": 7},
                            "callback": {"url": rx.url, "secret": SECRET}})
        j = self.wait_callback(a, r["id"], ("delivered",))
        self.assertEqual(j["state"], "succeeded", j)
        # Three refused, one acknowledged: exactly one delivery recorded.
        self.assertEqual([s for s, _, _ in rx.seen], [503, 503, 503, 204])
        self.assertEqual(len(rx.accepted), 1)
        got = rx.accepted[0]
        self.assertEqual(got["id"], r["id"])
        self.assertEqual(got["state"], "succeeded")
        self.assertEqual(got["node"], "node-2")
        self.assertEqual(got["result"]["payload"], {"n": 7})
        self.assertTrue(all(h == r["id"] for _, h, _ in rx.seen))
        # Every attempt is in the job's story, and the secret nowhere.
        attempts = [h for h in j["history"] if h["event"] == "callback"]
        self.assertEqual([h["outcome"] for h in attempts],
                         ["refused: HTTP 503"] * 3 + ["delivered: HTTP 204"])
        self.assertEqual(attempts[-1]["callback"], "delivered")
        self.assertEqual(j["callback"]["attempts"], 4)
        self.assertNotIn(SECRET, json.dumps(j))
        self.assertNotIn(SECRET, json.dumps(self.n(1).client().get("/api/jobs").json()))
        # Backoff: the attempts spread out (base 1 s, doubling, jittered).
        times = [h["at_ms"] for h in attempts]
        self.assertGreaterEqual(times[3] - times[0], 4000, times)
        m = harness.parse_metrics(a.client().get("/metrics").body.decode())
        self.assertGreaterEqual(m['agentflow_node_job_callbacks_total{what="delivered"}'], 1)
        # agentflow trace tells the same story, step by step, in time order
        rc, out, err = cli(a, "trace", r["id"])
        self.assertEqual(rc, 0, out + err)
        lines = out.splitlines()
        self.assertIn("%s succeeded: report (to node-2) issued on node-1" % r["id"], lines[0])
        # The executor's entries arrive on their own time (test_jobs_replay).
        steps = [l.split()[1] for l in lines[1:] if "source=executor" not in l]
        self.assertEqual(steps, [h["event"] for h in j["history"]
                                 if h.get("source") != "executor"])
        self.assertEqual(steps[0], "submitted")
        self.assertIn("node=node-2 epoch=1", [l for l in lines if " dispatched " in l][0])
        self.assertEqual([l.split("outcome=")[1].split(" ")[0] for l in lines
                          if " callback " in l], ["refused:"] * 3 + ["delivered:"])
        stamps = [l.split()[0] for l in lines[1:]]
        self.assertEqual(stamps, sorted(stamps))

    def test_a_wrong_secret_never_verifies_and_the_callback_gives_up(self):
        rx = Receiver("the-receivers-other-secret")
        self.addCleanup(rx.stop)
        a = self.n(1)
        r = self.submit(a, {"task": "report", "to": "node-3",
                            "callback": {"url": rx.url, "secret": SECRET,
                                         "deadline_ms": 2500}})
        j = self.wait_callback(a, r["id"], ("failed",))
        self.assertEqual(j["state"], "succeeded")
        self.assertGreaterEqual(len(rx.seen), 2)
        self.assertEqual({s for s, _, _ in rx.seen}, {401})
        self.assertEqual(rx.accepted, [])
        self.assertEqual([h["callback"] for h in j["history"]
                          if h["event"] == "callback"][-1], "failed")

    def test_callback_from_the_cli_with_a_secret_file(self):
        rx = Receiver(SECRET)
        self.addCleanup(rx.stop)
        path = os.path.join(self.tmp, "cb-secret")
        with open(path, "w") as f:
            f.write(SECRET + "\n")
        rc, out, err = cli(self.n(1), "submit", "report", "--to", "node-2",
                           "--callback", rx.url, "--callback-secret-file", path,
                           "--wait")
        self.assertEqual(rc, 0, out + err)
        self.assertTrue(harness.wait_until(lambda: len(rx.accepted) == 1, 20, 0.2),
                        rx.seen)
        self.assertEqual(rx.accepted[0]["state"], "succeeded")
        # No secret: the CLI says how to give one, nothing is sent.
        e = dict(os.environ)
        e.pop("AGENTFLOW_CALLBACK_SECRET", None)
        rc, out, err = cli(self.n(1), "submit", "report", "--to", "node-2",
                           "--callback", rx.url)
        self.assertEqual(rc, 2, out + err)
        self.assertIn("--callback-secret-file", err)

    def test_bad_callbacks_are_refused_before_anything_is_stored(self):
        a = self.n(1)
        before = len(a.client().get("/api/jobs?limit=1000&issuer=node-1").json()["jobs"])
        for cb, field in (
                ({"url": "ftp://127.0.0.1/x", "secret": SECRET}, "callback URL"),
                ({"url": "http://127.0.0.1:9/x"}, "secret"),
                ({"url": "http://127.0.0.1:9/x", "secret": ""}, "secret"),
                ({"url": "http://127.0.0.1:9/x", "secret": "a\nb"}, "secret"),
                ({"url": "http://127.0.0.1:9/x", "secret": SECRET, "deadline_ms": 5},
                 "callback.deadline_ms"),
                ({"url": "http://127.0.0.1:9/x", "secret": SECRET, "x": 1}, "callback.x"),
                ("http://127.0.0.1:9/x", "callback")):
            r = a.post("/api/jobs", {"task": "report", "to": "node-2", "callback": cb})
            self.assertEqual(r.status, 400, (cb, r))
            self.assertIn(field, r.json()["message"], cb)
        self.assertEqual(len(a.client().get("/api/jobs?limit=1000&issuer=node-1").json()["jobs"]), before)


def load_tests(loader, tests, pattern):
    """Only this file's tests, not those of the class it borrows its mesh
    from."""
    return unittest.TestSuite(JobCallbacks(name) for name in
                              loader.getTestCaseNames(JobCallbacks)
                              if name in JobCallbacks.__dict__)


if __name__ == "__main__":
    unittest.main()
