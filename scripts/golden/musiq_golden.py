#!/usr/bin/env python3
"""The MUSIQ test fixtures (test/fixtures/musiq-tiny: a seeded tiny-config graph and manifest from
tools/export/export_musiq.py, a seeded tiny AVA-head one, and small images at the token-bucket
boundaries, tiny and extreme aspect ratios) and their goldens (test/golden/musiq.json) from
scripts/golden/musiq_reference.py: the official TF Gaussian resize (the manifests' default), and
Pillow bicubic for the MOS model (musiq-tiny-pil).

  PYTHONPATH=<dir with tensorflow-cpu> /work/pyenv/bin/python scripts/golden/musiq_golden.py > test/golden/musiq.json
"""
import json
import os
import sys

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from musiq_reference import load, score_image  # noqa: E402
from seeded_fixture import ROOT, export_seeded, golden_images  # noqa: E402

SEED = 3
FIX = os.path.join(ROOT, 'test', 'fixtures', 'musiq-tiny')
# (file, width, height, why): token count 193 + ceil(W/32) ceil(H/32) against buckets 256, 384, ...
SIZES = [
    ('b256-at.png', 288, 224, '256 tokens: exactly the first bucket'),
    ('b256-over.png', 256, 256, '257 tokens: one past it, bucket 384'),
    ('b384-at.png', 6112, 32, '384 tokens: exactly the second bucket; 191:1 aspect'),
    ('b384-over.png', 6144, 1, '385 tokens: one past it; 1 px high (resized scales 1 px high)'),
    ('tiny.png', 3, 2, '194 tokens: a 3 x 2 image enlarged to 224 and 384'),
    ('tall.png', 7, 500, '209 tokens: 1:71 aspect'),
]


def make_image(w: int, h: int, seed: int) -> Image.Image:
    """Smooth seeded-phase gradients (small PNGs; every patch differs)."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    rng = np.random.default_rng(seed)
    ch = [127 + 100 * np.sin(x / (7 + 5 * c) + y / (11 + 3 * c) + c + rng.uniform(0, 6)) for c in range(3)]
    return Image.fromarray(np.clip(np.stack(ch, -1), 0, 255).round().astype(np.uint8))


def main():
    os.makedirs(FIX, exist_ok=True)
    for i, (f, w, h, _) in enumerate(SIZES):
        make_image(w, h, i).save(os.path.join(FIX, f), optimize=True)
    models = {}
    for name, extra in (('musiq-tiny', []), ('musiq-ava-tiny', ['--dataset', 'ava'])):
        models[name] = load(export_seeded('export_musiq.py', name, SEED, extra=tuple(extra), fix=FIX))
    out = []
    images = [('fixture', f, os.path.join(FIX, f)) for f, *_ in SIZES] + [(w, f, p) for w, f, p in golden_images()]
    for where, f, path in images:
        row = {'where': where, 'file': f}
        for name, net in models.items():
            row[name], row['tokens'] = score_image(path, net)
        # The same MOS model with the manifest's other resize backend (Pillow bicubic).
        row['musiq-tiny-pil'] = score_image(path, models['musiq-tiny'], 'pil-bicubic')[0]
        out.append(row)
    json.dump({'source': 'scripts/golden/musiq_golden.py', 'seed': SEED, 'images': out}, sys.stdout, indent=2)
    print()


if __name__ == '__main__':
    main()
