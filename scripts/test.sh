#!/usr/bin/env bash
# `npm test`: the core's Rust tests, the addon's node:test suites (real CLIs included) under
# this Node and under Node 24 (the gateway's; fetched from the registry package by
# scripts/lib/node24.mjs), then the plugin inside the real OpenClaw gateway (__test__/gateway/).
# Everything runs inside a loopback-only network namespace (`unshare -n`) when the machine
# allows it, so no test can reach beyond 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -f openclaw-sessions.linux-x64-gnu.node ] && ! ls openclaw-sessions.*.node >/dev/null 2>&1; then
  echo "the addon is not built: run 'npm install' (or 'npm run build') first" >&2
  exit 1
fi

# Fetched before entering the namespace (the namespace has no registry).
node24="$(node scripts/lib/node24.mjs)"
bash scripts/lib/chromium.sh
[ -d plugin/node_modules/openclaw ] || node scripts/plugin.mjs deps
[ -f plugin/dist/index.js ] || node scripts/plugin.mjs build

inner='set -e
ip link set lo up 2>/dev/null || true
cargo test --workspace --quiet
echo "# addon suites under Node $(node --version)"
node --test __test__/*.test.mjs
echo "# addon suites under Node $("$NODE24" --version)"
"$NODE24" --test __test__/*.test.mjs
echo "# the plugin in the real OpenClaw gateway"
node --test --test-concurrency=1 __test__/gateway/*.test.mjs'
export NODE24="$node24"

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
