"""KonCept512 (Hosu, Lin, Sziranyi, Saupe, TIP 2020) written from the paper and the structure of the
authors' Keras code (subpic/koniq koncept512 notebook, kutils/kuti applications): Keras'
InceptionResNetV2 (include_top=False) -> GlobalAveragePooling2D ('final_gap') -> fc_layers(
[2048, 1024, 256, 1], dropout [0.25, 0.25, 0.5, 0], batch_norm=2): Dense(relu) -> BatchNorm ->
Dropout three times, then Dense(1, linear).

The backbone is Keras' InceptionResNetV2 rebuilt in PyTorch with TensorFlow semantics: 'valid'
convolutions and max pools unpadded, stride-1 'same' ones padded k // 2 on each side, the 'same'
3x3 average pool not counting the padding, conv + BatchNorm(scale=False, eps 1e-3) + ReLU units,
residual blocks x + scale * up(concat(branches)). 'tiny' divides every width by 8 and keeps one
block of each kind plus the last block8 without activation (test fixture; same layer types).

ConvBN units are registered in the order Keras creates them, which is the order of Keras'
automatic layer names (conv2d, conv2d_1, ...; batch_normalization, ...): keras_h5.py maps a
Keras weights file onto the module by that order.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class Config:
    width_divisor: int = 1
    blocks: list = field(default_factory=lambda: [10, 20, 10])  # block35, block17, block8 (the last block8 has no ReLU)
    fc: list = field(default_factory=lambda: [2048, 1024, 256, 1])
    head_bn_eps: float = 1e-3  # Keras BatchNormalization's default
    height: int = 384
    width: int = 512

    def to_dict(self):
        return asdict(self)


FULL = Config()
TINY = Config(width_divisor=8, blocks=[1, 1, 2], fc=[32, 16, 8, 1])

BRANCHES = {  # inception_resnet_block's branches: (filters, kernel) chains
    'block35': [[(32, 1)], [(32, 1), (32, 3)], [(32, 1), (48, 3), (64, 3)]],
    'block17': [[(192, 1)], [(128, 1), (160, (1, 7)), (192, (7, 1))]],
    'block8': [[(192, 1)], [(192, 1), (224, (1, 3)), (256, (3, 1))]],
}
SCALES = {'block35': 0.17, 'block17': 0.1, 'block8': 0.2}


class ConvBN(nn.Module):
    """Keras conv2d_bn: Conv2D(use_bias=False) -> BatchNormalization(scale=False, eps 1e-3) -> ReLU."""

    def __init__(self, cin, cout, k, stride=1, padding='same', act=True):
        super().__init__()
        k = (k, k) if isinstance(k, int) else tuple(k)
        if padding == 'same' and stride != 1:
            raise ValueError("InceptionResNetV2 has no strided 'same' convolution")
        self.conv = nn.Conv2d(cin, cout, k, stride, (k[0] // 2, k[1] // 2) if padding == 'same' else 0, bias=False)
        self.bn = nn.BatchNorm2d(cout, eps=1e-3)
        self.act = act

    def forward(self, x):
        x = self.bn(self.conv(x))
        return F.relu(x) if self.act else x


def chain(cin, spec, w, last_stride=1, last_padding='same'):
    units = []
    for i, (c, k) in enumerate(spec):
        last = i == len(spec) - 1
        units.append(ConvBN(cin, w(c), k, last_stride if last else 1, last_padding if last else 'same'))
        cin = w(c)
    return nn.Sequential(*units), cin


class Block(nn.Module):
    """inception_resnet_block: x + scale * up(concat(branches(x))), then ReLU unless it is the last."""

    def __init__(self, kind, cin, w, act=True, scale=None):
        super().__init__()
        self.kind = kind
        self.scale = SCALES[kind] if scale is None else scale
        self.act = act
        made = [chain(cin, spec, w) for spec in BRANCHES[kind]]
        self.branches = nn.ModuleList(m for m, _ in made)
        self.up = nn.Conv2d(sum(c for _, c in made), cin, 1, bias=True)

    def forward(self, x):
        x = x + self.scale * self.up(torch.cat([b(x) for b in self.branches], 1))
        return F.relu(x) if self.act else x


class Mixed(nn.Module):
    """A concat of conv chains and one pool branch ('avg-same': 3x3 stride 1 average pool, padding not
    counted, then convs; 'max-valid': 3x3 stride 2 max pool, last in the concat)."""

    def __init__(self, cin, w, specs, pool, stride=1):
        super().__init__()
        pad = 'same' if stride == 1 else 'valid'
        made = [chain(cin, s, w, stride, pad) for s in specs]
        self.pool = pool
        self.branches = nn.ModuleList(m for m, _ in made)  # registered before pool_convs: Keras' creation order
        self.channels = sum(c for _, c in made) + (cin if pool == 'max-valid' else 0)
        if pool == 'avg-same':
            self.pool_convs, c = chain(cin, [(64, 1)], w)
            self.channels += c

    def forward(self, x):
        out = [b(x) for b in self.branches]
        if self.pool == 'avg-same':
            out.append(self.pool_convs(F.avg_pool2d(x, 3, 1, 1, count_include_pad=False)))
        else:
            out.append(F.max_pool2d(x, 3, 2))
        return torch.cat(out, 1)


class KonCept512(nn.Module):
    """forward(x [N, 3, H, W] on [-1, 1]) -> MOS prediction [N, 1]."""

    def __init__(self, cfg: Config = FULL):
        super().__init__()
        self.cfg = cfg
        w = lambda c: max(1, c // cfg.width_divisor)  # noqa: E731
        self.stem = nn.ModuleList([ConvBN(3, w(32), 3, 2, 'valid'), ConvBN(w(32), w(32), 3, 1, 'valid'), ConvBN(w(32), w(64), 3),
                                   ConvBN(w(64), w(80), 1, 1, 'valid'), ConvBN(w(80), w(192), 3, 1, 'valid')])
        self.mixed_5b = Mixed(w(192), w, [[(96, 1)], [(48, 1), (64, 5)], [(64, 1), (96, 3), (96, 3)]], 'avg-same')
        c = self.mixed_5b.channels
        self.block35 = nn.Sequential(*[Block('block35', c, w) for _ in range(cfg.blocks[0])])
        self.mixed_6a = Mixed(c, w, [[(384, 3)], [(256, 1), (256, 3), (384, 3)]], 'max-valid', stride=2)
        c = self.mixed_6a.channels
        self.block17 = nn.Sequential(*[Block('block17', c, w) for _ in range(cfg.blocks[1])])
        self.mixed_7a = Mixed(c, w, [[(256, 1), (384, 3)], [(256, 1), (288, 3)], [(256, 1), (288, 3), (320, 3)]], 'max-valid', stride=2)
        c = self.mixed_7a.channels
        self.block8 = nn.Sequential(*[Block('block8', c, w) for _ in range(cfg.blocks[2] - 1)], Block('block8', c, w, act=False, scale=1.0))
        self.conv_7b = ConvBN(c, w(1536), 1)
        head, cin = [], w(1536)
        for i, n in enumerate(cfg.fc):
            head.append(nn.Linear(cin, n))
            if i < len(cfg.fc) - 1:
                head += [nn.ReLU(), nn.BatchNorm1d(n, eps=cfg.head_bn_eps), nn.Dropout(0.0)]
            cin = n
        self.head = nn.Sequential(*head)

    def features(self, x):
        for i, unit in enumerate(self.stem):
            x = unit(x)
            if i in (2, 4):
                x = F.max_pool2d(x, 3, 2)
        x = self.block8(self.mixed_7a(self.block17(self.mixed_6a(self.block35(self.mixed_5b(x))))))
        return self.conv_7b(x).mean(dim=(2, 3))

    def forward(self, x):
        return self.head(self.features(x))

    def auto_named_units(self):
        """The ConvBN units Keras names automatically, in creation order (all but conv_7b)."""
        return [m for m in self.modules() if isinstance(m, ConvBN) and m is not self.conv_7b]

    def blocks(self):
        return [*self.block35, *self.block17, *self.block8]
