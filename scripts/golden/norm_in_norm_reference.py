"""An independent PyTorch re-implementation of the LinearityIQA authors' test procedure
(lidq92/LinearityIQA test_demo.py with --resize): Pillow open + convert('RGB'), torchvision resize
to (498, 664) (H x W; Pillow bilinear), to_tensor, ImageNet normalize, one forward pass of IQAModel
(ResNeXt children[:-2], SPSP avg P=1 on layer3 and layer4, dr6 / dr7, fused regression),
score = s k[-1] + b[-1].

The network is a functional float64 forward over an IQAModel state dict (F.conv2d, F.linear and
F.batch_norm; the ResNeXt from koniqplusplus_reference), not the nn.Module of tools/export,
so it checks the exported module as well as the pipeline.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from PIL import Image
from torchvision.transforms.functional import normalize, resize, to_tensor

from koniqplusplus_reference import _bn, resnext_blocks


def _dr(v, sd, p):
    """Linear, BN1d, Linear, BN1d, Linear, BN1d, ReLU (IQAModel.dr6 / dr7)."""
    for i in (0, 2, 4):
        v = _bn(F.linear(v, sd[f'{p}.{i}.weight'], sd[f'{p}.{i}.bias']), sd, f'{p}.{i + 1}')
    return F.relu(v)


def forward(sd: dict, x: torch.Tensor, groups: int) -> torch.Tensor:
    """IQAModel.forward(x)[-1]: s [N, 1] (pool 'avg', P6 = P7 = 1: SPSP is the global mean)."""
    f = [_dr(y.mean(dim=(2, 3)), sd, f'dr{stage}') for stage, j, n, y in resnext_blocks(sd, x, groups) if stage in (6, 7) and j == n - 1]
    return F.linear(torch.cat(f, 1), sd['regression.weight'], sd['regression.bias'])


def score_image(path: str, sd: dict, k: float, b: float, groups: int, size=(498, 664)) -> float:
    im = resize(Image.open(path).convert('RGB'), size)
    t = normalize(to_tensor(im), [0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
    with torch.no_grad():
        s = forward(sd, t.unsqueeze(0).double(), groups)
    return float(s[0][0]) * k + b
