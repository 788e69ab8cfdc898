"""System tests of what the node API and the signal answer, byte for byte
where it matters: status lines with their right reason phrases, JSON
errors for every refusal our code makes (404, 405 with Allow, TRACE, a
method HTTP does not define, 413), the few cases libevent answers itself
in HTML (pinned here, documented in docs/api.md), user events whose
payload is bytes that are not text (payload_b64 in the API, the /ws feed
and the CLI), and 64-bit ids past 2^53 given as exact strings.

A real mesh of two nodes and a signal; node-2 runs at an incarnation past
2^53 (its counter set while it was stopped, as a node that restarted that
often would have it).  node-3 stands alone: its event log holds sequence
numbers past 2^53 and 2^63, written while it was stopped, since no node
emits that many events in a test."""

import base64
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import time
import unittest

import harness

CLI = os.path.join(harness.BIN, "agentflow")
SAFE_MAX = 2 ** 53 - 1
INCARNATION = 2 ** 53 + 10          # node-2's counter; it starts at + 1
SEQ_HUGE = 2 ** 63 + 5              # negative if read as signed
BIG_STATUS_MS = 1600000000000       # node-3's two old statuses of 300 members
SEQ_PAST_SAFE = 2 ** 53 + 1         # a double would read 2^53
BLOB = b"\xff\x00\xfe binary \x80\xc3("   # not UTF-8, with a NUL


def raw(port, data, timeout=10):
    """Sends data on a fresh connection; returns (status line, {lower
    header: value}, body bytes) of what comes back."""
    got = harness.raw_exchange(port, data, timeout)
    head, _, body = got.partition(b"\r\n\r\n")
    return head.decode("latin-1").split("\r\n")[0], parse_headers(head), body


def parse_headers(head):
    out = {}
    for line in head.decode("latin-1").split("\r\n")[1:]:
        k, _, v = line.partition(":")
        out[k.strip().lower()] = v.strip()
    return out


def request(method, path, token=None, body=b"", extra=""):
    h = "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" % (method, path)
    if token:
        h += "Authorization: Bearer %s\r\n" % token
    if body:
        h += "Content-Type: application/json\r\nContent-Length: %d\r\n" % len(body)
    return (h + extra + "\r\n").encode() + body


def cli(*args):
    p = subprocess.run([CLI] + list(args), capture_output=True, text=True, timeout=30,
                       stdin=subprocess.DEVNULL)
    return p.returncode, p.stdout, p.stderr


def user_event_body(name, payload):
    """A UserEvent as protobuf-c packs it: name = 1, payload = 2."""
    def field(num, data):
        return bytes([num << 3 | 2, len(data)]) + data
    return field(1, name.encode()) + field(2, payload)


def big_status_body(members):
    """A NodeStatus as protobuf-c packs it with this many alive members
    (members = 17, MemberInfo: node_id = 1, state = 2): past 8 KiB as
    JSON from about 120 on, as a larger mesh's statuses are."""
    out = b""
    for i in range(members):
        name = ("peer-%03d" % i).encode()
        info = bytes([0x0a, len(name)]) + name + bytes([0x10, 1])
        out += bytes([0x8a, 0x01, len(info)]) + info
    return out


def as_int64(v):
    """How SQLite holds a uint64 (store.c): its two's complement."""
    return v - 2 ** 64 if v >= 2 ** 63 else v


class ApiReplies(unittest.TestCase):

    maxDiff = None

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="af-replies-")
        cls.pki = harness.Pki(cls.tmp)
        cls.sig = harness.Signal(["--rate", "0", "--heartbeat", "1", "--ttl", "5"],
                                 ca=cls.pki.ca_path).start()
        cls.web = os.path.join(cls.tmp, "web")
        os.makedirs(cls.web)
        with open(os.path.join(cls.web, "index.html"), "w") as f:
            f.write("<!doctype html><title>AgentFlow</title>")
        cls.a = harness.MeshNode(cls.pki, "node-1", signals=[cls.sig.url],
                                 args=["--web-root", cls.web]).start()
        cls.b = harness.MeshNode(cls.pki, "node-2", signals=[cls.sig.url]).start()
        cls.b.stop()
        db = sqlite3.connect(os.path.join(cls.b.data_dir, "agentflow.db"))
        with db:
            db.execute("UPDATE meta SET value = ? WHERE key = 'incarnation'",
                       (INCARNATION,))
        db.close()
        cls.b.restart()
        cls.c = harness.MeshNode(cls.pki, "node-3").start()
        cls.c.stop()
        db = sqlite3.connect(os.path.join(cls.c.data_dir, "agentflow.db"))
        with db:
            for seq in (SAFE_MAX, SEQ_PAST_SAFE, SEQ_HUGE):
                db.execute("INSERT INTO events (origin, incarnation, seq, kind, time_ms,"
                           " body, received_ms) VALUES (?, ?, ?, 14, ?, ?, ?)",
                           ("node-3", 7, as_int64(seq), 1700000000000 + seq % 1000,
                            user_event_body("far-%d" % seq, b"x"), 1700000000000))
            for seq in (11, 12):
                db.execute("INSERT INTO events (origin, incarnation, seq, kind, time_ms,"
                           " body, received_ms) VALUES (?, ?, ?, 10, ?, ?, ?)",
                           ("node-3", 7, seq, BIG_STATUS_MS + seq, big_status_body(300),
                            BIG_STATUS_MS))
        db.close()
        cls.c.restart()
        ok = harness.wait_until(lambda: cls.a.up_peers() == ["node-2"] and
                                cls.remote_b().get("status"), 40, 0.3)
        if not ok:
            raise AssertionError("mesh did not form")

    @classmethod
    def tearDownClass(cls):
        for n in (cls.c, cls.b, cls.a):
            n.stop()
        cls.sig.stop()
        shutil.rmtree(cls.tmp, True)

    @classmethod
    def remote_b(cls):
        return next((r for r in cls.a.status()["remote"] if r["node_id"] == "node-2"), {})

    def token(self, node, role="write"):
        return node.tokens()[role]

    def assertJsonError(self, status_line, hdrs, body, line, code):
        self.assertEqual(status_line, "HTTP/1.1 " + line, body)
        self.assertEqual(hdrs.get("content-type"), "application/json", hdrs)
        doc = json.loads(body)
        self.assertEqual(doc["error"], code, doc)
        self.assertTrue(doc["message"].strip(), doc)
        return doc

    # -- status lines and JSON errors of the node API

    def test_commands_answer_202_accepted(self):
        body = json.dumps({"target": "node-2", "type": "ping", "wait_ms": 0}).encode()
        line, hdrs, out = raw(self.a.api_port, request(
            "POST", "/api/commands", self.token(self.a), body))
        self.assertEqual(line, "HTTP/1.1 202 Accepted", out)
        self.assertEqual(json.loads(out)["state"], "pending")

    def test_ok_and_not_found(self):
        line, _, _ = raw(self.a.api_port, request("GET", "/healthz"))
        self.assertEqual(line, "HTTP/1.1 200 OK")
        self.assertJsonError(*raw(self.a.api_port, request(
            "GET", "/api/nothing", self.token(self.a))), "404 Not Found", "not_found")

    def test_wrong_method_is_405_with_allow(self):
        for method in ("DELETE", "PUT", "PATCH", "TRACE", "OPTIONS", "HEAD"):
            line, hdrs, out = raw(self.a.api_port, request(method, "/api/events",
                                                           self.token(self.a)))
            if method == "HEAD":
                # the same status line and headers, never a body
                self.assertEqual(line, "HTTP/1.1 405 Method Not Allowed")
                self.assertEqual(out, b"")
                self.assertGreater(int(hdrs["content-length"]), 0)
            else:
                doc = self.assertJsonError(line, hdrs, out, "405 Method Not Allowed",
                                           "method_not_allowed")
                self.assertIn(method, doc["message"])
            self.assertEqual(hdrs.get("allow"), "GET, POST", method)

    def test_trace_anywhere_is_json(self):
        line, _, out = raw(self.a.api_port, request("GET", "/index.html"))
        self.assertEqual(line, "HTTP/1.1 200 OK", out)
        # the dashboard's files are read only; an unknown /api path is 404
        line, hdrs, out = raw(self.a.api_port, request("TRACE", "/index.html"))
        self.assertJsonError(line, hdrs, out, "405 Method Not Allowed", "method_not_allowed")
        self.assertEqual(hdrs.get("allow"), "GET")
        self.assertJsonError(*raw(self.a.api_port, request("TRACE", "/api/nothing")),
                             "404 Not Found", "not_found")

    def test_a_method_http_does_not_define_is_501_json(self):
        line, hdrs, out = raw(self.a.api_port, request("BREW", "/api/events",
                                                       self.token(self.a)))
        self.assertJsonError(line, hdrs, out, "501 Not Implemented", "not_implemented")
        self.assertEqual(hdrs.get("connection"), "close")
        # the node still serves
        self.assertEqual(raw(self.a.api_port, request("GET", "/healthz"))[0],
                         "HTTP/1.1 200 OK")

    def test_a_payload_over_64k_is_413_json(self):
        body = json.dumps({"name": "big", "payload": "x" * 70000}).encode()
        self.assertJsonError(*raw(self.a.api_port, request(
            "POST", "/api/events", self.token(self.a), body)),
            "413 Content Too Large", "payload_too_large")

    # -- what libevent 2.1 answers before our code runs (docs/api.md)

    def assertLibeventHtml(self, reply, line):
        status_line, hdrs, body = reply
        self.assertEqual(status_line, "HTTP/1.1 " + line, body)
        self.assertTrue(hdrs.get("content-type", "").startswith("text/html"), hdrs)
        self.assertIn(b"<HTML>", body)
        self.assertEqual(hdrs.get("connection"), "close")

    def test_libevent_answers_a_body_over_1_mib_in_html(self):
        # announced, not sent: refused before a byte of it is read
        self.assertLibeventHtml(raw(self.a.api_port, request(
            "POST", "/api/events", self.token(self.a),
            extra="Content-Type: application/json\r\nContent-Length: %d\r\n" % (2 << 20))),
            "413 Request Entity Too Large")

    def test_libevent_answers_headers_over_16_kib_in_html(self):
        # 400, not 431; the header is under 20 KiB so libevent has read all
        # of it when it closes (else the close resets the connection)
        self.assertLibeventHtml(raw(self.a.api_port, request(
            "GET", "/healthz", extra="X-Big: %s\r\n" % ("a" * 17000))), "400 Bad Request")

    def test_libevent_answers_a_malformed_request_line_in_html(self):
        self.assertLibeventHtml(raw(self.a.api_port, b"GARBAGE\r\n\r\n"),
                                "400 Bad Request")

    # -- the signal

    def test_signal_replies(self):
        port = self.sig.port
        line, _, _ = raw(port, request("GET", "/healthz"))
        self.assertEqual(line, "HTTP/1.1 200 OK")
        self.assertJsonError(*raw(port, request("GET", "/nothing")), "404 Not Found",
                             "not_found")
        line, hdrs, out = raw(port, request("TRACE", "/v1/peers"))
        self.assertJsonError(line, hdrs, out, "405 Method Not Allowed", "method_not_allowed")
        self.assertEqual(hdrs.get("allow"), "GET")
        line, hdrs, out = raw(port, request("BREW", "/v1/peers"))
        harness.validate("error", self.assertJsonError(line, hdrs, out, "501 Not Implemented",
                                                       "not_implemented"))
        self.assertEqual(hdrs.get("connection"), "close")
        self.assertLibeventHtml(raw(port, request(
            "GET", "/healthz", extra="X-Big: %s\r\n" % ("a" * 17000))), "400 Bad Request")

    # -- binary payloads

    def test_a_binary_payload_is_given_in_base64_everywhere(self):
        ws = harness.WsClient(self.a.api_port, token=self.token(self.a, "read"))
        self.addCleanup(ws.close)
        ws.recv(), ws.recv()            # hello, snapshot
        r = self.b.post("/api/events", {"name": "blob",
                                        "payload_b64": base64.b64encode(BLOB).decode()})
        self.assertEqual(r.status, 200, r)
        sent = r.json()
        self.assertEqual(sent["incarnation"], str(INCARNATION + 1))

        # node-1's API, over the mesh
        def event():
            r = self.a.client().get("/api/events?node=node-2&kind=user")
            return next((e for e in r.json()["events"]
                         if e["body"]["name"] == "blob"), None)
        ev = harness.wait_until(event, 10)
        self.assertIsNotNone(ev, "the event did not reach node-1")
        self.assertIsNone(ev["body"]["payload"])
        self.assertEqual(base64.b64decode(ev["body"]["payload_b64"]), BLOB)
        self.assertEqual(ev["body"]["payload_bytes"], len(BLOB))
        self.assertEqual((ev["incarnation"], ev["seq"]), (sent["incarnation"], sent["seq"]))

        # the /ws feed
        m = ws.recv_until(lambda m: m["type"] == "event" and m["event"]["kind"] == "user"
                          and m["event"]["body"]["name"] == "blob", 10)
        self.assertEqual(base64.b64decode(m["event"]["body"]["payload_b64"]), BLOB)
        self.assertEqual(m["event"]["incarnation"], str(INCARNATION + 1))

        # the CLI
        rc, out, err = cli("events", "--data-dir", self.a.data_dir, "--node", "node-2")
        self.assertEqual(rc, 0, err)
        line = [l for l in out.splitlines() if " blob " in l]
        self.assertEqual(len(line), 1, out)
        self.assertIn("%d/%d" % (INCARNATION + 1, sent["seq"]), line[0])
        self.assertIn("binary, %d bytes, base64 %s" % (len(BLOB),
                      base64.b64encode(BLOB).decode()), line[0])

        # text stays text, with no payload_b64
        r = self.b.post("/api/events", {"name": "text", "payload": "héllo"})
        self.assertEqual(r.status, 200, r)
        ev = harness.wait_until(lambda: next(
            (e for e in self.a.client().get("/api/events?node=node-2&kind=user").json()
             ["events"] if e["body"]["name"] == "text"), None), 10)
        self.assertEqual(ev["body"]["payload"], "héllo")
        self.assertNotIn("payload_b64", ev["body"])

    def test_bad_payload_b64_is_refused(self):
        before = len(self.b.client().get("/api/events?node=node-2&kind=user").json()["events"])
        for doc in ({"name": "x", "payload_b64": "not base64!"},
                    {"name": "x", "payload_b64": 12},
                    {"name": "x", "payload": "a", "payload_b64": "YQ=="}):
            r = self.b.post("/api/events", doc)
            self.assertEqual(r.status, 400, (doc, r))
            self.assertEqual(r.json()["error"], "invalid_field")
        too_big = base64.b64encode(b"\xff" * 65537).decode()
        r = self.b.post("/api/events", {"name": "x", "payload_b64": too_big})
        self.assertEqual(r.status, 413, r)
        after = len(self.b.client().get("/api/events?node=node-2&kind=user").json()["events"])
        self.assertEqual(after, before)

    def test_events_page_back_with_until(self):
        for i in range(3):
            r = self.b.post("/api/events", {"name": "page-%d" % i, "payload": ""})
            self.assertEqual(r.status, 200, r)
            time.sleep(0.02)        # three distinct milliseconds
        mine = [e for e in self.b.client().get("/api/events?node=node-2&kind=user")
                .json()["events"] if e["body"]["name"].startswith("page-")]
        self.assertEqual([e["body"]["name"] for e in mine], ["page-0", "page-1", "page-2"])
        # the newest one before the last's time, then the one before that
        r = self.b.client().get("/api/events?node=node-2&kind=user&limit=1&until=%d"
                                % mine[2]["time_ms"])
        self.assertEqual(r.status, 200, r)
        self.assertEqual([e["body"]["name"] for e in r.json()["events"]], ["page-1"])
        r = self.b.client().get("/api/events?node=node-2&kind=user&limit=5&until=%d"
                                % mine[1]["time_ms"])
        names = [e["body"]["name"] for e in r.json()["events"]]
        self.assertEqual(names[-1], "page-0")
        self.assertNotIn("page-1", names)
        r = self.b.client().get("/api/events?node=node-2&kind=user&until=%d"
                                % mine[0]["time_ms"])
        self.assertNotIn("page-0", [e["body"]["name"] for e in r.json()["events"]])
        # a page summarises an event past 8 KiB, as the /ws snapshot does
        r = self.b.post("/api/events", {"name": "page-big", "payload": "x" * 9000})
        self.assertEqual(r.status, 200, r)
        big = next(e for e in self.b.client().get("/api/events?node=node-2&kind=user")
                   .json()["events"] if e["body"] and e["body"]["name"] == "page-big")
        r = self.b.client().get("/api/events?node=node-2&kind=user&limit=1&until=%d"
                                % (big["time_ms"] + 1))
        (ev,) = r.json()["events"]
        self.assertTrue(ev["summarized"], ev)
        self.assertIsNone(ev["body"])
        self.assertEqual(ev["url"], "/api/events/node-2/%s/%s" % (big["incarnation"], big["seq"]))
        # ... but a status comes whole: the timeline reads joins from it
        r = self.c.client().get("/api/events?node=node-3&kind=status&limit=5&until=%d"
                                % (BIG_STATUS_MS + 13))
        self.assertEqual(r.status, 200, r)
        got = r.json()["events"]
        self.assertEqual([e["seq"] for e in got], [11, 12])
        for e in got:
            self.assertFalse(e.get("summarized"), e.get("body_bytes"))
            self.assertEqual(len(e["body"]["members"]), 300)
            self.assertGreater(len(json.dumps(e)), 8192)
        for bad in ("abc", "0", "-5", "12x", "", "%2B5", "%205", "5%20",
                    "9223372036854775808", "99999999999999999999999"):
            r = self.b.client().get("/api/events?until=" + bad)
            self.assertEqual(r.status, 400, (bad, r))
            self.assertEqual(r.json()["error"], "invalid_field")
            self.assertIn("until", r.json()["message"])
        r = self.b.client().get("/api/events?until=9223372036854775807&limit=1")
        self.assertEqual(r.status, 200, r)
        # a query that does not parse is not read as no parameters at all
        r = self.b.client().get("/api/events?until=5&limit")
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.json()["error"], "invalid_field")
        self.assertIn("query", r.json()["message"])
        r = self.b.client().get("/api/events?limit=10001&until=5")
        self.assertEqual(r.status, 400, r)

    def test_a_query_that_does_not_parse_is_400_on_every_route(self):
        # read as no parameters, "?limit" would list the default page, and
        # "?node" every node's: another question than the one asked
        for path in ("/api/tasks", "/api/alerts", "/api/commands", "/api/jobs",
                     "/api/workflows", "/api/audit", "/api/history",
                     "/api/services", "/api/rollouts", "/api/alerts/notices",
                     "/api/tasks/node-2/t1-1", "/api/jobs/j1"):
            r = self.b.client().get(path + "?limit")
            self.assertEqual(r.status, 400, (path, r))
            self.assertEqual(r.json()["error"], "invalid_field", path)
            self.assertIn("query", r.json()["message"], path)
            r = self.b.client().get(path + "?limit=5")
            self.assertNotEqual(r.status, 400, (path, r))

    # -- 64-bit ids

    def test_an_incarnation_past_2_53_is_an_exact_string(self):
        want = str(INCARNATION + 1)
        self.assertEqual(self.b.client().get("/healthz").json()["incarnation"], want)
        self.assertEqual(self.b.status()["local"]["incarnation"], want)
        self.assertEqual(self.remote_b()["incarnation"], want)
        self.assertEqual(self.a.links()["node-2"]["incarnation"], want)
        # node-1's own, small, is still a number
        self.assertIsInstance(self.a.status()["local"]["incarnation"], int)
        rc, out, err = cli("status", "--data-dir", self.b.data_dir)
        self.assertEqual(rc, 0, err)
        self.assertIn("incarnation %s;" % want, out)

    def test_seqs_past_2_53_and_2_63_are_exact_strings(self):
        r = self.c.client().get("/api/events?node=node-3&kind=user")
        self.assertEqual(r.status, 200, r)
        seqs = {e["body"]["name"]: e["seq"] for e in r.json()["events"]}
        self.assertEqual(seqs, {"far-%d" % SAFE_MAX: SAFE_MAX,
                                "far-%d" % SEQ_PAST_SAFE: str(SEQ_PAST_SAFE),
                                "far-%d" % SEQ_HUGE: str(SEQ_HUGE)})
        # the raw text, as JavaScript's JSON.parse would see it
        self.assertIn(b'"seq":"%d"' % SEQ_HUGE, r.body)
        self.assertIn(b'"seq":%d,' % SAFE_MAX, r.body)
        one = self.c.client().get("/api/events/node-3/7/%d" % SEQ_HUGE)
        self.assertEqual(one.status, 200, one)
        self.assertEqual(one.json()["seq"], str(SEQ_HUGE))
        rc, out, err = cli("events", "--data-dir", self.c.data_dir)
        self.assertEqual(rc, 0, err)
        self.assertIn("7/%d" % SEQ_HUGE, out)
        self.assertIn("7/%d" % SEQ_PAST_SAFE, out)


if __name__ == "__main__":
    unittest.main()
