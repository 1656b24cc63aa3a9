#!/usr/bin/env python3
"""Goldens of the 'tf-gaussian' resize (native/core/image/tf_resize.cpp): TensorFlow's own
tf.image.resize(method='gaussian', antialias=True) on float32 images (8-bit pixels / 255, RGB),
downscaling, upscaling, mixed, same-size and 1-pixel cases; written as float32 HWC RGB rows into
test/golden/tf_gaussian_resize.bin with an index in test/golden/tf_gaussian_resize.json.

  PYTHONPATH=<dir with tensorflow-cpu> /work/pyenv/bin/python scripts/golden/tf_resize_golden.py
"""
import json
import os

import numpy as np
import tensorflow as tf
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CASES = [  # (image under test/fixtures, out width, out height)
    ('hyperiqa-tiny/img0.png', 52, 48),
    ('hyperiqa-tiny/img1.png', 60, 60),
    ('musiq-tiny/tall.png', 7, 500),  # its own size: TF's Gaussian still blurs
    ('hyperiqa-tiny/img2.png', 65, 50),
    ('hyperiqa-tiny/img2.png', 131, 101),
    ('musiq-tiny/tall.png', 3, 224),
    ('musiq-tiny/tiny.png', 37, 25),
    ('musiq-tiny/b384-over.png', 224, 1),
]


def main():
    index, blobs, offset = [], [], 0
    for f, w, h in CASES:
        x = np.asarray(Image.open(os.path.join(ROOT, 'test', 'fixtures', f)).convert('RGB'), np.float32) / np.float32(255)
        y = tf.image.resize(x, (h, w), method='gaussian', antialias=True).numpy().astype(np.float32)
        blobs.append(y.tobytes())
        index.append({'file': f, 'width': w, 'height': h, 'offset': offset, 'count': int(y.size)})
        offset += y.size
    with open(os.path.join(ROOT, 'test', 'golden', 'tf_gaussian_resize.bin'), 'wb') as fh:
        fh.write(b''.join(blobs))
    with open(os.path.join(ROOT, 'test', 'golden', 'tf_gaussian_resize.json'), 'w') as fh:
        json.dump({'source': 'scripts/golden/tf_resize_golden.py', 'tensorflow': tf.__version__, 'layout': 'float32 HWC RGB, pixels / 255', 'cases': index}, fh, indent=2)
        fh.write('\n')


if __name__ == '__main__':
    main()
