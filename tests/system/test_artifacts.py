"""Artifacts over the mesh (issue 18 item 5).

Three real nodes on loopback, each with its own data directory (nothing
shared).  An archive added with `agentflow artifact add` on node-1 is
fetched by node-3 over its link when a service there names it, checked
against its SHA-256, unpacked into a versioned directory and the service
started there; every node lists who holds it.  A copy corrupted on disk
at its holder is refused by the fetcher (reported, counted, not held),
which then fetches it from another holder.  A zip whose entry climbs out
with "../" is refused and the service fails with the reason; nothing is
written outside.  A cut upload resumes; bad uploads (a hash that does
not match, a wrong offset, too large, a bad id) are refused and change
nothing; an artifact a service uses cannot be deleted.  Bounded polls
throughout."""

import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
import unittest
import zipfile

import harness

CLI = os.path.join(harness.BIN, "agentflow")
FORM_TIMEOUT = 40
SEEN_TIMEOUT = 20


def tar_gz(files):
    """A .tar.gz of {name: (text, mode)} in memory."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as t:
        for name, (text, mode) in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = mode
            t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def artifact_id(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


class Artifacts(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="af-artifacts-")
        cls.pki = harness.Pki(cls.tmp)
        cls.sig = harness.Signal(["--rate", "0", "--heartbeat", "1", "--ttl", "5"],
                                 ca=cls.pki.ca_path).start()
        cls.nodes = {}
        for i in (1, 2, 3):
            node_id = "node-%d" % i
            args = ["--dead-ms", "3000", "--ping-ms", "300", "--allow-adhoc",
                    "--artifact-max-mib", "4"]
            cls.nodes[node_id] = harness.MeshNode(
                cls.pki, node_id, signals=[cls.sig.url], args=args).start()
        harness.wait_formed(list(cls.nodes.values()), FORM_TIMEOUT)

    @classmethod
    def tearDownClass(cls):
        for n in cls.nodes.values():
            n.stop()
        cls.sig.stop()
        shutil.rmtree(cls.tmp, True)

    # -- helpers

    def write(self, name, data):
        path = os.path.join(self.tmp, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def cli(self, node, *args):
        return subprocess.run([CLI, "artifact"] + list(args) + [
            "--api", "127.0.0.1:%d" % node.api_port, "--token",
            node.tokens()["write"]], capture_output=True, text=True, timeout=60)

    def listing(self, node):
        r = node.client(token="read").get("/api/artifacts")
        self.assertEqual(r.status, 200, r)
        return r.json()

    def holders(self, node, aid):
        for row in self.listing(node)["artifacts"]:
            if row["artifact"] == aid:
                return [n["node"] for n in row["nodes"]]
        return []

    def put_service(self, node, name, doc):
        r = node.client().request("PUT", "/api/services/" + name,
                                  json.dumps(doc).encode(),
                                  {"Content-Type": "application/json"})
        self.assertIn(r.status, (200, 201), r)

    def service(self, node, name):
        return node.client(token="read").get("/api/services/" + name).json()

    def wait_service(self, node, name, pred, timeout=SEEN_TIMEOUT):
        last = [None]

        def ok():
            last[0] = self.service(node, name)
            return pred(last[0])
        if not harness.wait_until(ok, timeout):
            self.fail("%s on %s: %r" % (name, node.node_id, last[0]))
        return last[0]

    def metrics(self, node):
        return harness.parse_metrics(
            node.client(token="read").get("/metrics").body.decode())

    def put_piece(self, node, aid, name, size, offset, data):
        return node.client().request(
            "PUT", "/api/artifacts/%s?name=%s&size=%d&offset=%d" % (aid, name, size, offset),
            data, {"Content-Type": "application/octet-stream"})

    # -- tests

    def test_1_added_on_one_node_fetched_over_the_mesh_by_another(self):
        n1, n2, n3 = (self.nodes["node-%d" % i] for i in (1, 2, 3))
        # Big enough to take several windows of the fetch.
        filler = os.urandom(1536 * 1024).hex()[:2500000]
        data = tar_gz({"VERSION": ("v1\n", 0o644),
                       "bin/run.sh": ("#!/bin/sh\ncat VERSION > \"$1\"\n"
                                      "echo \"$AGENTFLOW_ARTIFACT_DIR\" >> \"$1\"\n"
                                      "exec sleep 1000\n", 0o755),
                       "filler.txt": (filler, 0o644)})
        aid = artifact_id(data)
        path = self.write("app-1.tar.gz", data)
        r = self.cli(n1, "add", path)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(aid, r.stdout)
        self.assertIn("added", r.stdout)
        # Every node hears that node-1 holds it.
        self.assertTrue(harness.wait_until(lambda: self.holders(n2, aid) == ["node-1"],
                                           SEEN_TIMEOUT), self.listing(n2))
        row = [x for x in self.listing(n3)["artifacts"] if x["artifact"] == aid][0]
        self.assertEqual((row["name"], row["size"]), ("app-1.tar.gz", len(data)))
        # Adding it again changes nothing.
        r = self.cli(n1, "add", path)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("already held", r.stdout)

        out = os.path.join(self.tmp, "app.out")
        self.put_service(n3, "app", {"command": ["./bin/run.sh", out],
                                     "artifact": aid})
        self.wait_service(n3, "app", lambda s: s["state"] == "running")
        self.assertTrue(harness.wait_until(lambda: os.path.exists(out) and
                                           len(open(out).read().split()) == 2, 10))
        version, where = open(out).read().split()
        self.assertEqual(version, "v1")
        # Unpacked in node-3's own data directory, in the artifact's version.
        self.assertEqual(where, os.path.join(n3.data_dir, "artifacts", "unpacked",
                                             aid[len("sha256:"):]))
        with open(os.path.join(n3.data_dir, "artifacts", aid[len("sha256:"):]), "rb") as f:
            self.assertEqual(f.read(), data)
        # Now two nodes hold it, as every node sees.
        self.assertTrue(harness.wait_until(
            lambda: self.holders(n2, aid) == ["node-1", "node-3"], SEEN_TIMEOUT),
            self.listing(n2))
        m3, m1 = self.metrics(n3), self.metrics(n1)
        self.assertEqual(m3["agentflow_node_artifact_fetched_bytes_total"], len(data))
        self.assertEqual(m3['agentflow_node_artifact_fetches_total{outcome="ok"}'], 1)
        self.assertGreaterEqual(m1["agentflow_node_artifact_served_bytes_total"], len(data))
        r = self.cli(n2, "ls")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("app-1.tar.gz", r.stdout)
        self.assertIn("node-1,node-3", r.stdout)

        # In use: not deleted.
        r = n3.client().request("DELETE", "/api/artifacts/" + aid)
        self.assertEqual(r.status, 409, r)
        self.assertIn("app", r.json()["message"])

        # After a kill -9 and restart, node-3 runs it from what it holds.
        n3.stop(sig=9)
        os.unlink(out)
        n3.restart()
        self.wait_service(n3, "app", lambda s: s["state"] == "running")
        self.assertTrue(harness.wait_until(lambda: os.path.exists(out), 10))
        self.assertEqual(self.metrics(n3)["agentflow_node_artifact_fetched_bytes_total"], 0)
        self.put_service(n3, "app", {"command": ["/bin/true"], "restart": "never"})
        r = n3.client().request("DELETE", "/api/services/app")
        self.assertEqual(r.status, 200, r)

    def test_2_a_corrupted_copy_is_refused_and_another_holder_used(self):
        n1, n2, n3 = (self.nodes["node-%d" % i] for i in (1, 2, 3))
        data = tar_gz({"VERSION": ("v2\n", 0o644)})
        aid = artifact_id(data)
        r = self.cli(n1, "add", self.write("app-2.tar.gz", data))
        self.assertEqual(r.returncode, 0, r.stderr)
        # node-1's copy goes bad on its disk (same size).
        blob = os.path.join(n1.data_dir, "artifacts", aid[len("sha256:"):])
        bad = bytearray(data)
        bad[len(bad) // 2] ^= 0xFF
        with open(blob, "wb") as f:
            f.write(bad)
        self.assertTrue(harness.wait_until(lambda: "node-1" in self.holders(n2, aid),
                                           SEEN_TIMEOUT))
        self.put_service(n2, "two", {"command": ["/bin/sleep", "1000"], "artifact": aid})
        s = self.wait_service(n2, "two", lambda s: "not the artifact" in s["reason"])
        self.assertEqual(s["state"], "starting")
        self.assertIn("node-1", s["reason"])
        self.assertTrue(harness.wait_until(lambda: self.metrics(n2).get(
            'agentflow_node_artifact_fetches_total{outcome="refused"}', 0) >= 1, 10))
        self.assertNotIn("node-2", self.holders(n2, aid))
        self.assertFalse(os.path.exists(os.path.join(n2.data_dir, "artifacts",
                                                     aid[len("sha256:"):])))
        # A good copy on node-3: node-2 takes it from there.
        r = self.cli(n3, "add", self.write("app-2b.tar.gz", data))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.wait_service(n2, "two", lambda s: s["state"] == "running", timeout=30)
        self.assertTrue(harness.wait_until(
            lambda: self.holders(n1, aid) == ["node-1", "node-2", "node-3"], SEEN_TIMEOUT))
        r = n2.client().request("DELETE", "/api/services/two")
        self.assertEqual(r.status, 200, r)

    def test_3_a_zip_that_climbs_out_is_refused(self):
        n1, n2 = self.nodes["node-1"], self.nodes["node-2"]
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr("ok.txt", "fine")
            z.writestr("../evil.txt", "escaped")
        data = buf.getvalue()
        aid = artifact_id(data)
        r = self.cli(n1, "add", self.write("evil.zip", data))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.put_service(n2, "evil", {"command": ["/bin/sleep", "1000"], "artifact": aid})
        s = self.wait_service(n2, "evil", lambda s: s["state"] == "failed")
        self.assertIn("refused", s["reason"])
        self.assertIn("../evil.txt", s["reason"])
        art = os.path.join(n2.data_dir, "artifacts")
        for where in (art, os.path.join(art, "unpacked")):
            self.assertFalse(os.path.exists(os.path.join(where, "evil.txt")))
        self.assertFalse(os.path.exists(os.path.join(art, "unpacked", aid[len("sha256:"):])))
        self.assertFalse(os.path.exists(os.path.join(art, "unpacked",
                                                     aid[len("sha256:"):] + ".tmp")))
        r = n2.client().request("DELETE", "/api/services/evil")
        self.assertEqual(r.status, 200, r)

    def test_4_a_cut_upload_resumes(self):
        n2 = self.nodes["node-2"]
        data = os.urandom(2 * 1024 * 1024 + 5)
        aid = artifact_id(data)
        r = self.put_piece(n2, aid, "blob.tar.gz", len(data), 0, data[:1024 * 1024])
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["received"], 1024 * 1024)
        r = self.cli(n2, "add", self.write("blob.tar.gz", data))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("added", r.stdout)
        with open(os.path.join(n2.data_dir, "artifacts", aid[len("sha256:"):]), "rb") as f:
            self.assertEqual(f.read(), data)
        # Unused: deleted here, and the mesh hears it.
        r = self.cli(n2, "rm", aid)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(harness.wait_until(
            lambda: self.holders(self.nodes["node-1"], aid) == [], SEEN_TIMEOUT))

    def test_6_a_fetch_nobody_needs_any_more_is_dropped(self):
        """A service names an artifact no node holds: its fetch waits,
        listed; once the service is gone the fetch is dropped, so it
        holds none of the node's few fetch slots."""
        n3 = self.nodes["node-3"]
        aid = "sha256:" + "ab" * 32
        self.put_service(n3, "ghost", {"command": ["/bin/sleep", "1000"], "artifact": aid})
        s = self.wait_service(n3, "ghost", lambda s: s["state"] == "starting"
                              and aid in (s["reason"] or ""))
        self.assertIn("fetching", s["reason"])
        self.assertTrue(harness.wait_until(
            lambda: [f for f in self.listing(n3)["fetches"] if f["artifact"] == aid], 10),
            self.listing(n3))
        r = n3.client().request("DELETE", "/api/services/ghost")
        self.assertEqual(r.status, 200, r)
        self.assertTrue(harness.wait_until(
            lambda: not [f for f in self.listing(n3)["fetches"] if f["artifact"] == aid], 10),
            self.listing(n3))

    def test_5_bad_uploads_are_refused_and_change_nothing(self):
        n1 = self.nodes["node-1"]
        before = self.listing(n1)["artifacts"]
        data = b"not what the id says"
        wrong = "sha256:" + "0" * 64
        r = self.put_piece(n1, wrong, "x.tar.gz", len(data), 0, data)
        self.assertEqual(r.status, 400, r)
        self.assertIn("refused", r.json()["message"])
        self.assertFalse(os.path.exists(os.path.join(n1.data_dir, "artifacts", "0" * 64)))
        self.assertFalse(os.path.exists(os.path.join(n1.data_dir, "artifacts",
                                                     "0" * 64 + ".part")))
        good = artifact_id(data)
        r = self.put_piece(n1, good, "x.tar.gz", len(data), 5, data[5:])
        self.assertEqual(r.status, 409, r)
        self.assertEqual(r.json()["offset"], 0)
        r = self.put_piece(n1, good, "x.tar.gz", 5 * 1024 * 1024, 0, data)
        self.assertEqual(r.status, 413, r)
        r = self.put_piece(n1, "sha256:XYZ", "x.tar.gz", len(data), 0, data)
        self.assertEqual(r.status, 400, r)
        r = self.put_piece(n1, good, "a/b", len(data), 0, data)
        self.assertEqual(r.status, 400, r)
        r = n1.client().request("DELETE", "/api/artifacts/" + good)
        self.assertEqual(r.status, 404, r)
        r = n1.client(token="read").request("PUT", "/api/artifacts/%s?name=x&size=1&offset=0"
                                            % good, b"x")
        self.assertEqual(r.status, 403, r)
        r = self.cli(n1, "rm", "nope")
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertEqual(self.listing(n1)["artifacts"], before)


if __name__ == "__main__":
    harness.main()
