#!/usr/bin/env bash
# Golden RankIQA scores (test/golden/rankiqa_tiny.json) for the seeded narrow fixture
# test/fixtures/rankiqa-tiny: tools/export/export_rankiqa.py writes the seeded weights as a
# .caffemodel and its deploy .prototxt; OpenCV's own Caffe importer and dnn runs them on 30 crops per
# image at iqa-node's seeded positions (native/tools/opencv_caffe_crops.cpp) - independent of the
# .caffemodel reader, PyTorch and the ONNX graph iqa-node runs.
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
for f in I03 I19; do [ -f "$root/../shared/data/calibration/dist_dir/$f.bmp" ] && images+=("$root/../shared/data/calibration/dist_dir/$f.bmp"); done
"$build/opencv_caffe_crops" "$tmp/deploy.prototxt" "$tmp/seeded.caffemodel" fc8 224 30 0 "${images[@]}" >"$tmp/out.jsonl"
node -e '
const fs = require("fs"), path = require("path");
const root = process.argv[1];
const rows = fs.readFileSync(process.argv[2], "utf8").trim().split("\n").map((l) => JSON.parse(l));
const images = rows.map((r) => ({ where: r.file.includes("/shared/") ? "shared" : "fixture", file: path.basename(r.file), crops: r.crops, score: r.mean }));
fs.writeFileSync(path.join(root, "test/golden/rankiqa_tiny.json"), JSON.stringify({ generator: "scripts/golden/rankiqa_reference.sh", reference: "OpenCV 4.6 dnn readNetFromCaffe", images }, null, 1) + "\n");
' "$root" "$tmp/out.jsonl"
echo "wrote test/golden/rankiqa_tiny.json (${#images[@]} images)"
