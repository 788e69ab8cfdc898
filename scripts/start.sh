#!/usr/bin/env bash
# Starts a local AgentFlow on loopback: installs what is missing, builds,
# generates dev certificates in certs/dev/, and starts the signal over HTTPS.
# Runs in the foreground; Ctrl-C stops everything it started.
#
# Environment: AGENTFLOW_SIGNAL_PORT (default 7000).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

bash scripts/install-deps.sh
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

# Show the signal answering a real signed registration (openssl signs,
# exactly as signal/API.md specifies) and listing it back.
body=$(python3 - "$certs/node-1.crt" <<'PY'
import base64, json, os, sys, time
print(json.dumps({"node_id": "node-1", "cert": open(sys.argv[1]).read(),
                  "addresses": ["127.0.0.1:50051"], "labels": {"role": "dev"},
                  "timestamp": int(time.time()),
                  "nonce": base64.b64encode(os.urandom(16)).decode()}), end="")
PY
)
sig=$(printf '%s' "$body" | openssl dgst -sha256 -sign "$certs/node-1.key" | base64 -w0)
token=$(curl -fsS --cacert "$certs/ca.crt" -H "X-AgentFlow-Signature: $sig" \
  --data-binary "$body" "$url/v1/register" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')

cat <<MSG

AgentFlow signal is up at $url (HTTPS, dev CA in certs/dev/)
  health:   $(curl -fsS --cacert "$certs/ca.crt" "$url/healthz")
  peers:    $(curl -fsS --cacert "$certs/ca.crt" -H "Authorization: Bearer $token" "$url/v1/peers" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(", ".join(p["node_id"] + " @ " + ",".join(p["addresses"]) for p in d["peers"]))')
  metrics:  $url/metrics
  logs:     $run/signal.log
Mesh nodes and the dashboard are not built yet (see issues 3 and 5);
this starts the rendezvous they will register with.
Ctrl-C stops it.
MSG
wait "$signal_pid"
