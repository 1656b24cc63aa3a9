"""torchvision's tensor preprocessing (what pyiqa's NIMA preprocess does) as the reference for the
manifest options preprocess.resize {shorter, precision: 'float'} and preprocess.crop.center
'half-even' (test/resize-shorter.test.ts).

Per image and size S: PIL open -> convert('RGB') -> to_tensor -> T.functional.resize(x, S)
(bilinear, default antialias: torch's _upsample_bilinear2d_aa on float32) ->
T.functional.center_crop(x, S) -> (x - mean) / std -> ONNX Runtime -> score = sum(p_i * i).
mean/std are timm's pretrained_cfg of the backbone that takes that size in pyiqa's NIMA:
vgg16 at 224, inception_resnet_v2 at 299.

Images: the three hyperiqa-tiny fixtures, test/fixtures/torchvision-resize-tiny/odd-margin.png
(338 x 256: margins 71 at S = 224 and 95 at S = 299, whose centre offsets 35.5 and 47.5 round
half to even to 36 and 48, not floor's 35 and 47) and, when ../shared is there, the five
calibration BMPs (512 x 384: at S = 299 the margin is 99, offset 49.5 -> 50).

Models: test/fixtures/torchvision-resize-tiny/tv-resize-tiny.onnx (dynamic H/W, both sizes; also
scored after a bicubic resize, 'tv-resize-tiny@bicubic') and test/fixtures/nima-tiny/nima-tiny.onnx
(fixed 224: S = 224 only).

  python scripts/golden/torchvision_resize_golden.py              # writes test/golden/torchvision_resize.json
  python scripts/golden/torchvision_resize_golden.py --fixture    # (re)writes the seeded fixture first
"""
from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch
import torchvision
import torchvision.transforms.functional as TF
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
FIX = ROOT / 'test/fixtures/torchvision-resize-tiny'
SHARED = ROOT.parent / 'shared/data/calibration/dist_dir'
CALIBRATION = ['I03', 'I04', 'I06', 'I08', 'I19']
# timm 1.0 pretrained_cfg (vgg16 / inception_resnet_v2), as pyiqa's NIMA reads them.
NORM = {224: ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225)), 299: ((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))}


class Tiny(torch.nn.Module):
    """conv, relu, conv, relu, global average pool, linear, softmax over 10 bins (any H, W).
    The 3x3 convolutions are high-pass-ish and the ReLU keeps their energy, so the 8-bit
    rounding noise of a byte resize moves the score instead of averaging out."""

    def __init__(self, gain: float):
        super().__init__()
        self.c1 = torch.nn.Conv2d(3, 16, 3, padding=1)
        self.c2 = torch.nn.Conv2d(16, 16, 3, stride=2, padding=1)
        self.fc = torch.nn.Linear(16, 10)
        self.gain = gain

    def forward(self, x):
        x = torch.relu(self.c2(torch.relu(self.c1(x))))
        return torch.softmax(self.fc(x.mean(dim=(2, 3))) * self.gain, dim=1)


def write_fixture():
    FIX.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(20261207)
    net = Tiny(gain=40.0).eval()
    torch.onnx.export(net, torch.zeros(1, 3, 224, 224), str(FIX / 'tv-resize-tiny.onnx'), input_names=['input'], output_names=['distribution'],
                      dynamic_axes={'input': {0: 'batch', 2: 'height', 3: 'width'}, 'distribution': {0: 'batch'}}, opset_version=17, dynamo=False)
    # A smooth seeded image with texture, sized so both sizes have odd centre margins (see top).
    g = np.random.default_rng(7)
    yy, xx = np.mgrid[0:256, 0:338].astype(np.float64)
    base = np.stack([128 + 90 * np.sin(xx / 23 + c) * np.cos(yy / 31 - c) for c in range(3)], axis=-1)
    img = np.clip(base + g.normal(0, 12, base.shape), 0, 255).round().astype(np.uint8)
    Image.fromarray(img, 'RGB').save(FIX / 'odd-margin.png', optimize=True)
    mean, std = NORM[224]
    manifest = {
        '$schema': 'https://iqa-node.dev/schema/manifest.json', 'schemaVersion': 1, 'name': 'tv-resize-tiny', 'task': 'nr-iqa',
        'description': 'seeded conv-relu-conv-relu-GAP-linear-softmax over 10 bins, dynamic H/W: torchvision resize/center_crop parity fixture',
        'model': {'file': 'tv-resize-tiny.onnx', 'sha256': hashlib.sha256((FIX / 'tv-resize-tiny.onnx').read_bytes()).hexdigest()},
        'input': {'name': 'input', 'layout': 'NCHW', 'width': 224, 'height': 224, 'channels': 3, 'colorOrder': 'rgb', 'dtype': 'float32', 'batch': 'dynamic',
                  'normalize': {'scale': 'unit', 'mean': list(mean), 'std': list(std)}},
        'preprocess': {'resize': {'shorter': 224, 'interp': 'pil-bilinear', 'precision': 'float'}, 'crop': {'policy': 'center', 'center': 'half-even'}},
        'outputs': [{'name': 'distribution', 'shape': ['batch', 10]}],
        'head': {'type': 'distribution-mean', 'output': 'distribution', 'bins': list(range(1, 11))},
        'score': {'range': [1, 10], 'higherIsBetter': True},
        'source': {'license': 'Apache-2.0 (seeded test fixture)', 'note': 'scripts/golden/torchvision_resize_golden.py --fixture'},
    }
    (FIX / 'tv-resize-tiny.json').write_text(json.dumps(manifest, indent=2) + '\n')


def images():
    out = [('fixture', f'test/fixtures/hyperiqa-tiny/img{i}.png') for i in range(3)] + [('fixture', 'test/fixtures/torchvision-resize-tiny/odd-margin.png')]
    if SHARED.is_dir():
        out += [('shared', f'{n}.bmp') for n in CALIBRATION]
    return out


def preprocess(path: Path, S: int, interpolation=TF.InterpolationMode.BILINEAR) -> tuple[np.ndarray, dict]:
    x = TF.to_tensor(Image.open(path).convert('RGB'))
    h, w = x.shape[1:]
    x = TF.resize(x, S, interpolation=interpolation)
    rh, rw = x.shape[1:]
    info = {'size': [int(w), int(h)], 'resized': [int(rw), int(rh)], 'offset': [int(round((rw - S) / 2.0)), int(round((rh - S) / 2.0))]}
    x = TF.center_crop(x, S)
    mean, std = NORM[S]
    x = (x - torch.tensor(mean).view(3, 1, 1)) / torch.tensor(std).view(3, 1, 1)
    return x[None].numpy().astype(np.float32), info


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--fixture', action='store_true', help='(re)write the seeded ONNX fixture, its manifest and odd-margin.png first')
    args = ap.parse_args()
    if args.fixture:
        write_fixture()
    models = {'tv-resize-tiny': (FIX / 'tv-resize-tiny.onnx', [224, 299]), 'nima-tiny': (ROOT / 'test/fixtures/nima-tiny/nima-tiny.onnx', [224])}
    bins = np.arange(1, 11, dtype=np.float64)
    result = {'generator': 'scripts/golden/torchvision_resize_golden.py', 'torch': torch.__version__, 'torchvision': torchvision.__version__,
              'onnxruntime': ort.__version__, 'normalize': {str(k): {'mean': v[0], 'std': v[1]} for k, v in NORM.items()}, 'images': []}
    sessions = {k: ort.InferenceSession(str(p), providers=['CPUExecutionProvider']) for k, (p, _) in models.items()}
    for where, f in images():
        path = SHARED / f if where == 'shared' else ROOT / f
        for S in (224, 299):
            x, info = preprocess(path, S)
            scores = {}
            for name, (_, sizes) in models.items():
                if S in sizes:
                    p = sessions[name].run(None, {'input': x})[0][0].astype(np.float64)
                    scores[name] = float((p * bins).sum())
            # torch's antialiased bicubic (a = -0.5, Pillow's weights): the same code path with interp 'pil-bicubic'.
            xb, _ = preprocess(path, S, TF.InterpolationMode.BICUBIC)
            p = sessions['tv-resize-tiny'].run(None, {'input': xb})[0][0].astype(np.float64)
            scores['tv-resize-tiny@bicubic'] = float((p * bins).sum())
            result['images'].append({'where': where, 'file': f, 'S': S, **info, 'scores': scores})
            print(where, f, S, info, scores)
    (ROOT / 'test/golden/torchvision_resize.json').write_text(json.dumps(result, indent=1) + '\n')


if __name__ == '__main__':
    main()
