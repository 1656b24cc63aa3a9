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
import hashlib
import json
import os
import sys
import tempfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wadiqam_model import WaDIQaMNR, load_chainer_hdf5, save_chainer_hdf5, seeded_model  # noqa: E402

PATCH = 32
EPSILON = 1e-6  # nr_model.py: F.relu(self.fc2_a(a)) + 0.000001


def load_model(a) -> WaDIQaMNR:
    weighted = a.top == 'weighted'
    if a.weights == 'random':
        return seeded_model(a.seed, weighted, a.divisor)
    if not a.checkpoint:
        sys.exit('export_wadiqam: --checkpoint FILE is required unless --weights random')
    model = WaDIQaMNR(weighted, a.divisor)
    try:
        load_chainer_hdf5(model, a.checkpoint)
    except OSError as e:  # not HDF5, truncated
        sys.exit(f'export_wadiqam: cannot read {a.checkpoint} as a Chainer HDF5 file: {e}')
    except (KeyError, RuntimeError) as e:
        sys.exit(f'export_wadiqam: {a.checkpoint} is not a deepIQA NR model: {e}')
    return model.eval()


def manifest(a, onnx_file: str, digest: str) -> dict:
    weighted = a.top == 'weighted'
    authors = a.weights == 'authors'
    title = 'WaDIQaM-NR' if weighted else 'DIQaM-NR'
    live = a.dataset == 'live'
    src = {'license': 'MIT (dmaniry/deepIQA)' if authors else 'seeded random weights (test fixture)',
           'citation': 'S. Bosse, D. Maniry, K.-R. Mueller, T. Wiegand, W. Samek, Deep Neural Networks for No-Reference and Full-Reference Image Quality Assessment, IEEE TIP 27(1), 2018'}
    if authors:
        with open(a.checkpoint, 'rb') as f:
            src['sha256'] = hashlib.sha256(f.read()).hexdigest()
        src['url'] = 'https://github.com/dmaniry/deepIQA (models/)'
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
    p.add_argument('--checkpoint')
    p.add_argument('--weights', choices=['authors', 'random'], default='authors')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--divisor', type=int, default=1, help='widths / divisor (small test fixtures; the authors\' nets have 1)')
    p.add_argument('--top', choices=['weighted', 'patchwise'], default='weighted')
    p.add_argument('--dataset', choices=['live', 'tid2013'], default='live')
    p.add_argument('--out-dir', required=True)
    p.add_argument('--name', default=None, help='default: wadiqam-nr (weighted) or diqam-nr (patchwise)')
    p.add_argument('--tolerance', type=float, default=1e-5)
    p.add_argument('--schema-ref', default=None, help='$schema value written into the manifest')
    p.add_argument('--save-chainer-hdf5', default=None, help='--weights random: also write the weights in the Chainer layout')
    a = p.parse_args()
    a.name = a.name or ('wadiqam-nr' if a.top == 'weighted' else 'diqam-nr')
    model = load_model(a)
    if a.save_chainer_hdf5:
        save_chainer_hdf5(model, a.save_chainer_hdf5)
    import onnxruntime as ort

    names = ['score', 'weight'] if model.weighted else ['score']
    os.makedirs(a.out_dir, exist_ok=True)
    out_path = os.path.join(a.out_dir, f'{a.name}.onnx')
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = os.path.join(tmp, 'model.onnx')
        torch.onnx.export(model, torch.zeros(2, 3, PATCH, PATCH), tmp_path, input_names=['patches'], output_names=names,
                          dynamic_axes={'patches': {0: 'n'}, **{n: {0: 'n'} for n in names}}, opset_version=17, dynamo=False)
        sess = ort.InferenceSession(tmp_path, providers=['CPUExecutionProvider'])
        rng = np.random.default_rng(1234)
        worst = 0.0
        for n in (1, 7, 40):
            x = rng.uniform(0, 255, size=(n, 3, PATCH, PATCH)).astype(np.float32)
            with torch.no_grad():
                ref = model(torch.from_numpy(x))
            ref = [r.numpy() for r in (ref if isinstance(ref, tuple) else (ref,))]
            got = sess.run(names, {'patches': x})
            for r, g, name in zip(ref, got, names):
                if g.shape != r.shape:
                    sys.exit(f'export_wadiqam: ORT {name} shape {g.shape} != torch {r.shape}')
                worst = max(worst, float(np.max(np.abs(g - r) / np.maximum(1.0, np.abs(r)))))
        print(f'ORT vs torch: max |delta|/max(1,|value|) = {worst:.3g} over batches 1, 7, 40 (outputs {", ".join(names)})')
        if not worst <= a.tolerance:
            sys.exit(f'export_wadiqam: ORT differs from torch by {worst} (relative) > {a.tolerance}; nothing written')
        with open(tmp_path, 'rb') as src:
            data = src.read()
    with open(out_path, 'wb') as dst:
        dst.write(data)
    digest = hashlib.sha256(data).hexdigest()
    print(f'wrote {out_path} sha256 {digest}')
    with open(os.path.join(a.out_dir, 'manifest.json'), 'w') as f:
        json.dump(manifest(a, os.path.basename(out_path), digest), f, indent=2)
        f.write('\n')
    print(f'wrote {os.path.join(a.out_dir, "manifest.json")}')


if __name__ == '__main__':
    main()
