#!/usr/bin/env bash
# Packs iqa-node (with a prebuild made from binding.gyp by node-gyp) and installs the tarball into
# an empty project, then scores an image there through require, import and the CLI.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
bash scripts/prebuild.sh
npm pack --silent --pack-destination "$work" >/dev/null
tarball="$(ls "$work"/iqa-node-*.tgz)"
echo "packed $(basename "$tarball") ($(du -h "$tarball" | cut -f1)): $(tar tzf "$tarball" | grep -c .) files"
tar tzf "$tarball" | grep -q 'package/prebuilds/linux-x64/' || { echo "no prebuild in the tarball" >&2; exit 1; }
mkdir "$work/app"
cd "$work/app"
npm init -y >/dev/null
ONNXRUNTIME_NODE_INSTALL=skip npm install --no-audit --no-fund --prefer-offline "$tarball" >/dev/null
img="$root/test/fixtures/images/rgb8.png"
node -e "require('iqa-node').sharpness('$img').then((s) => { if (!(s > 0)) process.exit(1); console.log('require: sharpness', s); })"
node --input-type=module -e "import { sharpness, IqaError } from 'iqa-node'; const s = await sharpness('$img'); if (!(s > 0) || typeof IqaError !== 'function') process.exit(1); console.log('import: sharpness', s);"
npx --no-install iqa score --metric sharpness "$img"
npx --no-install iqa doctor >/dev/null
echo "pack check passed"
