#!/usr/bin/env python3
"""Exports DIQaM-NR / WaDIQaM-NR (Bosse et al., TIP 2018) to ONNX: a per-patch graph
N x 3 x 32 x 32 -> score [N, 1] (and, for WaDIQaM, the raw patch weight [N, 1]), dynamic N, with
an iqa-node manifest (DIR/manifest.json).

Weights (pick one):
  --checkpoint FILE.model       the authors' Chainer HDF5 (dmaniry/deepIQA models/, serializers.save_hdf5
                                of nr_model.Model: conv1..conv10, fc1, fc2, fc1_a, fc2_a; MIT licence)
  --weights random [--seed N]   seeded random init (tests, benchmarks); --divisor D shrinks every
                                width by D for small committed fixtures; --save-chainer-hdf5 FILE
                                also writes those weights in the Chainer layout (reader round trip)

--top weighted (WaDIQaM, default) | patchwise (DIQaM); --dataset live (DMOS, lower is better) |
tid2013 (MOS, higher is better) sets the manifest's score direction and range.

The authors' test procedure (evaluate.py) as manifest mechanisms: imageio RGB as raw 0..255 floats
(input.normalize scale 'byte', no mean/std), every non-overlapping 32x32 patch of sklearn's
extract_patches(img, (32, 32, 3), 32), i.e. floor(H/32) x floor(W/32) row by row (crop policy
'grid', rule 'floor'), then sum(q a) / sum(a) with a = ReLU(fc2_a) + 1e-6 (score.aggregate
'weighted') or the mean of q (patchwise). Dropout is off: evaluate.py calls F.dropout without
train=False, which in Chainer keeps it on at test time (its printed score is random from run to
run); we run the deterministic network, the expectation the authors trained for.

Before writing, ONNX Runtime (CPU) is run on random patches and compared with PyTorch.
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from patch_export import common_args, export_checked, source, write_manifest  # noqa: E402
from wadiqam_model import WaDIQaMNR, load_chainer_hdf5, save_chainer_hdf5, seeded_model  # noqa: E402

PATCH = 32
EPSILON = 1e-6  # nr_model.py: F.relu(self.fc2_a(a)) + 0.000001


def load_model(a, tool: str = 'export_wadiqam', build=lambda a: WaDIQaMNR(a.top == 'weighted', a.divisor),
               seeded=lambda a: seeded_model(a.seed, a.top == 'weighted', a.divisor), kind: str = 'NR'):
    """The net of --weights random (seeded(a)) or of the Chainer HDF5 --checkpoint (build(a), loaded)."""
    if a.weights == 'random':
        return seeded(a)
    if not a.checkpoint:
        sys.exit(f'{tool}: --checkpoint FILE is required unless --weights random')
    model = build(a)
    try:
        load_chainer_hdf5(model, a.checkpoint)
    except OSError as e:  # not HDF5, truncated
        sys.exit(f'{tool}: cannot read {a.checkpoint} as a Chainer HDF5 file: {e}')
    except (KeyError, RuntimeError) as e:  # RuntimeError: layer shapes of another model (NR vs FR)
        sys.exit(f'{tool}: {a.checkpoint} is not a deepIQA {kind} model: {e}')
    return model.eval()


def manifest(a, onnx_file: str, digest: str) -> dict:
    weighted = a.top == 'weighted'
    authors = a.weights == 'authors'
    title = 'WaDIQaM-NR' if weighted else 'DIQaM-NR'
    live = a.dataset == 'live'
    src = source(a, 'MIT (dmaniry/deepIQA)',
                 'S. Bosse, D. Maniry, K.-R. Mueller, T. Wiegand, W. Samek, Deep Neural Networks for No-Reference and Full-Reference Image Quality Assessment, IEEE TIP 27(1), 2018',
                 'https://github.com/dmaniry/deepIQA (models/)')
    m = {
        '$schema': a.schema_ref or './manifest.schema.json',
        'schemaVersion': 1,
        'name': a.name,
        'task': 'nr-iqa',
        'description': f'{title} (Bosse et al., TIP 2018): ' + ('weighted average' if weighted else 'mean') + ' of the scores of every 32x32 RGB patch; ' +
                       ((f'trained on {"LIVE (DMOS, lower is better)" if live else "TID2013 (MOS, higher is better)"}') if authors else f'seeded random weights (seed {a.seed})'),
        'model': {'file': onnx_file, 'sha256': digest},
        'input': {'name': 'patches', 'layout': 'NCHW', 'width': PATCH, 'height': PATCH, 'channels': 3, 'colorOrder': 'rgb',
                  'batch': 'dynamic', 'normalize': {'scale': 'byte', 'mean': [0], 'std': [1]}},
        'preprocess': {'crop': {'policy': 'grid', 'grid': 'floor'}},
        'outputs': [{'name': 'score', 'shape': ['n', 1]}] + ([{'name': 'weight', 'shape': ['n', 1]}] if weighted else []),
        'head': {'type': 'scalar', 'output': 'score'},
        'score': {'range': [0, 100] if live else [0, 9], 'higherIsBetter': not live, 'aggregate': 'weighted' if weighted else 'mean'},
        'source': src,
        'export': {'tool': 'tools/export/export_wadiqam.py', 'weights': a.weights, 'top': a.top, 'opset': 17,
                   **({} if authors else {'seed': a.seed, 'divisor': a.divisor})},
    }
    if weighted:
        m['score']['weight'] = {'output': 'weight', 'epsilon': EPSILON}
    return m


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    # Ten 3x3 convolutions up to 512 channels in float32: ORT and torch sum in different orders,
    # 1.2e-5 of the output's scale on noise patches for seed 0 (the image scores agree far closer).
    common_args(p, None, tolerance=1e-4)
    p.add_argument('--divisor', type=int, default=1, help='widths / divisor (small test fixtures; the authors\' nets have 1)')
    p.add_argument('--top', choices=['weighted', 'patchwise'], default='weighted')
    p.add_argument('--dataset', choices=['live', 'tid2013'], default='live')
    p.add_argument('--save-chainer-hdf5', default=None, help='--weights random: also write the weights in the Chainer layout')
    a = p.parse_args()
    a.name = a.name or ('wadiqam-nr' if a.top == 'weighted' else 'diqam-nr')
    model = load_model(a)
    if a.save_chainer_hdf5:
        save_chainer_hdf5(model, a.save_chainer_hdf5)
    out_path = os.path.join(a.out_dir, f'{a.name}.onnx')
    sample = lambda rng, n: rng.uniform(0, 255, size=(n, 3, PATCH, PATCH)).astype(np.float32)  # noqa: E731  (raw pixels)
    names = ['score', 'weight'] if model.weighted else ['score']
    digest = export_checked('export_wadiqam', model, sample, names, out_path, a.tolerance)
    write_manifest(a.out_dir, manifest(a, os.path.basename(out_path), digest))


if __name__ == '__main__':
    main()
