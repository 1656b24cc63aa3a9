#!/usr/bin/env bash
# Golden BRISQUE scores from OpenCV's own cv::quality::QualityBRISQUE (Debian
# libopencv-contrib-dev 4.6, LIVE model from opencv-data) for test/brisque.test.ts:
# the 5 calibration images and every third BIQ2021 image (1,000 of 3,000, sorted by name),
# plus ss01 (1457).jpg, the set's one flat image. Writes test/golden/brisque_opencv.json.
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
(cd "$data/biq2021/images" && ls | LC_ALL=C sort | awk 'NR % 3 == 1' | sed "s|^|$data/biq2021/images/|") >>"$list"
grep -qF "ss01 (1457).jpg" "$list" || echo "$data/biq2021/images/ss01 (1457).jpg" >>"$list"

"$build/opencv_brisque_ref" "$model" "$range" "$data/" <"$list" >"$root/test/golden/brisque_opencv.json"
echo "wrote test/golden/brisque_opencv.json ($(grep -c '": ' "$root/test/golden/brisque_opencv.json") entries)"
