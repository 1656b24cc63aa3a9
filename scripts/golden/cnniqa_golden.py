#!/usr/bin/env python3
"""Goldens for test/zoo-cnniqa.test.ts (test/golden/cnniqa.json), from the independent reference
scripts/golden/cnniqa_reference.py (PIL + scipy + torch, lidq92's test-time procedure):

- pilGray: Pillow's convert('L') of test/fixtures/patch-images/colours.png (checks the native
  'pil' grey conversion on pixels);
- seeded: the committed fixture test/fixtures/cnniqa-seeded (export_cnniqa.py --weights random
  --seed 7 --hidden 32) on the fixture images (per-patch scores too), the five calibration images
  and the first 20 BIQ2021 images (by name) of ../shared;
- live: the authors' CNNIQA-LIVE weights on the five calibration images (when ../shared has them).

The fixture images (test/fixtures/patch-images, also used by the WaDIQaM goldens) are written here
first (seeded numpy), so the script regenerates everything:
  /work/pyenv/bin/python scripts/golden/cnniqa_golden.py
"""
from __future__ import annotations

import base64
import csv
import json
import os
import sys

import numpy as np
import torch
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, '..', '..'))
SHARED = os.path.abspath(os.path.join(ROOT, '..', 'shared'))
IMAGES = os.path.join(ROOT, 'test', 'fixtures', 'patch-images')
sys.path.insert(0, HERE)
from cnniqa_reference import patches  # noqa: E402
from export_cnniqa import CNNIQA, seeded_model  # noqa: E402  (cnniqa_reference put tools/export on the path)

SEED, HIDDEN = 7, 32
CALIBRATION = ['I03', 'I04', 'I06', 'I08', 'I19']


def fixture_images() -> dict[str, str]:
    rng = np.random.default_rng(20261203)
    out = {}
    # 97x75: neither side a multiple of 32 (2 x 3 patches); 96x64: both multiples, so
    # range(0, L - 32, 32) drops the last row and column (1 x 2 patches, floor would give 2 x 3).
    for name, (w, h) in {'smooth-97x75.png': (97, 75), 'exact-96x64.png': (96, 64)}.items():
        y, x = np.mgrid[0:h, 0:w]
        base = np.stack([128 + 90 * np.sin(x / (9 + 4 * c) + y / 13) for c in range(3)], -1)
        img = np.clip(base + rng.normal(0, 25, base.shape), 0, 255).astype(np.uint8)
        path = os.path.join(IMAGES, name)
        Image.fromarray(img).save(path)
        out[name] = path
    colours = rng.integers(0, 256, size=(64, 64, 3), dtype=np.uint8)
    Image.fromarray(colours).save(os.path.join(IMAGES, 'colours.png'))
    return out


def scores(model, paths: dict[str, str], per_patch: bool = False) -> dict:
    out = {}
    with torch.no_grad():
        for name, path in paths.items():
            q = model(torch.from_numpy(patches(path))).double()[:, 0]
            out[name] = {'score': float(q.mean()), 'patches': int(q.numel())}
            if per_patch:
                out[name]['patchScores'] = [float(v) for v in q]
    return out


def main():
    fixtures = fixture_images()
    grey = np.asarray(Image.open(os.path.join(IMAGES, 'colours.png')).convert('L'))
    golden = {
        'generatedBy': 'scripts/golden/cnniqa_golden.py',
        'pilGray': {'image': 'colours.png', 'width': 64, 'height': 64, 'base64': base64.b64encode(grey.tobytes()).decode()},
        'seeded': {'seed': SEED, 'hidden': HIDDEN, 'fixtures': None, 'calibration': None, 'biq2021': None},
        'live': None,
    }
    seeded = seeded_model(SEED, HIDDEN)
    golden['seeded']['fixtures'] = scores(seeded, fixtures, per_patch=True)
    if os.path.isdir(os.path.join(SHARED, 'data')):
        cal = {n: os.path.join(SHARED, 'data', 'calibration', 'dist_dir', f'{n}.bmp') for n in CALIBRATION}
        golden['seeded']['calibration'] = scores(seeded, cal)
        with open(os.path.join(SHARED, 'data', 'biq2021', 'train-subset.csv')) as f:
            names = sorted(r['image'] for r in csv.DictReader(f))[:20]
        golden['seeded']['biq2021'] = scores(seeded, {n: os.path.join(SHARED, 'data', 'biq2021', 'images', n) for n in names})
        ckpt = os.path.join(SHARED, 'models', 'cnniqa', 'CNNIQA-LIVE')
        live = CNNIQA()
        live.load_state_dict(torch.load(ckpt, map_location='cpu', weights_only=True))
        golden['live'] = scores(live.eval(), cal)
    with open(os.path.join(ROOT, 'test', 'golden', 'cnniqa.json'), 'w') as f:
        json.dump(golden, f, indent=1)
        f.write('\n')
    print(json.dumps({k: golden['seeded'][k] and {n: v['score'] for n, v in golden['seeded'][k].items()} for k in ('fixtures', 'calibration')}, indent=1))
    print('live', golden['live'] and {n: v['score'] for n, v in golden['live'].items()})


if __name__ == '__main__':
    main()
