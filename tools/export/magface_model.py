"""MagFace's iResNet (Meng et al., CVPR 2021), rebuilt from the authors' description
(IrvingMeng/MagFace models/iresnet.py as read for shared/design/face-qa.md section 1.4):

  conv3x3(3->64) - BN - PReLU - 4 stages of IBasicBlock (planes 64/128/256/512, stride 2 each,
  so 112 -> 7) - BN2d - Dropout2d(0.4) - flatten - Linear(512*7*7 -> 512) - BN1d.
  IBasicBlock: BN - conv3x3 - BN - PReLU - conv3x3(stride) - BN, plus a conv1x1+BN shortcut
  where the shape changes. Every BatchNorm has eps 2e-5. The quality is the L2 norm of the
  (un-normalised) 512-d output.

Depths: iresnet18 [2,2,2,2], iresnet34 [3,4,6,3], iresnet50 [3,4,14,3], iresnet100 [3,13,30,3].
`widths`/`embedding` only shrink the network for small test fixtures.
"""
from __future__ import annotations

import torch
from torch import nn

DEPTHS = {"iresnet18": [2, 2, 2, 2], "iresnet34": [3, 4, 6, 3], "iresnet50": [3, 4, 14, 3], "iresnet100": [3, 13, 30, 3]}
EPS = 2e-5


class IBasicBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int, eps: float = EPS):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(cin, eps=eps)
        self.conv1 = nn.Conv2d(cin, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout, eps=eps)
        self.prelu = nn.PReLU(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, stride, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(cout, eps=eps)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout, eps=eps))

    def forward(self, x):
        out = self.bn3(self.conv2(self.prelu(self.bn2(self.conv1(self.bn1(x))))))
        return out + (self.downsample(x) if self.downsample is not None else x)


class IResNet(nn.Module):
    def __init__(self, layers, widths=(64, 128, 256, 512), embedding: int = 512, stem: int = 64, eps: float = EPS):
        super().__init__()
        self.conv1 = nn.Conv2d(3, stem, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(stem, eps=eps)
        self.prelu = nn.PReLU(stem)
        cin = stem
        for i, (n, w) in enumerate(zip(layers, widths)):
            blocks = [IBasicBlock(cin, w, 2, eps)] + [IBasicBlock(w, w, 1, eps) for _ in range(n - 1)]
            setattr(self, f"layer{i + 1}", nn.Sequential(*blocks))
            cin = w
        self.bn2 = nn.BatchNorm2d(cin, eps=eps)
        self.dropout = nn.Dropout2d(p=0.4)  # identity in eval(): the exported graph has none
        self.fc = nn.Linear(cin * 7 * 7, embedding)
        self.features = nn.BatchNorm1d(embedding, eps=eps)

    def forward(self, x):
        x = self.prelu(self.bn1(self.conv1(x)))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        x = self.dropout(self.bn2(x))
        return self.features(self.fc(torch.flatten(x, 1)))


def randomize(model: nn.Module, g: torch.Generator) -> nn.Module:
    """Seeded random weights for every Conv2d, BatchNorm (non-trivial statistics, so folding is
    exercised), PReLU and Linear of `model`, in module order; returns it in eval()."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.Conv2d):
                fan = m.weight[0].numel()
                m.weight.copy_(torch.randn(m.weight.shape, generator=g) * (1.0 / fan) ** 0.5)
            elif isinstance(m, (nn.BatchNorm2d, nn.BatchNorm1d)):
                c = m.num_features
                m.weight.copy_(0.5 + torch.rand(c, generator=g))
                m.bias.copy_(torch.randn(c, generator=g) * 0.1)
                m.running_mean.copy_(torch.randn(c, generator=g) * 0.1)
                m.running_var.copy_(0.5 + torch.rand(c, generator=g))
            elif isinstance(m, nn.PReLU):
                m.weight.copy_(0.1 + 0.2 * torch.rand(m.weight.shape, generator=g))
            elif isinstance(m, nn.Linear):
                m.weight.copy_(torch.randn(m.weight.shape, generator=g) * (1.0 / m.in_features) ** 0.5)
                if m.bias is not None:
                    m.bias.copy_(torch.randn(m.out_features, generator=g) * 0.01)
    return model.eval()


def seeded(model: IResNet, seed: int) -> IResNet:
    """randomize() with the output BN scaled so that norms land near OFIQ's operating range (~24)
    on a ramp input."""
    randomize(model, torch.Generator().manual_seed(seed))
    with torch.no_grad():
        ramp = torch.linspace(0, 1, 3 * 112 * 112).reshape(1, 3, 112, 112)
        n0 = model(ramp).norm().item()
        model.features.weight.mul_(24.0 / n0)
        model.features.bias.mul_(24.0 / n0)
    return model


def clean_state_dict(model: nn.Module, sd: dict) -> dict:
    """MagFace checkpoints wrap the backbone (`features.module.`, `module.features.`, ...) and carry
    the MagLinear class centres beside it; take the backbone's keys under the first prefix that
    covers all of them."""
    want = set(model.state_dict().keys())
    for prefix in ("features.module.", "module.features.", "features.", "module.", ""):
        if all(prefix + k in sd for k in want):
            return {k: sd[prefix + k] for k in want}
    missing = sorted(k for k in want if k not in sd)[:5]
    raise SystemExit(f"checkpoint does not hold an iResNet of this depth (no prefix covers e.g. {missing})")
