#!/usr/bin/env bash
# Golden BRISQUE scores from OpenCV's own cv::quality::QualityBRISQUE (Debian
# libopencv-contrib-dev 4.6, LIVE model from opencv-data) for test/brisque.test.ts:
# the 5 calibration images and all 3,000 BIQ2021 images (74 carry EXIF orientation 6, which
# cv::imread applies), sorted by name. Writes test/golden/brisque_opencv.json.
# Needs ../shared (the shared reference data) next to the project.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
data="$(cd "$root/../shared/data" && pwd)"
build="$root/build-tools"
model=/usr/share/opencv4/quality/brisque_model_live.yml
range=/usr/share/opencv4/quality/brisque_range_live.yml

cmake -S "$root" -B "$build" -DIQA_BUILD_TOOLS=ON -DIQA_BUILD_ADDON=OFF -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" --target opencv_brisque_ref -j 2 >/dev/null

list="$(mktemp)"
trap 'rm -f "$list"' EXIT
for f in "$data"/calibration/dist_dir/*.bmp; do echo "$f"; done >"$list"
(cd "$data/biq2021/images" && ls | LC_ALL=C sort | sed "s|^|$data/biq2021/images/|") >>"$list"

"$build/opencv_brisque_ref" "$model" "$range" "$data/" <"$list" >"$root/test/golden/brisque_opencv.json"
echo "wrote test/golden/brisque_opencv.json ($(grep -c '": ' "$root/test/golden/brisque_opencv.json") entries)"
