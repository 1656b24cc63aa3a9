"""DIQaM / WaDIQaM (Bosse, Maniry, Mueller, Wiegand, Samek, TIP 2018), no-reference, written from
the paper and the structure of the authors' Chainer code (dmaniry/deepIQA nr_model.py): ten 3x3
convolutions with padding 1 and ReLU, a 2x2 max-pool after every second one (32, 32, 64, 64, 128,
128, 256, 256, 512, 512 channels: a 32x32 patch becomes 512 x 1 x 1), then per patch
  quality  q = fc2(dropout(relu(fc1(f))))          512 -> 512 -> 1
  weight   a = fc2_a(dropout(relu(fc1_a(f))))      512 -> 512 -> 1  (WaDIQaM; the ReLU + 1e-6 on a
           and the pooling sum(q a) / sum(a) are iqa-node's native weighted pooling)
Dropout is identity here (see export_wadiqam.py on the authors' evaluate.py).

`divisor` shrinks every width (channels / divisor) for small seeded test fixtures only.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

WIDTHS = (32, 32, 64, 64, 128, 128, 256, 256, 512, 512)
CONV_NAMES = tuple(f'conv{i}' for i in range(1, 11))
FC_NAMES = ('fc1', 'fc2', 'fc1_a', 'fc2_a')


class WaDIQaMNR(nn.Module):
    def __init__(self, weighted: bool = True, divisor: int = 1):
        super().__init__()
        widths = [w // divisor for w in WIDTHS]
        chans = [3] + widths
        for i, name in enumerate(CONV_NAMES):
            setattr(self, name, nn.Conv2d(chans[i], chans[i + 1], 3, padding=1))
        f = widths[-1]
        self.fc1 = nn.Linear(f, f)
        self.fc2 = nn.Linear(f, 1)
        # The authors' NR model always has the weight branch; the patchwise top (DIQaM) ignores it.
        self.fc1_a = nn.Linear(f, f)
        self.fc2_a = nn.Linear(f, 1)
        self.weighted = weighted

    def features(self, x):
        h = x
        for i, name in enumerate(CONV_NAMES):
            h = F.relu(getattr(self, name)(h))
            if i % 2 == 1:
                h = F.max_pool2d(h, 2)
        return h.flatten(1)

    def forward(self, x):
        f = self.features(x)
        q = self.fc2(F.relu(self.fc1(f)))
        if not self.weighted:
            return q
        return q, self.fc2_a(F.relu(self.fc1_a(f)))


def seeded_model(seed: int, weighted: bool, divisor: int = 1) -> WaDIQaMNR:
    """Seeded test weights that keep the signal alive through ten layers: Kaiming-normal weights
    (ReLU gain) and small uniform biases after manual_seed(seed), the first layer divided by 255
    (raw 0..255 input), the quality layer times 10 (images differ by whole score units, far above
    the 1e-4 tolerance), then fc2_a's bias centred on
    seeded random patches so that about half of the patch weights fall on each side of the ReLU
    (torch's default init shrinks the activations layer by layer until every image scores the same)."""
    torch.manual_seed(seed)
    m = WaDIQaMNR(weighted, divisor)
    return _seed(m, seed, lambda g: m.features(torch.rand(64, 3, 32, 32, generator=g) * 255))


def _seed(m, seed: int, probe_features):
    """seeded_model's recipe on `m`; probe_features(generator) gives the head's input on seeded
    random patches (NR: the features; FR: the fused pair features)."""
    with torch.no_grad():
        for mod in m.modules():
            if isinstance(mod, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(mod.weight, nonlinearity='relu')
                nn.init.uniform_(mod.bias, -0.1, 0.1)
        # The input is raw 0..255: a first layer for [0, 1] keeps every activation near 1, where
        # float32 rounding stays far below the parity tolerance (as a trained net's small weights do).
        m.conv1.weight /= 255
        m.conv1.bias /= 255
        f = probe_features(torch.Generator().manual_seed(seed))
        m.fc2_a.bias -= m.fc2_a(F.relu(m.fc1_a(f))).median()
        m.fc2.weight *= 10
        m.fc2.bias *= 10
    return m.eval()


def load_chainer_hdf5(model: WaDIQaMNR, path: str) -> None:
    """Loads a Chainer `serializers.save_hdf5` file: one group per link (`conv1`, ..., `fc2_a`) with
    datasets `W` (Convolution2D: out x in x kh x kw as torch; Linear: out x in as torch) and `b`,
    possibly under one common prefix group (e.g. `predictor/`)."""
    import h5py
    import numpy as np

    with h5py.File(path, 'r') as f:
        keys = []
        f.visititems(lambda k, v: keys.append(k) if isinstance(v, h5py.Dataset) else None)
        prefix = ''
        for k in keys:
            if k.endswith('conv1/W'):
                prefix = k[: -len('conv1/W')]
        state = {}
        names = CONV_NAMES + (FC_NAMES if model.weighted or f'{prefix}fc1_a/W' in f else FC_NAMES[:2])
        for name in names:
            for src, dst in (('W', 'weight'), ('b', 'bias')):
                key = f'{prefix}{name}/{src}'
                if key not in f:
                    raise KeyError(f'{path} has no dataset {key} (datasets: {", ".join(keys[:12])}{"..." if len(keys) > 12 else ""})')
                state[f'{name}.{dst}'] = torch.from_numpy(np.asarray(f[key], dtype=np.float32))
    missing = [k for k in model.state_dict() if k not in state]
    if missing and model.weighted:
        raise KeyError(f'{path} lacks {", ".join(missing)}')
    model.load_state_dict(state, strict=False)


# pyiqa's WaDIQaM (pyiqa/archs/wadiqam_arch.py) keeps the ten convolutions in one nn.Sequential
# `features` (conv, ReLU pairs with a MaxPool after every second pair: the i-th convolution,
# from 0, sits at index 2 i + i // 2) and the heads in `fc_q` / `fc_w` = Linear, ReLU, Dropout, Linear
# (fc_w then a ReLU, a module without parameters). Its checkpoints are {'params': state_dict}.
PYIQA_NAMES = {**{f'features.{2 * i + i // 2}': name for i, name in enumerate(CONV_NAMES)},
               'fc_q.0': 'fc1', 'fc_q.3': 'fc2', 'fc_w.0': 'fc1_a', 'fc_w.3': 'fc2_a'}


def pyiqa_to_ours(state: dict) -> dict:
    """pyiqa's WaDIQaM state dict renamed to this module's names; an unknown key is an error."""
    out = {}
    for key, value in state.items():
        layer, _, param = key.rpartition('.')
        if layer not in PYIQA_NAMES or param not in ('weight', 'bias'):
            raise KeyError(f"unexpected key {key} (not a pyiqa WaDIQaM state dict: it has features.N, fc_q.N and fc_w.N)")
        out[f'{PYIQA_NAMES[layer]}.{param}'] = value
    return out


def load_pyiqa_state(model: WaDIQaMNR, path: str) -> None:
    """Loads one of pyiqa's WaDIQaM checkpoints (WaDIQaM-NR-koniq-aaffea29.pth, WaDIQaM-kadid-
    f7541ea5.pth: torch.save({'params': state_dict})), or a bare state dict, strictly: every
    layer of the net must be there with its shape (an NR file in the FR net fails on fc1)."""
    state = torch.load(path, map_location='cpu', weights_only=True)
    if isinstance(state, dict) and isinstance(state.get('params'), dict):
        state = state['params']
    if not isinstance(state, dict):
        raise KeyError(f'{path} holds a {type(state).__name__}, not a state dict')
    model.load_state_dict(pyiqa_to_ours(state), strict=True)


def save_chainer_hdf5(model: WaDIQaMNR, path: str) -> None:
    """Writes the weights in the layout load_chainer_hdf5 reads (Chainer's save_hdf5 of the
    authors' Model): for round-trip tests of the reader, not a Chainer file from the authors."""
    import h5py

    with h5py.File(path, 'w') as f:
        for name in CONV_NAMES + FC_NAMES:
            layer = getattr(model, name)
            f.create_dataset(f'{name}/W', data=layer.weight.detach().numpy())
            f.create_dataset(f'{name}/b', data=layer.bias.detach().numpy())


# Full-reference fusion orders of the three 512-d patch features (distorted d, reference r).
FUSIONS = {
    'authors': 'concat(f_d - f_r, f_d, f_r)',  # deepIQA fr_model.py, lidq92's FRnet
    'pyiqa': 'concat(f_r, f_d, f_d - f_r)',    # pyiqa wadiqam_arch.py: its weights expect this order
}


class WaDIQaMFR(WaDIQaMNR):
    """DIQaM-FR / WaDIQaM-FR: the NR feature extractor run on the reference and the distorted patch
    (shared, Siamese weights), the three features fused (FUSIONS), fc1 / fc1_a taking 3 x 512.
    Input: one stacked patch pair N x 6 x 32 x 32, channels 0..2 the reference, 3..5 the
    distorted patch (iqa-node's task 'fr-iqa' input)."""

    def __init__(self, weighted: bool = True, divisor: int = 1, fusion: str = 'authors'):
        super().__init__(weighted, divisor)
        f = WIDTHS[-1] // divisor
        self.fc1 = nn.Linear(3 * f, f)
        self.fc1_a = nn.Linear(3 * f, f)
        if fusion not in FUSIONS:
            raise ValueError(f'fusion must be one of {", ".join(FUSIONS)}')
        self.fusion = fusion

    def fused(self, x):
        f_r, f_d = self.features(x[:, :3]), self.features(x[:, 3:])
        parts = (f_d - f_r, f_d, f_r) if self.fusion == 'authors' else (f_r, f_d, f_d - f_r)
        return torch.cat(parts, 1)

    def forward(self, x):
        f = self.fused(x)
        q = self.fc2(F.relu(self.fc1(f)))
        if not self.weighted:
            return q
        return q, self.fc2_a(F.relu(self.fc1_a(f)))


def seeded_fr_model(seed: int, weighted: bool, divisor: int = 1, fusion: str = 'authors') -> WaDIQaMFR:
    """seeded_model's recipe for the FR net: the weight bias centred on seeded random pairs (a
    reference and a noisier copy of it) so that patch weights fall on both sides of the ReLU."""
    torch.manual_seed(seed)
    m = WaDIQaMFR(weighted, divisor, fusion)

    def probe(g):
        ref = torch.rand(64, 3, 32, 32, generator=g) * 255
        dist = (ref + torch.randn(64, 3, 32, 32, generator=g) * 40).clamp(0, 255)
        return m.fused(torch.cat([ref, dist], 1))
    return _seed(m, seed, probe)
