#!/usr/bin/env python3
"""Exports TReS (Golestaneh, Dadsetan, Kitani, WACV 2022) to ONNX: a per-crop graph
N x 3 x 224 x 224 (ImageNet-normalised RGB) -> N scores, and its manifest.

Weights (pick one):
  --checkpoint FILE             the authors' state dict (isalirezag/TReS, `bestmodel_<split>_<seed>`, linked
                                from their readme; CMU academic non-commercial research licence)
  --weights random [--seed N]   seeded random init (tests, benchmarks)
  --config tiny                 narrow stages and a small transformer (tests only; same graph contract)

Architecture: tools/export/tres_model.py (the prediction branch only; the flipped copy the authors
run for their consistency loss does not change the prediction and is left out).

Test-time pipelines (--pipeline):
  authors  KonIQ-10k as the authors test it: torchvision Resize((512, 384)) on the PIL image (Pillow
           bilinear: 'pil-bilinear'), 50 random 224 crops (seeded here, unseeded there), mean
  pyiqa    the full image, pyiqa's uniform_crop grid of 50 crops, mean

Before writing, ONNX Runtime (CPU) is compared with PyTorch on random crops.

  python tools/export/export_tres.py --checkpoint bestmodel_1_2021 --out-dir /tmp/tres
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export_common import check_weights_arguments, export_arguments, float_rgb_input, manifest_head, seed_batchnorm_stats, sha256, write_manifest  # noqa: E402
from tres_model import FULL, TINY, TReS  # noqa: E402

MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]
PIPELINES = {
    'authors': {'resize': {'width': 384, 'height': 512, 'interp': 'pil-bilinear'}, 'crop': {'policy': 'random', 'count': 50, 'seed': 0}},
    'pyiqa': {'resize': None, 'crop': {'policy': 'uniform', 'count': 50}},
}


class Scores(nn.Module):
    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        return self.net(x)[:, 0]


def build(args):
    cfg = TINY if args.config == 'tiny' else FULL
    torch.manual_seed(args.seed)
    net = TReS(cfg)
    if args.checkpoint:
        sd = torch.load(args.checkpoint, map_location='cpu', weights_only=True)
        sd = sd.get('state_dict', sd) if isinstance(sd, dict) else sd
        sd = {k[len('module.'):] if k.startswith('module.') else k: v for k, v in sd.items()}
        missing, unexpected = net.load_state_dict(sd, strict=False)
        # The backbone's ImageNet classifier (model.fc) is in the authors' state dict and unused.
        unexpected = [k for k in unexpected if not k.startswith('model.fc.')]
        missing = [k for k in missing if not k.startswith('model.fc.')]
        if missing or unexpected:
            sys.exit(f'{args.checkpoint} is not a TReS state dict: missing {missing[:6]}, unexpected {unexpected[:6]}')
    else:
        # Non-trivial BatchNorm statistics so the test graph exercises them.
        seed_batchnorm_stats(net, args.seed + 1)
    return cfg, net.eval()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    export_arguments(ap, 'tres')
    ap.add_argument('--pipeline', choices=sorted(PIPELINES), default='authors')
    ap.add_argument('--save-state', help='also save the state dict here, for reference runs')
    args = ap.parse_args()
    check_weights_arguments(args)
    if args.config == 'tiny' and args.checkpoint:
        sys.exit('--config tiny takes no checkpoint')
    cfg, net = build(args)
    os.makedirs(args.out_dir, exist_ok=True)
    path = os.path.join(args.out_dir, f'{args.name}.onnx')
    s = cfg.input_size
    # Reference scores before tracing (the tracer leaves the module as it found it, but the check
    # should not depend on that).
    x = torch.randn(3, 3, s, s, generator=torch.Generator().manual_seed(7))
    with torch.no_grad():
        ref = net(x)[:, 0].numpy().astype(np.float64)
    torch.onnx.export(Scores(net).eval(), (torch.randn(2, 3, s, s),), path, input_names=['input'], output_names=['score'],
                      dynamic_axes={'input': {0: 'batch'}, 'score': {0: 'batch'}}, opset_version=args.opset, dynamo=False)
    if args.save_state:
        torch.save(net.state_dict(), args.save_state)
    import onnxruntime as ort
    sess = ort.InferenceSession(path, providers=['CPUExecutionProvider'])
    got = sess.run(['score'], {'input': x.numpy()})[0].astype(np.float64)
    err = float(np.max(np.abs(got - ref)))
    print(f'ORT vs PyTorch per-crop score max |diff| {err:.3g} (scores {np.round(ref, 4).tolist()})')
    if not err <= args.tol * max(1.0, float(np.max(np.abs(ref)))):
        sys.exit(f'ONNX Runtime disagrees with PyTorch: {err} > {args.tol}')
    src = ({'url': 'https://github.com/isalirezag/TReS (checkpoints linked from its readme)', 'sha256': sha256(args.checkpoint),
            'license': 'CMU academic or non-profit non-commercial research use only (isalirezag/TReS LICENSE)'}
           if args.checkpoint else {'license': 'test model with seeded random weights (no checkpoint)', 'note': f'torch.manual_seed({args.seed}), config {args.config}'})
    manifest = {
        **manifest_head(args.name, 'TReS (Golestaneh et al., WACV 2022): ResNet-50 multi-level L2-pooled features, transformer encoder, per-crop score, mean over crops'
        + (' [reduced widths, test model]' if args.config == 'tiny' else '')),
        'model': {'file': os.path.basename(path), 'sha256': sha256(path)},
        'input': float_rgb_input(s, s, MEAN, STD),
        'preprocess': PIPELINES[args.pipeline],
        'outputs': [{'name': 'score', 'shape': ['batch']}],
        'head': {'type': 'scalar', 'output': 'score'},
        'score': {'range': [0, 100], 'higherIsBetter': True, 'aggregate': 'mean'},
        'source': src,
        'export': {'tool': 'tools/export/export_tres.py', 'pipeline': args.pipeline, 'config': cfg.to_dict(), 'torch': torch.__version__, 'opset': args.opset},
    }
    write_manifest(args.out_dir, args.name, manifest)
    print(f'wrote {path} ({os.path.getsize(path) / 2**20:.1f} MB) and {args.name}.json')


if __name__ == '__main__':
    main()
