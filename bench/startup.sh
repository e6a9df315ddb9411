#!/usr/bin/env bash
# Cold-start benchmark (issue "Cold-start benchmark"): a lazily loaded nydus image against a full OCI pull, over a
# shaped link, with a report. One command, one machine, as root, after ./setup.sh --no-demo:
#
#   bench/startup.sh [--samples N] [--images minbase,large] [--links 100mbit,1gbit,unshaped] [--no-prefetch]
#
# A real registry serves the images on two ports sharing one storage directory; the second port's outgoing
# traffic is shaped with tc (HTB class per source port on lo) and counted (the class byte counters are the bytes
# the registry sent). For each image, link and method, N cold samples (empty caches, page cache dropped, fresh
# processes) time "pull/mount + workload done":
#   oci            skopeo copy + umoci unpack + the workload in a chroot of the unpacked rootfs
#   nydus          nydusify mount (bootstrap fetch + nydusd) + the same workload in a chroot of the mount
#   nydus+prefetch the same with an image converted with --prefetch-patterns (the files one workload run opened)
# Writes bench/results/startup.md and bench/results/startup.png and prints the tables and the targets.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
root="$PWD"

samples=5
images="minbase,large"
links="100mbit,1gbit,unshaped"
prefetch=1
while [ $# -gt 0 ]; do
  case "$1" in
    --samples) samples="$2"; shift 2 ;;
    --images) images="$2"; shift 2 ;;
    --links) links="$2"; shift 2 ;;
    --no-prefetch) prefetch=0; shift ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "startup.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "startup.sh: run as root" >&2; exit 1; }
command -v strace >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq strace >/dev/null
[ -x bin/nydusify ] && [ -x bin/nydusd ] || { echo "startup.sh: build first (./setup.sh --no-demo)" >&2; exit 1; }

cache="${NYDUS_TESTDATA_CACHE:-/var/cache/nydus-testdata}"
work="$(mktemp -d /var/tmp/nydus-bench-startup.XXXXXX)"
results="$root/bench/results"
mkdir -p "$results"
port_plain=5100
port_shaped=5190
pids=()

cleanup() {
  set +e
  for m in "$work"/mnt*; do mountpoint -q "$m" 2>/dev/null && { fusermount -u -z "$m"; umount -l "$m"; } 2>/dev/null; done
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  pkill -f "nydusd.*$work" 2>/dev/null
  tc qdisc del dev lo root 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
now() { date +%s.%N; }
drop_caches() { sync; echo 3 > /proc/sys/vm/drop_caches; }

# --- registry on two ports, one storage ----------------------------------------------------------------------
start_registry() {
  local port="$1"
  cat > "$work/registry-$port.yml" <<EOF
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage:
  filesystem: {rootdirectory: $work/registry}
  delete: {enabled: true}
http: {addr: 127.0.0.1:$port}
EOF
  docker-registry serve "$work/registry-$port.yml" > "$work/registry-$port.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/v2/" >/dev/null && return 0; sleep 0.1; done
  echo "startup.sh: registry on port $port did not start" >&2; exit 1
}
start_registry $port_plain
start_registry $port_shaped

# --- shaping: everything the registry sends from $port_shaped goes through class 1:90 --------------------------
tc qdisc del dev lo root 2>/dev/null || true
tc qdisc add dev lo root handle 1: htb default 1
tc class add dev lo parent 1: classid 1:1 htb rate 100gbit
tc class add dev lo parent 1: classid 1:90 htb rate 100gbit
tc filter add dev lo parent 1: protocol ip prio 1 u32 match ip sport $port_shaped 0xffff flowid 1:90
set_link() {
  local rate
  case "$1" in
    unshaped) rate=100gbit ;;
    *) rate="$1" ;;
  esac
  tc class change dev lo parent 1: classid 1:90 htb rate "$rate" ceil "$rate" burst 64k cburst 64k
}
sent_bytes() { tc -s class show dev lo classid 1:90 | awk '/Sent/ {print $2; exit}'; }

# --- images --------------------------------------------------------------------------------------------------
declare -A workload
# (output is discarded outside the chroot: device nodes on a FUSE mount are not usable without the dev option)
workload[minbase]="dpkg-query -W"
workload[large]="python3 -c 'import json, sqlite3' && perl -e 1 && gcc --version && dpkg-query -W"
declare -A packages
packages[minbase]=""
packages[large]="python3,perl,gcc,g++,make,git,python3-numpy,python3-scipy,clang,libboost-dev"

# An OCI layout of the image (cached: umoci repack of a large rootfs takes minutes).
oci_layout() {
  local name="$1" dir="$cache/oci/$1"
  if [ ! -f "$dir/.complete" ]; then
    local rootfs_dir="$cache/debian-$name"
    [ "$name" = minbase ] && rootfs_dir="$cache/debian"
    if [ -n "${packages[$name]}" ]; then
      testdata/scripts/debian-rootfs.sh --with "${packages[$name]}" "$rootfs_dir"
    else
      testdata/scripts/debian-rootfs.sh "$rootfs_dir"
    fi
    log "building the OCI image $name from $rootfs_dir"
    rm -rf "$dir"; mkdir -p "$dir"
    umoci init --layout "$dir/layout"
    umoci new --image "$dir/layout:img"
    umoci unpack --image "$dir/layout:img" "$dir/bundle" >/dev/null
    rm -rf "$dir/bundle/rootfs"
    cp -a "$rootfs_dir/rootfs" "$dir/bundle/rootfs"
    umoci repack --image "$dir/layout:img" "$dir/bundle" >/dev/null
    umoci config --image "$dir/layout:img" --config.cmd /bin/sh
    rm -rf "$dir/bundle"
    touch "$dir/.complete"
  fi
  echo "$dir/layout"
}

# Files the workload opens, as absolute paths inside the image (for --prefetch-patterns).
record_prefetch_list() {
  local name="$1" rootfs="$2" out="$3"
  strace -f -qq -e trace=openat,execve,stat,newfstatat -o "$work/strace.log" \
    chroot "$rootfs" /bin/sh -c "${workload[$name]}" >/dev/null 2>&1 || true
  grep -oE '"(/[^"]+)"' "$work/strace.log" | tr -d '"' | sort -u | while read -r p; do
    if [ -f "$rootfs$p" ]; then echo "$p"; fi
  done > "$out"
}

# Bytes of an image: config plus layers, as its manifest lists them.
manifest_bytes() {
  curl -sf -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
    "http://127.0.0.1:$port_plain/v2/bench/$1/manifests/$2" | grep -o '"size":[0-9]*' | cut -d: -f2 | paste -sd+ | bc
}

declare -A image_bytes convert_secs
csv="$work/samples.csv"
echo "image,link,method,sample,seconds,bytes" > "$csv"
rss_file="$work/rss"
: > "$rss_file"

for name in ${images//,/ }; do
  layout="$(oci_layout "$name")"
  skopeo copy --quiet --dest-tls-verify=false "oci:$layout:img" "docker://127.0.0.1:$port_plain/bench/$name:oci"
  log "converting $name with nydusify"
  t0=$(now)
  # Lazy loading only: an empty prefetch list (nydusify's default lists "/", i.e. prefetch everything).
  bin/nydusify convert --plain-http --prefetch-patterns --source "127.0.0.1:$port_plain/bench/$name:oci" \
    --target "127.0.0.1:$port_plain/bench/$name:nydus" --work-dir "$work/convert" < /dev/null >/dev/null
  convert_secs[$name]=$(echo "$(now) - $t0" | bc -l)
  image_bytes[$name]="$(manifest_bytes "$name" nydus):$(manifest_bytes "$name" oci)"
  if [ "$prefetch" = 1 ]; then
    mkdir -p "$work/record"
    umoci unpack --image "$layout:img" "$work/record/bundle" >/dev/null
    record_prefetch_list "$name" "$work/record/bundle/rootfs" "$work/prefetch-$name.txt"
    rm -rf "$work/record"
    log "$name: $(wc -l < "$work/prefetch-$name.txt") files in the prefetch list"
    bin/nydusify convert --plain-http --prefetch-patterns --source "127.0.0.1:$port_plain/bench/$name:oci" \
      --target "127.0.0.1:$port_plain/bench/$name:nydus-prefetch" --work-dir "$work/convert" \
      < "$work/prefetch-$name.txt" >/dev/null
  fi
done

run_oci() {
  local name="$1"
  rm -rf "$work/pull" "$work/bundle"
  drop_caches
  local t0; t0=$(now)
  skopeo copy --quiet --src-tls-verify=false "docker://127.0.0.1:$port_shaped/bench/$name:oci" "oci:$work/pull:img"
  umoci unpack --image "$work/pull:img" "$work/bundle" >/dev/null
  chroot "$work/bundle/rootfs" /bin/sh -c "${workload[$name]}" > /dev/null
  echo "$(now) - $t0" | bc -l
}

run_nydus() {
  local name="$1" tag="$2"
  local mnt="$work/mnt"
  rm -rf "$work/nydus-work"; mkdir -p "$mnt"
  drop_caches
  local t0; t0=$(now)
  bin/nydusify mount --plain-http --target "127.0.0.1:$port_shaped/bench/$name:$tag" --mountpoint "$mnt" \
    --work-dir "$work/nydus-work" > "$work/mount.log" 2>&1 &
  local mpid=$!
  until mountpoint -q "$mnt"; do
    kill -0 $mpid 2>/dev/null || { cat "$work/mount.log" >&2; exit 1; }
    sleep 0.01
  done
  chroot "$mnt" /bin/sh -c "${workload[$name]}" > /dev/null
  local secs; secs=$(echo "$(now) - $t0" | bc -l)
  local dpid; dpid=$(pgrep -f "nydusd.*$mnt" | head -n1 || true)
  [ -n "$dpid" ] && awk '/VmHWM/ {print $2}' "/proc/$dpid/status" >> "$rss_file"
  kill -TERM $mpid; wait $mpid 2>/dev/null || true
  mountpoint -q "$mnt" && fusermount -u -z "$mnt"
  echo "$secs"
}

for link in ${links//,/ }; do
  set_link "$link"
  for name in ${images//,/ }; do
    methods="oci nydus"
    [ "$prefetch" = 1 ] && methods="$methods nydus+prefetch"
    for method in $methods; do
      for s in $(seq "$samples"); do
        b0=$(sent_bytes)
        case "$method" in
          oci) secs=$(run_oci "$name") ;;
          nydus) secs=$(run_nydus "$name" nydus) ;;
          nydus+prefetch) secs=$(run_nydus "$name" nydus-prefetch) ;;
        esac
        b1=$(sent_bytes)
        echo "$name,$link,$method,$s,$secs,$((b1 - b0))" >> "$csv"
        log "$link $name $method #$s: ${secs:0:6} s, $(( (b1 - b0) / 1000000 )) MB"
      done
    done
  done
done

# --- report --------------------------------------------------------------------------------------------------
cp "$csv" "$results/startup.csv"
java "$root/bench/StartupReport.java" "$csv" "$results/startup.md" "$results/startup.png" \
  "$(for n in ${images//,/ }; do printf '%s=%s:%s;' "$n" "${image_bytes[$n]}" "${convert_secs[$n]}"; done)" \
  "$(sort -n "$rss_file" | tail -n1)"
cat "$results/startup.md"
