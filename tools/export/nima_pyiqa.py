"""pyiqa's NIMA (pyiqa/archs/nima_arch.py) in our own PyTorch: a timm backbone's last feature map ->
global average pool -> Linear(C -> classes) (-> Softmax when classes > 1), with pyiqa's state-dict
names ({'params': {base_model.*, classifier.2.*}}) mapped onto it by an explicit table.

  vgg16                 timm's vgg16 features_only: 13 3x3 convs (padding 1) + ReLU, five 2x2 max
                        pools; its last feature tap is after the fifth pool (512 ch, stride 32)
  inception_resnet_v2   timm's inception_resnet_v2 (TF-slim's network as Cadene ported it) up to
                        conv2d_7b: the same network as Keras' InceptionResNetV2, which
                        koncept512_model.py builds (same units, paddings, BN eps 1e-3, block scales,
                        last block8 linear with scale 1); timm's BN has a learnt gamma where Keras
                        fixes it at 1, and our BatchNorm2d has one, so the weights map one to one.

Input: RGB on [0, 1], then timm's pretrained_cfg mean/std, S x S (timm's default_cfg input size).
"""
from __future__ import annotations

import re

import torch
import torch.nn as nn

from koncept512_model import Config, KonCept512

ARCHS = {  # timm's default_cfg input size and pretrained_cfg mean / std (timm 1.0: vgg16.tv_in1k, inception_resnet_v2.tf_in1k)
    'vgg16': {'size': 224, 'mean': [0.485, 0.456, 0.406], 'std': [0.229, 0.224, 0.225]},
    'inception_resnet_v2': {'size': 299, 'mean': [0.5, 0.5, 0.5], 'std': [0.5, 0.5, 0.5]},
}
VGG16 = [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M']


class NimaVGG16(nn.Module):
    """features.i as torchvision / timm number them (conv at 0, 2, 5, ...), pooled, Linear."""

    def __init__(self, classes: int):
        super().__init__()
        layers, cin = [], 3
        for v in VGG16:
            if v == 'M':
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers += [nn.Conv2d(cin, v, 3, padding=1), nn.ReLU()]
                cin = v
        self.features = nn.Sequential(*layers)
        self.fc = nn.Linear(cin, classes)
        self.classes = classes

    def logits(self, x):
        return self.fc(self.features(x).mean(dim=(2, 3)))

    def forward(self, x):
        y = self.logits(x)
        return torch.softmax(y, dim=1) if self.classes > 1 else y


class NimaIRv2(nn.Module):
    """koncept512_model's InceptionResNetV2 with a single Linear head (fc=[classes] builds just that)."""

    def __init__(self, classes: int):
        super().__init__()
        self.net = KonCept512(Config(fc=[classes], height=299, width=299))
        self.classes = classes

    def logits(self, x):
        return self.net(x)

    def forward(self, x):
        y = self.logits(x)
        return torch.softmax(y, dim=1) if self.classes > 1 else y


def build(arch: str, classes: int) -> nn.Module:
    return (NimaVGG16 if arch == 'vgg16' else NimaIRv2)(classes)


_BN = r'(conv\.weight|bn\.(?:weight|bias|running_mean|running_var|num_batches_tracked))'
# (pyiqa name regex, our name template): every pyiqa key must match one row, every one of our keys be produced.
MAPPING = {
    'vgg16': [
        (r'base_model\.features_(\d+)\.(weight|bias)', r'features.\1.\2'),
        (r'classifier\.2\.(weight|bias)', r'fc.\1'),
    ],
    'inception_resnet_v2': [
        *[(rf'base_model\.{t}\.{_BN}', rf'net.stem.{i}.\1') for i, t in enumerate(['conv2d_1a', 'conv2d_2a', 'conv2d_2b', 'conv2d_3b', 'conv2d_4a'])],
        (rf'base_model\.mixed_5b\.branch0\.{_BN}', r'net.mixed_5b.branches.0.0.\1'),
        (rf'base_model\.mixed_5b\.branch([12])\.(\d)\.{_BN}', r'net.mixed_5b.branches.\1.\2.\3'),
        (rf'base_model\.mixed_5b\.branch3\.1\.{_BN}', r'net.mixed_5b.pool_convs.0.\1'),  # branch3.0 is the average pool
        (rf'base_model\.repeat\.(\d+)\.branch0\.{_BN}', r'net.block35.\1.branches.0.0.\2'),
        (rf'base_model\.repeat\.(\d+)\.branch([12])\.(\d)\.{_BN}', r'net.block35.\1.branches.\2.\3.\4'),
        (r'base_model\.repeat\.(\d+)\.conv2d\.(weight|bias)', r'net.block35.\1.up.\2'),
        (rf'base_model\.mixed_6a\.branch0\.{_BN}', r'net.mixed_6a.branches.0.0.\1'),
        (rf'base_model\.mixed_6a\.branch1\.(\d)\.{_BN}', r'net.mixed_6a.branches.1.\1.\2'),
        (rf'base_model\.repeat_1\.(\d+)\.branch0\.{_BN}', r'net.block17.\1.branches.0.0.\2'),
        (rf'base_model\.repeat_1\.(\d+)\.branch1\.(\d)\.{_BN}', r'net.block17.\1.branches.1.\2.\3'),
        (r'base_model\.repeat_1\.(\d+)\.conv2d\.(weight|bias)', r'net.block17.\1.up.\2'),
        (rf'base_model\.mixed_7a\.branch([012])\.(\d)\.{_BN}', r'net.mixed_7a.branches.\1.\2.\3'),
        (rf'base_model\.repeat_2\.(\d+)\.branch0\.{_BN}', r'net.block8.\1.branches.0.0.\2'),
        (rf'base_model\.repeat_2\.(\d+)\.branch1\.(\d)\.{_BN}', r'net.block8.\1.branches.1.\2.\3'),
        (r'base_model\.repeat_2\.(\d+)\.conv2d\.(weight|bias)', r'net.block8.\1.up.\2'),
        # timm's last, linear block8 is its own module; ours is block8's tenth entry.
        (rf'base_model\.block8\.branch0\.{_BN}', r'net.block8.9.branches.0.0.\1'),
        (rf'base_model\.block8\.branch1\.(\d)\.{_BN}', r'net.block8.9.branches.1.\1.\2'),
        (r'base_model\.block8\.conv2d\.(weight|bias)', r'net.block8.9.up.\1'),
        (rf'base_model\.conv2d_7b\.{_BN}', r'net.conv_7b.\1'),
        (r'classifier\.2\.(weight|bias)', r'net.head.0.\1'),
    ],
}


class MappingError(ValueError):
    pass


def map_state(arch: str, state: dict, net: nn.Module) -> dict:
    """pyiqa's state dict renamed to `net`'s names; MappingError names unknown, missing or misshaped keys."""
    rules = [(re.compile(p + '$'), r) for p, r in MAPPING[arch]]
    ours = net.state_dict()
    out, unknown = {}, []
    for k, v in state.items():
        k = k[7:] if k.startswith('module.') else k  # pyiqa's clean_state_dict: DataParallel's prefix
        rule = next((r for r in rules if r[0].match(k)), None)
        if rule is None:
            unknown.append(k)
            continue
        out[rule[0].sub(rule[1], k)] = v
    missing = [k for k in ours if k not in out]
    extra = [k for k in out if k not in ours]
    shapes = [f'{k} {tuple(out[k].shape)} (expected {tuple(ours[k].shape)})' for k in out if k in ours and out[k].shape != ours[k].shape]
    problems = []
    if unknown:
        problems.append(f'{len(unknown)} keys not in pyiqa\'s NIMA {arch} layout: {", ".join(unknown[:8])}')
    if extra:
        problems.append(f'{len(extra)} keys beyond the {arch} network: {", ".join(extra[:8])}')
    if missing:
        problems.append(f'{len(missing)} of our keys missing from the checkpoint: {", ".join(missing[:8])}')
    if shapes:
        problems.append(f'shape mismatches: {", ".join(shapes[:8])}')
    if problems:
        raise MappingError('; '.join(problems))
    return out


def read_checkpoint(path: str) -> dict:
    """The state dict of a pyiqa checkpoint ({'params': state_dict}, as load_pretrained_network reads it)."""
    ckpt = torch.load(path, map_location='cpu', weights_only=True)
    if isinstance(ckpt, dict) and 'params' in ckpt:
        ckpt = ckpt['params']
    if not isinstance(ckpt, dict) or not all(torch.is_tensor(v) for v in ckpt.values()):
        raise MappingError("not a state dict (pyiqa's checkpoints hold one under 'params')")
    return ckpt


def checkpoint_classes(state: dict) -> int:
    w = state.get('classifier.2.weight', state.get('module.classifier.2.weight'))
    if w is None:
        raise MappingError("no classifier.2.weight: not a pyiqa NIMA checkpoint")
    return int(w.shape[0])


def load(arch: str, classes: int, path: str) -> nn.Module:
    state = read_checkpoint(path)
    found = checkpoint_classes(state)
    if found != classes:
        raise MappingError(f'the checkpoint\'s classifier has {found} outputs, --classes is {classes}')
    net = build(arch, classes)
    net.load_state_dict(map_state(arch, state, net), strict=True)
    return net.eval()


def pyiqa_reference(arch: str, classes: int, state: dict):
    """pyiqa's own NIMA module (no download: timm's pretrained forced off) with `state` loaded strictly,
    or, where pyiqa does not import, timm's features_only backbone with the same pool and head. Returns
    (function of [0, 1] RGB -> (mos, dist, the Linear's output before any softmax), which)."""
    import timm
    create = timm.create_model

    def offline(*a, **k):
        k['pretrained'] = False
        return create(*a, **k)
    try:
        from pyiqa.archs import nima_arch
    except Exception:  # noqa: BLE001  pyiqa absent or its package import lacks a dependency
        nima_arch = None
    if nima_arch is not None:
        nima_arch.timm.create_model = offline
        try:
            m = nima_arch.NIMA(base_model_name=arch, num_classes=classes, pretrained=False)
        finally:
            nima_arch.timm.create_model = create
        m.load_state_dict({(k[7:] if k.startswith('module.') else k): v for k, v in state.items()}, strict=True)
        m.eval()

        def run_pyiqa(x):
            seen = []
            hook = m.classifier[2].register_forward_hook(lambda mod, i, o: seen.append(o))
            try:
                mos, dist = m(x, return_mos=True, return_dist=True)
            finally:
                hook.remove()
            return mos, dist, seen[0]
        return run_pyiqa, f'pyiqa {getattr(__import__("pyiqa"), "__version__", "?")} NIMA'

    base = offline(arch, features_only=True).eval()
    base.load_state_dict({k[len('base_model.'):]: v for k, v in state.items() if k.startswith('base_model.')}, strict=True)
    fc = nn.Linear(base.feature_info.channels()[-1], classes)
    fc.load_state_dict({'weight': state['classifier.2.weight'], 'bias': state['classifier.2.bias']})
    cfg = base.pretrained_cfg
    mean, std = torch.tensor(cfg['mean']).view(1, 3, 1, 1), torch.tensor(cfg['std']).view(1, 3, 1, 1)

    def run(x):
        y = fc(base((x - mean) / std)[-1].mean(dim=(2, 3)))
        d = torch.softmax(y, -1) if classes > 1 else y
        return (d * torch.arange(1, classes + 1)).sum(-1, keepdim=True), d, y
    return run, f'timm {timm.__version__} features_only backbone + pool + head (pyiqa not importable)'
