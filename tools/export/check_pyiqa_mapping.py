#!/usr/bin/env python3
"""Checks the checkpoint paths of export_hyperiqa.py. --weights pyiqa: it maps pyiqa's HyperNet weights correctly:
pyiqa's own HyperNet (random init; its timm backbone with pretrained=False, nothing downloaded)
and our re-implementation loaded with the renamed state dict must give the same per-crop scores.
Also saves the pyiqa-format checkpoint and runs the exporter on it, and does the same with an
authors-format checkpoint (a plain HyperNet state_dict, as koniq_pretrained.pkl is).

  /work/pyenv/bin/python tools/export/check_pyiqa_mapping.py
"""
import os
import subprocess
import sys
import tempfile

import torch
import timm

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from hyperiqa_model import FULL, HyperNet, reference_scores  # noqa: E402
from export_hyperiqa import pyiqa_to_authors  # noqa: E402

_create = timm.create_model
timm.create_model = lambda name, pretrained=False, **kw: _create(name, pretrained=False, **kw)  # no downloads
from pyiqa.archs.hypernet_arch import HyperNet as PyiqaHyperNet  # noqa: E402


def main():
    torch.manual_seed(0)
    ref = PyiqaHyperNet(pretrained=False).eval()
    g = torch.Generator().manual_seed(1)
    for m in ref.modules():  # non-trivial BN statistics
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=g) * 0.1)
            m.running_var.copy_(torch.rand(m.running_var.shape, generator=g) + 0.5)
    ours = HyperNet(FULL).eval()
    sd = pyiqa_to_authors(ref.state_dict())
    missing, unexpected = ours.load_state_dict({k: v for k, v in sd.items() if not k.startswith('res.fc.')}, strict=False)
    assert not missing and not unexpected, (missing, unexpected)
    x = torch.rand(4, 3, 224, 224)
    with torch.no_grad():
        a = ref.forward_patch(x).reshape(-1).double()
        xn = (x - ref.default_mean) / ref.default_std
        b = reference_scores(ours, xn).double()
    diff = float((a - b).abs().max())
    print(f'pyiqa HyperNet vs ours with mapped weights: max |diff| = {diff:.3g} (scores {a[:3].tolist()})')
    assert diff < 1e-4, diff
    with tempfile.TemporaryDirectory() as d:
        ckpt = os.path.join(d, 'pyiqa.pth')
        torch.save({'params': ref.state_dict()}, ckpt)
        subprocess.run([sys.executable, os.path.join(HERE, 'export_hyperiqa.py'), '--weights', 'pyiqa', '--checkpoint', ckpt,
                        '--out-dir', d, '--name', 'hyperiqa-pyiqa-test'], check=True)
        pkl = os.path.join(d, 'koniq_format.pkl')
        torch.save(ours.state_dict(), pkl)
        subprocess.run([sys.executable, os.path.join(HERE, 'export_hyperiqa.py'), '--weights', 'authors', '--checkpoint', pkl,
                        '--out-dir', d, '--name', 'hyperiqa-authors-test'], check=True)
    print('ok')


if __name__ == '__main__':
    main()
