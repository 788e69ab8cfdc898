"""System test of a partial mesh (--max-links 2 on seven nodes, a ring):
member state comes from the mesh, not from our own links, and every node
knows every node.  Once settled, every node reports every other alive
(relayed where it is not a neighbour) with its labels, no
peer_unreachable alert fires, its status lists its neighbours' links and
no "down" link to a node it never links to, and a label selector reaches
every matching node, relayed ones included.  A killed node becomes dead
everywhere, and only then does the alert fire, for it alone.

Timing: generous bounds (this machine is shared); the alert rule waits
2 s instead of the default 60 s so that a wrong "dead" shows at once."""

import json
import os
import signal as _signal
import time
import unittest

import harness
from test_node_mesh import MeshTest

COUNT = 7
BACKUP = ("pm-3", "pm-5")       # both relayed from pm-1 (neighbours pm-2, pm-7)
RULES = [{"name": "peer_unreachable", "on": "peer_unreachable", "for_s": 2,
          "severity": "warning"}]


def labels_of(node_id):
    return {"role": "backup" if node_id in BACKUP else "web", "n": node_id[3:]}


class PartialMeshMembers(MeshTest):

    def start_ring(self):
        rules = os.path.join(self.tmp, "alerts.json")
        with open(rules, "w") as f:
            json.dump(RULES, f)
        sig = self.signal()
        nodes = []
        for i in range(1, COUNT + 1):
            nid = "pm-%d" % i
            lab = ",".join("%s=%s" % kv for kv in sorted(labels_of(nid).items()))
            nodes.append(self.node(nid, [sig.url], [
                "--max-links", "2", "--alerts", rules, "--labels", lab]))
        ids = sorted(n.node_id for n in nodes)
        ring = {ids[i]: sorted({ids[(i + 1) % COUNT], ids[(i - 1) % COUNT]})
                for i in range(COUNT)}
        return nodes, ring

    def settled(self, nodes, ring, gone=()):
        """Every live node's view, or a description of what is not so yet."""
        for n in nodes:
            if n.node_id in gone:
                continue
            st = n.status()
            if n.up_peers() != [p for p in ring[n.node_id] if p not in gone]:
                return "%s links %s" % (n.node_id, n.up_peers())
            rs = {r["node_id"]: r for r in st["remote"]}
            own = ((st["local"]["state"] or {}).get("status") or {})
            members = {m["node_id"]: m for m in own.get("members", [])}
            for m in nodes:
                if m is n or m.node_id in gone:
                    continue
                r = rs.get(m.node_id)
                if not r or r["member"] != "alive" or not r["info"]:
                    return "%s sees %s as %s" % (n.node_id, m.node_id, r)
                if r["info"]["labels"] != labels_of(m.node_id):
                    return "%s has %s's labels %s" % (n.node_id, m.node_id,
                                                     r["info"]["labels"])
                direct = m.node_id in ring[n.node_id]
                if r["path"] != ("direct" if direct else "relayed"):
                    return "%s reaches %s %s" % (n.node_id, m.node_id, r["path"])
                mi = members.get(m.node_id)
                if not mi or mi["state"] != "alive" or mi["direct"] != direct:
                    return "%s's status lists %s as %s" % (n.node_id, m.node_id, mi)
            # links of its own status: its neighbours, none "down"
            links = {l["peer"]: l["state"] for l in own.get("links", [])
                     if l["peer"] not in gone}
            if links != {p: "up" for p in ring[n.node_id] if p not in gone}:
                return "%s's status links %s" % (n.node_id, links)
        return None

    def firing(self, node):
        r = node.client().get("/api/alerts?state=firing")
        self.assertEqual(r.status, 200, r)
        return r.json()["alerts"]

    def select_backups(self, a):
        r = a.post("/api/commands", {"target": "role=backup", "type": "ping",
                                     "wait_ms": 15000})
        self.assertEqual(r.status, 200, r)
        rec = r.json()
        self.assertEqual(rec["state"], "done", rec)
        self.assertEqual(rec["skipped"], [], rec)
        self.assertEqual(sorted(x["node"] for x in rec["results"]), list(BACKUP))
        self.assertTrue(all(x["status"] == "ok" for x in rec["results"]), rec)
        self.assertTrue(all(len(x["path"]) >= 3 for x in rec["results"]),
                        rec)    # relayed: the backup node, a relay, pm-1

    def test_relayed_nodes_are_alive_labelled_and_selectable(self):
        nodes, ring = self.start_ring()
        by = {n.node_id: n for n in nodes}
        why = harness.wait_until(lambda: self.settled(nodes, ring) is None, 40, 0.5)
        if not why:     # what pm-1 holds, for the failure's reader
            st = by["pm-1"].status()
            print("pm-1 local state:", json.dumps(st["local"]["state"])[:3000])
            print("pm-1 remote:", json.dumps(st["remote"])[:6000])
            print("pm-1 metrics:", [x for x in by["pm-1"].client().get("/metrics").body
                                    .decode().splitlines() if "statuses_total" in x
                                    or "entropy" in x])
        self.assertTrue(why, self.settled(nodes, ring))
        # past dead-ms (3 s) and the rule's 2 s: a wrong "dead" would fire
        time.sleep(6)
        self.assertIsNone(self.settled(nodes, ring))
        for n in nodes:
            self.assertEqual(self.firing(n), [], n.node_id)

        # a selector reaches every matching node, relayed ones included
        a = by["pm-1"]
        self.select_backups(a)
        # a restarted node keeps no NodeInfo of the others (their events
        # after its cursors are replayed, the statuses that carried their
        # info are not): the mesh tells it again
        a.restart()
        why = harness.wait_until(lambda: self.settled(nodes, ring) is None, 30, 0.5)
        self.assertTrue(why, self.settled(nodes, ring))
        self.select_backups(a)

        # killed: dead everywhere, and only then does the alert fire
        victim = by["pm-4"]
        victim.stop(_signal.SIGKILL)
        live = [n for n in nodes if n is not victim]

        def dead_everywhere():
            for n in live:
                r = {x["node_id"]: x for x in n.status()["remote"]}["pm-4"]
                if r["member"] != "dead" or r["path"] != "none":
                    return False
            return True
        self.assertTrue(harness.wait_until(dead_everywhere, 20, 0.5),
                        [{x["node_id"]: (x["member"], x["path"]) for x in n.status()["remote"]}
                         for n in live])

        def alerts_for_victim():
            f = self.firing(a)
            return len({x["node"] for x in f if x["subject"] == "pm-4"}) == len(live)
        self.assertTrue(harness.wait_until(alerts_for_victim, 20, 0.5), self.firing(a))
        self.assertEqual(sorted({(x["rule"], x["subject"]) for x in self.firing(a)}),
                         [("peer_unreachable", "pm-4")])
        self.assertIsNone(self.settled(nodes, ring, gone=("pm-4",)))


if __name__ == "__main__":
    unittest.main()
