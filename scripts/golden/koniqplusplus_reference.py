"""An independent PyTorch re-implementation of the KonIQ++ authors' test procedure
(SSL92/koniqplusplus test_image.py with --resize): Pillow open + convert('RGB'), torchvision
resize to (480, 640) (H x W; Pillow bilinear), to_tensor, ImageNet normalize, one forward pass,
score = q k[0] + b[0], defects = the other four outputs.

The network is a functional forward over a Model_Joint state dict (F.conv2d and friends, no
nn.Module of tools/export), so it checks the exported module as well as the pipeline. The stage
taps are the first and the last block of each stage, as in Model_Joint.extract_features.
"""
from __future__ import annotations

import re

import torch
import torch.nn.functional as F
from PIL import Image
from torchvision.transforms.functional import normalize, resize, to_tensor


def _bn(x, sd, p):
    return F.batch_norm(x, sd[p + '.running_mean'], sd[p + '.running_var'], sd[p + '.weight'], sd[p + '.bias'], False, 0.0, 1e-5)


def _conv(x, sd, p, stride=1, padding=0, groups=1):
    return F.conv2d(x, sd[p + '.weight'], sd.get(p + '.bias'), stride, padding, 1, groups)


def _block(x, sd, p, stride, groups):
    y = F.relu(_bn(_conv(x, sd, p + '.conv1'), sd, p + '.bn1'))
    y = F.relu(_bn(_conv(y, sd, p + '.conv2', stride, 1, groups), sd, p + '.bn2'))
    y = _bn(_conv(y, sd, p + '.conv3'), sd, p + '.bn3')
    idn = _bn(_conv(x, sd, p + '.downsample.0', stride), sd, p + '.downsample.1') if p + '.downsample.0.weight' in sd else x
    return F.relu(y + idn)


def _softpool2(x):
    e = torch.sum(torch.exp(x), dim=1, keepdim=True)
    return F.avg_pool2d(x.mul(e), 2, stride=2).mul(4).div(F.avg_pool2d(e, 2, stride=2).mul(4))


def _softpool_global(x):
    _, _, h, w = x.size()
    e = torch.sum(torch.exp(x), dim=1, keepdim=True)
    return F.adaptive_avg_pool2d(x.mul(e), 1).mul(h).div(F.adaptive_avg_pool2d(e, 1).mul(w))


def _attn(x, sd, p):
    def gate(t, q):
        t = F.relu(_conv(t, sd, q + '.0'))
        return torch.sigmoid(_conv(t, sd, q + '.2'))
    return torch.sigmoid(gate(F.adaptive_avg_pool2d(x, 1), p + '.conv_ca') * gate(x, p + '.conv_pa'))


def _ffrm(x1, x2, sd, p, pool):
    x1 = _bn(_conv(x1, sd, p + '.conv1.0', padding=1), sd, p + '.conv1.1')
    x = (x1 + x2) * _attn(x2 + x1, sd, p + '.attn')
    return _softpool2(x) if pool else x


def _side(f, sd, p):
    h = [_bn(_conv(f[i], sd, f'{p}.head{i}.0', padding=1), sd, f'{p}.head{i}.1') for i in range(8)]
    x1 = _ffrm(h[0], h[1], sd, p + '.fusion_block1', True)
    x2 = _ffrm(torch.cat((x1, h[2]), 1), h[3], sd, p + '.fusion_block2', True)
    x3 = _ffrm(torch.cat((x2, h[4]), 1), h[5], sd, p + '.fusion_block3', True)
    x4 = _ffrm(torch.cat((x3, h[6]), 1), h[7], sd, p + '.fusion_block4', False)
    v = _softpool_global(x4).view(x4.size(0), -1)
    return F.linear(v, sd[p + '.fc_q.weight'], sd[p + '.fc_q.bias'])


def resnext_blocks(sd: dict, x: torch.Tensor, groups: int):
    """torchvision ResNeXt children[:-2] over a state dict with features.0 / .1 / .4-.7 names:
    yields (stage 4..7, block index, blocks in the stage, output) after every block."""
    x = F.relu(_bn(_conv(x, sd, 'features.0', 2, 3), sd, 'features.1'))
    x = F.max_pool2d(x, 3, 2, 1)
    for stage in range(4, 8):
        n = 1 + max(int(m.group(1)) for k in sd if (m := re.match(rf'features\.{stage}\.(\d+)\.', k)))
        for j in range(n):
            x = _block(x, sd, f'features.{stage}.{j}', 2 if (j == 0 and stage > 4) else 1, groups)
            yield stage, j, n, x


def forward(sd: dict, x: torch.Tensor, groups: int) -> torch.Tensor:
    """Model_Joint.forward: cat(q, defects) [N, 5]."""
    taps = [y for _, j, n, y in resnext_blocks(sd, x, groups) if j == 0 or j == n - 1]
    return torch.cat((_side(taps, sd, 'sub_q'), _side(taps, sd, 'sub_dist')), 1)


def score_image(path: str, sd: dict, k: float, b: float, groups: int, size=(480, 640)):
    im = Image.open(path).convert('RGB')
    im = resize(im, size)
    t = normalize(to_tensor(im), [0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
    with torch.no_grad():
        q = forward(sd, t.unsqueeze(0).double(), groups)
    return float(q[0][0]) * k + b, [float(v) for v in q[0][1:]]
