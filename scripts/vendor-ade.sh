#!/usr/bin/env bash
# Re-fetch the ADE's vendored JavaScript at its pinned version (the ADE loads nothing from the
# network at run time, so what it uses is checked in). Needs npm; run from anywhere.
set -euo pipefail
MERMAID_VERSION=12.3.0
cd "$(dirname "$0")/.."
vendor=troupe/server/ade/static/vendor
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "mermaid@${MERMAID_VERSION}" >/dev/null && tar xzf "mermaid-${MERMAID_VERSION}.tgz")
mkdir -p "$vendor"
cp "$work/package/dist/mermaid.min.js" "$vendor/mermaid.min.js"
cp "$work/package/LICENSE" "$vendor/mermaid.LICENSE"
echo "mermaid ${MERMAID_VERSION}" >"$vendor/VERSIONS"
echo "vendored mermaid ${MERMAID_VERSION} into $vendor"
