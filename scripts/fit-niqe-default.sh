#!/usr/bin/env bash
# Fits the default NIQE pristine model (models/niqe-default.json) from freely licensed
# photographs that Debian ships in lomiri-wallpapers-16.04 (Ubuntu community wallpaper
# contest 2018). Only the photographs under CC0-1.0 or CC-BY-4.0 are used (listed below with
# their authors; see models/niqe-default.md). The package is downloaded and unpacked into a
# cache folder (nothing is installed), then `iqa train niqe` fits the model with the NIQE
# release's procedure (96x96 patches, sharpness threshold 0.75) on the photographs shrunk to a
# longer side of MAX_SIDE pixels (the release's own pristine set is 480x320 to 1280x720).
#
# Usage: scripts/fit-niqe-default.sh [OUT.json]     (needs: apt-get, dpkg-deb, a built iqa)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${1:-$ROOT/models/niqe-default.json}"
MAX_SIDE="${MAX_SIDE:-1280}"
PKG=lomiri-wallpapers-16.04
PKG_VERSION=20.04.0-2
CACHE="${IQA_CACHE:-$ROOT/.cache}/niqe-pristine"

# file|licence|author (from the package's debian/copyright)
PHOTOS=(
  "aitzgorri_by_Aitzol_Berasategi.jpg|CC-BY-4.0|Aitzol Berasategi"
  "friends_by_Aitzol_Berasategi.jpg|CC-BY-4.0|Aitzol Berasategi"
  "life_by_Aitzol_Berasategi.jpg|CC-BY-4.0|Aitzol Berasategi"
  "picosdeeuropa_by_Aitzol_Berasategi.jpg|CC-BY-4.0|Aitzol Berasategi"
  "sunset_by_Aitzol_Berasategi.jpg|CC-BY-4.0|Aitzol Berasategi"
  "Picture_0B_by_freespace.jpg|CC-BY-4.0|Trevor \"Freespace\""
  "Picture_1A_by_freespace.jpg|CC-BY-4.0|Trevor \"Freespace\""
  "Wine_by_Jakkub_Mede.jpg|CC-BY-4.0|Jakub Mede"
  "seeding_by_Clements_Engelhardt.jpg|CC0-1.0|Clemens Engelhardt"
)

mkdir -p "$CACHE/photos"
if [ ! -d "$CACHE/pkg/usr/share/backgrounds" ]; then
  (cd "$CACHE" && rm -f ${PKG}_*.deb && apt-get download "$PKG=$PKG_VERSION" 2>/dev/null || apt-get download "$PKG")
  mkdir -p "$CACHE/pkg"
  dpkg-deb -x "$CACHE"/${PKG}_*.deb "$CACHE/pkg"
fi
rm -f "$CACHE/photos"/*
for entry in "${PHOTOS[@]}"; do
  file="${entry%%|*}"
  src="$CACHE/pkg/usr/share/backgrounds/$file"
  [ -f "$src" ] || { echo "missing $src (package content changed?)" >&2; exit 1; }
  cp "$src" "$CACHE/photos/$file"
done
( cd "$CACHE/pkg/usr/share/backgrounds" && for e in "${PHOTOS[@]}"; do sha256sum "${e%%|*}"; done ) > "$CACHE/photos.sha256"

node "$ROOT/dist/cjs/cli/index.js" train niqe --images "$CACHE/photos" --out "$OUT" --max-side "$MAX_SIDE" \
  --description "iqa-node default NIQE model: $PKG $PKG_VERSION (Debian), ${#PHOTOS[@]} CC0/CC-BY-4.0 photographs, longer side ${MAX_SIDE}px; see models/niqe-default.md"
echo "photo checksums: $CACHE/photos.sha256"
