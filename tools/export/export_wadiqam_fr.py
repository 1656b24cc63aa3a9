#!/usr/bin/env python3
"""Exports DIQaM-FR / WaDIQaM-FR (Bosse et al., TIP 2018) to ONNX: a per-patch-pair graph
N x 6 x 32 x 32 (channels 0..2 the reference patch, 3..5 the distorted patch at the same place)
-> score [N, 1] (and, for WaDIQaM, the raw patch weight [N, 1]), dynamic N, with an iqa-node
manifest of task 'fr-iqa' (DIR/manifest.json).

Weights (pick one):
  --checkpoint FILE.model       the authors' Chainer HDF5 (dmaniry/deepIQA models/, serializers.save_hdf5
                                of fr_model.Model: conv1..conv10, fc1 (3 x 512 -> 512), fc2, fc1_a, fc2_a; MIT)
  --weights pyiqa --checkpoint FILE.pth
                                pyiqa's re-trained FR state dict (WaDIQaM-kadid-f7541ea5.pth, renamed
                                to ours as in export_wadiqam.py), with pyiqa's feature order and
                                test procedure ([0, 1] RGB, range(0, L - 32, 32) patches on both
                                images, epsilon 1e-8; KADID-trained, higher is better)
  --weights random [--seed N]   seeded random init (tests, benchmarks); --divisor D shrinks every
                                width by D for small committed fixtures; --save-chainer-hdf5 FILE
                                also writes those weights in the Chainer layout (reader round trip)

--fusion authors (default): concat(f_d - f_r, f_d, f_r) as deepIQA's fr_model.py; --fusion pyiqa:
concat(f_r, f_d, f_d - f_r), the order pyiqa's wadiqam_fr weights were trained with (not
interchangeable with the authors'). --top weighted (WaDIQaM-FR, default) | patchwise (DIQaM-FR);
--dataset live (DMOS, lower is better) | tid2013 (MOS, higher is better).

The authors' FR test procedure (evaluate.py with a reference): both images read by imageio as raw
0..255 RGB floats, cut by the same extract_patches(img, (32, 32, 3), 32), so patch i of the
reference and of the distorted image cover the same pixels (floor(H/32) x floor(W/32), row by
row; crop policy 'grid', rule 'floor'; the two images must have the same size), then
sum(q a) / sum(a) with a = ReLU(fc2_a) + 1e-6, or the mean of q. Dropout off (see export_wadiqam.py).
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export_wadiqam import PATCH, load_model  # noqa: E402
from export_wadiqam import manifest as nr_manifest  # noqa: E402
from patch_export import common_args, export_checked, write_manifest  # noqa: E402
from wadiqam_model import FUSIONS, WaDIQaMFR, save_chainer_hdf5, seeded_fr_model  # noqa: E402


def manifest(a, onnx_file: str, digest: str) -> dict:
    """export_wadiqam's manifest with the pair input: task 'fr-iqa' (the graph's N x 6 x 32 x 32)."""
    m = nr_manifest(a, onnx_file, digest)
    m['task'] = 'fr-iqa'
    m['description'] = m['description'].replace('-NR', '-FR', 1).replace(
        'of the scores of every 32x32 RGB patch', f'of the scores of every aligned 32x32 RGB patch pair, features {FUSIONS[a.fusion]}')
    m['export'] = {**m['export'], 'tool': 'tools/export/export_wadiqam_fr.py', 'fusion': a.fusion}
    return m


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    common_args(p, None, tolerance=1e-4, weights=('authors', 'pyiqa', 'random'))  # as export_wadiqam.py: ten convolutions in float32
    p.add_argument('--divisor', type=int, default=1, help='widths / divisor (small test fixtures; the authors\' nets have 1)')
    p.add_argument('--top', choices=['weighted', 'patchwise'], default='weighted')
    p.add_argument('--fusion', choices=list(FUSIONS), default=None, help='default: pyiqa for --weights pyiqa, else authors')
    p.add_argument('--dataset', choices=['live', 'tid2013'], default='live')
    p.add_argument('--save-chainer-hdf5', default=None, help='--weights random: also write the weights in the Chainer layout')
    a = p.parse_args()
    a.name = a.name or ('wadiqam-fr' if a.top == 'weighted' else 'diqam-fr')
    if a.weights == 'pyiqa' and a.fusion == 'authors':
        sys.exit("export_wadiqam_fr: pyiqa's weights were trained with its feature order (--fusion pyiqa)")
    a.fusion = a.fusion or ('pyiqa' if a.weights == 'pyiqa' else 'authors')
    model = load_model(a, 'export_wadiqam_fr', lambda a: WaDIQaMFR(a.top == 'weighted', a.divisor, a.fusion),
                       lambda a: seeded_fr_model(a.seed, a.top == 'weighted', a.divisor, a.fusion), 'FR')
    if a.save_chainer_hdf5:
        save_chainer_hdf5(model, a.save_chainer_hdf5)
    out_path = os.path.join(a.out_dir, f'{a.name}.onnx')

    top = 1 if a.weights == 'pyiqa' else 255  # pyiqa's [0, 1] input, the authors' raw pixels

    def sample(rng, n):  # a reference patch and a distorted copy, stacked on channels
        ref = rng.uniform(0, top, size=(n, 3, PATCH, PATCH))
        return np.concatenate([ref, np.clip(ref + rng.normal(0, 40 * top / 255, size=ref.shape), 0, top)], 1).astype(np.float32)

    names = ['score', 'weight'] if model.weighted else ['score']
    digest = export_checked('export_wadiqam_fr', model, sample, names, out_path, a.tolerance)
    write_manifest(a.out_dir, manifest(a, os.path.basename(out_path), digest))


if __name__ == '__main__':
    main()
