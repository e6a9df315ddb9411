#!/usr/bin/env bash
# One command on a fresh Debian 12 machine (as root): install dependencies, build every tool into bin/, and run the
# main job on the embedded default (a sample tree from testdata/ → nydus-image create → inspect → unpack → compare).
#   ./setup.sh            install, build, run the demo
#   ./setup.sh --no-demo  install and build only
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")"
./scripts/install-deps.sh
echo "setup: building (mvn package, tests skipped)..." >&2
mvn -B -q install -DskipTests
[ "${1:-}" = "--no-demo" ] && exit 0
exec ./scripts/demo.sh
