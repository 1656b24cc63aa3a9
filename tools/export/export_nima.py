#!/usr/bin/env python3
"""Exports NIMA (Talebi & Milanfar, TIP 2018) as idealo/image-quality-assessment trains it (Keras
MobileNet, alpha 1, include_top=False, average pooling, Dropout, Dense(10, softmax)) to ONNX:
N x 3 x 224 x 224 (RGB, x / 127.5 - 1 as keras.applications.mobilenet.preprocess_input) -> the 10-bin
distribution; the manifest's head takes its mean (sum p_k k, k = 1..10), as idealo's calc_mean_score.

Weights (pick one):
  [--weights idealo] --checkpoint FILE.hdf5
                                  idealo's weights (models/MobileNet/weights_mobilenet_{technical_0.11,
                                  aesthetic_0.07}.hdf5, Git LFS in their repository; Apache-2.0): Keras'
                                  save_weights layout, read with h5py (no TensorFlow needed)
  (tests: scripts/golden/nima_keras.py builds the idealo model in Keras with seeded weights and
  writes them in this layout with Keras' own legacy HDF5 writer; --alpha 0.25 keeps it small)

  --weights pyiqa --arch vgg16|inception_resnet_v2 [--classes 10|1] [--dataset ava|koniq|spaq] --checkpoint FILE.pth
                                  pyiqa's re-trained NIMA (chaofengc/IQA-PyTorch-Weights: NIMA_VGG16_ava-dc4e8265.pth,
                                  NIMA_InceptionV2_ava-b0c77c00.pth = inception_resnet_v2 AVA, pyiqa's 'nima';
                                  NIMA_koniq-250367ae.pth, NIMA-spaq-46a7fcb7.pth: inception_resnet_v2, 1 output),
                                  {'params': state_dict}; rebuilt and mapped by nima_pyiqa.py. pyiqa's eval procedure:
                                  PIL RGB -> to_tensor -> torchvision resize(x, S) of the shorter side (antialiased
                                  bilinear on floats, the longer side int(S * long / short)) -> center_crop(S)
                                  (offsets int(round((L - S) / 2)), Python's half-even round) -> timm's mean/std;
                                  S = 299 (IRv2) or 224 (VGG16). AVA: sum p_k k, k = 1..10; KonIQ / SPAQ: the raw
                                  scalar. ONNX Runtime is checked against pyiqa's own NIMA module (pretrained=False,
                                  the checkpoint loaded strictly) before anything is written.

The architecture is Keras' MobileNet rebuilt in PyTorch (MobileNetNima below). idealo loads
images with Keras load_img(target_size=(224, 224)): a Pillow NEAREST resize ('pil-nearest').

  python tools/export/export_nima.py --checkpoint weights_mobilenet_technical_0.11.hdf5 --name nima-technical --out-dir /tmp/nima
  python tools/export/export_nima.py --weights pyiqa --arch inception_resnet_v2 --checkpoint NIMA_InceptionV2_ava-b0c77c00.pth --name nima-pyiqa --out-dir /tmp/nima-pyiqa
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
from export_common import float_rgb_input, manifest_head, sha256, write_manifest  # noqa: E402

BLOCKS = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1), (512, 1), (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1)]


class MobileNetNima(nn.Module):
    """Keras' MobileNet v1 (alpha = width factor): TF 'same' padding, BatchNorm eps 1e-3, ReLU6."""

    def __init__(self, alpha: float = 1.0, classes: int = 10):
        super().__init__()
        w = lambda c: int(c * alpha)  # noqa: E731
        self.conv1 = nn.Conv2d(3, w(32), 3, 2, bias=False)
        self.conv1_bn = nn.BatchNorm2d(w(32), eps=1e-3)
        self.dw, self.dw_bn, self.pw, self.pw_bn, self.strides = nn.ModuleList(), nn.ModuleList(), nn.ModuleList(), nn.ModuleList(), []
        cin = w(32)
        for c, s in BLOCKS:
            self.dw.append(nn.Conv2d(cin, cin, 3, s, padding=1 if s == 1 else 0, groups=cin, bias=False))
            self.dw_bn.append(nn.BatchNorm2d(cin, eps=1e-3))
            self.pw.append(nn.Conv2d(cin, w(c), 1, bias=False))
            self.pw_bn.append(nn.BatchNorm2d(w(c), eps=1e-3))
            self.strides.append(s)
            cin = w(c)
        self.dense = nn.Linear(cin, classes)

    def forward(self, x):
        # Stride 2 with 'same' padding on even sizes pads one row and column after (Keras' ((0, 1), (0, 1))).
        x = F.relu6(self.conv1_bn(self.conv1(F.pad(x, (0, 1, 0, 1)))))
        for dw, dbn, pw, pbn, s in zip(self.dw, self.dw_bn, self.pw, self.pw_bn, self.strides):
            x = F.relu6(dbn(dw(F.pad(x, (0, 1, 0, 1)) if s == 2 else x)))
            x = F.relu6(pbn(pw(x)))
        return torch.softmax(self.dense(x.mean(dim=(2, 3))), dim=1)


def keras_weights(path: str) -> dict:
    """{'layer/weight': array} of a Keras save_weights HDF5 file (nested models flattened)."""
    import h5py
    out = {}

    def visit(name, obj):
        if isinstance(obj, h5py.Dataset):
            parts = name.split('/')
            out[f'{parts[-2]}/{parts[-1].split(":")[0]}'] = np.array(obj)
    with h5py.File(path, 'r') as f:
        f.visititems(visit)
    if not out:
        sys.exit(f'{path}: no weights (not a Keras weights file?)')
    return out


def load_keras(net: MobileNetNima, kw: dict):
    def get(k):
        if k not in kw:
            sys.exit(f'the weights file has no {k} (has e.g. {", ".join(sorted(kw)[:6])})')
        return torch.from_numpy(kw[k])

    def bn(m, name):
        m.weight.copy_(get(f'{name}/gamma')), m.bias.copy_(get(f'{name}/beta'))
        m.running_mean.copy_(get(f'{name}/moving_mean')), m.running_var.copy_(get(f'{name}/moving_variance'))
    dense = [k for k in kw if k.endswith('/kernel') and kw[k].ndim == 2]
    if len(dense) != 1:
        sys.exit(f'expected one Dense layer, found {dense}')
    with torch.no_grad():
        net.conv1.weight.copy_(get('conv1/kernel').permute(3, 2, 0, 1))  # (kh, kw, in, out) -> (out, in, kh, kw)
        bn(net.conv1_bn, 'conv1_bn')
        for i in range(len(BLOCKS)):
            # Keras 2 (idealo's files) names the depthwise weights depthwise_kernel, Keras 3 kernel.
            dk = f'conv_dw_{i + 1}/depthwise_kernel' if f'conv_dw_{i + 1}/depthwise_kernel' in kw else f'conv_dw_{i + 1}/kernel'
            net.dw[i].weight.copy_(get(dk).permute(2, 3, 0, 1).reshape(net.dw[i].weight.shape))
            bn(net.dw_bn[i], f'conv_dw_{i + 1}_bn')
            net.pw[i].weight.copy_(get(f'conv_pw_{i + 1}/kernel').permute(3, 2, 0, 1))
            bn(net.pw_bn[i], f'conv_pw_{i + 1}_bn')
        layer = dense[0].split('/')[0]
        net.dense.weight.copy_(get(f'{layer}/kernel').T)
        net.dense.bias.copy_(get(f'{layer}/bias'))


PYIQA_LICENCE = ("pyiqa's re-trained weights (chaofengc/IQA-PyTorch-Weights): no licence of their own; pyiqa's licence is "
                 "non-commercial (PolyForm Noncommercial 1.0.0 + NTU S-Lab)")
PYIQA_RANGES = {10: [0, 10], 1: [0, 1]}  # pyiqa default_model_configs score_range: '0, 10' (AVA), '~0, ~1' (KonIQ, SPAQ)


def export_pyiqa(args):
    try:
        import nima_pyiqa
    except ModuleNotFoundError as e:
        sys.exit(f'export_nima: --weights pyiqa needs {e.name}: python -m pip install torch onnx onnxruntime timm')
    if not args.arch:
        sys.exit('export_nima: --weights pyiqa needs --arch vgg16|inception_resnet_v2')
    classes = args.classes or (10 if args.dataset == 'ava' else 1)
    dataset = args.dataset or ('ava' if classes == 10 else 'koniq')
    spec = nima_pyiqa.ARCHS[args.arch]
    S = spec['size']
    try:
        state = nima_pyiqa.read_checkpoint(args.checkpoint)
        net = nima_pyiqa.load(args.arch, classes, args.checkpoint)
    except nima_pyiqa.MappingError as e:
        sys.exit(f'export_nima: {args.checkpoint} is not a pyiqa NIMA {args.arch} checkpoint with {classes} outputs: {e}')
    except Exception as e:  # noqa: BLE001  not a torch file, truncated (torch raises several types)
        sys.exit(f'export_nima: cannot read {args.checkpoint} as a torch checkpoint: {e}')
    try:
        reference, which = nima_pyiqa.pyiqa_reference(args.arch, classes, state)
    except ModuleNotFoundError as e:
        sys.exit(f'export_nima: --weights pyiqa checks the export with timm (or pyiqa) and needs {e.name}: python -m pip install timm')
    # [0, 1] RGB, pyiqa's input: smooth seeded noise (bilinear from S / 8), image-like enough that a
    # 10-bin softmax does not saturate as it does on pixel noise (which would hide an ORT error).
    g = torch.Generator().manual_seed(7)
    x = F.interpolate(torch.rand(3, 3, S // 8, S // 8, generator=g), size=(S, S), mode='bilinear', align_corners=False).clamp(0, 1)
    mean, std = torch.tensor(spec['mean']).view(1, 3, 1, 1), torch.tensor(spec['std']).view(1, 3, 1, 1)
    xn = (x - mean) / std
    with torch.no_grad():
        mos, dist, logits = (t.double().numpy() for t in reference(x))  # S x S: pyiqa's resize and crop leave it as it is
        # The logits too: a softmax saturated on noise inputs would hide a mapping error.
        ours = net.logits(xn).double().numpy()
    out_name = 'distribution' if classes > 1 else 'score'
    os.makedirs(args.out_dir, exist_ok=True)
    path = os.path.join(args.out_dir, f'{args.name}.onnx')
    torch.onnx.export(net, (xn[:2],), path, input_names=['input'], output_names=[out_name],
                      dynamic_axes={'input': {0: 'batch'}, out_name: {0: 'batch'}}, opset_version=args.opset, dynamo=False)
    import onnxruntime as ort
    got = ort.InferenceSession(path, providers=['CPUExecutionProvider']).run([out_name], {'input': xn.numpy()})[0].astype(np.float64)
    got_mos = (got * np.arange(1, classes + 1)).sum(-1, keepdims=True)
    err = {'torch (ours) vs reference, logits': float(np.abs(ours - logits).max()), 'ORT vs reference, output': float(np.abs(got - dist).max()),
           'ORT vs reference, score': float(np.abs(got_mos - mos).max())}
    print(f'{args.arch} ({classes} outputs) checked against {which} on 3 smooth random {S}x{S} images: ' +
          ', '.join(f'{k} max |diff| {v:.3g}' for k, v in err.items()))
    if max(err.values()) > args.tol:
        os.remove(path)
        sys.exit(f'export_nima: ONNX Runtime disagrees with pyiqa\'s NIMA: {max(err.values()):.3g} > {args.tol}')
    title = {'vgg16': 'VGG16', 'inception_resnet_v2': 'InceptionResNetV2'}[args.arch]
    head = ({'type': 'distribution-mean', 'output': out_name, 'bins': list(range(1, 11))} if classes == 10 else {'type': 'scalar', 'output': out_name})
    manifest = {
        **manifest_head(args.name, f'NIMA, pyiqa\'s {title} {dataset.upper() if dataset != "koniq" else "KonIQ"} weights: ' +
                        ('mean of the 10-bin score distribution' if classes == 10 else 'the scalar output (pyiqa\'s normalised MOS)')),
        'model': {'file': os.path.basename(path), 'sha256': sha256(path)},
        'input': float_rgb_input(S, S, spec['mean'], spec['std']),
        'preprocess': {'resize': {'shorter': S, 'interp': 'pil-bilinear', 'precision': 'float'}, 'crop': {'policy': 'center', 'center': 'half-even'}},
        'outputs': [{'name': out_name, 'shape': ['batch', classes]}],
        'head': head,
        'score': {'range': PYIQA_RANGES[classes], 'higherIsBetter': True},
        'source': {'url': 'https://huggingface.co/chaofengc/IQA-PyTorch-Weights', 'sha256': sha256(args.checkpoint), 'license': PYIQA_LICENCE,
                   'citation': 'H. Talebi, P. Milanfar, NIMA: Neural Image Assessment, IEEE TIP 27(8), 2018; weights and procedure: pyiqa (chaofengc/IQA-PyTorch)'},
        'export': {'tool': 'tools/export/export_nima.py', 'weights': 'pyiqa', 'arch': args.arch, 'classes': classes, 'dataset': dataset,
                   'checkedAgainst': which, 'maxAbsDiff': max(err.values()), 'torch': torch.__version__, 'opset': args.opset},
    }
    write_manifest(args.out_dir, args.name, manifest)
    print(f'wrote {path} ({os.path.getsize(path) / 2**20:.1f} MB) and {args.name}.json')


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--checkpoint')
    ap.add_argument('--weights', choices=['idealo', 'pyiqa'], default='idealo')
    ap.add_argument('--arch', choices=['vgg16', 'inception_resnet_v2'], help='--weights pyiqa: the timm backbone')
    ap.add_argument('--classes', type=int, choices=[10, 1], help='--weights pyiqa: 10 (AVA distribution) or 1 (KonIQ / SPAQ scalar)')
    ap.add_argument('--dataset', choices=['ava', 'koniq', 'spaq'], help='--weights pyiqa: what the weights were trained on (description)')
    ap.add_argument('--alpha', type=float, default=1.0, help="MobileNet's width factor (tests: 0.25)")
    ap.add_argument('--kind', choices=['technical', 'aesthetic'], default='technical')
    ap.add_argument('--out-dir', required=True)
    ap.add_argument('--name', default='nima')
    ap.add_argument('--opset', type=int, default=17)
    ap.add_argument('--tol', type=float, default=None, help='largest ORT vs reference difference (1e-5 idealo, 1e-4 pyiqa)')
    args = ap.parse_args()
    if not args.checkpoint:
        sys.exit('--checkpoint FILE is required')
    if args.weights == 'pyiqa':
        args.tol = 1e-4 if args.tol is None else args.tol
        return export_pyiqa(args)
    args.tol = 1e-5 if args.tol is None else args.tol
    net = MobileNetNima(args.alpha).eval()
    load_keras(net, keras_weights(args.checkpoint))
    x = torch.rand(3, 3, 224, 224, generator=torch.Generator().manual_seed(7)) * 2 - 1
    with torch.no_grad():
        ref = net(x).double().numpy()
    os.makedirs(args.out_dir, exist_ok=True)
    path = os.path.join(args.out_dir, f'{args.name}.onnx')
    torch.onnx.export(net, (x[:2],), path, input_names=['input'], output_names=['distribution'],
                      dynamic_axes={'input': {0: 'batch'}, 'distribution': {0: 'batch'}}, opset_version=args.opset, dynamo=False)
    import onnxruntime as ort
    got = ort.InferenceSession(path, providers=['CPUExecutionProvider']).run(['distribution'], {'input': x.numpy()})[0]
    err = float(np.abs(got - ref).max())
    print(f'ORT vs PyTorch distribution max |diff| {err:.3g}')
    if err > args.tol:
        sys.exit(f'ONNX Runtime disagrees with PyTorch: {err}')
    manifest = {
        **manifest_head(args.name, f'NIMA {args.kind} (idealo MobileNet): mean of the 10-bin score distribution'),
        'model': {'file': os.path.basename(path), 'sha256': sha256(path)},
        'input': {'name': 'input', 'layout': 'NCHW', 'width': 224, 'height': 224, 'channels': 3, 'colorOrder': 'rgb', 'dtype': 'float32',
                  'batch': 'dynamic', 'normalize': {'scale': 'unit', 'mean': [0.5], 'std': [0.5]}},
        'preprocess': {'resize': {'width': 224, 'height': 224, 'interp': 'pil-nearest'}, 'crop': {'policy': 'center'}},
        'outputs': [{'name': 'distribution', 'shape': ['batch', 10]}],
        'head': {'type': 'distribution-mean', 'output': 'distribution', 'bins': list(range(1, 11))},
        'score': {'range': [1, 10], 'higherIsBetter': True},
        'source': {'url': 'https://github.com/idealo/image-quality-assessment', 'sha256': sha256(args.checkpoint),
                   'license': 'Apache-2.0 (idealo/image-quality-assessment code and weights)'},
        'export': {'tool': 'tools/export/export_nima.py', 'alpha': args.alpha, 'torch': torch.__version__, 'opset': args.opset},
    }
    write_manifest(args.out_dir, args.name, manifest)
    print(f'wrote {path} ({os.path.getsize(path) / 2**20:.1f} MB) and {args.name}.json')


if __name__ == '__main__':
    main()
