"""DBCNN (Zhang, Ma, Yan, Deng, Wang, TCSVT 2020) for export, written from the paper and the notes in
shared/design/zoo.md section 7; parameter names follow the authors' state dict (features1, features2,
fc), so their checkpoints load as they are.

  features1  VGG-16's convolutions without the last max-pool (512 channels, stride 16)
  features2  S-CNN's features: 9 x (conv 3x3, BatchNorm, ReLU), four of them stride 2 (128 channels)
  pooling    the S-CNN map resized bilinearly (align_corners=True) to VGG's H x W when they differ,
             B = X1 X2^T / (H W) (512 x 128), signed square root sqrt(B + 1e-8), L2-normalised
  fc         65,536 -> 1
The whole image goes in at its own size (the authors test without resize or crop).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision


@dataclass
class DbcnnConfig:
    vgg: list = field(default_factory=lambda: [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512])
    scnn: list = field(default_factory=lambda: [(48, 1), (48, 2), (64, 1), (64, 2), (64, 1), (64, 2), (128, 1), (128, 1), (128, 2)])

    def to_dict(self):
        return {'vgg': self.vgg, 'scnn': self.scnn}


FULL = DbcnnConfig()
TINY = DbcnnConfig(vgg=[4, 'M', 8, 'M', 8, 'M', 16, 'M', 16], scnn=[(4, 2), (4, 2), (8, 2), (8, 2)])


def vgg_features(cfg):
    if cfg.vgg == FULL.vgg:
        return nn.Sequential(*list(torchvision.models.vgg16(weights=None).features.children())[:-1])
    layers, cin = [], 3
    for v in cfg.vgg:
        if v == 'M':
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(cin, v, 3, padding=1), nn.ReLU(inplace=True)]
            cin = v
    return nn.Sequential(*layers)


def scnn_features(cfg):
    layers, cin = [], 3
    for c, s in cfg.scnn:
        layers += [nn.Conv2d(cin, c, 3, s, 1), nn.BatchNorm2d(c), nn.ReLU(inplace=True)]
        cin = c
    return nn.Sequential(*layers)


class DBCNN(nn.Module):
    def __init__(self, cfg: DbcnnConfig = FULL):
        super().__init__()
        self.features1 = vgg_features(cfg)
        self.features2 = scnn_features(cfg)
        c1 = [v for v in cfg.vgg if v != 'M'][-1]
        c2 = cfg.scnn[-1][0]
        self.fc = nn.Linear(c1 * c2, 1)

    def forward(self, x):
        x1 = self.features1(x)
        x2 = self.features2(x)
        n, c1, h, w = x1.shape
        # Unconditional resize (the identity when the sizes already agree): no data-dependent branch in the graph.
        x2 = F.interpolate(x2, size=(h, w), mode='bilinear', align_corners=True)
        b = torch.bmm(x1.reshape(n, c1, h * w), x2.reshape(n, x2.shape[1], h * w).transpose(1, 2)) / (h * w)
        b = F.normalize(torch.sqrt(b.reshape(n, -1) + 1e-8))
        return self.fc(b)
