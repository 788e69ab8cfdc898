"""Shared by the template tasks: the job's payload in, a JSON result out
(AGENTFLOW_PAYLOAD_FILE and AGENTFLOW_RESULT_FILE, README "A job's run")."""
import json
import os
import sys


def payload():
    path = os.environ.get("AGENTFLOW_PAYLOAD_FILE")
    if not path:
        sys.exit("run me as an AgentFlow job: AGENTFLOW_PAYLOAD_FILE is not set")
    with open(path) as f:
        p = json.load(f)
    return p if isinstance(p, dict) else {}


def need(p, key):
    v = p.get(key)
    if v is None or v == "":
        sys.exit("payload: %r is missing" % key)
    return v


def result(obj):
    path = os.environ.get("AGENTFLOW_RESULT_FILE")
    if path:
        with open(path, "w") as f:
            json.dump(obj, f)
    print(json.dumps(obj))
