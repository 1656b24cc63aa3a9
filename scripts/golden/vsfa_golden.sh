#!/usr/bin/env bash
# Regenerates the VSFA test fixture (a seeded tiny-backbone model with the real graph contract,
# test/fixtures/models/vsfa-tiny/) and its golden per-frame and pooled scores from the independent
# PyTorch re-implementation of the authors' procedure (scripts/golden/vsfa_reference.py).
#   PYTHON=/path/to/python-with-torch bash scripts/golden/vsfa_golden.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PYTHON:-python3}
out=test/fixtures/models/vsfa-tiny
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out"
"$PY" tools/export/export_vsfa.py --weights random --config tiny --seed 3 --name vsfa-tiny --out-dir "$out" --save-state "$tmp/state.pt"
videos=(test/fixtures/video/testsrc.mp4)
[ -f ../shared/data/video/vsfa_test.mp4 ] && videos+=(../shared/data/video/vsfa_test.mp4)
"$PY" scripts/golden/vsfa_reference.py --state "$tmp/state.pt" --config tiny "${videos[@]}" > test/golden/vsfa_tiny.json
echo "wrote $out and test/golden/vsfa_tiny.json"
