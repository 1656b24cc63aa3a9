#!/usr/bin/env python3
"""Exports CNNIQA (Kang et al., CVPR 2014) to ONNX: a per-patch graph N x 1 x 32 x 32 -> N x 1 score.

Weights (pick one):
  --checkpoint CNNIQA-LIVE          the authors' legacy torch pickle (lidq92/CNNIQA models/CNNIQA-LIVE,
                                    a state_dict; LIVE-trained, outputs DMOS: lower = better;
                                    no licence file in that repository)
  --weights random [--seed N]       seeded random init (tests, benchmarks); --hidden H shrinks the
                                    two FC layers (800 -> H) for small committed test fixtures, and
                                    the last layer is scaled by --output-scale (default 100) so that
                                    images differ by whole score units, far above the 1e-4 parity
                                    tolerance, as the real DMOS outputs do

Architecture (written from the paper and the notes in shared/design/zoo.md section 6): conv 1->50 7x7
without padding, global max-pool and global min-pool concatenated (100-d), FC 800 + ReLU, dropout
(identity at test time), FC 800 + ReLU, FC 1. The batch axis is dynamic: one row per patch, the
patches of many images batched together.

Writes DIR/cnniqa.onnx and DIR/manifest.json with the authors' test-time procedure as manifest
mechanisms: PIL convert('L') grey in [0,1] (preprocess.gray 'pil'), the non-overlapping 32x32 patches
of test_demo.py's range(0, H-32, 32) loops (crop policy 'grid', rule 'range-exclusive'), per-patch
3x3 local contrast normalisation with C = 1 and a symmetric border (preprocess.localContrast), and
the mean of the patch scores (score.aggregate 'mean'). Dropout is off: test_demo.py calls
F.dropout(h) whose default training=True keeps it on even after model.eval(), so the demo's
output is random from run to run; the authors' evaluation (main.py) runs the net with dropout off.

Before writing, ONNX Runtime (CPU) is run on random patches and compared with PyTorch.

Example:
  python tools/export/export_cnniqa.py --checkpoint ../shared/models/cnniqa/CNNIQA-LIVE --out-dir /tmp/cnniqa
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from patch_export import common_args, export_checked, source, write_manifest  # noqa: E402

PATCH = 32


class CNNIQA(nn.Module):
    def __init__(self, kernels: int = 50, hidden: int = 800):
        super().__init__()
        self.conv1 = nn.Conv2d(1, kernels, 7)
        self.fc1 = nn.Linear(2 * kernels, hidden)
        self.fc2 = nn.Linear(hidden, hidden)
        self.fc3 = nn.Linear(hidden, 1)

    def forward(self, x):
        h = self.conv1(x)
        # Global max and min over the 26x26 response map; amax/amin export as ReduceMax/ReduceMin.
        pooled = torch.cat((h.amax(dim=(2, 3)), h.amin(dim=(2, 3))), dim=1)
        h = F.relu(self.fc1(pooled))
        h = F.relu(self.fc2(h))
        return self.fc3(h)


def seeded_model(seed: int, hidden: int = 800, output_scale: float = 100.0) -> CNNIQA:
    """torch's default init after manual_seed(seed), the last layer scaled by output_scale."""
    torch.manual_seed(seed)
    model = CNNIQA(hidden=hidden)
    with torch.no_grad():
        model.fc3.weight.mul_(output_scale)
        model.fc3.bias.mul_(output_scale)
    return model.eval()


def load_model(args) -> CNNIQA:
    model = CNNIQA()
    if args.weights == 'random':
        model = seeded_model(args.seed, args.hidden, args.output_scale)
    else:
        if not args.checkpoint:
            sys.exit('export_cnniqa: --checkpoint FILE is required unless --weights random')
        try:
            state = torch.load(args.checkpoint, map_location='cpu', weights_only=True)
        except Exception as e:  # truncated or not a torch pickle
            sys.exit(f'export_cnniqa: cannot read {args.checkpoint} as a torch state_dict: {e}')
        if not isinstance(state, dict):
            sys.exit(f'export_cnniqa: {args.checkpoint} holds a {type(state).__name__}, expected a state_dict')
        try:
            model.load_state_dict(state, strict=True)
        except RuntimeError as e:
            sys.exit(f'export_cnniqa: {args.checkpoint} is not a CNNIQA state_dict: {e}')
    return model.eval()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    common_args(p, 'cnniqa')
    p.add_argument('--hidden', type=int, default=800, help='--weights random: FC width (800 as the authors)')
    p.add_argument('--output-scale', type=float, default=100.0, help='--weights random: scale of the last layer')
    args = p.parse_args()
    model = load_model(args)
    out_path = os.path.join(args.out_dir, f'{args.name}.onnx')
    # LCN output range: roughly [-1, 1] per pixel since sigma >= C = 1 on [0,1] input.
    sample = lambda rng, n: rng.uniform(-1, 1, size=(n, 1, PATCH, PATCH)).astype(np.float32)  # noqa: E731
    digest = export_checked('export_cnniqa', model, sample, ['score'], out_path, args.tolerance)
    write_manifest(args.out_dir, manifest(args, os.path.basename(out_path), digest))


def manifest(args, onnx_file: str, digest: str) -> dict:
    authors = args.weights == 'authors'
    src = source(args, 'no licence stated (lidq92/CNNIQA has no licence file); research use',
                 'L. Kang, P. Ye, Y. Li, D. Doermann, Convolutional Neural Networks for No-Reference Image Quality Assessment, CVPR 2014',
                 'https://github.com/lidq92/CNNIQA (models/CNNIQA-LIVE)', 'trained on LIVE; paper (unverified): LIVE SROCC 0.956, PLCC 0.953')
    return {
        '$schema': args.schema_ref or './manifest.schema.json',
        'schemaVersion': 1,
        'name': args.name,
        'task': 'nr-iqa',
        'description': 'CNNIQA (Kang et al., CVPR 2014): mean score of the locally contrast-normalised 32x32 grey patches; ' +
                       ('LIVE DMOS, lower is better' if authors else f'seeded random weights (seed {args.seed})'),
        'model': {'file': onnx_file, 'sha256': digest},
        'input': {'name': 'patches', 'layout': 'NCHW', 'width': PATCH, 'height': PATCH, 'channels': 1, 'colorOrder': 'gray',
                  'batch': 'dynamic', 'normalize': {'scale': 'unit', 'mean': [0], 'std': [1]}},
        'preprocess': {'gray': 'pil', 'crop': {'policy': 'grid', 'grid': 'range-exclusive'}, 'localContrast': {'window': 3, 'constant': 1}},
        'outputs': [{'name': 'score', 'shape': ['n', 1]}],
        'head': {'type': 'scalar', 'output': 'score'},
        # LIVE realigned DMOS: about 0 (best) to 100; the net's output is not clamped.
        'score': {'range': [0, 100], 'higherIsBetter': False, 'aggregate': 'mean'},
        'source': src,
        'export': {'tool': 'tools/export/export_cnniqa.py', 'weights': args.weights, 'opset': 17,
                   **({} if authors else {'seed': args.seed, 'hidden': args.hidden, 'outputScale': args.output_scale})},
    }


if __name__ == '__main__':
    main()
