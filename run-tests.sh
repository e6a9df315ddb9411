#!/usr/bin/env bash
# Runs every test (unit, property, and integration tests against the real registry, FUSE, kernel EROFS and
# containerd). Needs root and the packages of scripts/install-deps.sh (./setup.sh --no-demo installs them).
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")"
./scripts/install-deps.sh
# Launchers in bin/ and the tests that run them need the packaged modules.
mvn -B -q install -DskipTests
mvn -B test "$@"
