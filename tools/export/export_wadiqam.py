#!/usr/bin/env python3
"""Exports DIQaM-NR / WaDIQaM-NR (Bosse et al., TIP 2018) to ONNX: a per-patch graph
N x 3 x 32 x 32 -> score [N, 1] (and, for WaDIQaM, the raw patch weight [N, 1]), dynamic N, with
an iqa-node manifest (DIR/manifest.json).

Weights (pick one):
  --checkpoint FILE.model       the authors' Chainer HDF5 (dmaniry/deepIQA models/, serializers.save_hdf5
                                of nr_model.Model: conv1..conv10, fc1, fc2, fc1_a, fc2_a; MIT licence)
  --weights pyiqa --checkpoint FILE.pth
                                pyiqa's re-trained state dict (WaDIQaM-NR-koniq-aaffea29.pth:
                                {'params': {features.N, fc_q.N, fc_w.N}}, renamed to ours; weighted
                                top only), exported with pyiqa's own test procedure (below)
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

pyiqa's procedure for its weights (pyiqa/archs/wadiqam_arch.py; they were trained with it):
RGB scaled to [0, 1] (to_tensor; input.normalize scale 'unit'), the patches of its loop
range(0, H - 32, 32) x range(0, W - 32, 32), which drops the last row / column when 32 divides H /
W (grid 'range-exclusive'), w = ReLU(fc_w) + 1e-8; KonIQ-trained: MOS / 100 ~ 0..1, higher is better.

Before writing, ONNX Runtime (CPU) is run on random patches and compared with PyTorch.
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from patch_export import common_args, export_checked, source, write_manifest  # noqa: E402
from wadiqam_model import WaDIQaMNR, load_chainer_hdf5, load_pyiqa_state, save_chainer_hdf5, seeded_model  # noqa: E402

PATCH = 32
EPSILON = 1e-6  # nr_model.py: F.relu(self.fc2_a(a)) + 0.000001
PYIQA_EPSILON = 1e-8  # pyiqa wadiqam_arch.py: eps=1e-8
PYIQA_LICENCE = ("pyiqa's re-trained weights (chaofengc/IQA-PyTorch-Weights): no licence of their own, pyiqa's is "
                 "non-commercial (PolyForm Noncommercial 1.0.0 + NTU S-Lab; earlier README: CC BY-NC-SA 4.0)")
PYIQA_URL = 'https://huggingface.co/chaofengc/IQA-PyTorch-Weights'


def load_model(a, tool: str = 'export_wadiqam', build=lambda a: WaDIQaMNR(a.top == 'weighted', a.divisor),
               seeded=lambda a: seeded_model(a.seed, a.top == 'weighted', a.divisor), kind: str = 'NR'):
    """The net of --weights random (seeded(a)) or of the Chainer HDF5 --checkpoint (build(a), loaded)."""
    if a.weights == 'random':
        return seeded(a)
    if not a.checkpoint:
        sys.exit(f'{tool}: --checkpoint FILE is required unless --weights random')
    model = build(a)
    if a.weights == 'pyiqa':
        if not model.weighted:
            sys.exit(f'{tool}: pyiqa\'s WaDIQaM checkpoints have the weighted top (--top weighted)')
        try:
            load_pyiqa_state(model, a.checkpoint)
        except (KeyError, RuntimeError) as e:  # RuntimeError: size mismatch (NR vs FR), missing layers
            sys.exit(f'{tool}: {a.checkpoint} is not a pyiqa WaDIQaM {kind} state dict: {e}')
        except Exception as e:  # noqa: BLE001  not a torch file, truncated (torch raises several types)
            sys.exit(f'{tool}: cannot read {a.checkpoint} as a torch checkpoint: {e}')
        return model.eval()
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
    pyiqa = a.weights == 'pyiqa'
    title = 'WaDIQaM-NR' if weighted else 'DIQaM-NR'
    live = a.dataset == 'live'
    citation = 'S. Bosse, D. Maniry, K.-R. Mueller, T. Wiegand, W. Samek, Deep Neural Networks for No-Reference and Full-Reference Image Quality Assessment, IEEE TIP 27(1), 2018'
    src = (source(a, PYIQA_LICENCE, citation, PYIQA_URL) if pyiqa else source(a, 'MIT (dmaniry/deepIQA)', citation, 'https://github.com/dmaniry/deepIQA (models/)'))
    trained = ('pyiqa\'s weights (its procedure: [0, 1] RGB, range(0, L - 32, 32) patches, epsilon 1e-8)' if pyiqa else
               f'trained on {"LIVE (DMOS, lower is better)" if live else "TID2013 (MOS, higher is better)"}' if authors else f'seeded random weights (seed {a.seed})')
    m = {
        '$schema': a.schema_ref or './manifest.schema.json',
        'schemaVersion': 1,
        'name': a.name,
        'task': 'nr-iqa',
        'description': f'{title} (Bosse et al., TIP 2018): ' + ('weighted average' if weighted else 'mean') + ' of the scores of every 32x32 RGB patch; ' +
                       trained,
        'model': {'file': onnx_file, 'sha256': digest},
        'input': {'name': 'patches', 'layout': 'NCHW', 'width': PATCH, 'height': PATCH, 'channels': 3, 'colorOrder': 'rgb',
                  'batch': 'dynamic', 'normalize': {'scale': 'unit' if pyiqa else 'byte', 'mean': [0], 'std': [1]}},
        'preprocess': {'crop': {'policy': 'grid', 'grid': 'range-exclusive' if pyiqa else 'floor'}},
        'outputs': [{'name': 'score', 'shape': ['n', 1]}] + ([{'name': 'weight', 'shape': ['n', 1]}] if weighted else []),
        'head': {'type': 'scalar', 'output': 'score'},
        'score': {'range': [0, 1] if pyiqa else [0, 100] if live else [0, 9], 'higherIsBetter': pyiqa or not live, 'aggregate': 'weighted' if weighted else 'mean'},
        'source': src,
        'export': {'tool': 'tools/export/export_wadiqam.py', 'weights': a.weights, 'top': a.top, 'opset': 17,
                   **({'seed': a.seed, 'divisor': a.divisor} if a.weights == 'random' else {'divisor': a.divisor} if a.divisor != 1 else {})},
    }
    if weighted:
        m['score']['weight'] = {'output': 'weight', 'epsilon': PYIQA_EPSILON if pyiqa else EPSILON}
    return m


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    # Ten 3x3 convolutions up to 512 channels in float32: ORT and torch sum in different orders,
    # 1.2e-5 of the output's scale on noise patches for seed 0 (the image scores agree far closer).
    common_args(p, None, tolerance=1e-4, weights=('authors', 'pyiqa', 'random'))
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
    top = 1 if a.weights == 'pyiqa' else 255  # pyiqa's [0, 1] input, the authors' raw pixels
    sample = lambda rng, n: rng.uniform(0, top, size=(n, 3, PATCH, PATCH)).astype(np.float32)  # noqa: E731
    names = ['score', 'weight'] if model.weighted else ['score']
    digest = export_checked('export_wadiqam', model, sample, names, out_path, a.tolerance)
    write_manifest(a.out_dir, manifest(a, os.path.basename(out_path), digest))


if __name__ == '__main__':
    main()
