"""DIQA's network as the TensorFlow/Keras re-implementation sandyz1000/deepinsight-iqa builds it
(deepinsight_iqa/diqa/networks/model.py, CUSTOM_MODEL_TYPE; written here from its description,
no code taken): a grey N x 1 x H x W high-pass image, eight 3x3 'same' convolutions with ReLU,
widths 48-48-64-64-64-64-128-128, stride 2 on the 2nd, 4th, 6th and 8th (Keras names Conv1..Conv7
and 'bottleneck'), global average pooling, Dense(128)+ReLU, Dense(128)+ReLU, Dense(1).

'same' is TensorFlow's: the odd padding row / column of a stride-2 layer goes at the bottom / right.
`onnx_same=True` drops the explicit padding so that the exported Conv nodes can be marked
auto_pad SAME_UPPER (ONNX's name for TF's rule), which keeps H and W dynamic in the graph.
"""
from __future__ import annotations

import os
import re
import sys

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from keras_h5 import _same_pad  # noqa: E402

FULL_WIDTHS = (48, 48, 64, 64, 64, 64, 128, 128)
FULL_DENSE = 128
STRIDES = (1, 2, 1, 2, 1, 2, 1, 2)
CONV_NAMES = ('Conv1', 'Conv2', 'Conv3', 'Conv4', 'Conv5', 'Conv6', 'Conv7', 'bottleneck')


class Diqa(nn.Module):
    def __init__(self, widths=FULL_WIDTHS, dense: int = FULL_DENSE):
        super().__init__()
        chans = (1,) + tuple(widths)
        self.convs = nn.ModuleList(nn.Conv2d(chans[i], chans[i + 1], 3, stride=STRIDES[i]) for i in range(8))
        self.dense1 = nn.Linear(widths[-1], dense)
        self.dense2 = nn.Linear(dense, dense)
        self.final = nn.Linear(dense, 1)
        self.onnx_same = False

    def forward(self, x):
        for conv in self.convs:
            if not self.onnx_same:
                x = _same_pad(x, (3, 3), conv.stride)
            x = F.relu(conv(x))
        v = x.mean(dim=(2, 3))
        return self.final(F.relu(self.dense2(F.relu(self.dense1(v)))))


def he_init(net: Diqa, seed: int, output_scale: float) -> Diqa:
    """He-normal kernels (fan-in), small uniform biases, from torch.Generator(seed); the last
    layer scaled so that seeded scores differ between images by far more than the tolerance."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                fan_in = m.weight[0].numel()
                m.weight.copy_(torch.randn(m.weight.shape, generator=g) * (2.0 / fan_in) ** 0.5)
                m.bias.copy_((torch.rand(m.bias.shape, generator=g) - 0.5) * 0.2)
        net.final.weight.mul_(output_scale)
        net.final.bias.mul_(output_scale)
    return net.eval()


def _natural(name: str):
    return [int(t) if t.isdigit() else t for t in re.split(r'(\d+)', name)]


def read_h5_layers(path: str) -> dict:
    """{layer name: [kernel, bias]} of every layer holding a kernel in a Keras .h5 (save_weights of
    the subclassed SubjectiveModel, or model.save's model_weights group): found by the names the
    re-implementation gives its layers, wherever the file nests them."""
    import h5py
    layers: dict = {}
    try:
        f = h5py.File(path, 'r')
    except OSError as e:
        sys.exit(f'export_diqa: cannot read {path} as HDF5: {e}')
    with f:
        def visit(name, obj):
            if not isinstance(obj, h5py.Dataset):
                return
            parts = name.split('/')
            leaf = parts[-1].split(':')[0]
            if leaf in ('kernel', 'bias') and len(parts) >= 2:
                layers.setdefault(parts[-2], {})[leaf] = np.asarray(obj, dtype=np.float32)
        f.visititems(visit)
    return layers


def load_keras_weights(path: str) -> Diqa:
    """The network of the widths the file holds (the full 48..128 one, or a smaller test one)."""
    layers = read_h5_layers(path)
    missing = [n for n in CONV_NAMES if n not in layers or layers[n].get('kernel') is None]
    if missing:
        sys.exit(f'export_diqa: {path} has no layer(s) {", ".join(missing)} (found: {", ".join(sorted(layers)) or "none"}); '
                 'expected the Keras layers of deepinsight-iqa networks/model.py (Conv1..Conv7, bottleneck, dense, dense_1, dense_2)')
    # Dense layers: Keras names them dense, dense_1, dense_2 in creation order (dense1, dense2, final).
    dense = sorted((n for n, v in layers.items() if n not in CONV_NAMES and v.get('kernel') is not None and v['kernel'].ndim == 2), key=_natural)
    if len(dense) != 3:
        sys.exit(f'export_diqa: {path} has {len(dense)} dense layers ({", ".join(dense)}); networks/model.py has three (128, 128, 1)')
    if any(layers[n]['kernel'].ndim != 4 for n in CONV_NAMES):
        sys.exit(f'export_diqa: {path}: the conv kernels must be 4-D (H, W, in, out)')
    net = Diqa(tuple(int(layers[n]['kernel'].shape[3]) for n in CONV_NAMES), int(layers[dense[0]]['kernel'].shape[1]))
    with torch.no_grad():
        for conv, name in zip(net.convs, CONV_NAMES):
            k, b = layers[name].get('kernel'), layers[name].get('bias')
            want = (3, 3, conv.in_channels, conv.out_channels)
            if k is None or b is None or k.shape != want:
                sys.exit(f'export_diqa: layer {name} kernel {None if k is None else k.shape}, expected {want} with a bias')
            conv.weight.copy_(torch.from_numpy(k).permute(3, 2, 0, 1))
            conv.bias.copy_(torch.from_numpy(b))
        for lin, name in zip((net.dense1, net.dense2, net.final), dense):
            k, b = layers[name].get('kernel'), layers[name].get('bias')
            want = (lin.in_features, lin.out_features)
            if k is None or b is None or k.shape != want:
                sys.exit(f'export_diqa: layer {name} kernel {None if k is None else k.shape}, expected {want} with a bias')
            lin.weight.copy_(torch.from_numpy(k).t())
            lin.bias.copy_(torch.from_numpy(b))
    return net.eval()


def write_keras_h5(net: Diqa, path: str) -> None:
    """The weights in the layout Keras 2's save_weights gives the re-implementation's subclassed
    SubjectiveModel (groups custom/<layer>, dense, dense_1, dense_2; HWIO kernels), for tests."""
    import h5py
    with h5py.File(path, 'w') as f:
        def put(group: str, name: str, k: np.ndarray, b: np.ndarray):
            g = f.require_group(group).require_group(name)
            g.create_dataset('kernel:0', data=k.astype(np.float32))
            g.create_dataset('bias:0', data=b.astype(np.float32))
        for conv, name in zip(net.convs, CONV_NAMES):
            put('custom/custom', name, conv.weight.detach().permute(2, 3, 1, 0).numpy(), conv.bias.detach().numpy())
        for lin, name in zip((net.dense1, net.dense2, net.final), ('dense', 'dense_1', 'dense_2')):
            put(name, name, lin.weight.detach().t().numpy(), lin.bias.detach().numpy())
