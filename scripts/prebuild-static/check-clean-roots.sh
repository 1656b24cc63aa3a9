#!/usr/bin/env bash
# The proof that a packed tarball installs where nothing else is: for each of Debian 11, 12 and
# 13, a fresh copy of a `debootstrap --variant=minbase` root (no OpenCV, no libsvm, no compiler,
# no opencv-data) gets only Node.js and npm (this machine's: they need glibc and libstdc++) and
# installs the tarball with `npm install --offline` from an npm cache filled here. There it runs
# require, import, `iqa score` (default metric) on a JPEG, PNG and WebP, `iqa compare` and
# `iqa doctor`; checks that a deep model, before the optional peer onnxruntime-node is installed,
# is ERR_DEVICE naming the `npm install onnxruntime-node` line; installs it (the lockfile's
# version) and runs the HyperIQA fixture on CPU; and checks the scores against this machine's
# source build to 1e-12 relative. Needs root; the roots are cached in $IQA_PREBUILD_CACHE.
#   bash scripts/prebuild-static/check-clean-roots.sh PACKAGE.tgz
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
tarball="$(readlink -f "$1")"
cache="${IQA_PREBUILD_CACHE:-$HOME/.cache/iqa-node/prebuild-static}"
mirror="${IQA_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
suites="${IQA_CLEAN_ROOTS:-bullseye bookworm trixie}"
mkdir -p "$cache"

# The npm cache: the tarball's dependencies and the optional peer onnxruntime-node at the
# lockfile's version, fetched once on this machine (online).
ortversion="$(node -p "require('$repo/package-lock.json').packages['node_modules/onnxruntime-node'].version")"
npmcache="$cache/npm-cache"
fill="$(mktemp -d)"
(cd "$fill" && npm init -y >/dev/null && ONNXRUNTIME_NODE_INSTALL=skip npm install --cache "$npmcache" --no-audit --no-fund --omit=dev "$tarball" "onnxruntime-node@$ortversion" >/dev/null)
rm -rf "$fill"

ref="$(node "$here/clean-root-scores.cjs" "$repo/dist/cjs/index.js" "$repo")"
echo "source build: $ref"
npmdir="$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")"

for suite in $suites; do
  base="$cache/clean-$suite"
  if [ ! -f "$base/.ready" ]; then
    rm -rf "$base"
    debootstrap --variant=minbase "$suite" "$base" "$mirror" > "$cache/clean-$suite.log" 2>&1 || { tail -20 "$cache/clean-$suite.log" >&2; exit 1; }
    touch "$base/.ready"
  fi
  work="$(mktemp -d)"
  root="$work/root"
  cp -a "$base" "$root"
  cleanup() { for m in proc; do mountpoint -q "$root/$m" && umount "$root/$m"; done; rm -rf "$work"; }
  trap cleanup EXIT
  mount -t proc proc "$root/proc"
  install -m755 "$(command -v node)" "$root/usr/local/bin/node"
  mkdir -p "$root/usr/local/lib/node_modules" "$root/app" "$root/data/samples" "$root/data/test/fixtures/images"
  cp -r "$npmdir" "$root/usr/local/lib/node_modules/npm"
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
  cp -r "$npmcache" "$root/npm-cache"
  cp "$tarball" "$root/package.tgz"
  cp "$repo"/samples/{dune_jpeg-q10.jpg,aqua_pristine.png,aqua_blur-s3.png} "$root/data/samples/"
  cp "$repo/test/fixtures/images/rgb8.webp" "$root/data/test/fixtures/images/"
  cp -r "$repo/test/fixtures/hyperiqa-tiny" "$root/data/test/fixtures/"
  cp "$here/clean-root-scores.cjs" "$root/app/"
  glibc="$(chroot "$root" /usr/bin/ldd --version)"  # whole output: head would SIGPIPE ldd under pipefail
  glibc="$(grep -o '[0-9.]*$' <<< "${glibc%%$'\n'*}")"
  echo "== Debian $suite (glibc $glibc)"
  chroot "$root" /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/root ONNXRUNTIME_NODE_INSTALL=skip ORT_VERSION="$ortversion" /bin/bash -c '
    set -euo pipefail
    for c in gcc g++ cc cmake pkg-config; do if command -v $c >/dev/null; then echo "the clean root has $c" >&2; exit 1; fi; done
    if ls /usr/lib/x86_64-linux-gnu/libopencv* /usr/lib/x86_64-linux-gnu/libsvm* /usr/share/opencv4 >/dev/null 2>&1; then echo "the clean root has OpenCV or libsvm" >&2; exit 1; fi
    cd /app && npm init -y >/dev/null
    npm install --offline --cache /npm-cache --no-audit --no-fund /package.tgz >/dev/null
    node -e "require(\"iqa-node\").brisque(\"/data/samples/dune_jpeg-q10.jpg\").then((s) => console.log(\"require: brisque\", s))"
    node --input-type=module -e "import { brisque } from \"iqa-node\"; console.log(\"import: brisque\", await brisque(\"/data/samples/aqua_pristine.png\"));"
    npx --no-install iqa score --format jsonl /data/samples/dune_jpeg-q10.jpg /data/samples/aqua_pristine.png /data/test/fixtures/images/rgb8.webp
    npx --no-install iqa compare --metric ssim /data/samples/aqua_pristine.png /data/samples/aqua_blur-s3.png
    npx --no-install iqa doctor > /tmp/doctor.txt && head -4 /tmp/doctor.txt
    if [ -e node_modules/onnxruntime-node ]; then echo "onnxruntime-node was installed without being asked for" >&2; exit 1; fi
    echo "installed without onnxruntime-node: $(du -sm node_modules | cut -f1) MB"
    node -e "require(\"iqa-node\").Model.load(\"/data/test/fixtures/hyperiqa-tiny/model.json\").then(() => process.exit(1), (e) => { console.log(\"deep model without ONNX Runtime:\", e.code, e.message); process.exit(e.code === \"ERR_DEVICE\" && e.message.includes(\"npm install onnxruntime-node\") ? 0 : 1); })"
    npm install --offline --cache /npm-cache --no-audit --no-fund "onnxruntime-node@$ORT_VERSION" >/dev/null
    echo "with onnxruntime-node $ORT_VERSION: $(du -sm node_modules | cut -f1) MB"
    node clean-root-scores.cjs iqa-node /data > /tmp/scores.json' 
  got="$(cat "$root/tmp/scores.json")"
  echo "clean $suite: $got"
  node -e "
    const a = JSON.parse(process.argv[1]), b = JSON.parse(process.argv[2]);
    const bad = a.filter((v, i) => !(Math.abs(v - b[i]) <= 1e-12 * Math.max(1, Math.abs(v))));
    if (a.length !== b.length || bad.length) { console.error('Debian $suite: scores differ from the source build'); process.exit(1); }
    console.log('Debian $suite: ' + a.length + ' scores equal the source build to 1e-12');" "$ref" "$got"
  cleanup
  trap - EXIT
done
echo "clean-root installs passed: $suites"
