#!/usr/bin/env bash
# tests/faults/test_several_servers.py runs Debian's nginx in front of two app servers. Installs it when missing
# (the test starts its own nginx on a free port; the package's own service is not needed).
set -euo pipefail
if command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; then
  exit 0
fi
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
echo "ensure-nginx: installing nginx from Debian's packages" >&2
as_root apt-get update -qq
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null
