#!/usr/bin/env bash
# Fetch the ONNX Runtime C/C++ headers from Debian trixie's libonnxruntime-dev into
# third_party/onnxruntime/include without installing the package (its runtime library would
# clash with the one onnxruntime-node ships; we only need the versioned C API headers).
# The archive address is taken from this machine's own apt configuration.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dest="$root/third_party/onnxruntime"
if [ -f "$dest/include/onnxruntime_c_api.h" ]; then exit 0; fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
uri=""
if [ -f /etc/apt/sources.list.d/debian.sources ]; then
  uri="$(awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)"
fi
if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
  uri="$(awk '$1=="deb" && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list)"
fi
[ -n "$uri" ] || { echo "fetch-ort-headers: no Debian archive found in the apt configuration" >&2; exit 1; }
mkdir -p "$work/lists/partial" "$work/cache/archives/partial"
echo "deb [trusted=yes] $uri trixie main" > "$work/sources.list"
opts=(-o Dir::Etc::SourceList="$work/sources.list" -o Dir::Etc::SourceParts=/dev/null
      -o Dir::State::Lists="$work/lists" -o Dir::Cache="$work/cache" -o APT::Architecture=amd64
      -o Acquire::Check-Valid-Until=false -o Debug::NoLocking=1 -o APT::Sandbox::User=root)
apt-get "${opts[@]}" update -qq >/dev/null
(cd "$work" && apt-get "${opts[@]}" download libonnxruntime-dev >/dev/null)
dpkg-deb -x "$work"/libonnxruntime-dev_*.deb "$work/x"
mkdir -p "$dest/include"
cp "$work"/x/usr/include/onnxruntime/*.h "$dest/include/"
dpkg-deb -f "$work"/libonnxruntime-dev_*.deb Version > "$dest/VERSION"
echo "ONNX Runtime headers $(cat "$dest/VERSION") -> $dest/include"
