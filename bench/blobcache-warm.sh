#!/usr/bin/env bash
# Warm reads of a blob cached by CachedChunkSource vs reading its cache file directly (FileChannel, same buffer
# size). Target: ratio >= 0.8.
#   bench/blobcache-warm.sh [SIZE_MB=200] [REQUEST_KB=128] [ROUNDS=7] [VALIDATE=false]
# Needs rafs-format and testdata installed in ~/.m2 (mvn install), as for building the blobcache module alone.
set -euo pipefail
cd "$(dirname "$0")/.."
size_mb=${1:-200}
request_kb=${2:-128}
rounds=${3:-7}
validate=${4:-false}
work=$(mktemp -d "${TMPDIR:-/tmp}/blobcache-warm.XXXXXX")
trap 'rm -rf "$work"' EXIT

mvn -B -q -o -pl blobcache test-compile
mvn -B -q -o -pl blobcache dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$work/cp.txt" >/dev/null
# Private copies of the module's classes, so a build running meanwhile cannot change them under the benchmark.
cp -r blobcache/target/classes "$work/classes"
cp -r blobcache/target/test-classes "$work/test-classes"
cp="$work/test-classes:$work/classes:$(cat "$work/cp.txt")"

echo "java $(java -version 2>&1 | head -1), $(nproc) cores, work dir $work"
java -Xmx1g -cp "$cp" io.nydus.blobcache.cache.WarmReadBench "$work" "$size_mb" "$request_kb" "$rounds" "$validate"
