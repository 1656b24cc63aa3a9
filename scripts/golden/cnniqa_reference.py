#!/usr/bin/env python3
"""Independent reference for CNNIQA's test-time procedure (lidq92/CNNIQA test_demo.py, as described in
shared/design/zoo.md section 6), written with PIL + scipy + torch and none of iqa-node's code:
PIL convert('L') grey in [0,1] as to_tensor makes it (float32 x / 255); non-overlapping 32x32 patches from the range(0, H-32, 32) x
range(0, W-32, 32) loop (drops the last row/column when H or W is a multiple of 32); each patch
locally contrast-normalised on its own: mu = 3x3 box mean, sigma = sqrt(max(E[x^2] - mu^2, 0)) + C,
C = 1, scipy convolve2d(boundary='symm', mode='same'); the model on every patch; mean of patch scores.

  python scripts/golden/cnniqa_reference.py --checkpoint CNNIQA-LIVE IMAGE... [--out scores.json]
  python scripts/golden/cnniqa_reference.py --weights random --seed 0 [--hidden 32] IMAGE...
(the seeded weights come from export_cnniqa.seeded_model, the same as the exported test fixture)
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np
import torch
from PIL import Image
from scipy.signal import convolve2d

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'tools', 'export'))
from export_cnniqa import CNNIQA, seeded_model  # noqa: E402  (architecture and weights only; the procedure below is independent)

PATCH = 32
C = 1.0


def local_normalise(patch: np.ndarray) -> np.ndarray:
    # patch is float32 (to_tensor's); np.square stays float32, convolve2d with the float64 box is float64.
    box = np.ones((3, 3)) / 9.0
    mu = convolve2d(patch, box, boundary='symm', mode='same')
    sigma = np.sqrt(np.maximum(convolve2d(np.square(patch), box, boundary='symm', mode='same') - mu * mu, 0)) + C
    return (patch - mu) / sigma


def patches(path: str) -> np.ndarray:
    # torchvision to_tensor: uint8 -> float32, then a float32 division by 255 (the authors' values, bit for bit).
    grey = np.asarray(Image.open(path).convert('L'), dtype=np.float32) / np.float32(255)
    h, w = grey.shape
    out = [local_normalise(grey[i:i + PATCH, j:j + PATCH])
           for i in range(0, h - PATCH, PATCH) for j in range(0, w - PATCH, PATCH)]
    return np.stack(out)[:, None].astype(np.float32)


def main():
    p = argparse.ArgumentParser()
    p.add_argument('images', nargs='+')
    p.add_argument('--checkpoint')
    p.add_argument('--weights', choices=['authors', 'random'], default='authors')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--hidden', type=int, default=800)
    p.add_argument('--output-scale', type=float, default=100.0)
    p.add_argument('--out')
    a = p.parse_args()
    if a.weights == 'authors':
        model = CNNIQA()
        model.load_state_dict(torch.load(a.checkpoint, map_location='cpu', weights_only=True))
    else:
        model = seeded_model(a.seed, a.hidden, a.output_scale)
    model.eval()  # dropout off (see export_cnniqa.py on test_demo.py's F.dropout)
    scores = {}
    with torch.no_grad():
        for path in a.images:
            x = patches(path)
            scores[os.path.basename(path)] = {'score': float(model(torch.from_numpy(x)).double().mean()), 'patches': len(x)}
    text = json.dumps(scores, indent=1)
    if a.out:
        with open(a.out, 'w') as f:
            f.write(text + '\n')
    print(text)


if __name__ == '__main__':
    main()
