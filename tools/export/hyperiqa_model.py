"""HyperIQA (Su et al., CVPR 2020) re-implemented after the authors' models.py
(https://github.com/SSL92/hyperIQA/blob/master/models.py), with the widths made configurable so
that a small model of the same shape can be built for tests.

The module names follow the authors' file, so their checkpoint (koniq_pretrained.pkl, a state_dict
of HyperNet) loads as is. `TargetNet` is the authors' per-sample group-convolution form; the
exported graph and iqa-node's native head compute the same thing as batched mat-vecs, and the
export script checks one against the other.
"""
from __future__ import annotations

from dataclasses import dataclass, field, asdict

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class HyperIqaConfig:
    base_width: int = 64                       # ResNet stem width (64 in ResNet-50)
    blocks: list = field(default_factory=lambda: [3, 4, 6, 3])
    lda_out: int = 16                          # lda_out_channels
    lda_convs: list = field(default_factory=lambda: [16, 32, 64])  # 1x1 convs before the LDA pools
    hyper_convs: list = field(default_factory=lambda: [1024, 512])  # conv1 widths before hyper_in
    hyper_in: int = 112                        # hyper_in_channels
    target: list = field(default_factory=lambda: [224, 112, 56, 28, 14])  # target_in, f1..f4
    feature_size: int = 7
    input_size: int = 224

    def to_dict(self):
        return asdict(self)


FULL = HyperIqaConfig()
# Same topology, narrow widths: a ~1 MB model for CI fixtures.
TINY = HyperIqaConfig(base_width=8, blocks=[1, 1, 1, 1], lda_out=8, lda_convs=[4, 4, 4], hyper_convs=[64, 32],
                      hyper_in=16, target=[56, 28, 14, 7, 7])


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, kernel_size=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, kernel_size=1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x):
        residual = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        if self.downsample is not None:
            residual = self.downsample(x)
        return self.relu(out + residual)


class ResNetBackbone(nn.Module):
    def __init__(self, cfg: HyperIqaConfig):
        super().__init__()
        w = cfg.base_width
        self.inplanes = w
        self.conv1 = nn.Conv2d(3, w, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(w)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        s = cfg.input_size // 4  # spatial size after the stem (56 at 224)
        self.layer1 = self._make_layer(w, cfg.blocks[0])
        self.lda1_pool = nn.Sequential(nn.Conv2d(w * 4, cfg.lda_convs[0], kernel_size=1, bias=False), nn.AvgPool2d(7, stride=7))
        self.lda1_fc = nn.Linear(cfg.lda_convs[0] * (s // 7) ** 2, cfg.lda_out)
        self.layer2 = self._make_layer(w * 2, cfg.blocks[1], stride=2)
        self.lda2_pool = nn.Sequential(nn.Conv2d(w * 8, cfg.lda_convs[1], kernel_size=1, bias=False), nn.AvgPool2d(7, stride=7))
        self.lda2_fc = nn.Linear(cfg.lda_convs[1] * (s // 14) ** 2, cfg.lda_out)
        self.layer3 = self._make_layer(w * 4, cfg.blocks[2], stride=2)
        self.lda3_pool = nn.Sequential(nn.Conv2d(w * 16, cfg.lda_convs[2], kernel_size=1, bias=False), nn.AvgPool2d(7, stride=7))
        self.lda3_fc = nn.Linear(cfg.lda_convs[2] * (s // 28) ** 2, cfg.lda_out)
        self.layer4 = self._make_layer(w * 8, cfg.blocks[3], stride=2)
        self.lda4_pool = nn.AvgPool2d(7, stride=7)
        self.lda4_fc = nn.Linear(w * 32, cfg.target[0] - cfg.lda_out * 3)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode='fan_out', nonlinearity='relu')
            elif isinstance(m, nn.BatchNorm2d):
                m.weight.data.fill_(1)
                m.bias.data.zero_()
        nn.init.kaiming_normal_(self.lda1_pool._modules['0'].weight.data)
        nn.init.kaiming_normal_(self.lda2_pool._modules['0'].weight.data)
        nn.init.kaiming_normal_(self.lda3_pool._modules['0'].weight.data)
        nn.init.kaiming_normal_(self.lda1_fc.weight.data)
        nn.init.kaiming_normal_(self.lda2_fc.weight.data)
        nn.init.kaiming_normal_(self.lda3_fc.weight.data)
        nn.init.kaiming_normal_(self.lda4_fc.weight.data)

    def _make_layer(self, planes, blocks, stride=1):
        downsample = None
        if stride != 1 or self.inplanes != planes * 4:
            downsample = nn.Sequential(nn.Conv2d(self.inplanes, planes * 4, kernel_size=1, stride=stride, bias=False),
                                       nn.BatchNorm2d(planes * 4))
        layers = [Bottleneck(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * 4
        for _ in range(1, blocks):
            layers.append(Bottleneck(self.inplanes, planes))
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer1(x)
        lda_1 = self.lda1_fc(self.lda1_pool(x).flatten(1))
        x = self.layer2(x)
        lda_2 = self.lda2_fc(self.lda2_pool(x).flatten(1))
        x = self.layer3(x)
        lda_3 = self.lda3_fc(self.lda3_pool(x).flatten(1))
        x = self.layer4(x)
        lda_4 = self.lda4_fc(self.lda4_pool(x).flatten(1))
        return {'hyper_in_feat': x, 'target_in_vec': torch.cat((lda_1, lda_2, lda_3, lda_4), 1)}


class HyperNet(nn.Module):
    def __init__(self, cfg: HyperIqaConfig = FULL):
        super().__init__()
        self.cfg = cfg
        self.hyperInChn = cfg.hyper_in
        self.target_in_size, self.f1, self.f2, self.f3, self.f4 = cfg.target
        fs = cfg.feature_size
        self.feature_size = fs
        self.res = ResNetBackbone(cfg)
        self.pool = nn.AdaptiveAvgPool2d((1, 1))
        c1, c2 = cfg.hyper_convs
        self.conv1 = nn.Sequential(
            nn.Conv2d(cfg.base_width * 32, c1, 1, padding=(0, 0)), nn.ReLU(inplace=True),
            nn.Conv2d(c1, c2, 1, padding=(0, 0)), nn.ReLU(inplace=True),
            nn.Conv2d(c2, self.hyperInChn, 1, padding=(0, 0)), nn.ReLU(inplace=True))

        def ch(a, b):
            if (a * b) % (fs * fs):
                raise ValueError(f'target sizes {a}x{b} are not divisible by feature_size^2={fs * fs}')
            return a * b // (fs * fs)

        self.fc1w_conv = nn.Conv2d(self.hyperInChn, ch(self.target_in_size, self.f1), 3, padding=(1, 1))
        self.fc1b_fc = nn.Linear(self.hyperInChn, self.f1)
        self.fc2w_conv = nn.Conv2d(self.hyperInChn, ch(self.f1, self.f2), 3, padding=(1, 1))
        self.fc2b_fc = nn.Linear(self.hyperInChn, self.f2)
        self.fc3w_conv = nn.Conv2d(self.hyperInChn, ch(self.f2, self.f3), 3, padding=(1, 1))
        self.fc3b_fc = nn.Linear(self.hyperInChn, self.f3)
        self.fc4w_conv = nn.Conv2d(self.hyperInChn, ch(self.f3, self.f4), 3, padding=(1, 1))
        self.fc4b_fc = nn.Linear(self.hyperInChn, self.f4)
        self.fc5w_fc = nn.Linear(self.hyperInChn, self.f4)
        self.fc5b_fc = nn.Linear(self.hyperInChn, 1)
        for i, m_name in enumerate(self._modules):
            if i > 2:
                nn.init.kaiming_normal_(self._modules[m_name].weight.data)

    def forward(self, img):
        fs = self.feature_size
        res_out = self.res(img)
        target_in_vec = res_out['target_in_vec'].view(-1, self.target_in_size, 1, 1)
        hyper_in_feat = self.conv1(res_out['hyper_in_feat']).view(-1, self.hyperInChn, fs, fs)
        pooled = self.pool(hyper_in_feat).flatten(1)  # the authors' .squeeze(), safe for batch 1
        out = {'target_in_vec': target_in_vec}
        out['target_fc1w'] = self.fc1w_conv(hyper_in_feat).view(-1, self.f1, self.target_in_size, 1, 1)
        out['target_fc1b'] = self.fc1b_fc(pooled).view(-1, self.f1)
        out['target_fc2w'] = self.fc2w_conv(hyper_in_feat).view(-1, self.f2, self.f1, 1, 1)
        out['target_fc2b'] = self.fc2b_fc(pooled).view(-1, self.f2)
        out['target_fc3w'] = self.fc3w_conv(hyper_in_feat).view(-1, self.f3, self.f2, 1, 1)
        out['target_fc3b'] = self.fc3b_fc(pooled).view(-1, self.f3)
        out['target_fc4w'] = self.fc4w_conv(hyper_in_feat).view(-1, self.f4, self.f3, 1, 1)
        out['target_fc4b'] = self.fc4b_fc(pooled).view(-1, self.f4)
        out['target_fc5w'] = self.fc5w_fc(pooled).view(-1, 1, self.f4, 1, 1)
        out['target_fc5b'] = self.fc5b_fc(pooled).view(-1, 1)
        return out


class TargetFC(nn.Module):
    """The authors' per-sample FC as a grouped 1x1 convolution."""

    def __init__(self, weight, bias):
        super().__init__()
        self.weight = weight
        self.bias = bias

    def forward(self, input_):
        input_re = input_.view(-1, input_.shape[0] * input_.shape[1], input_.shape[2], input_.shape[3])
        weight_re = self.weight.view(self.weight.shape[0] * self.weight.shape[1], self.weight.shape[2], self.weight.shape[3], self.weight.shape[4])
        bias_re = self.bias.view(self.bias.shape[0] * self.bias.shape[1])
        out = F.conv2d(input=input_re, weight=weight_re, bias=bias_re, groups=self.weight.shape[0])
        return out.view(input_.shape[0], self.weight.shape[1], input_.shape[2], input_.shape[3])


class TargetNet(nn.Module):
    def __init__(self, paras):
        super().__init__()
        self.l1 = nn.Sequential(TargetFC(paras['target_fc1w'], paras['target_fc1b']), nn.Sigmoid())
        self.l2 = nn.Sequential(TargetFC(paras['target_fc2w'], paras['target_fc2b']), nn.Sigmoid())
        self.l3 = nn.Sequential(TargetFC(paras['target_fc3w'], paras['target_fc3b']), nn.Sigmoid())
        self.l4 = nn.Sequential(TargetFC(paras['target_fc4w'], paras['target_fc4b']), nn.Sigmoid())
        self.l5 = nn.Sequential(TargetFC(paras['target_fc5w'], paras['target_fc5b']))

    def forward(self, x):
        q = self.l5(self.l4(self.l3(self.l2(self.l1(x)))))
        return q.view(-1)  # one score per sample (the authors' .squeeze())


def reference_scores(net: HyperNet, x: torch.Tensor) -> torch.Tensor:
    """Per-crop scores the authors' way: hyper net, then TargetNet on its outputs."""
    paras = net(x)
    return TargetNet(paras)(paras['target_in_vec'])


IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]
OUTPUT_NAMES = ['target_in_vec', 'fc1w', 'fc1b', 'fc2w', 'fc2b', 'fc3w', 'fc3b', 'fc4w', 'fc4b', 'fc5w', 'fc5b']


class HyperNetForExport(nn.Module):
    """Flat outputs for ONNX: target_in_vec [N,T] and per layer weights [N,out,in] and biases [N,out]."""

    def __init__(self, net: HyperNet, fuse_target: bool = False, half: bool = False, uint8_input: bool = False):
        super().__init__()
        self.net = net
        self.fuse_target = fuse_target
        self.half_precision = half
        self.uint8_input = uint8_input
        self.register_buffer('mean', torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer('std', torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))

    def forward(self, x):
        if self.uint8_input:
            # Raw 8-bit BGR pixels, NHWC (OpenCV's layout): normalise in float32 inside the graph.
            x = x.permute(0, 3, 1, 2).float() / 255.0
            x = x[:, [2, 1, 0]]
            x = (x - self.mean.float()) / self.std.float()
        if self.half_precision:
            x = x.half()
        p = self.net(x)
        n = x.shape[0]
        flat = [p['target_in_vec'].reshape(n, -1)]
        for i in range(1, 6):
            w = p[f'target_fc{i}w']
            flat.append(w.reshape(n, w.shape[1], w.shape[2]))
            flat.append(p[f'target_fc{i}b'])
        if self.fuse_target:
            q = flat[0].unsqueeze(1)
            for i in range(5):
                q = torch.bmm(q, flat[1 + 2 * i].transpose(1, 2)) + flat[2 + 2 * i].unsqueeze(1)
                if i < 4:
                    q = torch.sigmoid(q)
            return q.reshape(n).float()
        return tuple(t.float() for t in flat)
