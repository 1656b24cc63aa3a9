#!/usr/bin/env python3
"""Independent reference for the DIQaM-NR / WaDIQaM-NR test procedure of the authors' evaluate.py
(dmaniry/deepIQA), with PIL + numpy + torch and none of iqa-node's code: the image read as RGB and
used as raw 0..255 float32 (imageio.imread), every non-overlapping 32x32 patch as sklearn's
extract_patches(img, (32, 32, 3), 32) cuts them (floor(H/32) x floor(W/32), row by row), the net
on every patch; WaDIQaM: a = relu(weight) + 1e-6 (float32, as nr_model.py), score =
sum(q a) / sum(a); DIQaM: mean of q. The authors' Chainer is not usable here (Chainer 7.8.1 fails
on NumPy 2: np.sctypes), so the net is tools/export/wadiqam_model.py's PyTorch one, whose layer
layout follows the Chainer model and whose export is checked against ONNX Runtime separately.

  python scripts/golden/wadiqam_reference.py --weights random --seed 0 [--divisor 16] [--top patchwise] IMAGE...
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'tools', 'export'))
from wadiqam_model import WaDIQaMNR, load_chainer_hdf5, seeded_model  # noqa: E402  (the net only)

PATCH = 32


def patches(path: str) -> np.ndarray:
    img = np.asarray(Image.open(path).convert('RGB'), dtype=np.float32)
    h, w = img.shape[0] // PATCH, img.shape[1] // PATCH
    p = img[: h * PATCH, : w * PATCH].reshape(h, PATCH, w, PATCH, 3).transpose(0, 2, 4, 1, 3)
    return np.ascontiguousarray(p.reshape(-1, 3, PATCH, PATCH))


def score(model, path: str) -> dict:
    with torch.no_grad():
        out = model(torch.from_numpy(patches(path)))
    if isinstance(out, tuple):
        q = out[0].numpy().reshape(-1)
        a = np.maximum(out[1].numpy().reshape(-1), 0) + np.float32(1e-6)
        s = float(np.sum(q * a) / np.sum(a))
    else:
        q = out.numpy().reshape(-1)
        a = None
        s = float(np.mean(q))
    r = {'score': s, 'patches': int(q.size), 'patchScores': [float(v) for v in q]}
    if a is not None:
        r['patchWeights'] = [float(v) for v in a]
    return r


def main():
    p = argparse.ArgumentParser()
    p.add_argument('images', nargs='+')
    p.add_argument('--checkpoint', help='Chainer HDF5')
    p.add_argument('--weights', choices=['authors', 'random'], default='authors')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--divisor', type=int, default=1)
    p.add_argument('--top', choices=['weighted', 'patchwise'], default='weighted')
    p.add_argument('--out')
    a = p.parse_args()
    if a.weights == 'authors':
        model = WaDIQaMNR(a.top == 'weighted')
        load_chainer_hdf5(model, a.checkpoint)
    else:
        model = seeded_model(a.seed, a.top == 'weighted', a.divisor)
    model.eval()
    res = {os.path.basename(x): score(model, x) for x in a.images}
    text = json.dumps(res, indent=1)
    if a.out:
        with open(a.out, 'w') as f:
            f.write(text + '\n')
    print(json.dumps({k: v['score'] for k, v in res.items()}, indent=1))


if __name__ == '__main__':
    main()
