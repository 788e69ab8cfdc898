#!/usr/bin/env bash
# Starts a local AgentFlow mesh on loopback: installs what is missing,
# builds (the dashboard too), generates dev certificates in certs/dev/,
# starts the signal over HTTPS and three nodes that find each other through
# it, and prints the dashboard's URL (node-1's, with its write token).
# Runs in the foreground; Ctrl-C stops everything it started.
#
# Ports: signal 7000 (AGENTFLOW_SIGNAL_PORT), node meshes 50051-50053,
# node APIs 8080-8082.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

bash scripts/install-deps.sh
bash scripts/build-frontend.sh >/dev/null
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
bin=$root/build/bin
certs=$root/certs/dev
run=$root/run
port=${AGENTFLOW_SIGNAL_PORT:-7000}
mkdir -p "$run"

# Dev PKI: created once, reused afterwards (the tool never overwrites keys).
[ -f "$certs/ca.crt" ] || "$bin/agentflow" certs init-ca --dir "$certs" --name "AgentFlow dev CA"
[ -f "$certs/signal.crt" ] || "$bin/agentflow" certs issue signal --dir "$certs" --ip 127.0.0.1 --dns localhost
for n in node-1 node-2 node-3; do
  [ -f "$certs/$n.crt" ] || "$bin/agentflow" certs issue "$n" --dir "$certs"
done

"$bin/agentflow-signal" --listen "127.0.0.1:$port" --ca "$certs/ca.crt" --crl "$certs/ca.crl" \
  --tls-cert "$certs/signal.crt" --tls-key "$certs/signal.key" 2>"$run/signal.log" &
signal_pid=$!
trap 'kill "$signal_pid" 2>/dev/null; wait "$signal_pid" 2>/dev/null; echo "stopped"' EXIT
trap 'exit 0' INT TERM

url="https://127.0.0.1:$port"
for _ in $(seq 1 50); do
  curl -fsS --cacert "$certs/ca.crt" "$url/healthz" >/dev/null 2>&1 && break
  kill -0 "$signal_pid" 2>/dev/null || { cat "$run/signal.log" >&2; exit 1; }
  sleep 0.1
done

# A few demo tasks every node may run (`agentflow run node-2 uptime`).
cat >"$run/tasks.json" <<'JSON'
{"uptime": {"command": ["/usr/bin/uptime"]},
 "disk":   {"command": ["/bin/df", "-h", "/"]},
 "count":  {"command": ["/bin/sh", "-c", "for i in 1 2 3 4 5; do echo tick $i; sleep 1; done"],
            "timeout_s": 60},
 "echo":   {"command": ["/bin/echo"], "allow_args": true}}
JSON

# Three nodes on loopback, each with its own data directory, mesh port
# and API port, all registering with the signal over HTTPS.
pids=("$signal_pid")
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; echo "stopped"' EXIT
for i in 1 2 3; do
  "$bin/agentflow-node" --ca "$certs/ca.crt" --cert "$certs/node-$i.crt" --key "$certs/node-$i.key" \
    --data-dir "$run/node-$i" --listen "127.0.0.1:$((50050 + i))" --api "127.0.0.1:$((8079 + i))" \
    --signal "https://localhost:$port" --signal-ca "$certs/ca.crt" --labels "role=dev,index=$i" \
    --tasks "$run/tasks.json" \
    2>"$run/node-$i.log" &
  pids+=("$!")
done

# GET on node i's API with its read token (generated into its data dir).
api() {
  local tok
  tok=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["read"])' \
        "$run/node-$1/tokens.json" 2>/dev/null) || return 1
  curl -fsS -H "Authorization: Bearer $tok" "http://127.0.0.1:$((8079 + $1))$2"
}

# Wait (bounded) until every node has two links up.
formed=0
for _ in $(seq 1 100); do
  for i in 1 2 3; do
    if ! kill -0 "${pids[$i]}" 2>/dev/null; then
      echo "node-$i exited; the end of its log ($run/node-$i.log):" >&2
      tail -n 3 "$run/node-$i.log" >&2
      exit 1
    fi
  done
  formed=1
  for i in 1 2 3; do
    n=$(api "$i" /api/cluster/status 2>/dev/null |
        python3 -c 'import json,sys; print(sum(l["state"] == "up" for l in json.load(sys.stdin)["local"]["links"]))' 2>/dev/null || echo 0)
    [ "$n" = 2 ] || formed=0
  done
  [ $formed = 1 ] && break
  sleep 0.2
done

status() {
  api "$1" /api/cluster/status | python3 -c '
import json, sys
d = json.load(sys.stdin)
l = d["local"]
print("  %s (incarnation %d): signal %s; links: %s" % (l["node_id"], l["incarnation"],
      "reachable" if l["signal"]["reachable"] else "unreachable",
      ", ".join("%s %s%s" % (x["peer"], x["state"], " %.2f ms" % x["rtt_ms"] if x["rtt_ms"] else "")
                for x in l["links"]) or "none"))'
}

cat <<MSG

AgentFlow is up on loopback (dev CA and certificates in certs/dev/):
  signal:   $url (HTTPS)  health: $(curl -fsS --cacert "$certs/ca.crt" "$url/healthz")
MSG
for i in 1 2 3; do status "$i"; done
[ $formed = 1 ] || echo "  (the mesh had not fully formed yet; see $run/node-*.log)"
cat <<MSG
  DASHBOARD: http://127.0.0.1:8080/?token=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["write"])' "$run/node-1/tokens.json")
  node APIs: http://127.0.0.1:8080/api/cluster/status (and :8081, :8082);
            tokens in $run/node-N/tokens.json (Authorization: Bearer TOKEN)
  CLI:      build/bin/agentflow status --data-dir run/node-1
            build/bin/agentflow run node-2 count --data-dir run/node-1
  logs:     $run/
Ctrl-C stops everything.
MSG
wait "$signal_pid"
