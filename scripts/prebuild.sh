#!/usr/bin/env bash
# Node-API prebuild with node-gyp from binding.gyp (the build consumers without cmake use),
# into prebuilds/<platform>-<arch>/ where node-gyp-build finds it. Node's headers are taken from
# the local installation, so nothing is downloaded.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/fetch-ort-headers.sh
if [ -z "${npm_config_nodedir:-}" ]; then
  nodedir="$(dirname "$(dirname "$(command -v node)")")"
  [ -f "$nodedir/include/node/node_api.h" ] && export npm_config_nodedir="$nodedir"
fi
npx prebuildify --napi --strip
