#!/usr/bin/env bash
# The self-contained Linux x64 prebuild: prebuilds/linux-x64/iqa-node.node linked against static
# OpenCV (core, imgproc, imgcodecs), FFmpeg, libheif/libde265/dav1d, libjpeg-turbo, libpng,
# libwebp, giflib, libtiff, libzip, libsvm, zlib and libstdc++, so that it needs only
# glibc (2.31, Debian 11) at run time. Built inside a Debian 11 root made with debootstrap from
# Debian's archive; the sources are Debian's pool tarballs of bookworm's versions (sources.txt,
# sha256-checked), so pixels and scores match the Debian 12 source build.
#
# Everything lands in a cache outside the clone ($IQA_PREBUILD_CACHE, default
# ~/.cache/iqa-node/prebuild-static): the root, the sources and the static libraries; a second run
# only relinks the addon (about a minute). Needs root (debootstrap, chroot, mount).
#   bash scripts/prebuild-static/build.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cache="${IQA_PREBUILD_CACHE:-$HOME/.cache/iqa-node/prebuild-static}"
root="$cache/bullseye"
mirror="${IQA_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
mkdir -p "$cache/src"

# 1. Sources (a bookworm point release can replace a version on the mirror: the cache keeps ours).
grep -v '^#' "$here/sources.txt" | while read -r sha path; do
  f="$cache/src/$(basename "$path")"
  if [ ! -f "$f" ]; then curl -sSfL -o "$f.part" "$mirror/$path" && mv "$f.part" "$f"; fi
  echo "$sha  $f" | sha256sum -c --quiet - || { echo "checksum mismatch: $f" >&2; exit 1; }
done

# 2. The Debian 11 root with the compilers and build tools.
if [ ! -f "$root/.ready" ]; then
  rm -rf "$root"
  debootstrap --variant=minbase --include=build-essential,cmake,nasm,meson,ninja-build,pkg-config,python3,xz-utils,bzip2 \
    bullseye "$root" "$mirror" > "$cache/debootstrap.log" 2>&1 || { tail -20 "$cache/debootstrap.log" >&2; exit 1; }
  touch "$root/.ready"
fi

# 3. Mounts: /proc, the sources, this clone at /repo; Node.js (the host's binary: it needs only
# glibc and libstdc++) and its headers for the addon build.
mkdir -p "$root/src" "$root/repo" "$root/build" "$root/usr/local/include"
cleanup() { for m in repo src proc; do mountpoint -q "$root/$m" && umount "$root/$m"; done; }
trap cleanup EXIT
mountpoint -q "$root/proc" || mount -t proc proc "$root/proc"
mountpoint -q "$root/src" || mount --bind "$cache/src" "$root/src"
mountpoint -q "$root/repo" || mount --bind "$repo" "$root/repo"
install -m755 "$(command -v node)" "$root/usr/local/bin/node"
nodeinc="$(dirname "$(dirname "$(command -v node)")")/include/node"
[ -f "$nodeinc/node_api.h" ] || { echo "no Node.js headers at $nodeinc" >&2; exit 1; }
rm -rf "$root/usr/local/include/node" && cp -r "$nodeinc" "$root/usr/local/include/node"

# 4. The static libraries (cached per step), then the addon.
cp "$here/build-deps.sh" "$root/build-deps.sh"
chroot "$root" env JOBS="${JOBS:-$(nproc)}" bash /build-deps.sh
chroot "$root" bash -c 'set -e
  rm -rf /build/addon
  cmake -S /repo -B /build/addon -DCMAKE_BUILD_TYPE=Release -DIQA_STATIC_PREFIX=/opt/iqa-static -DCMAKE_JS_INC=/usr/local/include/node >/build/addon.log
  cmake --build /build/addon -j'"${JOBS:-$(nproc)}"' >>/build/addon.log
  strip --strip-unneeded /build/addon/Release/iqa_node.node 2>/dev/null || strip --strip-unneeded /build/addon/iqa_node.node'
built="$root/build/addon/Release/iqa_node.node"
[ -f "$built" ] || built="$root/build/addon/iqa_node.node"
mkdir -p "$repo/prebuilds/linux-x64"
cp "$built" "$repo/prebuilds/linux-x64/iqa-node.node"

# 5. What it needs at run time: glibc only.
needed="$(readelf -d "$repo/prebuilds/linux-x64/iqa-node.node" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' | sort | tr '\n' ' ')"
echo "prebuilds/linux-x64/iqa-node.node ($(du -h "$repo/prebuilds/linux-x64/iqa-node.node" | cut -f1)) needs: $needed"
for lib in $needed; do
  case "$lib" in libc.so.6|libm.so.6|libpthread.so.0|libdl.so.2|librt.so.1|ld-linux-x86-64.so.2) ;; *) echo "not self-contained: needs $lib" >&2; exit 1 ;; esac
done
echo "glibc needed up to: $(objdump -T "$repo/prebuilds/linux-x64/iqa-node.node" | grep -o 'GLIBC_[0-9.]*' | sort -t. -k2,2n -k3,3n -u | tail -1)"
