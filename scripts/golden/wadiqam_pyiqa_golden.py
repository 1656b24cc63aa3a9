#!/usr/bin/env python3
"""Fixtures and goldens for test/zoo-wadiqam-pyiqa.test.ts: WaDIQaM-NR / WaDIQaM-FR from a
checkpoint in pyiqa's state-dict format (WaDIQaM-NR-koniq-aaffea29.pth, WaDIQaM-kadid-f7541ea5.pth
layouts), scored with pyiqa's own procedure.

The reference is pyiqa's WaDIQaM module itself (`pip install --no-deps pyiqa` plus pyyaml and
huggingface_hub for its package import; nothing downloaded: pretrained=False), seeded here, saved
as {'params': state_dict} (the checkpoint), and run as pyiqa runs it: the image read by PIL as RGB,
to_tensor ([0, 1]), its forward() (its patch loop range(0, H - 32, 32), its FR feature order, its
eps 1e-8, the weighted average). Our side: tools/export/export_wadiqam{,_fr}.py --weights pyiqa
--checkpoint on that file -> test/fixtures/wadiqam-{nr,fr}-pyiqa-checkpoint.

Small fixtures: every width / 16 (as the other WaDIQaM fixtures). pyiqa's extract_features
reshapes to 512 features per patch; the narrowed module overrides only that reshape (to its own
width); the patch loop, the fusion, eps and pooling stay pyiqa's forward(). Seeded as
wadiqam_model.seeded_model (Kaiming weights, the weight branch's bias centred so that patch
weights fall on both sides of pyiqa's ReLU, the quality layer x 10) for a [0, 1] input.

With ../shared: the five calibration images (pairs for FR), and for NR also the first 20 BIQ2021
images by name ('biq2021': score and patch count; BIQ2021 has no reference images, so FR has none).

  /work/pyenv/bin/python scripts/golden/wadiqam_pyiqa_golden.py
  ... wadiqam_pyiqa_golden.py --full-size NR|FR --seed N --checkpoint-out FILE DIST [REF]
      (a full-width seeded pyiqa checkpoint written to FILE, and pyiqa's score of DIST printed as JSON)
"""
from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
import torch.nn as nn
import torchvision.transforms.functional as TF
from PIL import Image
from pyiqa.archs.wadiqam_arch import WaDIQaM, make_layers

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wadiqam_fr_golden import golden_entry, pair_paths, write_golden  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, '..', '..'))
SHARED = os.path.abspath(os.path.join(ROOT, '..', 'shared', 'data', 'calibration'))
IMAGES = os.path.join(ROOT, 'test', 'fixtures', 'patch-images')
CALIBRATION = ['I03', 'I04', 'I06', 'I08', 'I19']
DIVISOR = 16
VARIANTS = {  # fixture: (metric_type, export tool, seed)
    'wadiqam-nr-pyiqa-checkpoint': ('NR', 'export_wadiqam.py', 31),
    'wadiqam-fr-pyiqa-checkpoint': ('FR', 'export_wadiqam_fr.py', 32),
}


class NarrowWaDIQaM(WaDIQaM):
    """pyiqa's WaDIQaM with every width / divisor; only extract_features' reshape follows the width."""

    def __init__(self, metric_type: str, divisor: int):
        super().__init__(metric_type=metric_type, pretrained=False)
        if divisor == 1:
            self.width = 512
            return
        self.width = 512 // divisor
        self.features = make_layers([v if v == 'M' else v // divisor for v in
                                     (32, 32, 'M', 64, 64, 'M', 128, 128, 'M', 256, 256, 'M', 512, 512, 'M')])
        k = 3 if metric_type == 'FR' else 1
        for head in (self.fc_q, self.fc_w):
            head[0] = nn.Linear(k * self.width, self.width)
            head[3] = nn.Linear(self.width, 1)

    def extract_features(self, patches):
        return self.features(patches).reshape(-1, self.patch_num, self.width)


def seeded(metric_type: str, seed: int, divisor: int) -> NarrowWaDIQaM:
    torch.manual_seed(seed)
    m = NarrowWaDIQaM(metric_type, divisor)
    with torch.no_grad():
        for mod in m.modules():
            if isinstance(mod, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(mod.weight, nonlinearity='relu')
                nn.init.uniform_(mod.bias, -0.1, 0.1)
        g = torch.Generator().manual_seed(seed)
        ref = torch.rand(64, 3, 32, 32, generator=g)
        f_r = m.features(ref).flatten(1)
        if metric_type == 'FR':
            f_d = m.features((ref + torch.randn(ref.shape, generator=g) * 0.15).clamp(0, 1)).flatten(1)
            f = torch.cat((f_r, f_d, f_d - f_r), 1)
        else:
            f = f_r
        m.fc_w[3].bias -= m.fc_w[:4](f).median()  # before fc_w's final ReLU
        m.fc_q[3].weight *= 10
        m.fc_q[3].bias *= 10
    return m.eval()


def tensor(path: str) -> torch.Tensor:
    """pyiqa's imread2tensor(path, rgb=True): PIL RGB, to_tensor."""
    return TF.to_tensor(Image.open(path).convert('RGB')).unsqueeze(0)


def score(m: NarrowWaDIQaM, dist: str, ref: str | None = None) -> dict:
    x = tensor(dist)
    y = tensor(ref) if ref else None
    with torch.no_grad():
        s = float(m(x, y).reshape(-1)[0]) if ref else float(m(x).reshape(-1)[0])
        # Per-patch values from pyiqa's own pieces, in its patch order.
        if ref:
            xp, yp = m.get_patches(x, y)
            fx, fy = m.extract_features(xp), m.extract_features(yp)
            feat = torch.cat((fy, fx, fx - fy), dim=-1)
        else:
            feat = m.extract_features(m.get_patches(x))
        q = m.fc_q(feat).reshape(-1)
        w = (m.fc_w(feat) + m.eps).reshape(-1)
    return {'score': s, 'patches': int(q.numel()), 'patchScores': [float(v) for v in q], 'patchWeights': [float(v) for v in w]}


def main():
    golden = {'generatedBy': 'scripts/golden/wadiqam_pyiqa_golden.py', 'divisor': DIVISOR}
    shared = os.path.isdir(SHARED)
    for name, (kind, tool, seed) in VARIANTS.items():
        m = seeded(kind, seed, DIVISOR)
        fix = os.path.join(ROOT, 'test', 'fixtures', name)
        with tempfile.TemporaryDirectory() as tmp:
            ckpt = os.path.join(tmp, 'pyiqa.pth')
            torch.save({'params': m.state_dict()}, ckpt)
            subprocess.run([sys.executable, os.path.join(ROOT, 'tools', 'export', tool), '--weights', 'pyiqa', '--checkpoint', ckpt, '--divisor', str(DIVISOR),
                            '--name', name, '--out-dir', fix, '--schema-ref', '../../../models/manifest.schema.json'], check=True, stdout=subprocess.DEVNULL)
        mpath = os.path.join(fix, 'manifest.json')
        with open(mpath) as f:
            manifest = json.load(f)
        # The checkpoint is seeded (its sha256 is of a temporary file): say so instead of pyiqa's licence.
        manifest['source'] = {'license': "seeded random weights in pyiqa's state-dict layout (test fixture)", 'citation': manifest['source']['citation']}
        manifest['export']['seed'] = seed
        with open(mpath, 'w') as f:
            json.dump(manifest, f, indent=2)
            f.write('\n')
        # score(m, dist, ref): NR entries have no reference.
        if kind == 'NR':
            fixtures = {n: (os.path.join(IMAGES, n), None) for n in ('smooth-97x75.png', 'exact-96x64.png')}
            cal = {f'{n}.bmp': (os.path.join(SHARED, 'dist_dir', f'{n}.bmp'), None) for n in CALIBRATION}
        else:
            fixtures = {n: (dist, ref) for n, (ref, dist) in pair_paths().items()}
            cal = {f'{n}.bmp': (os.path.join(SHARED, 'dist_dir', f'{n}.bmp'), os.path.join(SHARED, 'ref_dir', f'{n}.bmp')) for n in CALIBRATION}
        print(name, end=' ')
        golden[name] = golden_entry(score, m, fixtures, cal, shared, kind=kind, seed=seed)
        if kind == 'NR':
            golden[name]['biq2021'] = None
            if shared:
                biq = os.path.join(os.path.dirname(SHARED), 'biq2021')
                with open(os.path.join(biq, 'train-subset.csv')) as f:
                    names = sorted(r['image'] for r in csv.DictReader(f))[:20]
                golden[name]['biq2021'] = {n: {k: v for k, v in score(m, os.path.join(biq, 'images', n)).items() if k in ('score', 'patches')} for n in names}
                print('biq2021', {n: round(v['score'], 5) for n, v in golden[name]['biq2021'].items()})
    write_golden('wadiqam_pyiqa.json', golden)


def full_size(argv: list[str]) -> None:
    import argparse
    p = argparse.ArgumentParser()
    p.add_argument('--full-size', choices=['NR', 'FR'], required=True)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--checkpoint-out', required=True)
    p.add_argument('images', nargs='+', help='DIST [REF]')
    a = p.parse_args(argv)
    m = seeded(a.full_size, a.seed, 1)
    torch.save({'params': m.state_dict()}, a.checkpoint_out)
    print(json.dumps({'score': score(m, *a.images[:2])['score']}))


if __name__ == '__main__':
    if len(sys.argv) > 1:
        full_size(sys.argv[1:])
    else:
        main()
