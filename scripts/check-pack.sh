#!/usr/bin/env bash
# Packs iqa-node and installs the tarball into an empty project, then scores an image there
# through require, import and the CLI. The prebuild is made from binding.gyp by node-gyp (so that
# path keeps building); as root with debootstrap (CI), it is then replaced by the self-contained
# one (scripts/prebuild-static/build.sh, cached in $IQA_PREBUILD_CACHE), and the tarball is also
# installed in clean Debian 11, 12 and 13 roots (scripts/prebuild-static/check-clean-roots.sh).
# IQA_STATIC_PREBUILD=0 skips the self-contained prebuild.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# Scores from the cmake-js build, to compare with the node-gyp prebuild the tarball carries.
ref_scores="$(node -e "
const iqa = require('./dist/cjs/index.js');
const img = 'samples/aqua_pristine.png';
Promise.all([iqa.brisque(img), iqa.niqe(img), iqa.sharpness(img), iqa.ssim(img, 'samples/aqua_blur-s3.png')])
  .then((s) => console.log(JSON.stringify(s)));")"
bash scripts/prebuild.sh
static=0
if [ "${IQA_STATIC_PREBUILD:-1}" != 0 ] && [ "$(id -u)" = 0 ] && command -v debootstrap >/dev/null; then
  echo "self-contained prebuild (Debian 11 root, static dependencies)"
  start_static=$(date +%s)
  bash scripts/prebuild-static/build.sh
  echo "self-contained prebuild made in $(( $(date +%s) - start_static )) s"
  static=1
fi
npm pack --silent --pack-destination "$work" >/dev/null
tarball="$(ls "$work"/iqa-node-*.tgz)"
tar tzf "$tarball" > "$work/contents.txt"  # listed to a file: grep -q on a pipe would SIGPIPE tar under pipefail
echo "packed $(basename "$tarball") ($(du -h "$tarball" | cut -f1)): $(grep -c . "$work/contents.txt") files"
grep -q 'package/prebuilds/linux-x64/' "$work/contents.txt" || { echo "no prebuild in the tarball" >&2; exit 1; }
# The default metric's model travels with the package (scripts/pack-models.sh, npm prepack).
for f in brisque_model_live.yml brisque_range_live.yml; do
  grep -qx "package/models/opencv/$f" "$work/contents.txt" || { echo "models/opencv/$f missing from the tarball" >&2; exit 1; }
done
mkdir "$work/app"
cd "$work/app"
npm init -y >/dev/null
ONNXRUNTIME_NODE_INSTALL=skip npm install --no-audit --no-fund --prefer-offline "$tarball" >/dev/null
img="$root/test/fixtures/images/rgb8.png"
node -e "require('iqa-node').sharpness('$img').then((s) => { if (!(s > 0)) process.exit(1); console.log('require: sharpness', s); })"
node --input-type=module -e "import { sharpness, IqaError } from 'iqa-node'; const s = await sharpness('$img'); if (!(s > 0) || typeof IqaError !== 'function') process.exit(1); console.log('import: sharpness', s);"
npx --no-install iqa score --metric sharpness "$img"
# The drop-ins resolve for tools that ignore "exports" (Jest <= 27): plain file paths in the package,
# the same functions as the exports map's.
node -e "
const a = require('./node_modules/iqa-node/ssim.js'), b = require('iqa-node/ssim.js');
const c = require('./node_modules/iqa-node/image-ssim'), d = require('iqa-node/image-ssim');
if (a.ssim !== b.ssim || typeof a.ssim !== 'function' || c.compare !== d.compare || typeof c.compare !== 'function') process.exit(1);
console.log('drop-ins resolve without exports');"
# The node-gyp prebuild (binding.gyp) must compute what the cmake-js build computes.
pack_scores="$(cd "$work/app" && node -e "
const iqa = require('iqa-node');
const root = process.argv[1];
const img = root + '/samples/aqua_pristine.png';
Promise.all([iqa.brisque(img), iqa.niqe(img), iqa.sharpness(img), iqa.ssim(img, root + '/samples/aqua_blur-s3.png')])
  .then((s) => console.log(JSON.stringify(s)));" "$root")"
echo "cmake-js build: $ref_scores"
echo "packed prebuild: $pack_scores"
# Same computation, different compilers' flags: equal to 1e-12 relative (float summation order may
# differ in the last bits; a real divergence, like a missing flag, shows up as 1e-3 or more).
node -e "
const a = JSON.parse(process.argv[1]), b = JSON.parse(process.argv[2]);
const bad = a.filter((v, i) => !(Math.abs(v - b[i]) <= 1e-12 * Math.max(1, Math.abs(v))));
if (a.length !== b.length || bad.length) { console.error('the node-gyp prebuild and the cmake-js build disagree'); process.exit(1); }
" "$ref_scores" "$pack_scores"
npx --no-install iqa doctor >/dev/null
if [ "$static" = 1 ]; then
  cd "$root"
  bash scripts/prebuild-static/check-clean-roots.sh "$tarball"
fi
echo "pack check passed"
