#!/usr/bin/env python3
"""Independent reference for the DIQaM-FR / WaDIQaM-FR test procedure of the authors' evaluate.py
(dmaniry/deepIQA, `evaluate.py INPUT REF`), with PIL + numpy + torch and none of iqa-node's code:
both images read as RGB raw 0..255 float32 (imageio.imread), both cut by the same
extract_patches(img, (32, 32, 3), 32) (floor(H/32) x floor(W/32), row by row), the net on each
(distorted, reference) patch pair as fr_model.py calls it (features of both, shared weights,
concat(h - h_ref, h, h_ref)); WaDIQaM: a = relu(weight) + 1e-6, score = sum(q a) / sum(a);
DIQaM: mean of q. The net is tools/export/wadiqam_model.py's PyTorch WaDIQaMFR (Chainer does
not run on NumPy 2); its reference and distorted features are computed here from two separate
patch batches, not from iqa-node's stacked input.

  python scripts/golden/wadiqam_fr_reference.py --weights random --seed 0 [--divisor 16] [--top patchwise] REF:DIST...
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', '..', 'tools', 'export'))
sys.path.insert(0, HERE)
from wadiqam_model import WaDIQaMFR, load_chainer_hdf5, seeded_fr_model  # noqa: E402  (the net only)
from wadiqam_reference import patches  # noqa: E402  (PIL RGB, sklearn's extract_patches order)


def net(model: WaDIQaMFR, x_ref: torch.Tensor, x: torch.Tensor):
    h, h_ref = model.features(x), model.features(x_ref)
    parts = (h - h_ref, h, h_ref) if model.fusion == 'authors' else (h_ref, h, h - h_ref)
    f = torch.cat(parts, 1)
    q = model.fc2(F.relu(model.fc1(f)))
    return q, (model.fc2_a(F.relu(model.fc1_a(f))) if model.weighted else None)


def score(model: WaDIQaMFR, ref_path: str, dist_path: str) -> dict:
    x_ref, x = patches(ref_path), patches(dist_path)
    if x_ref.shape != x.shape:
        raise SystemExit(f'{ref_path} and {dist_path} differ in size')
    with torch.no_grad():
        q, a = net(model, torch.from_numpy(x_ref), torch.from_numpy(x))
    q = q.numpy().reshape(-1)
    if a is not None:
        a = np.maximum(a.numpy().reshape(-1), 0) + np.float32(1e-6)
        s = float(np.sum(q * a) / np.sum(a))
    else:
        s = float(np.mean(q))
    r = {'score': s, 'patches': int(q.size), 'patchScores': [float(v) for v in q]}
    if a is not None:
        r['patchWeights'] = [float(v) for v in a]
    return r


def load(a) -> WaDIQaMFR:
    if a.weights == 'authors':
        model = WaDIQaMFR(a.top == 'weighted', fusion=a.fusion)
        load_chainer_hdf5(model, a.checkpoint)
        return model.eval()
    return seeded_fr_model(a.seed, a.top == 'weighted', a.divisor, a.fusion)


def main():
    p = argparse.ArgumentParser()
    p.add_argument('pairs', nargs='+', help='REF:DIST')
    p.add_argument('--checkpoint', help='Chainer HDF5')
    p.add_argument('--weights', choices=['authors', 'random'], default='authors')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--divisor', type=int, default=1)
    p.add_argument('--top', choices=['weighted', 'patchwise'], default='weighted')
    p.add_argument('--fusion', choices=['authors', 'pyiqa'], default='authors')
    p.add_argument('--out')
    a = p.parse_args()
    model = load(a)
    res = {}
    for pair in a.pairs:
        ref, dist = pair.split(':')
        res[os.path.basename(dist)] = score(model, ref, dist)
    if a.out:
        with open(a.out, 'w') as f:
            f.write(json.dumps(res, indent=1) + '\n')
    print(json.dumps({k: v['score'] for k, v in res.items()}, indent=1))


if __name__ == '__main__':
    main()
