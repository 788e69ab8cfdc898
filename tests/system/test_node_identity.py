"""System tests of a node's identity on disk: one process per data
directory (a second node on it exits at start naming the holder's pid, and a
killed holder leaves no stale lock), and incarnations that never go back (a
node started from a copied data directory or a restored backup learns from
its peers the newer life they saw of it and moves above it, so its new
events reach them)."""

import json
import os
import shutil
import signal as _signal
import sqlite3
import unittest

import harness
from test_node_mesh import MeshTest
from test_node_sync import events, post_event, remote


def api_file(node):
    with open(os.path.join(node.data_dir, "api.json")) as f:
        return json.load(f)


def user_events(target, origin, name):
    return [e for e in events(target, kind="user", node=origin, limit=1000)
            if e["body"]["name"] == name]


def own_incarnation(node):
    return node.status()["local"]["incarnation"]


class DataDirLock(MeshTest):

    def test_second_node_on_one_data_dir_exits_naming_the_holder(self):
        a = self.node("node-1")
        before = api_file(a)
        self.assertEqual(before["pid"], a.proc.pid)
        second = harness.MeshNode(self.pki, "node-1")   # same data directory
        rc, _, err = second.run(timeout=30)
        self.assertNotEqual(rc, 0, err)
        self.assertIn("data directory %s is in use by pid %d" % (a.data_dir, a.proc.pid),
                      err)
        # it changed nothing: no API address file of its own, no port
        self.assertEqual(api_file(a), before)
        self.assertEqual(a.status()["local"]["node_id"], "node-1")
        self.assertIsNone(a.proc.poll())

    def test_a_killed_holder_leaves_no_stale_lock(self):
        a = self.node("node-1")
        old_pid = a.proc.pid
        a.stop(_signal.SIGKILL)
        a.restart()
        self.assertNotEqual(a.proc.pid, old_pid)
        self.assertEqual(api_file(a)["pid"], a.proc.pid)
        self.assertEqual(a.status()["local"]["node_id"], "node-1")
        # and the new holder is named to the next one
        rc, _, err = harness.MeshNode(self.pki, "node-1").run(timeout=30)
        self.assertNotEqual(rc, 0, err)
        self.assertIn("in use by pid %d" % a.proc.pid, err)


class Incarnation(MeshTest):

    def live_once(self, c, peers, name, count):
        """c emits count user events named name; every peer gets them all.
        Returns the incarnation they carry."""
        inc = own_incarnation(c)
        for i in range(count):
            r = post_event(c, name, str(i))
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json()["incarnation"], inc)
        for p in peers:
            self.assertTrue(harness.wait_until(
                lambda: len(user_events(p, c.node_id, name)) == count, 30,
                interval=0.3), (p.node_id, events(p, kind="user", node=c.node_id)))
        return inc

    def later_life(self, c, peers):
        """Restarts c into a life its saved data will not know of, lets it
        emit events every peer gets, and stops it.  Returns its incarnation."""
        c.restart()
        self.wait_full_mesh(peers + [c])
        used = self.live_once(c, peers, "old-life", 5)
        c.stop()
        return used

    def start_from(self, c, saved):
        """Starts c on a copy of the data directory saved earlier."""
        shutil.rmtree(c.data_dir)
        shutil.copytree(saved, c.data_dir)
        c.restart()

    def rejoins(self, c, peers, used):
        """c, restarted from an older copy of its data, moves above the
        incarnation `used` its peers saw, and its new events reach them."""
        self.assertTrue(harness.wait_until(lambda: own_incarnation(c) > used, 30,
                                           interval=0.3),
                        (own_incarnation(c), used, c.stderr()[-3000:]))
        new = own_incarnation(c)
        self.assertIn("starting a new incarnation above it", c.stderr())
        self.live_once(c, peers, "new-life", 3)
        for p in peers:
            self.assertTrue(harness.wait_until(
                lambda: remote(p, c.node_id)["incarnation"] == new, 20, interval=0.3),
                remote(p, c.node_id))
            got = user_events(p, c.node_id, "new-life")
            self.assertEqual({e["incarnation"] for e in got}, {new})
        # it keeps the new incarnation: the next start is above it again
        c.stop()
        c.restart()
        self.assertGreater(c.incarnation, new)

    def test_copied_data_directory_rejoins_above_the_life_peers_saw(self):
        sig, (a, b, c) = self.mesh(3)
        c.stop()
        copy = os.path.join(self.tmp, "copy-node-3")
        shutil.copytree(c.data_dir, copy)
        used = self.later_life(c, [a, b])
        # the peers restart too: what they saw of node-3 outlives them
        for p in (a, b):
            p.restart()
        self.start_from(c, copy)
        self.assertEqual(c.incarnation, used)   # the copy counts from before
        self.rejoins(c, [a, b], used)

    def test_restored_backup_rejoins_while_peers_stay_up(self):
        sig, (a, b, c) = self.mesh(3)
        # a backup as docs/operations.md takes it, the node running
        backup = os.path.join(self.tmp, "backup-node-3")
        os.mkdir(backup)
        src = sqlite3.connect(os.path.join(c.data_dir, "agentflow.db"))
        dst = sqlite3.connect(os.path.join(backup, "agentflow.db"))
        src.backup(dst)
        dst.close()
        src.close()
        shutil.copy(os.path.join(c.data_dir, "tokens.json"), backup)
        backed_up = c.incarnation
        c.stop()
        used = self.later_life(c, [a, b])
        self.assertGreater(used, backed_up)
        self.start_from(c, backup)
        self.assertLessEqual(c.incarnation, used)   # the backup counts from before
        self.rejoins(c, [a, b], used)


if __name__ == "__main__":
    unittest.main()
