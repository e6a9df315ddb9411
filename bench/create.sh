#!/usr/bin/env bash
# Benchmark of `nydus-image create` (issue "Foundation", check 4), all figures from one run:
#  1. wall time of `nydus-image create` (v6 defaults, JVM start included) on the Debian minbase rootfs tar, vs
#     `mkfs.erofs -zlz4` on the same tree (erofs-utils 1.5 has no --tar, so it reads the unpacked directory);
#     median of N runs each, warm page cache for both. Target: ratio <= 1.0.
#  2. peak RSS of `nydus-image create` on a ~2 GiB tar. Target: <= 512 MiB.
# Usage: bench/create.sh [N]     (needs ./setup.sh --no-demo first; run as root)
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
n="${1:-5}"
cache="${NYDUS_TESTDATA_CACHE:-/var/cache/nydus-testdata}"
testdata/scripts/debian-rootfs.sh "$cache/debian"
tar="$cache/debian/rootfs.tar"
rootfs="$cache/debian/rootfs"
work="$(mktemp -d /tmp/nydus-bench-create.XXXXXX)"
trap 'rm -rf "$work"' EXIT

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
timeit() { local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N); echo "$e - $s" | bc -l; }

cat "$tar" > /dev/null; find "$rootfs" -type f -exec cat {} + > /dev/null 2>&1 || true
bin/nydus-image --version > /dev/null   # first run builds the class-data archive
for i in $(seq "$n"); do
  rm -rf "$work/out" "$work/erofs.img"
  timeit bin/nydus-image create -t tar-rafs -B "$work/boot" -D "$work/out" "$tar" >> "$work/nydus.t"
  timeit mkfs.erofs -zlz4 "$work/erofs.img" "$rootfs" >> "$work/erofs.t"
done
tn=$(median < "$work/nydus.t"); te=$(median < "$work/erofs.t")
size_in=$(stat -c %s "$tar"); size_blob=$(du -cb "$work"/out/* | tail -1 | cut -f1); size_erofs=$(stat -c %s "$work/erofs.img")
ratio=$(echo "$tn / $te" | bc -l)
printf 'create: Debian minbase rootfs tar, %d MB, %d files, median of %d runs\n' $((size_in/1000000)) "$(tar -tf "$tar" | wc -l)" "$n"
printf '  nydus-image create (v6, zstd, sha256, 1 MiB chunks): %6.2f s  -> %d MB blob + bootstrap\n' "$tn" $((size_blob/1000000))
printf '  mkfs.erofs -zlz4                                   : %6.2f s  -> %d MB image\n' "$te" $((size_erofs/1000000))
printf '  ratio nydus/erofs: %.2f  (target <= 1.0: %s)\n' "$ratio" "$( (( $(echo "$ratio <= 1.0" | bc) )) && echo PASS || echo FAIL)"

# A ~2 GiB layer: the rootfs five times over (distinct copies) plus 1.2 GiB of incompressible data.
big="$work/big"; mkdir -p "$big"
for i in 1 2 3 4 5; do cp -a "$rootfs" "$big/copy$i"; done
head -c 1200M /dev/urandom > "$big/random.bin"
tar --numeric-owner -C "$big" -cf "$work/big.tar" .
rm -rf "$big"
bytes=$(stat -c %s "$work/big.tar")
rm -rf "$work/out"
/usr/bin/time -f '%M %e' -o "$work/rss" bin/nydus-image create -t tar-rafs -B "$work/boot" -D "$work/out" "$work/big.tar" >/dev/null
read -r rss_kb secs < "$work/rss"
printf 'memory: %.2f GiB tar in %.1f s, peak RSS %d MiB (target <= 512 MiB: %s)\n' "$(echo "$bytes/1073741824" | bc -l)" "$secs" \
  $((rss_kb/1024)) "$( [ $((rss_kb/1024)) -le 512 ] && echo PASS || echo FAIL)"
