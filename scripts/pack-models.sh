#!/usr/bin/env bash
# npm prepack: copies OpenCV's LIVE BRISQUE model and range (Apache-2.0, Debian opencv-data) into
# models/opencv/ so that the packed package carries its default metric's model (models/opencv/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
src=/usr/share/opencv4/quality
for f in brisque_model_live.yml brisque_range_live.yml; do
  [ -f "$src/$f" ] || { echo "pack-models: $src/$f missing (apt-get install opencv-data)" >&2; exit 1; }
  cp "$src/$f" models/opencv/
done
