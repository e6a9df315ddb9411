#!/usr/bin/env bash
# Installs what building and testing this project needs on Debian 12 (run as root). Idempotent.
set -euo pipefail
pkgs=(openjdk-17-jdk-headless maven
      erofs-utils fuse libfuse2 attr acl zstd time bc curl openssl iproute2 xz-utils libisal2
      docker-registry skopeo umoci apache2-utils
      containerd runc
      debootstrap busybox-static)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "install-deps: missing packages (${missing[*]}); run as root" >&2
    exit 1
  fi
  echo "install-deps: installing ${missing[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The Debian distribution registry package enables a system service on all interfaces; tests start their own.
if systemctl is-active --quiet docker-registry 2>/dev/null; then systemctl stop docker-registry || true; fi
modprobe fuse 2>/dev/null || true
