#!/usr/bin/env bash
# Builds the dashboard (frontend/ → frontend/dist/, served by every node at
# /).  Installs its npm packages from package-lock.json when they are
# missing or the lock file changed.  Usage: scripts/build-frontend.sh
set -euo pipefail
cd "$(dirname "$0")/../frontend"

stamp=node_modules/.package-lock.json
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
  echo "== npm ci (frontend)" >&2
  npm ci --no-audit --no-fund --loglevel=error
fi
echo "== build (frontend)" >&2
npm run --silent build
