#!/usr/bin/env bash
# The test suite starts its own throwaway PostgreSQL cluster from the Debian server binaries.
# Install them when they are missing (as root, as on CI), unless a server URL is given.
set -euo pipefail
[ -n "${TROUPE_TEST_POSTGRES_URL:-}" ] && exit 0
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && exit 0
command -v initdb >/dev/null 2>&1 && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "PostgreSQL server binaries are missing: install Debian's 'postgresql' package," >&2
  echo "or set TROUPE_TEST_POSTGRES_URL to a server whose user may create databases." >&2
  exit 1
fi
echo "installing PostgreSQL (Debian package) for the test suite..."
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
