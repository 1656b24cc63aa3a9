#!/usr/bin/env python3
"""Golden pixels of Pillow's Image.resize for iqa-node's 'pil-*' resize backends
(native/core/image/pil_resize.cpp), written to test/golden/pil_resize.json.

Per case: the sha256 of the resized pixels (rows x cols x channels, RGB order, uint8), the shape,
and the sum of the pixels (a diff that does not hash equal is then at least sized). Pillow 'RGB'
and 'L' images, 8 bits: what torchvision's Resize does on a PIL image.

Run it with a Pillow before 13 (checked: 10.4): those resize horizontally first, then vertically,
always (libImaging/Resample.c), as in the environments the models' authors tested in. Pillow 13
picks the order of the two passes by an estimated cost, so where one axis grows and the other
shrinks it can run the vertical pass first and differ by rounding (1 level for bilinear, up to ~20
for bicubic); the cases marked 'order' below are such shapes, and the script refuses Pillow 13+.

  python3 -m venv /tmp/pil10 && /tmp/pil10/bin/pip install 'pillow==10.4.0' numpy
  /tmp/pil10/bin/python scripts/golden/pil_resize_golden.py > test/golden/pil_resize.json
"""
import hashlib
import json
import os
import sys

import numpy as np
import PIL
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = os.path.join(os.path.dirname(ROOT), 'shared', 'data', 'calibration', 'dist_dir')
FILTERS = {'pil-nearest': Image.Resampling.NEAREST, 'pil-box': Image.Resampling.BOX, 'pil-bilinear': Image.Resampling.BILINEAR, 'pil-hamming': Image.Resampling.HAMMING,
           'pil-bicubic': Image.Resampling.BICUBIC, 'pil-lanczos': Image.Resampling.LANCZOS}

# (image relative to the repository or to ../shared, output width, height)
CASES = [
    ('test/fixtures/hyperiqa-tiny/img0.png', 120, 111),   # shrink, unequal ratios
    ('test/fixtures/hyperiqa-tiny/img2.png', 384, 512),   # HyperIQA's Resize((512, 384)): stretch one way, shrink the other
    ('test/fixtures/hyperiqa-tiny/img1.png', 224, 224),   # same size: no pass at all
    ('test/fixtures/hyperiqa-tiny/img1.png', 224, 97),    # vertical pass only
    ('test/fixtures/images/rgb8.png', 100, 80),           # upscale
    ('test/fixtures/images/rgb8.png', 1, 1),
    ('test/fixtures/images/gray8.png', 16, 41),           # grey, shrink x, stretch y
    ('test/fixtures/hyperiqa-tiny/img0.png', 400, 150),   # order: width grows, height shrinks
    ('test/fixtures/hyperiqa-tiny/img0.png', 330, 200),   # order
    ('shared:I03.bmp', 384, 512),
    ('shared:I19.bmp', 224, 168),
]


def main():
    if int(PIL.__version__.split('.')[0]) >= 13:
        sys.exit(f'Pillow {PIL.__version__}: run this with a Pillow before 13 (see the docstring)')
    out = {'pillow': PIL.__version__, 'cases': []}
    for src, w, h in CASES:
        path = os.path.join(SHARED, src[7:]) if src.startswith('shared:') else os.path.join(ROOT, src)
        if not os.path.exists(path):
            print(f'skipping {src}: not found', file=sys.stderr)
            continue
        im = Image.open(path)
        im = im.convert('L') if im.mode == 'L' else im.convert('RGB')
        for name, f in FILTERS.items():
            px = np.asarray(im.resize((w, h), f), dtype=np.uint8)
            out['cases'].append({'image': src, 'width': w, 'height': h, 'interp': name, 'shape': list(px.shape),
                                 'sha256': hashlib.sha256(px.tobytes()).hexdigest(), 'sum': int(px.astype(np.int64).sum())})
    json.dump(out, sys.stdout, indent=1)
    print()


if __name__ == '__main__':
    main()
