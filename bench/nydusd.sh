#!/usr/bin/env bash
# nydusd benchmark (issue "nydusd", check 5), all from one run, as root after ./setup.sh --no-demo:
#  1. sequential read of a 512 MiB file through nydusd (blob cache warm, page cache dropped) vs the kernel's
#     EROFS driver reading the same file from an mkfs.erofs image of the same tree;
#  2. a metadata walk (find -printf + ls -lR) of Debian's /usr, same two mounts, page cache dropped;
#     targets: >= 0.5x of the kernel on both;
#  3. nydusd's RSS with the Debian minbase image mounted and read through (target <= 150 MiB);
#  4. heap used after mounting a synthetic 1,000,000-file image (target < 64 MiB).
# Usage: bench/nydusd.sh [RUNS]   (median of RUNS for 1 and 2; default 3)
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
root="$PWD"
runs="${1:-3}"
cache="${NYDUS_TESTDATA_CACHE:-/var/cache/nydus-testdata}"
testdata/scripts/debian-rootfs.sh "$cache/debian"
work="$(mktemp -d /var/tmp/nydus-bench-nydusd.XXXXXX)"
pids=()
cleanup() {
  set +e
  for m in "$work"/mnt-*; do mountpoint -q "$m" && { fusermount -u -z "$m" 2>/dev/null || umount -l "$m"; }; done
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  sleep 0.5
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

drop() { sync; echo 3 > /proc/sys/vm/drop_caches; }
now() { date +%s.%N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
secs() { local t0 t1; t0=$(now); "$@" > /dev/null 2>&1; t1=$(now); echo "$t1 - $t0" | bc -l; }

# nydusd with a localfs backend and a blob cache in $work/cache-$name; waits for the mount.
start_nydusd() {
  local name="$1" boot="$2" blobs="$3" mnt="$work/mnt-$1"
  mkdir -p "$mnt" "$work/cache-$name"
  cat > "$work/$name.json" <<JSON
{"device": {"backend": {"type": "localfs", "config": {"dir": "$blobs"}},
            "cache": {"type": "blobcache", "config": {"work_dir": "$work/cache-$name"}}},
 "mode": "direct", "digest_validate": false, "enable_xattr": true,
 "fs_prefetch": {"enable": false}}
JSON
  bin/nydusd fuse --config "$work/$name.json" --bootstrap "$boot" --mountpoint "$mnt" --apisock "$work/$name.sock" \
    > "$work/$name.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 300); do mountpoint -q "$mnt" && return 0; sleep 0.05; done
  cat "$work/$name.log" >&2; exit 1
}
nydusd_pid() { pgrep -f "nydusd.*--mountpoint $work/mnt-$1" | head -n1; }

# --- the tree: a 512 MiB file and Debian's /usr ---------------------------------------------------------------
tree="$work/tree"
mkdir -p "$tree"
head -c 512M /dev/urandom > "$tree/big.bin"
cp -a "$cache/debian/rootfs/usr" "$tree/usr"
bin/nydus-image create -B "$work/tree.boot" -D "$work/blobs" "$tree" > /dev/null
mkfs.erofs "$work/tree.erofs" "$tree" > /dev/null
mkdir -p "$work/mnt-erofs"
mount -t erofs -o ro,loop "$work/tree.erofs" "$work/mnt-erofs"
start_nydusd tree "$work/tree.boot" "$work/blobs"
cat "$work/mnt-tree/big.bin" > /dev/null                       # fill the blob cache
find "$work/mnt-tree/usr" -printf '%p %s %m %u %T@\n' > /dev/null # one walk: the daemon's code is warm

read_file() { dd if="$1" of=/dev/null bs=1M 2>/dev/null; }
walk() { find "$1" -printf '%p %s %m %u %T@\n' > /dev/null; ls -lR "$1" > /dev/null; }
for i in $(seq "$runs"); do
  drop; secs read_file "$work/mnt-tree/big.bin" >> "$work/read.nydus"
  drop; secs read_file "$work/mnt-erofs/big.bin" >> "$work/read.erofs"
  drop; secs walk "$work/mnt-tree/usr" >> "$work/walk.nydus"
  drop; secs walk "$work/mnt-erofs/usr" >> "$work/walk.erofs"
done
rn=$(median < "$work/read.nydus"); re=$(median < "$work/read.erofs")
wn=$(median < "$work/walk.nydus"); we=$(median < "$work/walk.erofs")
files=$(find "$tree/usr" | wc -l)
pass() { (( $(echo "$1" | bc -l) )) && echo PASS || echo FAIL; }
printf 'sequential read, 512 MiB, blob cache warm, page cache dropped (median of %d):\n' "$runs"
printf '  nydusd %7.0f MB/s   kernel EROFS %7.0f MB/s   ratio %.2f (target >= 0.5: %s)\n' \
  "$(echo "536.870912 / $rn" | bc -l)" "$(echo "536.870912 / $re" | bc -l)" "$(echo "$re / $rn" | bc -l)" \
  "$(pass "$re / $rn >= 0.5")"
printf 'metadata walk of /usr (%d entries: find -printf + ls -lR, page cache dropped, median of %d):\n' "$files" "$runs"
printf '  nydusd %6.2f s   kernel EROFS %6.2f s   ratio %.2f (target >= 0.5: %s)\n' "$wn" "$we" "$(echo "$we / $wn" | bc -l)" \
  "$(pass "$we / $wn >= 0.5")"
fusermount -u "$work/mnt-tree"; umount "$work/mnt-erofs"

# --- RSS with the Debian image mounted and read through ------------------------------------------------------
bin/nydus-image create -t tar-rafs -B "$work/debian.boot" -D "$work/blobs" "$cache/debian/rootfs.tar" > /dev/null
start_nydusd debian "$work/debian.boot" "$work/blobs"
tar -C "$work/mnt-debian" -cf - . 2>/dev/null | cat > /dev/null
walk "$work/mnt-debian"
pid=$(nydusd_pid debian)
rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status"); hwm=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
printf 'nydusd with the Debian minbase image mounted and every file read: RSS %d MiB (peak %d MiB; target <= 150 MiB: %s)\n' \
  $((rss / 1024)) $((hwm / 1024)) "$( [ $((rss / 1024)) -le 150 ] && echo PASS || echo FAIL)"
fusermount -u "$work/mnt-debian"

# --- heap after mounting a 1,000,000-file image ---------------------------------------------------------------
java "$root/bench/MillionFileTar.java" | NYDUS_IMAGE_JAVA_OPTS="-Xmx2g -XX:+UseParallelGC" \
  bin/nydus-image create -t tar-rafs -B "$work/million.boot" -D "$work/blobs" - > /dev/null
start_nydusd million "$work/million.boot" "$work/blobs"
pid=$(nydusd_pid million)
ls "$work/mnt-million/d10500" > /dev/null
jcmd "$pid" GC.run > /dev/null
used=$(jcmd "$pid" GC.heap_info | grep -oE 'used [0-9]+K' | awk '{gsub("K","",$2); s+=$2} END {print s}')
printf 'heap used after mounting a 1,000,000-file image (%s bytes of bootstrap): %d MiB (target < 64 MiB: %s)\n' \
  "$(stat -c %s "$work/million.boot")" $((used / 1024)) "$( [ $((used / 1024)) -lt 64 ] && echo PASS || echo FAIL)"
