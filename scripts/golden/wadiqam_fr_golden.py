#!/usr/bin/env python3
"""Fixtures and goldens for test/zoo-wadiqam-fr.test.ts:

- test/fixtures/fr-pairs/: two small synthetic distorted images (seeded noise, a 3x3 box blur)
  of the patch-images fixtures, which are their references;
- test/fixtures/{wadiqam,diqam}-fr-seeded: tools/export/export_wadiqam_fr.py --weights random
  --divisor 16, weighted and patchwise tops, the authors' feature order; and
  wadiqam-fr-pyiqa-seeded: the same seed with pyiqa's order (the variant option);
- the Chainer HDF5 reader checked by a round trip (as scripts/golden/wadiqam_golden.py);
- test/golden/wadiqam_fr.json: scripts/golden/wadiqam_fr_reference.py on the fixture pairs
  (per-patch scores and weights) and the five calibration pairs of ../shared (ref_dir, dist_dir).

  /work/pyenv/bin/python scripts/golden/wadiqam_fr_golden.py
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image, ImageFilter

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, '..', '..'))
SHARED = os.path.abspath(os.path.join(ROOT, '..', 'shared'))
IMAGES = os.path.join(ROOT, 'test', 'fixtures', 'patch-images')
PAIRS = os.path.join(ROOT, 'test', 'fixtures', 'fr-pairs')
EXPORT = os.path.join(ROOT, 'tools', 'export', 'export_wadiqam_fr.py')
sys.path.insert(0, HERE)
from wadiqam_fr_reference import score  # noqa: E402
from wadiqam_golden import run  # noqa: E402  (ORT on the 'patches' input)
from wadiqam_model import seeded_fr_model  # noqa: E402

DIVISOR = 16
VARIANTS = {  # fixture: (top, fusion, seed)
    'wadiqam-fr-seeded': ('weighted', 'authors', 21),
    'diqam-fr-seeded': ('patchwise', 'authors', 22),
    'wadiqam-fr-pyiqa-seeded': ('weighted', 'pyiqa', 21),
}
CALIBRATION = ['I03', 'I04', 'I06', 'I08', 'I19']


def export(out_dir: str, name: str, top: str, fusion: str, args: list[str]) -> str:
    subprocess.run([sys.executable, EXPORT, '--top', top, '--fusion', fusion, '--name', name, '--out-dir', out_dir, *args], check=True, stderr=subprocess.DEVNULL)
    return os.path.join(out_dir, f'{name}.onnx')


def golden_entry(score, model, fixtures: dict, cal: dict, shared: bool, **meta) -> dict:
    """One variant's goldens: per-patch detail on the fixtures, score and patch count on the
    calibration set (None without ../shared); printed as they are made."""
    g = {**meta, 'fixtures': {n: score(model, *p) for n, p in fixtures.items()}, 'calibration': None}
    if shared:
        g['calibration'] = {n: {k: v for k, v in score(model, *p).items() if k in ('score', 'patches')} for n, p in cal.items()}
    print({n: round(v['score'], 6) for n, v in g['fixtures'].items()}, g['calibration'] and {n: round(v['score'], 5) for n, v in g['calibration'].items()})
    return g


def write_golden(file: str, golden: dict) -> None:
    with open(os.path.join(ROOT, 'test', 'golden', file), 'w') as f:
        json.dump(golden, f, indent=1)
        f.write('\n')


def pair_paths() -> dict[str, tuple[str, str]]:
    """The fixture pairs make_pairs() writes: distorted name -> (reference, distorted) paths."""
    return {'smooth-97x75-noise.png': (os.path.join(IMAGES, 'smooth-97x75.png'), os.path.join(PAIRS, 'smooth-97x75-noise.png')),
            'exact-96x64-blur.png': (os.path.join(IMAGES, 'exact-96x64.png'), os.path.join(PAIRS, 'exact-96x64-blur.png'))}


def make_pairs() -> dict[str, tuple[str, str]]:
    os.makedirs(PAIRS, exist_ok=True)
    smooth = Image.open(os.path.join(IMAGES, 'smooth-97x75.png')).convert('RGB')
    noisy = np.asarray(smooth, dtype=np.float64) + np.random.default_rng(7).normal(0, 25, size=(smooth.height, smooth.width, 3))
    Image.fromarray(np.clip(np.rint(noisy), 0, 255).astype(np.uint8)).save(os.path.join(PAIRS, 'smooth-97x75-noise.png'))
    exact = Image.open(os.path.join(IMAGES, 'exact-96x64.png')).convert('RGB')
    exact.filter(ImageFilter.BoxBlur(1)).save(os.path.join(PAIRS, 'exact-96x64-blur.png'))
    return pair_paths()


def main():
    golden = {'generatedBy': 'scripts/golden/wadiqam_fr_golden.py', 'divisor': DIVISOR}
    fixtures = make_pairs()
    shared = os.path.isdir(os.path.join(SHARED, 'data', 'calibration'))
    cal = {f'{n}.bmp': (os.path.join(SHARED, 'data', 'calibration', 'ref_dir', f'{n}.bmp'), os.path.join(SHARED, 'data', 'calibration', 'dist_dir', f'{n}.bmp'))
           for n in CALIBRATION}
    for name, (top, fusion, seed) in VARIANTS.items():
        fix_dir = os.path.join(ROOT, 'test', 'fixtures', name)
        seeded_args = ['--weights', 'random', '--seed', str(seed), '--divisor', str(DIVISOR), '--schema-ref', '../../../models/manifest.schema.json']
        with tempfile.TemporaryDirectory() as tmp:
            h5 = os.path.join(tmp, 'chainer.h5')
            onnx_seeded = export(fix_dir, name, top, fusion, seeded_args + ['--save-chainer-hdf5', h5])
            onnx_h5 = export(os.path.join(tmp, 'h5'), name, top, fusion, ['--checkpoint', h5, '--divisor', str(DIVISOR)])
            x = np.random.default_rng(5).uniform(0, 255, size=(9, 6, 32, 32)).astype(np.float32)
            diff = max(float(np.max(np.abs(a - b))) for a, b in zip(run(onnx_seeded, x), run(onnx_h5, x)))
            print(f'{name}: Chainer-HDF5 round trip, max |delta| {diff:.3g}')
            if diff > 0:
                sys.exit('the Chainer HDF5 reader does not reproduce the weights')
        model = seeded_fr_model(seed, top == 'weighted', DIVISOR, fusion)
        print(name, end=' ')
        golden[name] = golden_entry(score, model, fixtures, cal, shared, top=top, fusion=fusion, seed=seed)
    write_golden('wadiqam_fr.json', golden)


if __name__ == '__main__':
    main()
