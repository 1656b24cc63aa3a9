#!/usr/bin/env python3
"""Fixtures and goldens for test/zoo-wadiqam.test.ts:

- test/fixtures/{wadiqam-nr,diqam-nr}-seeded: tools/export/export_wadiqam.py --weights random
  --divisor 16 (widths / 16: 2..32 channels, a few hundred kB), weighted and patchwise tops;
- the Chainer HDF5 reader checked by a round trip: the seeded weights written in the Chainer
  layout, exported again with --checkpoint, the two ONNX graphs must agree on random patches;
- test/golden/wadiqam.json: scripts/golden/wadiqam_reference.py (PIL + numpy + torch, the
  authors' evaluate.py procedure) on the fixture images (per-patch scores and weights), the five
  calibration images and the first 20 BIQ2021 images of ../shared (when present).

  /work/pyenv/bin/python scripts/golden/wadiqam_golden.py
"""
from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnxruntime as ort

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, '..', '..'))
SHARED = os.path.abspath(os.path.join(ROOT, '..', 'shared'))
IMAGES = os.path.join(ROOT, 'test', 'fixtures', 'patch-images')
EXPORT = os.path.join(ROOT, 'tools', 'export', 'export_wadiqam.py')
sys.path.insert(0, HERE)
from wadiqam_reference import score  # noqa: E402
from wadiqam_model import seeded_model  # noqa: E402

DIVISOR = 16
TOPS = {'weighted': ('wadiqam-nr-seeded', 11), 'patchwise': ('diqam-nr-seeded', 12)}
CALIBRATION = ['I03', 'I04', 'I06', 'I08', 'I19']


def export(out_dir: str, name: str, top: str, args: list[str]) -> str:
    subprocess.run([sys.executable, EXPORT, '--top', top, '--name', name, '--out-dir', out_dir, *args], check=True, stderr=subprocess.DEVNULL)
    return os.path.join(out_dir, f'{name}.onnx')


def run(path: str, x: np.ndarray) -> list[np.ndarray]:
    return ort.InferenceSession(path, providers=['CPUExecutionProvider']).run(None, {'patches': x})


def main():
    golden = {'generatedBy': 'scripts/golden/wadiqam_golden.py', 'divisor': DIVISOR}
    fixtures = {n: os.path.join(IMAGES, n) for n in ('smooth-97x75.png', 'exact-96x64.png')}
    shared = os.path.isdir(os.path.join(SHARED, 'data'))
    if shared:
        cal = {n: os.path.join(SHARED, 'data', 'calibration', 'dist_dir', f'{n}.bmp') for n in CALIBRATION}
        with open(os.path.join(SHARED, 'data', 'biq2021', 'train-subset.csv')) as f:
            names = sorted(r['image'] for r in csv.DictReader(f))[:20]
        biq = {n: os.path.join(SHARED, 'data', 'biq2021', 'images', n) for n in names}
    for top, (name, seed) in TOPS.items():
        fix_dir = os.path.join(ROOT, 'test', 'fixtures', name)
        seeded_args = ['--weights', 'random', '--seed', str(seed), '--divisor', str(DIVISOR), '--schema-ref', '../../../models/manifest.schema.json']
        with tempfile.TemporaryDirectory() as tmp:
            h5 = os.path.join(tmp, 'chainer.h5')
            onnx_seeded = export(fix_dir, name, top, seeded_args + ['--save-chainer-hdf5', h5])
            # Reader round trip: the full-width net cannot load a /16 checkpoint, so the check
            # runs on the same widths by exporting with --divisor through the Chainer path below.
            onnx_h5 = export(os.path.join(tmp, 'h5'), name, top, ['--checkpoint', h5, '--divisor', str(DIVISOR)])
            x = np.random.default_rng(5).uniform(0, 255, size=(9, 3, 32, 32)).astype(np.float32)
            diff = max(float(np.max(np.abs(a - b))) for a, b in zip(run(onnx_seeded, x), run(onnx_h5, x)))
            print(f'{name}: Chainer-HDF5 round trip, max |delta| {diff:.3g}')
            if diff > 0:
                sys.exit('the Chainer HDF5 reader does not reproduce the weights')
        model = seeded_model(seed, top == 'weighted', DIVISOR)
        g = {'seed': seed, 'fixtures': {n: score(model, p) for n, p in fixtures.items()}, 'calibration': None, 'biq2021': None}
        if shared:
            strip = lambda d: {k: {'score': v['score'], 'patches': v['patches']} for k, v in d.items()}  # noqa: E731
            g['calibration'] = strip({n: score(model, p) for n, p in cal.items()})
            g['biq2021'] = strip({n: score(model, p) for n, p in biq.items()})
        golden[top] = g
        print(top, {n: round(v['score'], 6) for n, v in g['fixtures'].items()}, g['calibration'] and {n: round(v['score'], 4) for n, v in g['calibration'].items()})
    with open(os.path.join(ROOT, 'test', 'golden', 'wadiqam.json'), 'w') as f:
        json.dump(golden, f, indent=1)
        f.write('\n')


if __name__ == '__main__':
    main()
