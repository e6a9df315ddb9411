#!/usr/bin/env bash
# The main job on the embedded default (no outside service: a local OCI image layout, the localfs backend):
#   1. nydus-image: build a RAFS v6 image from a sample tree, check, inspect and unpack it;
#   2. nydusify: convert a two-layer OCI image (with a whiteout) between local OCI layouts, check the result
#      against the source, mount it through nydusd and run a program from the mount.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
work="$(mktemp -d /tmp/nydus-demo.XXXXXX)"
mnt="$work/mnt"
mpid=""
cleanup() {
  [ -n "$mpid" ] && kill "$mpid" 2>/dev/null && wait "$mpid" 2>/dev/null
  mountpoint -q "$mnt" 2>/dev/null && fusermount -u -z "$mnt"
  rm -rf "$work"
}
trap cleanup EXIT

# type, mode, owner, size, nanosecond mtime, symlink target, device numbers, xattrs and content of each entry
listing() {
  (cd "$1" && find . -mindepth 1 \( -type d -printf '%y %m %U:%G %T@ %P\n' \) -o \( ! -type d -printf '%y %m %U:%G %s %T@ %l %P\n' \) | sort
   cd "$1" && find . -type f -print0 | sort -z | xargs -0 sha256sum
   cd "$1" && find . \( -type c -o -type b \) -exec stat -c '%n %t:%T' {} +
   getfattr -R -h -d -m - --absolute-names . 2>/dev/null || true)
}

src="$work/src"
cp -a testdata/sample "$src"
mkdir -p "$src/bin" "$src/usr/share/doc/hello"
cp /bin/busybox "$src/bin/busybox"
for applet in sh cat ls; do ln -s busybox "$src/bin/$applet"; done
head -c 3000000 < <(yes "nydus rafs: lazily fetched, chunked, deduplicated, verified") > "$src/usr/share/doc/hello/README"
# entries git cannot carry: a hard link, a device, a fifo, an xattr, a big owner id and a nanosecond mtime
ln "$src/etc/motd" "$src/etc/motd.hardlink"
mknod "$src/null" c 1 3
mkfifo "$src/fifo"
setfattr -n user.demo -v nydus "$src/etc/motd"
chown 100000:100000 "$src/usr/bin/hello"
touch -d @1700000000.123456789 "$src/etc/passwd"

echo "== 1. nydus-image create (RAFS v6, zstd, 1 MiB chunks, blob with inline meta and TOC)"
bin/nydus-image create --blob-inline-meta --features blob-toc -B "$work/image.boot" -b "$work/image.blob" "$src"
ls -l "$work/image.boot" "$work/image.blob"
bin/nydus-image check -v --blob "$work/image.blob" "$work/image.boot"
bin/nydus-image inspect -R stats "$work/image.boot"
bin/nydus-image inspect -R "stat /etc/motd" "$work/image.boot"
bin/nydus-image unpack "$work/image.boot" --blob "$work/image.blob" --output "$work/image.tar"
mkdir "$work/out"
tar --xattrs --xattrs-include='*' --numeric-owner -xpf "$work/image.tar" -C "$work/out"
diff <(listing "$src") <(listing "$work/out") \
  && echo "unpacked tree equals the source: contents, modes, owners, nanosecond mtimes, links, devices, xattrs"

echo "== 2. an OCI image in a local layout: the sample as layer 1, a layer 2 that deletes a file"
umoci init --layout "$work/oci"
umoci new --image "$work/oci:v1"
umoci unpack --image "$work/oci:v1" "$work/bundle" > /dev/null
rm -rf "$work/bundle/rootfs" && cp -a "$src" "$work/bundle/rootfs"
umoci repack --image "$work/oci:v1" "$work/bundle" > /dev/null
mkdir -p "$work/layer2/etc" && touch "$work/layer2/etc/.wh.passwd" && echo "added by layer 2" > "$work/layer2/etc/issue"
tar --numeric-owner -C "$work/layer2" -cf "$work/layer2.tar" .
umoci raw add-layer --image "$work/oci:v1" --tag v2 "$work/layer2.tar"
rm -rf "$work/bundle"

echo "== nydusify convert oci:…:v2 -> oci:…:v2-nydus"
bin/nydusify convert --source "oci:$work/oci:v2" --target "oci:$work/nydus:v2"
echo "== nydusify check: every file of the nydus image equals the source image's, layers merged"
bin/nydusify check --source "oci:$work/oci:v2" --target "oci:$work/nydus:v2"

echo "== nydusify mount (nydusd, localfs backend on the layout) and a program run from the mount"
mkdir -p "$mnt"
bin/nydusify mount --target "oci:$work/nydus:v2" --mountpoint "$mnt" --work-dir "$work/mount" > "$work/mount.log" 2>&1 &
mpid=$!
for _ in $(seq 300); do mountpoint -q "$mnt" && break; sleep 0.1; done
mountpoint -q "$mnt" || { cat "$work/mount.log" >&2; exit 1; }
chroot "$mnt" /bin/busybox sh -c 'cat /etc/motd /etc/issue; /usr/bin/hello; ls /etc'
[ ! -e "$mnt/etc/passwd" ] && echo "/etc/passwd is gone: layer 2's whiteout applied"
umoci unpack --image "$work/oci:v2" "$work/expected" > /dev/null
diff <(listing "$work/expected/rootfs") <(listing "$mnt") \
  && echo "the mounted nydus image equals the OCI image unpacked by umoci"
kill "$mpid"; wait "$mpid" 2>/dev/null || true; mpid=""
mountpoint -q "$mnt" || echo "unmounted"
