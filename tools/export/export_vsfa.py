#!/usr/bin/env python3
"""Exports VSFA (Li, Jiang, Jiang, ACM MM 2019) to two ONNX graphs and a video-model manifest.

  <name>-features.onnx   frames N x 3 x H x W (ImageNet-normalised RGB, any H, W, N)
                         -> N x 2D: ResNet-50 up to layer4, then per channel the global mean and the
                         unbiased (N-1) standard deviation over the feature map, means first
                         (the authors' CNNfeatures.py: 2 x 2048 = 4096 per frame)
  <name>-temporal.onnx   features 1 x T x 2D and the GRU state 1 x 1 x hidden
                         -> per-frame quality 1 x T and the state after the last frame: Linear 4096->128
                         (the authors' ANN with n_ANNlayers = 1), GRU 128->32 (h0 = 0 for the first
                         chunk), Linear 32->1. The state input lets a long video go through in chunks
                         with the same numbers as one pass (memory bounded by the chunk).

The temporal pooling (TP: tau = 12, beta = 0.5) is done by iqa-node, not in a graph.

Weights:
  --checkpoint VSFA.pt              the authors' head (lidq92/VSFA models/VSFA.pt: a legacy torch pickle,
                                    KoNViD-1k split; MIT); without it, --weights random seeds the head
  --backbone-checkpoint FILE        torchvision's ImageNet ResNet-50 state dict (resnet50-0676ba61.pth or
                                    resnet50-19c8e357.pth, what torchvision's pretrained=True loads; BSD-3);
                                    without it the backbone is seeded random (parity tests only: the scores
                                    then mean nothing)
  --weights random [--seed N]       seeded random init of whatever no checkpoint is given for
  --config tiny                     a two-convolution backbone and a small head (tests only; same graph
                                    contract)

Architecture: torchvision's resnet50 (the network the authors use, children[:-2]) and the head written
from the paper and the state dict's shapes (notes: shared/design/zoo.md section 16).
Before writing, ONNX Runtime (CPU) is run on random inputs and compared with PyTorch, the temporal
graph also in two chunks against one pass.

Example:
  python tools/export/export_vsfa.py --checkpoint VSFA.pt --backbone-checkpoint resnet50-0676ba61.pth --out-dir /tmp/vsfa
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn

from export_common import sha256

MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]


class MeanStdPool(nn.Module):
    """Per channel: mean and unbiased std over H x W (torch.std's default correction = 1)."""

    def forward(self, x):
        flat = x.flatten(2)
        mean = flat.mean(dim=2)
        var = ((flat - mean.unsqueeze(2)) ** 2).sum(dim=2) / (flat.shape[2] - 1)
        return torch.cat((mean, var.sqrt()), dim=1)


class Features(nn.Module):
    def __init__(self, trunk: nn.Module):
        super().__init__()
        self.trunk = trunk
        self.pool = MeanStdPool()

    def forward(self, frames):
        return self.pool(self.trunk(frames))


class Temporal(nn.Module):
    def __init__(self, feature_size: int, reduced: int, hidden: int):
        super().__init__()
        self.fc0 = nn.Linear(feature_size, reduced)
        self.rnn = nn.GRU(reduced, hidden, batch_first=True)
        self.q = nn.Linear(hidden, 1)

    def forward(self, features, state):
        out, last = self.rnn(self.fc0(features), state)
        return self.q(out).squeeze(2), last


def trunk_for(config: str) -> tuple[nn.Module, int]:
    if config == 'tiny':
        t = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2), nn.ReLU(), nn.Conv2d(8, 16, 3, stride=2), nn.ReLU())
        return t, 16
    import torchvision
    r = torchvision.models.resnet50(weights=None)
    return r, 2048


def build(args):
    torch.manual_seed(args.seed)
    net, channels = trunk_for(args.config)
    if args.config == 'full':
        if args.backbone_checkpoint:
            sd = torch.load(args.backbone_checkpoint, map_location='cpu', weights_only=True)
            net.load_state_dict(sd)
        trunk = nn.Sequential(*list(net.children())[:-2])
    else:
        trunk = net
    features = Features(trunk).eval()
    reduced, hidden = (128, 32) if args.config == 'full' else (12, 6)
    if args.checkpoint:
        sd = torch.load(args.checkpoint, map_location='cpu', weights_only=True)
        reduced, feat = sd['ann.fc0.weight'].shape
        hidden = sd['rnn.weight_hh_l0'].shape[1]
        if feat != 2 * channels:
            sys.exit(f'{args.checkpoint}: head takes {feat} features, the backbone gives {2 * channels}')
        temporal = Temporal(feat, reduced, hidden)
        # ann.fc (128->128) is in the authors' state dict but unused with n_ANNlayers = 1.
        temporal.load_state_dict({
            'fc0.weight': sd['ann.fc0.weight'], 'fc0.bias': sd['ann.fc0.bias'],
            'rnn.weight_ih_l0': sd['rnn.weight_ih_l0'], 'rnn.weight_hh_l0': sd['rnn.weight_hh_l0'],
            'rnn.bias_ih_l0': sd['rnn.bias_ih_l0'], 'rnn.bias_hh_l0': sd['rnn.bias_hh_l0'],
            'q.weight': sd['q.weight'], 'q.bias': sd['q.bias'],
        })
    else:
        temporal = Temporal(2 * channels, reduced, hidden)
    return features, temporal.eval(), 2 * channels, hidden



def export(features, temporal, dim, hidden, args, fpath, tpath):
    frames = torch.randn(2, 3, 64, 96)
    torch.onnx.export(features, (frames,), fpath, input_names=['frames'], output_names=['features'],
                      dynamic_axes={'frames': {0: 'n', 2: 'h', 3: 'w'}, 'features': {0: 'n'}}, opset_version=args.opset,
                      dynamo=False)
    feats, state = torch.randn(1, 5, dim), torch.zeros(1, 1, hidden)
    torch.onnx.export(temporal, (feats, state), tpath, input_names=['features', 'state'], output_names=['quality', 'state_out'],
                      dynamic_axes={'features': {1: 't'}, 'quality': {1: 't'}}, opset_version=args.opset, dynamo=False)


def check(features, temporal, dim, hidden, fpath, tpath, tol):
    import onnxruntime as ort
    rng = np.random.default_rng(1)
    fs = ort.InferenceSession(fpath, providers=['CPUExecutionProvider'])
    for shape in [(3, 3, 48, 80), (1, 3, 75, 61)]:
        x = rng.standard_normal(shape).astype(np.float32)
        with torch.no_grad():
            ref = features(torch.from_numpy(x)).numpy()
        got = fs.run(['features'], {'frames': x})[0]
        err = np.abs(got - ref).max() / max(1e-6, np.abs(ref).max())
        print(f'features {shape}: max rel diff {err:.2e}')
        if not err <= tol:
            sys.exit(f'features graph differs from PyTorch ({err:.2e} > {tol})')
    ts = ort.InferenceSession(tpath, providers=['CPUExecutionProvider'])
    seq = rng.standard_normal((1, 9, dim)).astype(np.float32)
    h0 = np.zeros((1, 1, hidden), np.float32)
    with torch.no_grad():
        ref = temporal(torch.from_numpy(seq), torch.from_numpy(h0))[0].numpy()
    one = ts.run(['quality'], {'features': seq, 'state': h0})[0]
    a, h = ts.run(['quality', 'state_out'], {'features': seq[:, :4], 'state': h0})
    b = ts.run(['quality'], {'features': seq[:, 4:], 'state': h})[0]
    err1 = np.abs(one - ref).max()
    err2 = np.abs(np.concatenate([a, b], 1) - ref).max()
    print(f'temporal: one pass {err1:.2e}, two chunks {err2:.2e} (abs)')
    if not (err1 <= tol and err2 <= tol):
        sys.exit(f'temporal graph differs from PyTorch ({max(err1, err2):.2e} > {tol})')


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--checkpoint', help="the authors' VSFA.pt (head)")
    ap.add_argument('--backbone-checkpoint', help="torchvision's ImageNet ResNet-50 state dict")
    ap.add_argument('--weights', choices=['checkpoint', 'random'], default='checkpoint')
    ap.add_argument('--config', choices=['full', 'tiny'], default='full')
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--out-dir', required=True)
    ap.add_argument('--name', default='vsfa')
    ap.add_argument('--opset', type=int, default=17)
    ap.add_argument('--tol', type=float, default=1e-4)
    ap.add_argument('--save-state', help='also save both state dicts here (torch.save), for reference runs')
    args = ap.parse_args()
    if args.weights == 'checkpoint' and not args.checkpoint:
        sys.exit('--checkpoint VSFA.pt is required (or --weights random for seeded test weights)')
    if args.config == 'tiny' and (args.checkpoint or args.backbone_checkpoint):
        sys.exit('--config tiny takes no checkpoint')
    if args.config == 'full' and not args.backbone_checkpoint:
        print('warning: no --backbone-checkpoint: the ResNet-50 is seeded random, scores are for parity tests only', file=sys.stderr)
    features, temporal, dim, hidden = build(args)
    os.makedirs(args.out_dir, exist_ok=True)
    fpath = os.path.join(args.out_dir, f'{args.name}-features.onnx')
    tpath = os.path.join(args.out_dir, f'{args.name}-temporal.onnx')
    export(features, temporal, dim, hidden, args, fpath, tpath)
    check(features, temporal, dim, hidden, fpath, tpath, args.tol)
    if args.save_state:
        torch.save({'features': features.state_dict(), 'temporal': temporal.state_dict()}, args.save_state)
    weights = 'authors' if args.checkpoint else f'random seed {args.seed}'
    backbone = 'torchvision ImageNet' if args.backbone_checkpoint else ('tiny test trunk' if args.config == 'tiny' else f'random seed {args.seed}')
    manifest = {
        '$schema': 'https://iqa-node.dev/schema/video-manifest.json',
        'schemaVersion': 1,
        'name': args.name,
        'task': 'video-quality',
        'description': f'VSFA (Li et al. 2019): ResNet-50 mean+std features per frame, GRU, TP pooling. Head: {weights}; backbone: {backbone}.',
        'frames': {'colorOrder': 'rgb', 'normalize': {'scale': 'unit', 'mean': MEAN, 'std': STD}, 'resize': None, 'batch': 32},
        'features': {'file': os.path.basename(fpath), 'sha256': sha256(fpath), 'input': 'frames', 'output': 'features', 'size': dim},
        'temporal': {'file': os.path.basename(tpath), 'sha256': sha256(tpath), 'inputs': ['features', 'state'],
                     'outputs': ['quality', 'state_out'], 'stateSize': hidden},
        'pooling': {'type': 'vsfa', 'tau': 12, 'beta': 0.5},
        'score': {'range': [0, 1], 'higherIsBetter': True},
        'source': {'url': 'https://github.com/lidq92/VSFA', 'license': 'MIT (VSFA.pt); ResNet-50 ImageNet weights: torchvision, BSD-3-Clause',
                   'citation': 'D. Li, T. Jiang, M. Jiang, Quality Assessment of In-the-Wild Videos, ACM MM 2019',
                   'note': 'VSFA.pt predicts MOS / max MOS of KoNViD-1k (about 0-1); multiply by the largest KoNViD-1k MOS (about 4.6, in the authors data/KoNViD-1kinfo.mat) for the 1-5 MOS scale'},
    }
    with open(os.path.join(args.out_dir, f'{args.name}.json'), 'w') as f:
        json.dump(manifest, f, indent=2)
        f.write('\n')
    print(f'wrote {fpath}, {tpath}, {args.name}.json')


if __name__ == '__main__':
    main()
