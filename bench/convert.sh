#!/usr/bin/env bash
# nydusify convert of the Debian bookworm minbase image, registry -> registry, against a full OCI pull of the same
# image from the same registry (skopeo copy to an OCI layout + umoci unpack), alternating, in one run.
# Prints the median times, the ratio convert/pull (target <= 1.0) and the conversion rate in MB/s of uncompressed
# layer data (target >= 100 MB/s; the whole command is timed, JVM start included).
#   bench/convert.sh [ROUNDS=3]
# Needs: the project built (mvn -q package), docker-registry, skopeo, umoci, debootstrap (for the cached rootfs).
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
root=$PWD
rounds=${1:-3}
work=$(mktemp -d "${TMPDIR:-/tmp}/nydusify-bench.XXXXXX")
registry_pid=""
cleanup() {
  if [ -n "$registry_pid" ]; then kill "$registry_pid" 2>/dev/null || true; wait "$registry_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

for tool in docker-registry skopeo umoci; do
  command -v "$tool" >/dev/null || { echo "convert.sh: $tool is not installed (apt-get install -y $tool)" >&2; exit 1; }
done
[ -x bin/nydusify ] && ls nydusify/target/nydusify-*.jar >/dev/null 2>&1 \
  || { echo "convert.sh: build the project first (mvn -q package)" >&2; exit 1; }

cache="${NYDUS_TESTDATA_CACHE:-/var/cache/nydus-testdata}/debian"
bash testdata/scripts/debian-rootfs.sh "$cache"

# the source image: the rootfs as one gzip layer, made by umoci
umoci init --layout "$work/oci" >/dev/null
umoci new --image "$work/oci:empty" >/dev/null
umoci raw add-layer --image "$work/oci:empty" --tag debian "$cache/rootfs.tar" >/dev/null
umoci config --image "$work/oci:debian" --config.cmd /bin/bash >/dev/null

# a registry on a free port
port=""
for p in $(shuf -i 20000-60000 -n 20); do
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then port=$p; break; fi
done
[ -n "$port" ] || { echo "convert.sh: no free port found" >&2; exit 1; }
cat >"$work/registry.yml" <<YML
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage:
  filesystem: {rootdirectory: $work/registry}
  delete: {enabled: true}
http: {addr: 127.0.0.1:$port}
YML
docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
registry_pid=$!
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
reg="127.0.0.1:$port"
skopeo copy -q --dest-tls-verify=false "oci:$work/oci:debian" "docker://$reg/bench/debian:v1"

load=$(cut -d' ' -f1-3 /proc/loadavg)
# One untimed conversion first: the launcher archives its classes on the first run of a build (class data sharing).
bin/nydusify --log-level warn convert --plain-http --source "$reg/bench/debian:v1" --target "$reg/bench/warmup:v1"

# Each side: wall time and CPU time (user + sys of the command and its children), from bash's `time`.
TIMEFORMAT='%R %U %S'
timed() { { time "$@" >/dev/null 2>"$work/err" ; } 2>&1 | tail -1 | awk '{printf "%.3f %.3f\n", $1, $2+$3}'; }
convert_once() {
  bin/nydusify --log-level warn convert --plain-http --source "$reg/bench/debian:v1" \
    --target "$reg/bench/nydus-$1:v1" --output-json "$work/convert-$1.json"
}
pull_once() {
  skopeo copy -q --src-tls-verify=false "docker://$reg/bench/debian:v1" "oci:$work/pull-$1:debian" &&
    umoci unpack --image "$work/pull-$1:debian" "$work/bundle-$1"
}
convert_times=(); convert_cpu=(); pull_times=(); pull_cpu=()
for i in $(seq "$rounds"); do
  # convert into a fresh repository each round, so every blob is pushed again; each side starts once the other's
  # writes are on disk (sync, untimed): the pull's unpacked tree was still being written back during the next convert
  sync
  read -r wall cpu < <(timed convert_once "$i") || { cat "$work/err" >&2; exit 1; }
  convert_times+=("$wall"); convert_cpu+=("$cpu")
  sync
  read -r wall cpu < <(timed pull_once "$i") || { cat "$work/err" >&2; exit 1; }
  pull_times+=("$wall"); pull_cpu+=("$cpu")
  rm -rf "$work/pull-$i" "$work/bundle-$i"
  echo "round $i: convert ${convert_times[-1]} s (cpu ${convert_cpu[-1]} s), pull ${pull_times[-1]} s (cpu ${pull_cpu[-1]} s)"
done

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END{print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
conv=$(median "${convert_times[@]}")
pull=$(median "${pull_times[@]}")
conv_cpu=$(median "${convert_cpu[@]}")
pull_cpu=$(median "${pull_cpu[@]}")
layer_s=$(grep -o '"seconds" : [0-9.]*' "$work/convert-1.json" | head -1 | grep -o '[0-9.]*$')
bytes=$(grep -o '"uncompressed_bytes" : [0-9]*' "$work/convert-1.json" | grep -o '[0-9]*$')
gz=$(grep -o '"source_bytes" : [0-9]*' "$work/convert-1.json" | grep -o '[0-9]*$')
echo "image: Debian bookworm minbase, 1 layer, $(awk -v b="$gz" 'BEGIN{printf "%.1f", b/1e6}') MB gzip," \
  "$(awk -v b="$bytes" 'BEGIN{printf "%.1f", b/1e6}') MB uncompressed; $(nproc) cores; $rounds rounds, medians"
echo "load average before: $load"
echo "convert (registry -> registry): $conv s wall, $conv_cpu s cpu"
echo "full OCI pull (skopeo copy + umoci unpack): $pull s wall, $pull_cpu s cpu"
awk -v c="$conv" -v p="$pull" -v b="$bytes" -v cc="$conv_cpu" -v pc="$pull_cpu" -v l="$layer_s" 'BEGIN{
  printf "ratio convert/pull: %.2f wall (target <= 1.0), %.2f cpu\n", c/p, cc/pc;
  printf "conversion rate: %.1f MB/s of uncompressed layer data, whole command (target >= 100)\n", b/1e6/c;
  printf "layer streaming rate (round 1, from --output-json): %.1f MB/s\n", b/1e6/l }'
