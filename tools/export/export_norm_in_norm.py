#!/usr/bin/env python3
"""Export Norm-in-Norm / LinearityIQA (Li, Jiang, Jiang, ACM MM 2020; tools/export/norm_in_norm_model.py)
to ONNX with its manifest: one 498 x 664 (H x W) image in (Pillow bilinear resize, ImageNet
normalisation, fp32), output `quality` [N, 1] = the fused s before the checkpoint's k, b (the
manifest's score.affine holds k[-1], b[-1], as test_demo.py prints s k[-1] + b[-1]).

Checkpoint: the authors' p1q2.pth / p1q2plus0.1variant.pth (lidq92/LinearityIQA README, Baidu pan):
a torch.save'd dict with 'model' (IQAModel's state dict), 'k' and 'b'. Give the IQAModel options
the checkpoint was trained with (--arch, --pool, --P6, --P7, --use-bn-end; the released ones use the
defaults).

  python3 tools/export/export_norm_in_norm.py --checkpoint p1q2.pth --out-dir DIR
  python3 tools/export/export_norm_in_norm.py --weights random --seed 5 --config tiny --out-dir DIR

Checks ONNX Runtime against PyTorch on a seeded batch before writing the manifest.
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export_common import check_weights_arguments, export_arguments, float_rgb_input, manifest_head, sha256, write_manifest  # noqa: E402
from export_koniqplusplus import load_checkpoint  # noqa: E402
from norm_in_norm_model import ARCHS, FULL, POOLS, TINY, NormInNorm, seeded  # noqa: E402

MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]


def build(args):
    base = TINY if args.config == 'tiny' else FULL
    cfg = dataclasses.replace(base, pool=args.pool, P6=args.P6, P7=args.P7, use_bn_end=args.use_bn_end, height=args.height, width=args.width,
                              **({} if args.config == 'tiny' else {'arch': args.arch}))
    if args.weights == 'random':
        net, k, b = seeded(cfg, args.seed)
    else:
        net = NormInNorm(cfg)
        state, k, b = load_checkpoint(args.checkpoint, index=-1)
        missing, unexpected = net.load_state_dict(state, strict=False)
        unexpected = [u for u in unexpected if not u.endswith('num_batches_tracked')]
        if missing or unexpected:
            sys.exit(f'checkpoint does not match IQAModel(arch={cfg.arch}, pool={cfg.pool}, P6={cfg.P6}, P7={cfg.P7}, use_bn_end={cfg.use_bn_end}) '
                     f'(missing {missing[:5]}, unexpected {unexpected[:5]})')
    return cfg, net.eval(), k, b


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    export_arguments(ap, 'norm-in-norm')
    ap.add_argument('--arch', choices=sorted(ARCHS), default=FULL.arch)
    ap.add_argument('--pool', choices=POOLS, default='avg')
    ap.add_argument('--P6', type=int, default=1)
    ap.add_argument('--P7', type=int, default=1)
    ap.add_argument('--use-bn-end', action='store_true')
    ap.add_argument('--height', type=int, default=498, help="test_demo.py's -rs_h (498 for KonIQ)")
    ap.add_argument('--width', type=int, default=664, help="test_demo.py's -rs_w (664 for KonIQ)")
    ap.add_argument('--save-state', help='also save {state, k, b, config} here, for reference runs')
    args = ap.parse_args()
    check_weights_arguments(args)
    cfg, net, k, b = build(args)
    os.makedirs(args.out_dir, exist_ok=True)
    path = os.path.join(args.out_dir, f'{args.name}.onnx')
    shape = (3, cfg.height, cfg.width)
    x = torch.randn(2, *shape, generator=torch.Generator().manual_seed(7))
    with torch.no_grad():
        ref = net(x).numpy().astype(np.float64)
    torch.onnx.export(net, (torch.randn(1, *shape),), path, input_names=['input'], output_names=['quality'],
                      dynamic_axes={'input': {0: 'batch'}, 'quality': {0: 'batch'}}, opset_version=args.opset, dynamo=False)
    if args.save_state:
        torch.save({'state': net.state_dict(), 'k': k, 'b': b, 'config': cfg.to_dict()}, args.save_state)
    import onnxruntime as ort
    got = ort.InferenceSession(path, providers=['CPUExecutionProvider']).run(['quality'], {'input': x.numpy()})[0].astype(np.float64)
    err = float(np.max(np.abs(got - ref)))
    print(f'ORT vs PyTorch max |diff| {err:.3g} (s {np.round(ref.ravel(), 5).tolist()})')
    if not err <= args.tol * max(1.0, float(np.max(np.abs(ref)))):
        sys.exit(f'ONNX Runtime disagrees with PyTorch: {err} > {args.tol}')
    src = ({'url': 'https://github.com/lidq92/LinearityIQA (checkpoints on Baidu pan, see its README)', 'sha256': sha256(args.checkpoint),
            'license': 'no licence stated (lidq92/LinearityIQA has no licence file)'}
           if args.checkpoint else {'license': 'test model with seeded random weights (no checkpoint)', 'note': f'seed {args.seed}, config {args.config}'})
    manifest = {
        **manifest_head(args.name, f'Norm-in-Norm / LinearityIQA (Li et al., ACM MM 2020): {cfg.arch} layer3 + layer4 taps, SPSP {cfg.pool} P6={cfg.P6} P7={cfg.P7}, '
                        'fused score s k + b' + (' [reduced widths, test model]' if args.config == 'tiny' else '')),
        'model': {'file': os.path.basename(path), 'sha256': sha256(path)},
        'input': float_rgb_input(cfg.width, cfg.height, MEAN, STD),
        'preprocess': {'crop': {'policy': 'resize'}, 'resize': {'width': cfg.width, 'height': cfg.height, 'interp': 'pil-bilinear'}},
        'outputs': [{'name': 'quality', 'shape': ['batch', 1]}],
        'head': {'type': 'scalar', 'output': 'quality'},
        'score': {'range': [0, 100], 'higherIsBetter': True, 'aggregate': 'mean', 'affine': {'scale': k, 'offset': b}},
        'source': src,
        'export': {'tool': 'tools/export/export_norm_in_norm.py', 'config': cfg.to_dict(), 'torch': torch.__version__, 'opset': args.opset},
    }
    write_manifest(args.out_dir, args.name, manifest)
    print(f'wrote {path} ({os.path.getsize(path) / 2**20:.2f} MB) and {args.name}.json')


if __name__ == '__main__':
    main()
