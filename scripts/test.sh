#!/usr/bin/env bash
# Runs every test: installs what is missing, builds, runs the dashboard's
# Vitest tests, ctest on a normal build, a bounded libFuzzer run of every
# parser of network input, and ctest again on an AddressSanitizer +
# UndefinedBehaviorSanitizer build.
# Usage: scripts/test.sh [ctest arguments, e.g. -R signal]
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
jobs=$(nproc)

# The dashboard first: the nodes of the end-to-end tests serve its build.
bash scripts/build-frontend.sh
echo "== frontend unit tests (Vitest)"
(cd frontend && npm test --silent)

build() {	# build DIR [cmake args]
  local dir=$1; shift
  cmake -S . -B "$dir" -DAGENTFLOW_WERROR=ON "$@" >/dev/null
  cmake --build "$dir" -j"$jobs"
}

echo "== build (RelWithDebInfo)"
build build -DCMAKE_BUILD_TYPE=RelWithDebInfo
echo "== tests"
(cd build && ctest --output-on-failure -j"$jobs" "$@")

echo "== fuzzing (libFuzzer, a bounded run of every target)"
FUZZ_SECONDS=${FUZZ_SECONDS:-10} bash scripts/fuzz.sh

echo "== build (ASan + UBSan)"
build build-asan -DCMAKE_BUILD_TYPE=Debug -DAGENTFLOW_SANITIZE=ON
echo "== tests under ASan + UBSan"
(cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --output-on-failure -j"$jobs" "$@")
