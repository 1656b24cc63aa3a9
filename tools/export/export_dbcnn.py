#!/usr/bin/env python3
"""Exports DBCNN (Zhang et al., TCSVT 2020) to ONNX: one graph N x 3 x H x W (the whole image at its
own size, ImageNet-normalised RGB; dynamic H and W) -> N scores, and its manifest.

Weights (pick one):
  --checkpoint FILE              a fine-tuned DB-CNN state dict (zwx8981/DBCNN-PyTorch saves
                                 torch.nn.DataParallel(DBCNN).state_dict(): module.features1/2, module.fc;
                                 MIT), or pyiqa's DBCNN_<dataset>-*.pth (same layout)
  --weights random [--seed N]    seeded random init (tests, benchmarks)
  --scnn FILE                    with --weights random: the authors' pre-trained S-CNN
                                 (pretrained_scnn/scnn.pkl in their repository) for the second branch
  --config tiny                  narrow branches (tests only; same graph contract)

The manifest caps the image at --max-pixels (default 4,000,000): VGG-16 at a phone photo's full
resolution needs tens of GB of activations, so a larger image is ERR_TOO_LARGE, never an
out-of-memory kill. Before writing, ONNX Runtime is compared with PyTorch on two image sizes.

  python tools/export/export_dbcnn.py --checkpoint DBCNN_LIVEC.pth --out-dir /tmp/dbcnn
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dbcnn_model import DBCNN, FULL, TINY  # noqa: E402
from export_common import check_weights_arguments, export_arguments, float_rgb_input, manifest_head, seed_batchnorm_stats, sha256, write_manifest  # noqa: E402

MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]


def strip(sd):
    sd = sd.get('params', sd.get('state_dict', sd)) if isinstance(sd, dict) else sd
    return {k[len('module.'):] if k.startswith('module.') else k: v for k, v in sd.items()}


def build(args):
    torch.manual_seed(args.seed)
    cfg = TINY if args.config == 'tiny' else FULL
    net = DBCNN(cfg)
    if args.checkpoint:
        missing, unexpected = net.load_state_dict(strip(torch.load(args.checkpoint, map_location='cpu', weights_only=True)), strict=False)
        if missing or unexpected:
            sys.exit(f'{args.checkpoint} is not a DB-CNN state dict: missing {missing[:6]}, unexpected {unexpected[:6]}')
    else:
        seed_batchnorm_stats(net, args.seed + 1)
        if args.scnn:
            sd = {k[len('features.'):]: v for k, v in strip(torch.load(args.scnn, map_location='cpu', weights_only=True)).items() if k.startswith('features.')}
            net.features2.load_state_dict(sd)
    return cfg, net.eval()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    export_arguments(ap, 'dbcnn')
    ap.add_argument('--scnn')
    ap.add_argument('--max-pixels', type=int, default=4_000_000)
    ap.add_argument('--range', type=float, nargs=2, default=[0, 100], help='score range of the checkpoint (its fine-tuning set)')
    ap.add_argument('--lower-is-better', action='store_true', help='a DMOS-trained checkpoint (LIVE, CSIQ, TID)')
    ap.add_argument('--save-state', help='also save the state dict here, for reference runs')
    args = ap.parse_args()
    check_weights_arguments(args)
    cfg, net = build(args)
    # Reference scores first; the wrapper is made in eval mode (export restores its mode onto the net).
    probes = [torch.randn(1, 3, 96, 128, generator=torch.Generator().manual_seed(7)), torch.randn(1, 3, 75, 61, generator=torch.Generator().manual_seed(8))]
    with torch.no_grad():
        refs = [net(p)[:, 0].double().numpy() for p in probes]

    class Scores(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = net

        def forward(self, x):
            return self.net(x)[:, 0]

    os.makedirs(args.out_dir, exist_ok=True)
    path = os.path.join(args.out_dir, f'{args.name}.onnx')
    torch.onnx.export(Scores().eval(), (torch.randn(1, 3, 64, 80),), path, input_names=['input'], output_names=['score'],
                      dynamic_axes={'input': {0: 'batch', 2: 'height', 3: 'width'}, 'score': {0: 'batch'}}, opset_version=args.opset, dynamo=False)
    import onnxruntime as ort
    sess = ort.InferenceSession(path, providers=['CPUExecutionProvider'])
    for p, ref in zip(probes, refs):
        got = sess.run(['score'], {'input': p.numpy()})[0].astype(np.float64)
        err = float(np.abs(got - ref).max())
        print(f'ORT vs PyTorch on {tuple(p.shape[2:])}: |diff| {err:.3g} (score {ref[0]:.6f})')
        if not err <= args.tol * max(1.0, float(np.abs(ref).max())):
            sys.exit(f'ONNX Runtime disagrees with PyTorch: {err}')
    if args.save_state:
        torch.save(net.state_dict(), args.save_state)
    src = ({'url': 'https://github.com/zwx8981/DBCNN-PyTorch', 'sha256': sha256(args.checkpoint), 'license': 'MIT (zwx8981/DBCNN-PyTorch); pyiqa re-trained weights: non-commercial'}
           if args.checkpoint else {'license': 'test model with seeded random weights (no checkpoint)', 'note': f'torch.manual_seed({args.seed}), config {args.config}' + (', S-CNN from ' + os.path.basename(args.scnn) if args.scnn else '')})
    manifest = {
        **manifest_head(args.name, 'DBCNN (Zhang et al., TCSVT 2020): VGG-16 and S-CNN features, bilinear pooling, the whole image at its own size'
                        + (' [narrow test model]' if args.config == 'tiny' else '')),
        'model': {'file': os.path.basename(path), 'sha256': sha256(path)},
        'input': float_rgb_input(224, 224, MEAN, STD),
        'preprocess': {'resize': None, 'crop': {'policy': 'full'}, 'maxPixels': args.max_pixels},
        'outputs': [{'name': 'score', 'shape': ['batch']}],
        'head': {'type': 'scalar', 'output': 'score'},
        'score': {'range': args.range, 'higherIsBetter': not args.lower_is_better},
        'source': src,
        'export': {'tool': 'tools/export/export_dbcnn.py', 'config': cfg.to_dict(), 'torch': torch.__version__, 'opset': args.opset},
    }
    write_manifest(args.out_dir, args.name, manifest)
    print(f'wrote {path} ({os.path.getsize(path) / 2**20:.1f} MB) and {args.name}.json')


if __name__ == '__main__':
    main()
