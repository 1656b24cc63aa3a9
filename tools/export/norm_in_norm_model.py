"""Norm-in-Norm / LinearityIQA (Li, Jiang, Jiang, ACM MM 2020) written from the paper and the
structure of lidq92/LinearityIQA IQAmodel.py: a torchvision backbone's children[:-2] tapped after
two stages (ResNets: layer3 = features.6 and layer4 = features.7), each tap pooled by SPSP
(spatial pyramid of P levels: avg / max / min / maxmin / std / mean+std) and reduced by dr6 / dr7
(Linear -> BN1d -> Linear -> BN1d -> Linear -> BN1d -> ReLU, 1024 / 256 / 64 wide), per-tap
regressors regr6 / regr7 and the fused regression over both 64-d vectors. forward() returns the
fused score s only (test_demo.py prints s k[-1] + b[-1]; k, b go to the manifest's score.affine).

State-dict names follow IQAModel (features.*, dr6.*, dr7.*, regr6, regr7, regression; with
use_bn_end the three regressors are Sequential(Linear, BatchNorm1d)), so the authors' checkpoints
load as they are. 'full' builds the torchvision architecture named by --arch; 'tiny' is a narrow
ResNeXt with the same layout and narrow dr widths (test fixture).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import torch
import torch.nn as nn
import torch.nn.functional as F

from koniqplusplus_model import randomize, resnext_features

# arch -> (tap indices into children[:-2] (or into .features for alexnet / vgg16), tap channels)
ARCHS = {
    'alexnet': ((9, 12), (256, 256)),
    'vgg16': ((23, 30), (512, 512)),
    'resnet18': ((6, 7), (256, 512)),
    'resnet34': ((6, 7), (256, 512)),
    'resnet50': ((6, 7), (1024, 2048)),
    'resnet101': ((6, 7), (1024, 2048)),
    'resnet152': ((6, 7), (1024, 2048)),
    'resnext50_32x4d': ((6, 7), (1024, 2048)),
    'resnext101_32x8d': ((6, 7), (1024, 2048)),
}
POOLS = ['avg', 'max', 'min', 'std', 'maxmin', 'mean+std']  # IQAModel's `else` branch is mean+std


@dataclass
class Config:
    arch: str = 'resnext101_32x8d'
    pool: str = 'avg'
    P6: int = 1
    P7: int = 1
    use_bn_end: bool = False
    dr: list = field(default_factory=lambda: [1024, 256, 64])
    height: int = 498
    width: int = 664
    # tiny ResNeXt only (arch 'tiny')
    blocks: list = field(default_factory=lambda: [2, 2, 2, 2])
    stem: int = 8
    planes: list = field(default_factory=lambda: [8, 16, 24, 48])
    groups: int = 4
    width_per_group: int = 16

    def to_dict(self):
        d = asdict(self)
        if self.arch != 'tiny':
            for k in ('blocks', 'stem', 'planes', 'groups', 'width_per_group'):
                d.pop(k)
        return d


FULL = Config()
TINY = Config(arch='tiny', dr=[32, 16, 8])


def spsp(x: torch.Tensor, P: int, method: str) -> torch.Tensor:
    """IQAModel's SPSP: for p = 1..P, pool with kernel = stride = int(d / p) per axis, flatten, concat."""
    n = x.shape[0]
    out = []
    for p in range(1, P + 1):
        k = [int(d / p) for d in x.shape[-2:]]
        if method == 'avg':
            f = F.avg_pool2d(x, k)
        elif method == 'max':
            f = F.max_pool2d(x, k)
        elif method == 'min':
            f = -F.max_pool2d(-x, k)
        elif method == 'maxmin':
            f = torch.cat((F.max_pool2d(x, k), -F.max_pool2d(-x, k)), 1)
        else:
            m1 = F.avg_pool2d(x, k)
            sd = torch.sqrt(F.relu(F.avg_pool2d(x * x, k) - m1 * m1))
            f = sd if method == 'std' else torch.cat((m1, sd), 1)
        out.append(f.reshape(n, -1))
    return torch.cat(out, 1)


def reducer(cin: int, dr: list) -> nn.Sequential:
    a, b, c = dr
    return nn.Sequential(nn.Linear(cin, a), nn.BatchNorm1d(a), nn.Linear(a, b), nn.BatchNorm1d(b), nn.Linear(b, c), nn.BatchNorm1d(c), nn.ReLU())


def regressor(cin: int, bn: bool) -> nn.Module:
    return nn.Sequential(nn.Linear(cin, 1), nn.BatchNorm1d(1)) if bn else nn.Linear(cin, 1)


class NormInNorm(nn.Module):
    """forward(x) -> s [N, 1], the fused score before the checkpoint's k, b."""

    def __init__(self, cfg: Config = FULL):
        super().__init__()
        if cfg.pool not in POOLS:
            raise ValueError(f'pool {cfg.pool!r} is not one of {POOLS}')
        self.cfg = cfg
        if cfg.arch == 'tiny':
            self.taps, channels = (6, 7), (cfg.planes[2] * 4, cfg.planes[3] * 4)
            self.features = resnext_features(cfg)
        else:
            import torchvision
            if cfg.arch not in ARCHS:
                raise ValueError(f'arch {cfg.arch!r} is not one of {sorted(ARCHS)}')
            self.taps, channels = ARCHS[cfg.arch]
            children = list(torchvision.models.__dict__[cfg.arch](weights=None).children())[:-2]
            self.features = children[0] if cfg.arch in ('alexnet', 'vgg16') else nn.Sequential(*children)
        c = 2 if cfg.pool in ('maxmin', 'mean+std') else 1
        self.dr6 = reducer(channels[0] * c * sum(p * p for p in range(1, cfg.P6 + 1)), cfg.dr)
        self.dr7 = reducer(channels[1] * c * sum(p * p for p in range(1, cfg.P7 + 1)), cfg.dr)
        self.regr6 = regressor(cfg.dr[2], cfg.use_bn_end)
        self.regr7 = regressor(cfg.dr[2], cfg.use_bn_end)
        self.regression = regressor(cfg.dr[2] * 2, cfg.use_bn_end)

    def forward(self, x):
        f = []
        for i, m in enumerate(self.features):
            x = m(x)
            if i == self.taps[0]:
                f.append(self.dr6(spsp(x, self.cfg.P6, self.cfg.pool)))
            if i == self.taps[1]:
                f.append(self.dr7(spsp(x, self.cfg.P7, self.cfg.pool)))
                break
        return self.regression(torch.cat(f, 1))


def seeded(cfg: Config, seed: int):
    """The export tool's --weights random model and its k, b (also what the benchmark rebuilds)."""
    net = randomize(NormInNorm(cfg), seed)
    g = torch.Generator().manual_seed(seed + 1)
    k, b = float(torch.rand(1, generator=g) * 20 + 10), float(torch.rand(1, generator=g) * 40 + 30)
    return net, k, b
