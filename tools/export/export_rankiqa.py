#!/usr/bin/env python3
"""Exports RankIQA+FT (Liu, van de Weijer, Bagdanov, ICCV 2017) to ONNX: the authors' Caffe VGG-16
(conv1_1 ... fc8 -> 1, deploy_vgg.prototxt) on 224 x 224 crops of raw BGR 0-255 pixels (their
FT_eval scripts feed cv2.imread's pixels, no mean, no scale), and its manifest.

Weights (pick one):
  --checkpoint FT_live.caffemodel     the authors' fine-tuned model (xialeiliu/RankIQA pre-trained/README.md:
                                      FT_live / FT_tid2013 on Google Drive and Baidu; MIT), read with
                                      tools/export/caffe_model.py (no Caffe needed)
  --weights random [--seed N]         a seeded VGG-16 written as a .caffemodel first and read back
                                      (the reader's round trip), for tests
  --config tiny                       narrow layers (tests only; same graph contract)

--dataset live: the score is LIVE DMOS (lower is better); tid2013: TID2013 MOS 0-9 (higher is better).
Test procedure: 30 random 224 crops (seeded here, unseeded np.random there), mean of fc8.

  python tools/export/export_rankiqa.py --checkpoint FT_live.caffemodel --dataset live --out-dir /tmp/rankiqa
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from caffe_model import read_caffemodel, write_caffemodel  # noqa: E402
from export_common import check_weights_arguments, export_arguments, manifest_head, sha256, write_manifest  # noqa: E402

FULL = {'convs': [[64, 64], [128, 128], [256, 256, 256], [512, 512, 512], [512, 512, 512]], 'fc': 4096}
TINY = {'convs': [[4, 4], [8, 8], [8, 8, 8], [16, 16, 16], [16, 16, 16]], 'fc': 32}


class RankVGG(nn.Module):
    """Caffe's VGG-16 of deploy_vgg.prototxt; `names` maps each Caffe layer to its module."""

    def __init__(self, cfg):
        super().__init__()
        layers, self.names, cin = [], {}, 3
        for s, block in enumerate(cfg['convs'], 1):
            for k, c in enumerate(block, 1):
                conv = nn.Conv2d(cin, c, 3, padding=1)
                self.names[f'conv{s}_{k}'] = conv
                layers += [conv, nn.ReLU(inplace=True)]
                cin = c
            layers.append(nn.MaxPool2d(2, 2))  # Caffe rounds pooling sizes up; equal at 224
        self.features = nn.Sequential(*layers)
        self.fc6, self.fc7, self.fc8 = nn.Linear(cin * 7 * 7, cfg['fc']), nn.Linear(cfg['fc'], cfg['fc']), nn.Linear(cfg['fc'], 1)
        self.names.update(fc6=self.fc6, fc7=self.fc7, fc8=self.fc8)

    def forward(self, x):
        x = torch.flatten(self.features(x), 1)  # Caffe's InnerProduct flattens C x H x W the same way
        return self.fc8(torch.relu(self.fc7(torch.relu(self.fc6(x)))))[:, 0]

    def load_caffe(self, blobs):
        for name, m in self.names.items():
            if name not in blobs:
                sys.exit(f'the .caffemodel has no layer {name} (layers: {", ".join(sorted(blobs))})')
            w, b = blobs[name][0], blobs[name][1].reshape(-1)
            if tuple(w.shape) != tuple(m.weight.shape):
                w = w.reshape(m.weight.shape) if w.size == m.weight.numel() else sys.exit(f'{name}: {w.shape} in the checkpoint, {tuple(m.weight.shape)} expected')
            with torch.no_grad():
                m.weight.copy_(torch.from_numpy(np.array(w)))
                m.bias.copy_(torch.from_numpy(np.array(b)))


def deploy_prototxt(cfg) -> str:
    """deploy_vgg.prototxt's layers for this config (input 1 x 3 x 224 x 224, ReLU, 2x2 max-pool, fc6-fc8)."""
    out, bottom = ['name: "rankiqa"', 'input: "data"', 'input_dim: 1', 'input_dim: 3', 'input_dim: 224', 'input_dim: 224'], 'data'
    def layer(name, type_, body=''):
        nonlocal bottom
        out.append(f'layer {{ name: "{name}" type: "{type_}" bottom: "{bottom}" top: "{name}" {body}}}')
        bottom = name
    for s, block in enumerate(cfg['convs'], 1):
        for k, c in enumerate(block, 1):
            layer(f'conv{s}_{k}', 'Convolution', f'convolution_param {{ num_output: {c} pad: 1 kernel_size: 3 }} ')
            out.append(f'layer {{ name: "relu{s}_{k}" type: "ReLU" bottom: "{bottom}" top: "{bottom}" }}')
        layer(f'pool{s}', 'Pooling', 'pooling_param { pool: MAX kernel_size: 2 stride: 2 } ')
    for n, c in (('fc6', cfg['fc']), ('fc7', cfg['fc']), ('fc8', 1)):
        layer(n, 'InnerProduct', f'inner_product_param {{ num_output: {c} }} ')
        if n != 'fc8':
            out.append(f'layer {{ name: "relu{n[2]}" type: "ReLU" bottom: "{bottom}" top: "{bottom}" }}')
    return '\n'.join(out) + '\n'


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    export_arguments(ap, 'rankiqa')
    ap.add_argument('--dataset', choices=['live', 'tid2013'], default='live')
    ap.add_argument('--save-caffemodel', help='with --weights random: keep the seeded .caffemodel here')
    ap.add_argument('--prototxt', help="also write the deploy .prototxt of this config here (the authors' layer names; for Caffe readers such as OpenCV's dnn)")
    args = ap.parse_args()
    check_weights_arguments(args)
    cfg = TINY if args.config == 'tiny' else FULL
    net = RankVGG(cfg).eval()
    ckpt = args.checkpoint
    with tempfile.TemporaryDirectory() as tmp:
        if not ckpt:
            torch.manual_seed(args.seed)
            seeded = RankVGG(cfg)
            # He-normal weights and small biases: scores that move with the crop (default init and
            # raw 0-255 pixels give a near-constant output, a test that could not fail).
            with torch.no_grad():
                for m in seeded.names.values():
                    nn.init.kaiming_normal_(m.weight, nonlinearity='relu')
                    m.bias.normal_(0, 0.01)
                seeded.fc8.weight.mul_(1 / 255)
            ckpt = args.save_caffemodel or os.path.join(tmp, 'seeded.caffemodel')
            write_caffemodel(ckpt, {n: [m.weight.detach().numpy(), m.bias.detach().numpy()] for n, m in seeded.names.items()},
                             {n: 'InnerProduct' if n.startswith('fc') else 'Convolution' for n in seeded.names})
        net.load_caffe(read_caffemodel(ckpt))
        src_sha = sha256(ckpt)
    x = torch.rand(3, 3, 224, 224, generator=torch.Generator().manual_seed(7)) * 255
    with torch.no_grad():
        ref = net(x).double().numpy()
    os.makedirs(args.out_dir, exist_ok=True)
    path = os.path.join(args.out_dir, f'{args.name}.onnx')
    torch.onnx.export(net, (x[:2],), path, input_names=['input'], output_names=['score'], dynamic_axes={'input': {0: 'batch'}, 'score': {0: 'batch'}},
                      opset_version=args.opset, dynamo=False)
    import onnxruntime as ort
    got = ort.InferenceSession(path, providers=['CPUExecutionProvider']).run(['score'], {'input': x.numpy()})[0].astype(np.float64)
    err = float(np.abs(got - ref).max())
    print(f'ORT vs PyTorch per-crop max |diff| {err:.3g} (scores {np.round(ref, 5).tolist()})')
    if not err <= args.tol * max(1.0, float(np.abs(ref).max())):
        sys.exit(f'ONNX Runtime disagrees with PyTorch: {err}')
    live = args.dataset == 'live'
    manifest = {
        **manifest_head(args.name, f'RankIQA+FT (Liu et al., ICCV 2017), fine-tuned on {args.dataset}: Caffe VGG-16 on raw BGR crops, mean over 30 crops'
                        + (' [narrow test model]' if args.config == 'tiny' else '')),
        'model': {'file': os.path.basename(path), 'sha256': sha256(path)},
        'input': {'name': 'input', 'layout': 'NCHW', 'width': 224, 'height': 224, 'channels': 3, 'colorOrder': 'bgr', 'dtype': 'float32',
                  'batch': 'dynamic', 'normalize': {'scale': 'byte', 'mean': [0], 'std': [1]}},
        'preprocess': {'resize': None, 'crop': {'policy': 'random', 'count': 30, 'seed': 0}},
        'outputs': [{'name': 'score', 'shape': ['batch']}],
        'head': {'type': 'scalar', 'output': 'score'},
        'score': {'range': [0, 100] if live else [0, 9], 'higherIsBetter': not live, 'aggregate': 'mean'},
        'source': ({'url': 'https://github.com/xialeiliu/RankIQA (pre-trained/README.md)', 'sha256': src_sha, 'license': 'MIT (xialeiliu/RankIQA)'}
                   if args.checkpoint else {'license': 'test model with seeded random weights (no checkpoint)', 'note': f'torch.manual_seed({args.seed}), config {args.config}, through a written .caffemodel'}),
        'export': {'tool': 'tools/export/export_rankiqa.py', 'dataset': args.dataset, 'config': cfg, 'torch': torch.__version__, 'opset': args.opset},
    }
    if args.prototxt:
        with open(args.prototxt, 'w') as f:
            f.write(deploy_prototxt(cfg))
    write_manifest(args.out_dir, args.name, manifest)
    print(f'wrote {path} ({os.path.getsize(path) / 2**20:.1f} MB) and {args.name}.json')


if __name__ == '__main__':
    main()
