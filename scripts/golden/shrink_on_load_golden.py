#!/usr/bin/env python3
"""JPEG shrink-on-load goldens from Pillow's Image.draft (its own libjpeg-turbo's DCT scaling),
an independent decoder: test/golden/shrink_on_load.json and the fixtures in
test/fixtures/shrink/ (a seeded synthetic 800x600 photo-like image, stored upright and with
EXIF orientation 6).

For each scale 1/2, 1/4, 1/8 the golden holds the size and the sha256 of the BGR bytes that
Pillow's draft decodes, and, for the orientation-6 file, those of the draft turned upright
(orientation 6 = rotate 90 degrees clockwise), which is what iqa-node must decode when asked
for at least the displayed size.
    /work/pyenv/bin/python scripts/golden/shrink_on_load_golden.py
"""
import hashlib
import io
import json
import os

import numpy as np
from PIL import Image

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..')
fixtures = os.path.join(root, 'test', 'fixtures', 'shrink')
os.makedirs(fixtures, exist_ok=True)

# A photo-like image: smooth colour fields, edges and fine texture (seeded).
rng = np.random.default_rng(12)
h, w = 600, 800
y, x = np.mgrid[0:h, 0:w].astype(np.float64)
img = np.stack([
    128 + 90 * np.sin(x / 37.0) * np.cos(y / 53.0),
    128 + 80 * np.cos((x + y) / 61.0),
    100 + 60 * ((x // 80 + y // 60) % 2),
], axis=2)
img += rng.normal(0, 5, size=img.shape)
img = np.clip(img, 0, 255).astype(np.uint8)
upright = Image.fromarray(img, 'RGB')
upright.save(os.path.join(fixtures, 'photo-800x600.jpg'), quality=80)
exif = Image.Exif()
exif[0x0112] = 6
upright.save(os.path.join(fixtures, 'photo-800x600-orientation6.jpg'), quality=80, exif=exif.tobytes())


def bgr_sha(im):
    a = np.ascontiguousarray(np.asarray(im.convert('RGB'))[:, :, ::-1])
    return hashlib.sha256(a.tobytes()).hexdigest()


golden = {'source': 'Pillow ' + Image.__version__ + ' Image.draft', 'files': {}}
for name, orientation in [('photo-800x600.jpg', 1), ('photo-800x600-orientation6.jpg', 6)]:
    rows = []
    for denom in (2, 4, 8):
        im = Image.open(os.path.join(fixtures, name))
        im.draft('RGB', (800 // denom, 600 // denom))
        assert im.size == (800 // denom, 600 // denom), im.size
        im.load()
        if orientation == 6:
            im = im.transpose(Image.Transpose.ROTATE_270)
        rows.append({'denominator': denom, 'width': im.size[0], 'height': im.size[1], 'sha256': bgr_sha(im)})
    golden['files'][name] = rows
with open(os.path.join(root, 'test', 'golden', 'shrink_on_load.json'), 'w') as f:
    json.dump(golden, f, indent=2)
    f.write('\n')
print(json.dumps(golden, indent=2))
