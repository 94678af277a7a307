#!/usr/bin/env bash
# The ADE's browser tests drive Debian's chromium (Playwright never downloads a browser here).
# Install it when it is missing (as root, as on CI).
set -euo pipefail
command -v chromium >/dev/null 2>&1 && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "chromium is missing: install Debian's 'chromium' package for the ADE's browser tests," >&2
  echo "or skip them with: make test PYTEST_ARGS='--ignore=tests/ade'" >&2
  exit 1
fi
echo "installing chromium (Debian package) for the ADE's browser tests..."
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
