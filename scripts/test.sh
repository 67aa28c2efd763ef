#!/usr/bin/env bash
# `npm test`: the core's Rust tests, then the addon's node:test suites (real CLIs included).
# Everything runs inside a loopback-only network namespace (`unshare -n`) when the machine
# allows it, so no test can reach beyond 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -f openclaw-sessions.linux-x64-gnu.node ] && ! ls openclaw-sessions.*.node >/dev/null 2>&1; then
  echo "the addon is not built: run 'npm install' (or 'npm run build') first" >&2
  exit 1
fi

inner='set -e
ip link set lo up 2>/dev/null || true
cargo test --workspace --quiet
node --test __test__/'

if [ "${OCS_NO_UNSHARE:-}" != "1" ] && command -v unshare >/dev/null && command -v ip >/dev/null \
  && unshare -n true 2>/dev/null; then
  echo "# running the tests in a loopback-only network namespace (unshare -n)"
  exec unshare -n bash -c "$inner"
elif [ "${OCS_NO_UNSHARE:-}" != "1" ] && command -v unshare >/dev/null && command -v ip >/dev/null \
  && unshare -rn true 2>/dev/null; then
  echo "# running the tests in a loopback-only network namespace (unshare -rn)"
  exec unshare -rn bash -c "$inner"
else
  echo "# note: 'unshare -n' is not available here; running without a network namespace" \
       "(the tests still only talk to 127.0.0.1)"
  exec bash -c "$inner"
fi
