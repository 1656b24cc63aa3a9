#!/usr/bin/env bash
# Golden RankIQA scores (test/golden/rankiqa_tiny.json) for the seeded narrow fixture
# test/fixtures/rankiqa-tiny: tools/export/export_rankiqa.py writes the seeded weights as a
# .caffemodel and its deploy .prototxt; OpenCV's own Caffe importer and dnn runs them on 30 crops per
# image at iqa-node's seeded positions (native/tools/opencv_caffe_crops.cpp) - independent of the
# .caffemodel reader, PyTorch and the ONNX graph iqa-node runs. When ../shared exists, also
# `calibration` (I03 I04 I06 I08 I19, by name without extension; I03 and I19 are in `images` too) and
# `biq2021` (the first 20 names, sorted, of ../shared/data/biq2021/train-subset.csv), for
# test/helpers.ts worstSharedDelta.
#   PYTHON=/work/pyenv/bin/python bash scripts/golden/rankiqa_reference.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
py=${PYTHON:-python3}
build="$root/build-tools"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$py" "$root/tools/export/export_rankiqa.py" --weights random --config tiny --seed 9 --out-dir "$root/test/fixtures/rankiqa-tiny" --name rankiqa-tiny \
  --save-caffemodel "$tmp/seeded.caffemodel" --prototxt "$tmp/deploy.prototxt" >/dev/null 2>&1
cmake -S "$root" -B "$build" -DIQA_BUILD_TOOLS=ON -DIQA_BUILD_ADDON=OFF -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" --target opencv_caffe_crops -j 2 >/dev/null
images=("$root"/test/fixtures/hyperiqa-tiny/img0.png "$root"/test/fixtures/hyperiqa-tiny/img1.png "$root"/test/fixtures/hyperiqa-tiny/img2.png)
cal="$root/../shared/data/calibration/dist_dir"
biq="$root/../shared/data/biq2021"
shared=()
if [ -d "$root/../shared/data" ]; then
  for f in I03 I04 I06 I08 I19; do shared+=("$cal/$f.bmp"); done
  mapfile -t names < <("$py" -c 'import csv, sys; print("\n".join(sorted(r["image"] for r in csv.DictReader(open(sys.argv[1])))[:20]))' "$biq/train-subset.csv")
  for n in "${names[@]}"; do shared+=("$biq/images/$n"); done
fi
"$build/opencv_caffe_crops" "$tmp/deploy.prototxt" "$tmp/seeded.caffemodel" fc8 224 30 0 "${images[@]}" "${shared[@]}" >"$tmp/out.jsonl"
node -e '
const fs = require("fs"), path = require("path");
const root = process.argv[1];
const rows = fs.readFileSync(process.argv[2], "utf8").trim().split("\n").map((l) => JSON.parse(l));
const entry = (r, where) => ({ where, file: path.basename(r.file), crops: r.crops, score: r.mean });
// rows: the 3 fixture images, then (with ../shared) the 5 calibration images and the 20 BIQ2021 images.
const cal = rows.slice(3, 8), biq = rows.slice(8);
const images = [...rows.slice(0, 3).map((r) => entry(r, "fixture")), ...cal.filter((r) => /\/I(03|19)\.bmp$/.test(r.file)).map((r) => entry(r, "shared"))];
const byName = (rs, name) => (rs.length ? Object.fromEntries(rs.map((r) => [name(r), { crops: r.crops, score: r.mean }])) : null);
const golden = { generator: "scripts/golden/rankiqa_reference.sh", reference: "OpenCV 4.6 dnn readNetFromCaffe", images,
  calibration: byName(cal, (r) => path.basename(r.file, ".bmp")), biq2021: byName(biq, (r) => path.basename(r.file)) };
fs.writeFileSync(path.join(root, "test/golden/rankiqa_tiny.json"), JSON.stringify(golden, null, 1) + "\n");
' "$root" "$tmp/out.jsonl"
echo "wrote test/golden/rankiqa_tiny.json (${#images[@]} fixture + ${#shared[@]} shared images)"
