"""A Keras HDF5 model (.h5 with `model_config` and `model_weights`, as Keras 2 and Keras 3's legacy
saver write it) rebuilt as a PyTorch module from its own config: the functional graph's layers in
config order, each from its class name and config, weights read by each layer's `weight_names`.
No Keras or TensorFlow is needed.

The module takes the Keras input layout, N x H x W x C, and computes in N x C x H x W; Flatten
flattens in Keras's H, W, C order so that a following Dense reads its kernel as trained. 'same'
padding is TensorFlow's (the extra row / column at the bottom / right). Layers outside the table
in `LAYERS` are refused by name.
"""
from __future__ import annotations

import json
import math

import h5py
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

ACTIVATIONS = {"linear": lambda x: x, "relu": F.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh, "softmax": lambda x: torch.softmax(x, dim=1)}


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def _same_pad(x, k, s, value=0.0):
    """TensorFlow's 'same': total = max((ceil(n / s) - 1) * s + k - n, 0), the odd one at the end."""
    pads = []
    for n, kk, ss in ((x.shape[3], k[1], s[1]), (x.shape[2], k[0], s[0])):
        total = max((math.ceil(n / ss) - 1) * ss + kk - n, 0)
        pads += [total // 2, total - total // 2]
    return F.pad(x, pads, value=value) if any(pads) else x


class Layer(nn.Module):
    def __init__(self, cls: str, cfg: dict, weights: list):
        super().__init__()
        self.cls, self.cfg = cls, cfg
        self.act = ACTIVATIONS.get(cfg.get("activation", "linear"))
        if self.act is None:
            raise SystemExit(f"layer {cfg.get('name')}: activation {cfg.get('activation')!r} is not supported")
        w = [torch.from_numpy(np.asarray(a, dtype=np.float32)) for a in weights]
        if cls == "Conv2D":
            if _pair(cfg.get("dilation_rate", 1)) != (1, 1) or cfg.get("groups", 1) != 1:
                raise SystemExit(f"layer {cfg['name']}: dilated or grouped Conv2D is not supported")
            self.weight = nn.Parameter(w[0].permute(3, 2, 0, 1).contiguous())
            self.bias = nn.Parameter(w[1]) if cfg.get("use_bias", True) else None
        elif cls == "Dense":
            self.weight = nn.Parameter(w[0].t().contiguous())
            self.bias = nn.Parameter(w[1]) if cfg.get("use_bias", True) else None
        elif cls == "BatchNormalization":
            axis = cfg.get("axis", -1)
            axis = axis[0] if isinstance(axis, list) else axis
            if axis not in (-1, 3):
                raise SystemExit(f"layer {cfg['name']}: BatchNormalization over axis {axis} is not supported")
            i = 0
            c = w[-1].shape[0]
            gamma = w[i] if cfg.get("scale", True) else torch.ones(c)
            i += cfg.get("scale", True)
            beta = w[i] if cfg.get("center", True) else torch.zeros(c)
            i += cfg.get("center", True)
            mean, var = w[i], w[i + 1]
            self.register_buffer("scale", gamma / torch.sqrt(var + cfg.get("epsilon", 1e-3)))
            self.register_buffer("shift", beta - mean * self.scale)
        elif w:
            raise SystemExit(f"layer {cfg['name']} ({cls}) has weights this converter does not read")

    def forward(self, xs):
        c, cfg = self.cls, self.cfg
        x = xs[0]
        if c in ("InputLayer", "Dropout", "SpatialDropout2D"):
            return x
        if c == "Conv2D":
            k, s = _pair(cfg["kernel_size"]), _pair(cfg.get("strides", 1))
            if cfg.get("padding", "valid") == "same":
                x = _same_pad(x, k, s)
            return self.act(F.conv2d(x, self.weight, self.bias, s))
        if c == "Dense":
            if x.dim() != 2:
                raise SystemExit(f"layer {cfg['name']}: Dense on a {x.dim()}-d tensor is not supported (Flatten or pool first)")
            return self.act(F.linear(x, self.weight, self.bias))
        if c == "BatchNormalization":
            return x * self.scale[None, :, None, None] + self.shift[None, :, None, None] if x.dim() == 4 else x * self.scale + self.shift
        if c == "Activation":
            return self.act(x)
        if c == "ReLU":
            return F.relu(x)
        if c in ("MaxPooling2D", "AveragePooling2D"):
            k = _pair(cfg.get("pool_size", 2))
            s = _pair(cfg.get("strides") or k)
            same = cfg.get("padding", "valid") == "same"
            if c == "MaxPooling2D":
                return F.max_pool2d(_same_pad(x, k, s, -math.inf) if same else x, k, s)
            if not same:
                return F.avg_pool2d(x, k, s)
            # Keras averages over the window's real pixels only
            return F.avg_pool2d(_same_pad(x, k, s), k, s) / F.avg_pool2d(_same_pad(torch.ones_like(x[:, :1]), k, s), k, s)
        if c == "ZeroPadding2D":
            p = cfg.get("padding", 1)
            (t, b), (l, r) = ((p, p), (p, p)) if isinstance(p, int) else (_pair(p[0]), _pair(p[1])) if isinstance(p[0], (list, tuple)) else ((p[0], p[0]), (p[1], p[1]))
            return F.pad(x, (l, r, t, b))
        if c == "Flatten":
            return (x.permute(0, 2, 3, 1) if x.dim() == 4 else x).flatten(1)
        if c == "GlobalAveragePooling2D":
            return x.mean(dim=(2, 3))
        if c == "GlobalMaxPooling2D":
            return x.amax(dim=(2, 3))
        if c == "Add":
            return sum(xs[1:], xs[0])
        if c == "Concatenate":
            if cfg.get("axis", -1) not in (-1, 3):
                raise SystemExit(f"layer {cfg['name']}: Concatenate over axis {cfg.get('axis')} is not supported")
            return torch.cat(xs, dim=1)
        raise AssertionError(c)


LAYERS = {"InputLayer", "Conv2D", "Dense", "BatchNormalization", "Activation", "ReLU", "MaxPooling2D", "AveragePooling2D",
          "ZeroPadding2D", "Flatten", "GlobalAveragePooling2D", "GlobalMaxPooling2D", "Add", "Concatenate", "Dropout", "SpatialDropout2D"}


def _history(v, out):
    """The (layer name) of every tensor an inbound node refers to, Keras 2 or Keras 3 style."""
    if isinstance(v, dict):
        if "keras_history" in v.get("config", {}):
            out.append(v["config"]["keras_history"][0])
        else:
            for x in v.values():
                _history(x, out)
    elif isinstance(v, (list, tuple)):
        if len(v) >= 3 and isinstance(v[0], str) and isinstance(v[1], int):  # Keras 2: [name, node, tensor, kwargs]
            out.append(v[0])
        else:
            for x in v:
                _history(x, out)
    return out


class KerasGraph(nn.Module):
    def __init__(self, config: dict, weights: dict):
        super().__init__()
        if config.get("class_name") not in ("Functional", "Model", "Sequential"):
            raise SystemExit(f"model class {config.get('class_name')!r} is not supported")
        layers = config["config"]["layers"] if isinstance(config["config"], dict) else config["config"]  # old Sequential: a list
        sequential = config.get("class_name") == "Sequential"
        unknown = sorted({l["class_name"] for l in layers} - LAYERS)
        if unknown:
            raise SystemExit(f"the .h5 model uses layers this converter does not build: {', '.join(unknown)}")
        self.order, self.inputs = [], {}
        self.layers = nn.ModuleDict()
        prev = None
        for l in layers:
            name = l["config"]["name"]
            self.layers[name] = Layer(l["class_name"], l["config"], weights.get(name, []))
            self.inputs[name] = [prev] if sequential and prev else ([] if sequential else _history(l.get("inbound_nodes", []), []))
            self.order.append(name)
            prev = name
        outs = [] if sequential else _history(config["config"].get("output_layers", []), [])
        self.outputs = outs or [self.order[-1]]
        if len(self.outputs) != 1:
            raise SystemExit(f"the model has {len(self.outputs)} outputs; one is expected")

    def forward(self, x):  # N x H x W x C
        values = {}
        for name in self.order:
            ins = [values[i] for i in self.inputs[name]] or [x.permute(0, 3, 1, 2)]
            values[name] = self.layers[name](ins)
        return values[self.outputs[0]]


def _text(v):
    return v.decode("utf8") if isinstance(v, bytes) else v


def load_h5(path: str) -> KerasGraph:
    with h5py.File(path, "r") as f:
        if "model_config" not in f.attrs:
            raise SystemExit(f"{path} holds no model_config (weights only?): the architecture cannot be rebuilt")
        config = json.loads(_text(f.attrs["model_config"]))
        g = f["model_weights"] if "model_weights" in f else f
        weights = {}
        for name in g:
            names = [_text(n) for n in g[name].attrs.get("weight_names", [])]
            weights[name] = [np.asarray(g[name][n]) for n in names]
    return KerasGraph(config, weights).eval()
