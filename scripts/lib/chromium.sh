#!/usr/bin/env bash
# Debian's Chromium for the Control UI browser test (__test__/gateway/control-ui.test.mjs),
# installed when it is missing (as root, or through sudo). CHROMIUM_PATH names another one.
set -euo pipefail
if [ -n "${CHROMIUM_PATH:-}" ] || command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "# note: no Chromium and no apt-get: install Chromium and set CHROMIUM_PATH for the browser test" >&2
  exit 0
fi
sudo=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo="sudo -n"
  else
    echo "# note: Chromium is missing and this user cannot install it: run 'sudo apt-get install chromium'" >&2
    exit 0
  fi
fi
echo "# installing Debian's chromium for the browser test" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get install -y --no-install-recommends chromium >&2 \
  || { $sudo apt-get update >&2 && $sudo apt-get install -y --no-install-recommends chromium >&2; }
