"""TReS (Golestaneh, Dadsetan, Kitani, WACV 2022) for export: the per-crop prediction branch.

Written from the paper and the structure notes in shared/design/zoo.md section 14 (module and
parameter names follow the authors' state dict, so their checkpoints load as they are):
  ResNet stages l1..l4 -> per stage: L2-normalise over channels, L2 pooling (3x3 Hann window of x^2,
  stride 1, sqrt(. + 1e-12)), average-pool to 7x7 (8, 4, 2, 1) -> concatenated (3840 channels for
  ResNet-50) -> a pre-norm transformer encoder (DETR layout: 2 layers, 16 heads, feed-forward 64,
  final LayerNorm) with a fixed 2-D sine position embedding -> 7x7 average -> fc2 (3840 -> 2048);
  concatenated with the 7x7 average of l4 -> fc (4096 -> 1).
At test time the authors' network also runs a horizontally flipped copy for its consistency loss;
the prediction never uses it, so it is left out (same score, half the work).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision


@dataclass
class TresConfig:
    widths: list = field(default_factory=lambda: [64, 128, 256, 512])  # ResNet bottleneck planes per stage
    blocks: list = field(default_factory=lambda: [3, 4, 6, 3])
    heads: int = 16
    layers: int = 2
    feedforward: int = 64
    input_size: int = 224

    @property
    def channels(self):
        return [4 * w for w in self.widths]

    def to_dict(self):
        return {'widths': self.widths, 'blocks': self.blocks, 'heads': self.heads, 'layers': self.layers, 'feedforward': self.feedforward}


FULL = TresConfig()
TINY = TresConfig(widths=[2, 4, 8, 16], blocks=[1, 1, 1, 1], heads=4, layers=2, feedforward=16)


def backbone(cfg: TresConfig) -> torchvision.models.ResNet:
    """torchvision's ResNet with Bottleneck blocks; the tiny config narrows every stage (tests only)."""
    r = torchvision.models.resnet.ResNet(torchvision.models.resnet.Bottleneck, cfg.blocks)
    if cfg.widths != FULL.widths:
        r.inplanes = cfg.widths[0]
        r.conv1 = nn.Conv2d(3, cfg.widths[0], kernel_size=7, stride=2, padding=3, bias=False)
        r.bn1 = nn.BatchNorm2d(cfg.widths[0])
        r.layer1 = r._make_layer(torchvision.models.resnet.Bottleneck, cfg.widths[0], cfg.blocks[0])
        r.layer2 = r._make_layer(torchvision.models.resnet.Bottleneck, cfg.widths[1], cfg.blocks[1], stride=2)
        r.layer3 = r._make_layer(torchvision.models.resnet.Bottleneck, cfg.widths[2], cfg.blocks[2], stride=2)
        r.layer4 = r._make_layer(torchvision.models.resnet.Bottleneck, cfg.widths[3], cfg.blocks[3], stride=2)
        r.fc = nn.Linear(cfg.channels[3], 1000)
    return r


class L2Pooling(nn.Module):
    """sqrt(hann3x3 * x^2 + 1e-12), depthwise, stride 1, padding 1 (the 3 inner taps of a 5-tap Hann window)."""

    def __init__(self, channels: int):
        super().__init__()
        a = np.hanning(5)[1:-1]
        g = torch.tensor(a[:, None] * a[None, :], dtype=torch.float32)
        self.register_buffer('filter', (g / g.sum())[None, None].repeat(channels, 1, 1, 1))

    def forward(self, x):
        return (F.conv2d(x * x, self.filter, padding=1, groups=x.shape[1]) + 1e-12).sqrt()


def sine_position(d_model: int, h: int = 7, w: int = 7) -> torch.Tensor:
    """DETR's normalised 2-D sine embedding for an all-valid h x w map: [1, d_model, h, w] (y half first)."""
    feats, scale, eps = d_model // 2, 2 * math.pi, 1e-6
    y = torch.arange(1, h + 1, dtype=torch.float32)[:, None].expand(h, w)
    x = torch.arange(1, w + 1, dtype=torch.float32)[None, :].expand(h, w)
    y = y / (h + eps) * scale
    x = x / (w + eps) * scale
    dim = torch.arange(feats, dtype=torch.float32)
    dim = 10000 ** (2 * (dim // 2) / feats)
    px, py = x[..., None] / dim, y[..., None] / dim
    px = torch.stack((px[..., 0::2].sin(), px[..., 1::2].cos()), dim=3).flatten(2)
    py = torch.stack((py[..., 0::2].sin(), py[..., 1::2].cos()), dim=3).flatten(2)
    return torch.cat((py, px), dim=2).permute(2, 0, 1)[None]


class EncoderLayer(nn.Module):
    """Pre-norm: x + attn(LN(x) + pos, LN(x) + pos, LN(x)); x + FFN(LN(x)) (ReLU)."""

    def __init__(self, d: int, heads: int, ff: int):
        super().__init__()
        self.self_attn = nn.MultiheadAttention(d, heads)
        self.linear1 = nn.Linear(d, ff)
        self.linear2 = nn.Linear(ff, d)
        self.norm1 = nn.LayerNorm(d)
        self.norm2 = nn.LayerNorm(d)

    def forward(self, x, pos):
        h = self.norm1(x)
        q = h + pos
        x = x + self.self_attn(q, q, value=h, need_weights=False)[0]
        return x + self.linear2(F.relu(self.linear1(self.norm2(x))))


class Encoder(nn.Module):
    def __init__(self, d, heads, ff, layers):
        super().__init__()
        self.layers = nn.ModuleList([EncoderLayer(d, heads, ff) for _ in range(layers)])
        self.norm = nn.LayerNorm(d)

    def forward(self, x, pos):
        for layer in self.layers:
            x = layer(x, pos)
        return self.norm(x)


class Transformer(nn.Module):
    def __init__(self, d, heads, ff, layers):
        super().__init__()
        self.encoder = Encoder(d, heads, ff, layers)

    def forward(self, src, pos):
        n, c, h, w = src.shape
        out = self.encoder(src.flatten(2).permute(2, 0, 1), pos.flatten(2).permute(2, 0, 1))  # HW x N x C
        return out.permute(1, 2, 0).reshape(n, c, h, w)


class TReS(nn.Module):
    def __init__(self, cfg: TresConfig = FULL):
        super().__init__()
        c = cfg.channels
        self.model = backbone(cfg)
        self.L2pooling_l1, self.L2pooling_l2, self.L2pooling_l3, self.L2pooling_l4 = (L2Pooling(k) for k in c)
        d = sum(c)
        self.transformer = Transformer(d, cfg.heads, cfg.feedforward, cfg.layers)
        self.fc2 = nn.Linear(d, c[3])
        self.fc = nn.Linear(2 * c[3], 1)
        self.register_buffer('pos', sine_position(d), persistent=False)

    def stages(self, x):
        m = self.model
        x = m.maxpool(m.relu(m.bn1(m.conv1(x))))
        l1 = m.layer1(x)
        l2 = m.layer2(l1)
        l3 = m.layer3(l2)
        return l1, l2, l3, m.layer4(l3)

    def forward(self, x):
        l1, l2, l3, l4 = self.stages(x)
        t = torch.cat((
            F.avg_pool2d(self.L2pooling_l1(F.normalize(l1, dim=1)), 8),
            F.avg_pool2d(self.L2pooling_l2(F.normalize(l2, dim=1)), 4),
            F.avg_pool2d(self.L2pooling_l3(F.normalize(l3, dim=1)), 2),
            self.L2pooling_l4(F.normalize(l4, dim=1)),
        ), dim=1)
        out = self.transformer(t, self.pos.expand(x.shape[0], -1, -1, -1))
        a = self.fc2(F.avg_pool2d(out, 7).flatten(1))
        return self.fc(torch.cat((a, F.avg_pool2d(l4, 7).flatten(1)), dim=1))
