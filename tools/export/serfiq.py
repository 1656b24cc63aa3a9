#!/usr/bin/env python3
"""Exports SER-FIQ (Terhoerst et al., CVPR 2020) on a MagFace iResNet as two ONNX graphs and a face
descriptor with the 'stochastic' readout (models/face-manifest.schema.json):

  trunk.onnx  aligned face N x 3 x 112 x 112 (BGR / 255) -> the map the dropout acts on
              (N x 512 x 7 x 7 after bn2 for MagFace's iResNet)
  head.onnx   (features N x C x 7 x 7, mask N x C) -> embedding: features * mask (a Dropout2d channel
              mask, 1 / (1 - p) or 0), flatten, fc, BatchNorm1d

iqa-node runs the trunk once per face and the head on T = 100 masked copies, with masks from a
seeded generator given as an input (ONNX Dropout is the identity at inference; see
shared/design/face-qa.md). The score is SER-FIQ's: the T embeddings L2-normalised, q = 2 / (1 +
exp(mean pairwise Euclidean distance)), then the authors' normalisation 1 / (1 + exp(-130 (q - 0.88)))
(scaled to 0-100; an OFIQ-style sigmoid with x0 0.88, w 1/130).

Not the SER-FIQ authors' network: they use insightface's ArcFace ResNet-100 (MXNet) with dropout
before the embedding layer. A MagFace iResNet carries Dropout2d(0.4) in the same place (trained with
it), which is what this tool splits at; the descriptor says so.

Weights: --checkpoint (a MagFace .pth, as tools/export/magface.py) or --weights random --seed N.
Before writing, trunk + head with all-ones masks is checked against the unsplit PyTorch model, and
with random masks against PyTorch with the same masks.

  python tools/export/serfiq.py --checkpoint magface_epoch_00025.pth --arch iresnet100 --out-dir ~/.cache/iqa-node/models/serfiq-magface
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export_common import sha256, write_manifest  # noqa: E402
from magface import build, network_arguments  # noqa: E402
from magface_model import IResNet  # noqa: E402


class Trunk(nn.Module):
    def __init__(self, m: IResNet):
        super().__init__()
        self.m = m

    def forward(self, x):
        m = self.m
        x = m.prelu(m.bn1(m.conv1(x)))
        return m.bn2(m.layer4(m.layer3(m.layer2(m.layer1(x)))))


class Head(nn.Module):
    def __init__(self, m: IResNet):
        super().__init__()
        self.m = m

    def forward(self, features, mask):
        x = features * mask[:, :, None, None]
        return self.m.features(self.m.fc(torch.flatten(x, 1)))


def check(model, trunk_path, head_path, drop, seed):
    import onnxruntime as ort
    t = ort.InferenceSession(trunk_path, providers=['CPUExecutionProvider'])
    h = ort.InferenceSession(head_path, providers=['CPUExecutionProvider'])
    rng = np.random.default_rng(seed)
    x = rng.random((2, 3, 112, 112), dtype=np.float32)
    feats = t.run(['features'], {'input': x})[0]
    c = feats.shape[1]
    ones = np.ones((2, c), np.float32)
    masks = ((rng.random((2, c)) >= drop) / (1 - drop)).astype(np.float32)
    with torch.no_grad():
        full = model(torch.from_numpy(x)).numpy()
        m = model
        ref = Head(m).eval()(Trunk(m).eval()(torch.from_numpy(x)), torch.from_numpy(masks)).numpy()
    a = h.run(['embedding'], {'features': feats, 'mask': ones})[0]
    b = h.run(['embedding'], {'features': feats, 'mask': masks})[0]
    e1 = float(np.abs(a - full).max() / np.abs(full).max())
    e2 = float(np.abs(b - ref).max() / np.abs(ref).max())
    print(f'trunk + head (mask 1) vs the unsplit model: {e1:.2e}; masked head vs PyTorch: {e2:.2e} (relative)')
    if e1 > 1e-4 or e2 > 1e-4:
        sys.exit('the split graphs do not match PyTorch')


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    network_arguments(p, 'iresnet100')
    p.add_argument('--passes', type=int, default=100, help='T, stochastic passes (the authors: 100)')
    p.add_argument('--name', default='serfiq-magface')
    p.add_argument('--out-dir', required=True)
    args = p.parse_args()
    model = build(args).eval()
    drop = float(model.dropout.p)
    os.makedirs(args.out_dir, exist_ok=True)
    trunk_path, head_path = os.path.join(args.out_dir, 'trunk.onnx'), os.path.join(args.out_dir, 'head.onnx')
    # Wrappers are made in eval mode: export restores a wrapper's mode onto everything inside it.
    torch.onnx.export(Trunk(model).eval(), torch.zeros(1, 3, 112, 112), trunk_path, input_names=['input'], output_names=['features'],
                      dynamic_axes={'input': {0: 'batch'}, 'features': {0: 'batch'}}, opset_version=13, dynamo=False)
    with torch.no_grad():
        c = Trunk(model).eval()(torch.zeros(1, 3, 112, 112)).shape[1]
    torch.onnx.export(Head(model).eval(), (torch.zeros(2, c, 7, 7), torch.ones(2, c)), head_path, input_names=['features', 'mask'], output_names=['embedding'],
                      dynamic_axes={'features': {0: 'batch'}, 'mask': {0: 'batch'}, 'embedding': {0: 'batch'}}, opset_version=13, dynamo=False)
    check(model, trunk_path, head_path, drop, args.seed + 1)
    descriptor = {
        '$schema': 'https://github.com/iqa-node/iqa-node/blob/main/models/face-manifest.schema.json',
        'schemaVersion': 1,
        'kind': 'face',
        'name': args.name,
        'description': f'SER-FIQ (Terhoerst et al., CVPR 2020) on a MagFace {args.arch}: the robustness of the embedding to dropout, T = {args.passes}',
        'measures': "recognition utility: how stable the face's embedding is under dropout (SER-FIQ), not beauty or perceptual quality",
        'model': {'file': 'trunk.onnx', 'sha256': sha256(trunk_path)},
        'align': {'template': 'arcface112'},
        'input': {'colorOrder': 'bgr', 'layout': 'NCHW', 'normalize': {'mean': [0], 'std': [1]}},
        'readout': {'type': 'stochastic', 'output': 'features',
                    'head': {'file': 'head.onnx', 'sha256': sha256(head_path), 'features': 'features', 'mask': 'mask', 'output': 'embedding'},
                    'passes': args.passes, 'dropout': drop, 'mask': 'channel', 'seed': 0},
        'mapping': {'type': 'sigmoid', 'h': 100, 'a': 0, 's': 1, 'x0': 0.88, 'w': 1 / 130},
        'source': {'paper': 'P. Terhoerst et al., SER-FIQ: Unsupervised Estimation of Face Image Quality Based on Stochastic Embedding Robustness, CVPR 2020; '
                            'network: Q. Meng et al., MagFace, CVPR 2021',
                   'code': 'https://github.com/pterhoer/FaceImageQuality (score and normalisation; code CC BY-NC-SA 4.0, not used here); https://github.com/IrvingMeng/MagFace',
                   'checkpoint': 'a MagFace iResNet .pth (MagFace model zoo); not the SER-FIQ authors\' ArcFace-with-dropout MXNet model',
                   'license': 'method: SER-FIQ paper (its code is CC BY-NC-SA 4.0); weights: MagFace model zoo terms (MS1MV2-trained, research only)',
                   'commercialUse': False, 'weights': 'seeded-random' if args.weights == 'random' else 'official'},
    }
    write_manifest(args.out_dir, 'manifest', descriptor)
    print(f'wrote {args.out_dir}/manifest.json, trunk.onnx, head.onnx')


if __name__ == '__main__':
    main()
