#!/usr/bin/env bash
# Our quiet AV1 plugin for libheif against libheif's own dav1d and aom plugins, byte for byte,
# on AVIFs that Pillow writes from a calibration image (4:2:0, 4:2:2, 4:4:4, grey, RGBA, odd
# sizes) and on the committed AVIF fixtures (native/tools/heif_plugin_parity.cpp). Needs
# ../shared and a Python with Pillow >= 11.3 (AVIF): PYTHON=/path/to/python.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
image="$(cd "$root/../shared/data/calibration/dist_dir" && pwd)/I03.bmp"
build="$root/build-tools"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"${PYTHON:-python3}" - "$image" "$work" <<'PY'
import sys
from PIL import Image
src, out = sys.argv[1], sys.argv[2]
im = Image.open(src).convert('RGB')
for sub in ('4:2:0', '4:2:2', '4:4:4'):
    tag = sub.replace(':', '')
    im.save(f'{out}/rgb{tag}.avif', quality=70, subsampling=sub)
    im.resize((333, 251)).save(f'{out}/odd{tag}.avif', quality=60, subsampling=sub)
im.convert('L').save(f'{out}/grey.avif', quality=70)
im.convert('RGBA').save(f'{out}/rgba.avif', quality=70)
im.resize((1600, 1200)).save(f'{out}/large.avif', quality=50)
PY
cmake -S "$root" -B "$build" -DIQA_BUILD_TOOLS=ON -DIQA_BUILD_ADDON=OFF -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" --target heif_plugin_parity -j 2 >/dev/null
{ ls "$work"/*.avif; ls "$root"/test/fixtures/formats/*.avif; } | "$build/heif_plugin_parity"
