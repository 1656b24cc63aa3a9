#!/usr/bin/env python3
"""Export KonCept512 (Hosu et al., TIP 2020; tools/export/koncept512_model.py) to ONNX with its
manifest: one 384 x 512 (H x W) RGB image in, x / 127.5 - 1 (Keras' inception_resnet_v2
preprocess_input), output `quality` [N, 1] on the KonIQ MOS scale (1-100).

Checkpoint: the authors' Keras file koncep512-trained-model.h5 (http://datasets.vqa.mmsp-kn.de/
archives/koncep512-trained-model.h5, also OSF osf.io/uznf8; what `pip install koncept` downloads),
read with h5py (no TensorFlow needed): both model.save files (a 'model_weights' group) and
save_weights files. Keras names most InceptionResNetV2 layers automatically (conv2d_N,
batch_normalization_N in creation order), so the units are matched by that order; the residual
up-projections (blockK_i_conv), conv_7b and the fc head by name and file order. Every shape is checked.

  python3 tools/export/export_koncept512.py --checkpoint koncep512-trained-model.h5 --out-dir DIR
  python3 tools/export/export_koncept512.py --checkpoint tiny.h5 --config tiny --out-dir DIR   (tests)

Checks ONNX Runtime against PyTorch on a seeded batch before writing the manifest; the check
against Keras itself is scripts/golden/koncept512_keras.py.
"""
from __future__ import annotations

import argparse
import os
import re
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export_common import export_arguments, manifest_head, sha256, write_manifest  # noqa: E402
from koncept512_model import FULL, TINY, KonCept512  # noqa: E402


def keras_layers(path: str) -> list:
    """[(layer name, {weight name: array})] of a Keras HDF5 file, in the file's layer order."""
    import h5py
    try:
        f = h5py.File(path, 'r')
    except OSError as e:
        sys.exit(f'{path}: not an HDF5 file ({e})')
    with f:
        g = f['model_weights'] if 'model_weights' in f else f
        names = [n.decode() if isinstance(n, bytes) else str(n) for n in g.attrs.get('layer_names', list(g.keys()))]
        out = []
        for name in names:
            weights = {}
            g[name].visititems(lambda k, o: weights.__setitem__(k.split('/')[-1].split(':')[0], np.array(o)) if isinstance(o, h5py.Dataset) else None)
            if weights:
                out.append((name, weights))
    if not out:
        sys.exit(f'{path}: no layer weights (not a Keras weights file?)')
    return out


def auto_index(name: str, prefix: str):
    """conv2d -> 0, conv2d_7 -> 7 (Keras' automatic names); None for any other name."""
    m = re.fullmatch(rf'{prefix}(?:_(\d+))?', name)
    return None if m is None else int(m.group(1) or 0)


def load_keras(net: KonCept512, path: str) -> None:
    layers = keras_layers(path)

    def take(param, array, what):
        t = torch.from_numpy(np.ascontiguousarray(array))
        if tuple(t.shape) != tuple(param.shape):
            sys.exit(f'{path}: {what} has shape {tuple(t.shape)}, the model expects {tuple(param.shape)} (another --config?)')
        param.copy_(t)

    def conv(m, wts, name):
        take(m.weight, wts['kernel'].transpose(3, 2, 0, 1), f'{name}/kernel')  # (kh, kw, in, out) -> (out, in, kh, kw)
        if m.bias is not None:
            take(m.bias, wts['bias'], f'{name}/bias')

    def bn(m, wts, name):
        if 'gamma' in wts:
            take(m.weight, wts['gamma'], f'{name}/gamma')
        take(m.bias, wts['beta'], f'{name}/beta')
        take(m.running_mean, wts['moving_mean'], f'{name}/moving_mean')
        take(m.running_var, wts['moving_variance'], f'{name}/moving_variance')

    convs = sorted((i, n, w) for n, w in layers if (i := auto_index(n, 'conv2d')) is not None)
    bns = sorted((i, n, w) for n, w in layers if (i := auto_index(n, 'batch_normalization')) is not None)
    units = net.auto_named_units()
    if len(convs) != len(units) or len(bns) != len(units):
        sys.exit(f'{path}: {len(convs)} automatically named Conv2D and {len(bns)} BatchNormalization layers, '
                 f'the InceptionResNetV2 of this config has {len(units)} (not a KonCept512 file, or another --config?)')
    kinds = {'block35': 0, 'block17': 1, 'block8': 2}
    ups = sorted((kinds[m.group(1)], int(m.group(2)), n, w) for n, w in layers if (m := re.fullmatch(r'(block35|block17|block8)_(\d+)_conv', n)))
    blocks = net.blocks()
    if len(ups) != len(blocks):
        sys.exit(f'{path}: {len(ups)} residual blocks (blockK_i_conv), the model has {len(blocks)}')
    by_name = dict(layers)
    if 'conv_7b' not in by_name or 'conv_7b_bn' not in by_name:
        sys.exit(f'{path}: no conv_7b / conv_7b_bn layers (not an InceptionResNetV2?)')
    backbone = {n for _, n, _ in convs} | {n for _, n, _ in bns} | {n for *_, n, _ in ups} | {'conv_7b', 'conv_7b_bn'}
    dense = [(n, w) for n, w in layers if n not in backbone and 'kernel' in w and w['kernel'].ndim == 2]
    head_bns = [(n, w) for n, w in layers if n not in backbone and 'moving_mean' in w]
    linears = [m for m in net.head if isinstance(m, torch.nn.Linear)]
    norms = [m for m in net.head if isinstance(m, torch.nn.BatchNorm1d)]
    if len(dense) != len(linears) or len(head_bns) != len(norms):
        sys.exit(f'{path}: a head of {len(dense)} Dense and {len(head_bns)} BatchNormalization layers, KonCept512 has {len(linears)} and {len(norms)}')
    with torch.no_grad():
        for unit, (_, cn, cw), (_, bn_name, bw) in zip(units, convs, bns):
            conv(unit.conv, cw, cn)
            bn(unit.bn, bw, bn_name)
        for block, (*_, n, w) in zip(blocks, ups):
            conv(block.up, w, n)
        conv(net.conv_7b.conv, by_name['conv_7b'], 'conv_7b')
        bn(net.conv_7b.bn, by_name['conv_7b_bn'], 'conv_7b_bn')
        for m, (n, w) in zip(linears, dense):
            take(m.weight, w['kernel'].T, f'{n}/kernel')
            take(m.bias, w['bias'], f'{n}/bias')
        for m, (n, w) in zip(norms, head_bns):
            bn(m, w, n)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    export_arguments(ap, 'koncept512')
    args = ap.parse_args()
    if not args.checkpoint:
        sys.exit('--checkpoint FILE.h5 is required (the authors\' Keras file; seeded test files come from scripts/golden/koncept512_keras.py)')
    cfg = TINY if args.config == 'tiny' else FULL
    net = KonCept512(cfg)
    load_keras(net, args.checkpoint)
    net.eval()
    os.makedirs(args.out_dir, exist_ok=True)
    path = os.path.join(args.out_dir, f'{args.name}.onnx')
    shape = (3, cfg.height, cfg.width)
    x = torch.rand(2, *shape, generator=torch.Generator().manual_seed(7)) * 2 - 1
    with torch.no_grad():
        ref = net(x).numpy().astype(np.float64)
    torch.onnx.export(net, (x[:1],), path, input_names=['input'], output_names=['quality'],
                      dynamic_axes={'input': {0: 'batch'}, 'quality': {0: 'batch'}}, opset_version=args.opset, dynamo=False)
    import onnxruntime as ort
    got = ort.InferenceSession(path, providers=['CPUExecutionProvider']).run(['quality'], {'input': x.numpy()})[0].astype(np.float64)
    err = float(np.max(np.abs(got - ref)))
    print(f'ORT vs PyTorch max |diff| {err:.3g} (quality {np.round(ref.ravel(), 4).tolist()})')
    if not err <= args.tol * max(1.0, float(np.max(np.abs(ref)))):
        sys.exit(f'ONNX Runtime disagrees with PyTorch: {err} > {args.tol}')
    manifest = {
        **manifest_head(args.name, 'KonCept512 (Hosu et al., TIP 2020): Keras InceptionResNetV2, global average pooling, fc 2048-1024-256-1 with BatchNorm'
                        + (' [widths / 8, one block per stage: test model]' if args.config == 'tiny' else '')),
        'model': {'file': os.path.basename(path), 'sha256': sha256(path)},
        'input': {'name': 'input', 'layout': 'NCHW', 'width': cfg.width, 'height': cfg.height, 'channels': 3, 'colorOrder': 'rgb', 'dtype': 'float32',
                  'batch': 'dynamic', 'normalize': {'scale': 'unit', 'mean': [0.5], 'std': [0.5]}},
        # The authors test on KonIQ's pre-resized 512 x 384 set; other images are resized as their
        # PyTorch port does (torchvision Resize((384, 512)) on a PIL image = Pillow bilinear).
        'preprocess': {'crop': {'policy': 'resize'}, 'resize': {'width': cfg.width, 'height': cfg.height, 'interp': 'pil-bilinear'}},
        'outputs': [{'name': 'quality', 'shape': ['batch', 1]}],
        'head': {'type': 'scalar', 'output': 'quality'},
        'score': {'range': [1, 100], 'higherIsBetter': True, 'aggregate': 'mean'},
        'source': {'url': 'http://datasets.vqa.mmsp-kn.de/archives/koncep512-trained-model.h5 (subpic/koniq)', 'sha256': sha256(args.checkpoint),
                   'license': 'code MIT (subpic/koniq); weights: no terms stated (KonIQ-10k / OSF)'},
        'export': {'tool': 'tools/export/export_koncept512.py', 'config': cfg.to_dict(), 'torch': torch.__version__, 'opset': args.opset},
    }
    write_manifest(args.out_dir, args.name, manifest)
    print(f'wrote {path} ({os.path.getsize(path) / 2**20:.2f} MB) and {args.name}.json')


if __name__ == '__main__':
    main()
