#!/usr/bin/env bash
# `npm run check:targets`: type-checks the core and the binding for every non-Linux target in
# package.json's `napi.targets` (today macOS x64 and arm64). Linux targets are built and tested
# by `npm test`. The bundled SQLite is C code that needs the target's SDK to compile; a check
# only needs the Rust side, so the C compiler and archiver are stubbed out with `true` (nothing
# is linked by `cargo check`). Needs `rustup` and its dist server to add a missing target.
set -euo pipefail
cd "$(dirname "$0")/.."
targets=(x86_64-apple-darwin aarch64-apple-darwin)
for t in "${targets[@]}"; do
  rustup target list --installed | grep -qx "$t" || rustup target add "$t"
  var="${t//-/_}"
  echo "# cargo check --workspace --target $t"
  env "CC_${var}=true" "AR_${var}=true" cargo check --workspace --all-targets --target "$t" --quiet
done
echo "# every listed target type-checks"
