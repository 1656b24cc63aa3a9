"""KonIQ++ (Su, Hosu, Lin, Zhang, Saupe, BMVC 2021) written from the paper and the structure of
SSL92/koniqplusplus IQAmodel.py: a ResNeXt backbone tapped at the first and the last block of each
stage (8 taps), two side networks (quality: 1 output, defects: 4 = noise, blur, contrast, color)
that fuse the taps coarse-wards with feature fusion and refinement modules (conv + BN, a sigmoid
gate from channel and pixel attention, 2x2 SoftPool), then a global SoftPool and a linear layer.

State-dict names follow the authors' Model_Joint (features.{0,1,4..7} = torchvision's
resnext101_32x8d children, sub_q.*, sub_dist.*), so their checkpoints load as they are. The
'tiny' config keeps every mechanism with narrow widths and two blocks per stage (test fixture).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import torch
import torch.nn as nn
import torch.nn.functional as F

DEFECTS = ['noise', 'blur', 'contrast', 'color']


@dataclass
class Config:
    blocks: list = field(default_factory=lambda: [3, 4, 23, 3])
    stem: int = 64
    planes: list = field(default_factory=lambda: [64, 128, 256, 512])
    groups: int = 32
    width_per_group: int = 8
    side: list = field(default_factory=lambda: [64, 64, 64, 64, 128, 128, 256, 256])
    height: int = 480
    width: int = 640

    def to_dict(self):
        return asdict(self)


FULL = Config()
TINY = Config(blocks=[2, 2, 2, 2], stem=8, planes=[8, 16, 24, 48], groups=4, width_per_group=16, side=[8, 8, 8, 8, 16, 16, 24, 24])


def conv_bn(cin, cout, k=1, stride=1, groups=1):
    return [nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2, groups=groups, bias=False), nn.BatchNorm2d(cout)]


class Bottleneck(nn.Module):
    """torchvision's ResNeXt bottleneck (stride on the grouped 3x3), same parameter names."""

    def __init__(self, cin, planes, stride, groups, width_per_group):
        super().__init__()
        width = int(planes * width_per_group / 64) * groups
        self.conv1, self.bn1 = conv_bn(cin, width)
        self.conv2, self.bn2 = conv_bn(width, width, 3, stride, groups)
        self.conv3, self.bn3 = conv_bn(width, planes * 4)
        self.downsample = nn.Sequential(*conv_bn(cin, planes * 4, 1, stride)) if stride != 1 or cin != planes * 4 else None

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = F.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        return F.relu(y + (self.downsample(x) if self.downsample is not None else x))


def soft_pool_local(x):
    """2x2 SoftPool, stride 2: sum(x e) / sum(e) per window, e = sum over channels of exp(x)."""
    e = torch.exp(x).sum(dim=1, keepdim=True)
    return F.avg_pool2d(x * e, 2) / F.avg_pool2d(e, 2)


def soft_pool_global(x):
    """The authors' global SoftPool: mean(x e) * h / (mean(e) * w), i.e. the SoftPool times h / w
    (0.75 at the 480 x 640 input, which is why the input size is fixed)."""
    h, w = x.shape[2], x.shape[3]
    e = torch.exp(x).sum(dim=1, keepdim=True)
    return x.mul(e).mean(dim=(2, 3), keepdim=True) * h / (e.mean(dim=(2, 3), keepdim=True) * w)


class Attention(nn.Module):
    """sigmoid(channel gate * pixel gate); each gate: 1x1 conv (C -> C/2), ReLU, 1x1 conv, sigmoid."""

    def __init__(self, c):
        super().__init__()
        self.conv_ca = nn.Sequential(nn.Conv2d(c, c // 2, 1), nn.ReLU(), nn.Conv2d(c // 2, c, 1), nn.Sigmoid())
        self.conv_pa = nn.Sequential(nn.Conv2d(c, c // 2, 1), nn.ReLU(), nn.Conv2d(c // 2, c, 1), nn.Sigmoid())

    def forward(self, x):
        return torch.sigmoid(self.conv_ca(x.mean(dim=(2, 3), keepdim=True)) * self.conv_pa(x))


class Fusion(nn.Module):
    """FFRM: a = conv_bn(coarse input); (a + tap) gated by attention(a + tap); 2x2 SoftPool if pool."""

    def __init__(self, cin, cout, pool):
        super().__init__()
        self.pool = pool
        self.conv1 = nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout))
        self.attn = Attention(cout)

    def forward(self, x, tap):
        a = self.conv1(x)
        y = (a + tap) * self.attn(tap + a)
        return soft_pool_local(y) if self.pool else y


class SideNet(nn.Module):
    def __init__(self, outputs, taps, side):
        super().__init__()
        for i in range(8):
            setattr(self, f'head{i}', nn.Sequential(nn.Conv2d(taps[i], side[i], 3, padding=1), nn.BatchNorm2d(side[i])))
        self.fusion_block1 = Fusion(side[0], side[1], True)
        self.fusion_block2 = Fusion(side[1] + side[2], side[3], True)
        self.fusion_block3 = Fusion(side[3] + side[4], side[5], True)
        self.fusion_block4 = Fusion(side[5] + side[6], side[7], False)
        self.fc_q = nn.Linear(side[7], outputs)

    def forward(self, f):
        h = [getattr(self, f'head{i}')(f[i]) for i in range(8)]
        y = self.fusion_block1(h[0], h[1])
        y = self.fusion_block2(torch.cat((y, h[2]), 1), h[3])
        y = self.fusion_block3(torch.cat((y, h[4]), 1), h[5])
        y = self.fusion_block4(torch.cat((y, h[6]), 1), h[7])
        return self.fc_q(soft_pool_global(y).flatten(1))


def resnext_features(cfg) -> nn.Sequential:
    """torchvision's ResNeXt children[:-2] (conv1, bn1, relu, maxpool, layer1..4) at cfg's widths:
    cfg needs stem, blocks, planes, groups, width_per_group. Stage outputs are planes * 4 wide."""
    # conv1's padding: torchvision's stem is 7x7 stride 2 padding 3 (conv_bn gives k // 2 = 3).
    layers = [*conv_bn(3, cfg.stem, 7, 2), nn.ReLU(), nn.MaxPool2d(3, 2, 1)]
    cin = cfg.stem
    for s, (n, planes) in enumerate(zip(cfg.blocks, cfg.planes)):
        blocks = []
        for b in range(n):
            blocks.append(Bottleneck(cin, planes, 2 if (b == 0 and s > 0) else 1, cfg.groups, cfg.width_per_group))
            cin = planes * 4
        layers.append(nn.Sequential(*blocks))
    return nn.Sequential(*layers)


class KonIQPlusPlus(nn.Module):
    """forward(x) -> (quality [N, 1] before the k, b mapping, defects [N, 4])."""

    def __init__(self, cfg: Config = FULL):
        super().__init__()
        self.cfg = cfg
        self.features = resnext_features(cfg)
        taps = [p * 4 for p in cfg.planes for _ in (0, 1)]
        self.sub_q = SideNet(1, taps, cfg.side)
        self.sub_dist = SideNet(4, taps, cfg.side)

    def taps(self, x):
        f = []
        for i, m in enumerate(self.features):
            if i < 4:
                x = m(x)
                continue
            for j, block in enumerate(m):
                x = block(x)
                if j == 0 or j == len(m) - 1:
                    f.append(x)
        return f

    def forward(self, x):
        f = self.taps(x)
        return self.sub_q(f), self.sub_dist(f)


def randomize(net: nn.Module, seed: int) -> nn.Module:
    """Seeded weights with non-trivial BatchNorm statistics (the default init leaves BN an identity)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                fan_in = m.weight[0].numel()
                m.weight.copy_(torch.randn(m.weight.shape, generator=g) * (1.0 / fan_in) ** 0.5)
                if m.bias is not None:
                    m.bias.copy_(torch.randn(m.bias.shape, generator=g) * 0.1)
            elif isinstance(m, (nn.BatchNorm2d, nn.BatchNorm1d)):
                m.weight.copy_(0.5 + torch.rand(m.weight.shape, generator=g) * 0.5)
                m.bias.copy_(torch.randn(m.bias.shape, generator=g) * 0.1)
                m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=g) * 0.1)
                m.running_var.copy_(0.5 + torch.rand(m.running_var.shape, generator=g))
    return net.eval()


def seeded(cfg: Config, seed: int):
    """The export tool's --weights random model and its k, b (also what the benchmark rebuilds)."""
    net = randomize(KonIQPlusPlus(cfg), seed)
    g = torch.Generator().manual_seed(seed + 1)
    k, b = float(torch.rand(1, generator=g) * 20 + 10), float(torch.rand(1, generator=g) * 40 + 30)
    return net, k, b
