#!/usr/bin/env bash
# iqa-node's own JPEG/PNG decoders against OpenCV's cv::imdecode, pixel for pixel, on all 3,000
# shared BIQ2021 JPEGs and the format fixtures (native/tools/decode_parity.cpp). Needs ../shared.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
data="$(cd "$root/../shared/data" && pwd)"
build="$root/build-tools"
cmake -S "$root" -B "$build" -DIQA_BUILD_TOOLS=ON -DIQA_BUILD_ADDON=OFF -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" --target decode_parity -j 2 >/dev/null
{ ls "$data"/biq2021/images/* ; ls "$root"/test/fixtures/formats/*.png "$root"/test/fixtures/formats/*.jpg "$root"/test/fixtures/images/*.png "$root"/test/fixtures/images/*.jpg; } | "$build/decode_parity"
