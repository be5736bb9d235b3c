#!/usr/bin/env bash
# Installs Debian's chromium for the HTML report's browser test (a headless screenshot of the
# page). Idempotent: does nothing when a chromium binary is already on PATH.
set -euo pipefail
for bin in chromium chromium-browser; do
  if command -v "$bin" >/dev/null 2>&1; then
    echo "setup-chromium: $bin already installed ($("$bin" --version 2>/dev/null | head -n1))"
    exit 0
  fi
done
echo "setup-chromium: installing chromium"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
command -v chromium >/dev/null 2>&1 || { echo "setup-chromium: chromium still missing after install" >&2; exit 1; }
echo "setup-chromium: done ($(chromium --version 2>/dev/null | head -n1))"
