#!/usr/bin/env python3
"""Reference for test/zoo-nima-pyiqa.test.ts: pyiqa's own NIMA (pyiqa/archs/nima_arch.py, through
pyiqa.create_metric) with seeded weights, saved as pyiqa saves its checkpoints ({'params':
state_dict}), and the per-image scores of pyiqa's full procedure on that checkpoint.

Nothing is downloaded: pyiqa's NIMA calls timm.create_model(..., pretrained=True); timm's
create_model is wrapped to force pretrained=False, and the NIMA weights come from our checkpoint
(create_metric(name, pretrained_model_path=FILE): pyiqa's load_pretrained_network, strict).

Weights: torch.manual_seed(seed) for timm's initialisation; then every BatchNorm gets seeded gamma /
beta and running statistics measured on seeded noise images (train-mode pass, cumulative average),
so that the statistics are non-trivial (the export's BN mapping is really exercised) and the signal
keeps its scale through the network; the classifier is scaled on the fixture images so that the
scores vary from image to image well beyond the 1e-4 tolerance.

Scoring: pyiqa's InferenceModel on the file path (PIL open, convert('RGB'), to_tensor, then NIMA.
forward in eval mode: resize(x, S) of the shorter side, center_crop(S), timm's mean/std, backbone,
pool, head, dist_to_mos). Images: the three fixtures test/fixtures/hyperiqa-tiny/img{0,1,2}.png
and, with ../shared (unless --no-shared), the five calibration images and the first 20 BIQ2021
images (shared_images.shared_sets, the selection the other goldens use).

  /work/pyenv/bin/python scripts/golden/nima_pyiqa.py --metric nima-vgg16-ava --out DIR
      -> DIR/checkpoint.pth, DIR/scores.json {fixtures|calibration|biq2021: {name: {score}}}
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, '..', '..'))
sys.path.insert(0, HERE)
from shared_images import shared_sets  # noqa: E402

FIXTURES = {f'img{i}.png': os.path.join(ROOT, 'test', 'fixtures', 'hyperiqa-tiny', f'img{i}.png') for i in range(3)}
METRICS = {  # pyiqa metric name -> (timm backbone, outputs, seed)
    'nima': ('inception_resnet_v2', 10, 41),
    'nima-vgg16-ava': ('vgg16', 10, 42),
    'nima-koniq': ('inception_resnet_v2', 1, 43),
    'nima-spaq': ('inception_resnet_v2', 1, 44),
}


def offline_timm():
    import timm
    create = timm.create_model

    def offline(*a, **k):
        k['pretrained'] = False
        return create(*a, **k)
    from pyiqa.archs import nima_arch
    nima_arch.timm.create_model = offline


def seeded_checkpoint(metric: str, path: str) -> None:
    from pyiqa.archs.nima_arch import NIMA
    arch, classes, seed = METRICS[metric]
    torch.manual_seed(seed)
    net = NIMA(base_model_name=arch, num_classes=classes, pretrained=False)
    g = torch.Generator().manual_seed(seed)
    bns = [m for m in net.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    with torch.no_grad():
        for m in bns:
            m.weight.copy_(torch.rand(m.weight.shape, generator=g) * 0.6 + 0.7)
            m.bias.copy_(torch.randn(m.bias.shape, generator=g) * 0.1)
            m.reset_running_stats()
            m.momentum = None  # cumulative average over the calibration pass
        size = net.base_model.default_cfg['input_size'][-1]
        # Smooth seeded noise (image-like low frequencies), normalised as pyiqa does.
        noise = torch.nn.functional.interpolate(torch.rand(8, 3, size // 8, size // 8, generator=g), size=(size, size), mode='bilinear')
        net.train()
        net.base_model(net.preprocess(noise))
        net.eval()
        for m in bns:
            m.momentum = 0.1
        # The classifier is scaled on the three fixture images as pyiqa prepares them (the noise's
        # features are far smaller than real images'): logits of spread ~1 keep the softmax unsaturated.
        from pyiqa.utils.img_util import imread2tensor
        real = torch.cat([net.preprocess(imread2tensor(p, rgb=True)[None]) for p in FIXTURES.values()])
        lin = net.classifier[2]
        feats = net.global_pool(net.base_model(real)[-1]).flatten(1)
        spread = (feats @ lin.weight.T).std(0).mean().clamp_min(1e-12)
        lin.weight.mul_((1.0 if classes > 1 else 0.2) / spread)
        lin.bias.copy_(-(feats @ lin.weight.T).mean(0) + torch.randn(lin.bias.shape, generator=g) * (0.5 if classes > 1 else 0.05) + (0 if classes > 1 else 0.5))
    torch.save({'params': net.state_dict()}, path)


def image_sets(shared: bool) -> dict:
    sets = {'fixtures': FIXTURES}
    if shared:
        sets.update(shared_sets())
    return sets


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--metric', choices=sorted(METRICS), required=True)
    ap.add_argument('--out', required=True, help='folder for checkpoint.pth and scores.json')
    ap.add_argument('--no-shared', action='store_true', help='only the three fixture images')
    ap.add_argument('--biq2021', type=int, default=20, help='how many of the 20 BIQ2021 images (0: none)')
    a = ap.parse_args()
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    offline_timm()
    import pyiqa
    os.makedirs(a.out, exist_ok=True)
    ckpt = os.path.join(a.out, 'checkpoint.pth')
    t0 = time.time()
    seeded_checkpoint(a.metric, ckpt)
    metric = pyiqa.create_metric(a.metric, device='cpu', pretrained_model_path=ckpt)
    out = {'generator': 'scripts/golden/nima_pyiqa.py', 'pyiqa': pyiqa.__version__, 'torch': torch.__version__, 'metric': a.metric}
    for key, paths in image_sets(not a.no_shared).items():
        if key == 'biq2021':
            paths = dict(list(paths.items())[:a.biq2021])
        if not paths:
            continue
        out[key] = {}
        for name, path in paths.items():
            with torch.no_grad():
                out[key][name] = {'score': float(metric(path).reshape(-1)[0])}
            print(f'{a.metric} {name}: {out[key][name]["score"]:.6f}', file=sys.stderr)
    out['seconds'] = round(time.time() - t0, 1)
    with open(os.path.join(a.out, 'scores.json'), 'w') as f:
        json.dump(out, f, indent=1)
        f.write('\n')


if __name__ == '__main__':
    main()
