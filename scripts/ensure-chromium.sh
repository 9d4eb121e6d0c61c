#!/usr/bin/env bash
# The browser tests drive headless Chromium through Playwright; Debian's chromium package is the browser
# (Playwright's own download is not needed). Installs it when missing.
set -euo pipefail
if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
  exit 0
fi
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
echo "ensure-chromium: installing Chromium from Debian's packages" >&2
as_root apt-get update -qq
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
