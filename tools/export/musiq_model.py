"""MUSIQ (Ke, Wang, Wang, Milanfar, Yang, ICCV 2021) in PyTorch, written from the paper and the
structure of the official Flax model (google-research musiq/model/, Apache-2.0), for export.

Per token (one 32 x 32 patch, graph input [N, S, 3, P, P] normalised to [-1, 1]): a ResNet root
(7x7/2 conv with weight standardisation, TF SAME padding, GroupNorm, ReLU, 3x3/2 SAME max pool) and
one bottleneck unit, flattened in HWC order, a Linear to the hidden size; plus the hashed spatial
embedding (grid G x G table), the scale embedding; a CLS token in front; pre-LN transformer blocks
with masked attention (padding keys get -1e10, as Flax's padding mask); LayerNorm; a Linear head on
CLS (1 output: MOS, 10: AVA score distribution logits).

Weight standardisation is folded at load time ((w - mean) / (std + 1e-5) over each output's
kernel), so the graph holds plain convolutions.
"""
from __future__ import annotations

import dataclasses
import math
import re

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


@dataclasses.dataclass(frozen=True)
class Config:
    hidden: int = 384
    heads: int = 6
    mlp: int = 1152
    layers: int = 14
    classes: int = 1
    width: int = 64        # ResNet root width (bottleneck out = 4 x width)
    groups: int = 32       # GroupNorm groups (Flax default 32)
    patch: int = 32
    grid: int = 10         # hash grid of the spatial embedding
    scales: int = 3        # scale embeddings: the two resized scales and the native one

    def to_dict(self):
        return dataclasses.asdict(self)


FULL = Config()
AVA = dataclasses.replace(FULL, classes=10)
# Test fixture: the same graph with narrow widths and 2 blocks (a few hundred KB).
TINY = Config(hidden=32, heads=2, mlp=64, layers=2, width=8, groups=4)


def same_pad(size: int, kernel: int, stride: int):
    """TF 'SAME' padding of one side: (before, after), the odd pixel after."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def standardize(w: np.ndarray) -> np.ndarray:
    """StdConv's weight standardisation of an HWIO kernel: per output over H, W, I (population std)."""
    w = w.astype(np.float64)
    w = w - w.mean(axis=(0, 1, 2), keepdims=True)
    w = w / (w.std(axis=(0, 1, 2), keepdims=True) + 1e-5)
    return w.astype(np.float32)


class Bottleneck(nn.Module):
    def __init__(self, cin: int, width: int, groups: int):
        super().__init__()
        out = width * 4
        self.conv_proj = nn.Conv2d(cin, out, 1, bias=False)
        self.gn_proj = nn.GroupNorm(groups, out, eps=1e-4)
        self.conv1 = nn.Conv2d(cin, width, 1, bias=False)
        self.gn1 = nn.GroupNorm(groups, width, eps=1e-4)
        self.conv2 = nn.Conv2d(width, width, 3, bias=False)
        self.gn2 = nn.GroupNorm(groups, width, eps=1e-4)
        self.conv3 = nn.Conv2d(width, out, 1, bias=False)
        self.gn3 = nn.GroupNorm(groups, out, eps=1e-4)

    def forward(self, x):
        r = self.gn_proj(self.conv_proj(x))
        x = F.relu(self.gn1(self.conv1(x)))
        x = F.relu(self.gn2(self.conv2(F.pad(x, (1, 1, 1, 1)))))  # 3x3/1 SAME
        x = self.gn3(self.conv3(x))
        return F.relu(r + x)


class Block(nn.Module):
    def __init__(self, c: Config):
        super().__init__()
        self.heads = c.heads
        self.ln1 = nn.LayerNorm(c.hidden, eps=1e-6)
        self.q = nn.Linear(c.hidden, c.hidden)
        self.k = nn.Linear(c.hidden, c.hidden)
        self.v = nn.Linear(c.hidden, c.hidden)
        self.o = nn.Linear(c.hidden, c.hidden)
        self.ln2 = nn.LayerNorm(c.hidden, eps=1e-6)
        self.fc1 = nn.Linear(c.hidden, c.mlp)
        self.fc2 = nn.Linear(c.mlp, c.hidden)

    def forward(self, x, bias):
        n, s, d = x.shape
        hd = d // self.heads
        y = self.ln1(x)
        split = lambda t: t.reshape(n, s, self.heads, hd).transpose(1, 2)  # noqa: E731
        q, k, v = split(self.q(y)) / math.sqrt(hd), split(self.k(y)), split(self.v(y))
        a = torch.softmax(q @ k.transpose(-1, -2) + bias, dim=-1)
        x = x + self.o((a @ v).transpose(1, 2).reshape(n, s, d))
        return x + self.fc2(F.gelu(self.fc1(self.ln2(x)), approximate='tanh'))


class MUSIQ(nn.Module):
    def __init__(self, c: Config = FULL):
        super().__init__()
        self.c = c
        self.conv_root = nn.Conv2d(3, c.width, 7, stride=2, bias=False)
        self.gn_root = nn.GroupNorm(c.groups, c.width, eps=1e-6)
        self.unit = Bottleneck(c.width, c.width, c.groups)
        side = c.patch // 4
        self.embedding = nn.Linear(side * side * c.width * 4, c.hidden)
        self.pos_embedding = nn.Parameter(torch.zeros(c.grid * c.grid, c.hidden))
        self.scale_embedding = nn.Parameter(torch.zeros(c.scales, c.hidden))
        self.cls = nn.Parameter(torch.zeros(1, 1, c.hidden))
        self.blocks = nn.ModuleList([Block(c) for _ in range(c.layers)])
        self.encoder_norm = nn.LayerNorm(c.hidden, eps=1e-6)
        self.head = nn.Linear(c.hidden, c.classes)

    def forward(self, patches, pos, scale, mask):
        n, s = patches.shape[0], patches.shape[1]
        P = self.c.patch
        x = patches.reshape(n * s, 3, P, P)
        a, b = same_pad(P, 7, 2)
        x = F.relu(self.gn_root(self.conv_root(F.pad(x, (a, b, a, b)))))
        a, b = same_pad(P // 2, 3, 2)
        # SAME max pool pads with -inf; after the ReLU every value is >= 0, so 0 is the same.
        x = F.max_pool2d(F.pad(x, (a, b, a, b)), 3, 2)
        x = self.unit(x)
        x = x.permute(0, 2, 3, 1).reshape(n, s, -1)  # HWC order, as the Flax Dense sees it
        x = self.embedding(x) + self.pos_embedding[pos] + self.scale_embedding[scale]
        x = torch.cat([self.cls.expand(n, 1, -1), x], dim=1)
        keep = torch.cat([torch.ones(n, 1, dtype=mask.dtype), mask], dim=1)
        bias = ((keep - 1.0) * 1e10).reshape(n, 1, 1, s + 1)  # padding keys: -1e10
        for blk in self.blocks:
            x = blk(x, bias)
        return self.head(self.encoder_norm(x)[:, 0])


def seeded(c: Config, seed: int) -> MUSIQ:
    """A model with seeded weights: standardised conv kernels, non-trivial norms and embeddings."""
    g = torch.Generator().manual_seed(seed)
    net = MUSIQ(c)
    with torch.no_grad():
        for name, p in net.named_parameters():
            if p.ndim == 4:  # conv: standardised like StdConv's
                raw = torch.randn(p.shape, generator=g).permute(2, 3, 1, 0).numpy()
                p.copy_(torch.from_numpy(standardize(raw)).permute(3, 2, 0, 1))
            elif name.endswith('weight') and p.ndim == 1:  # norm scales
                p.copy_(1 + 0.2 * torch.randn(p.shape, generator=g))
            elif p.ndim == 1:  # biases
                p.copy_(0.1 * torch.randn(p.shape, generator=g))
            elif p.ndim == 2 and name.endswith('weight'):  # Linear [out, in]
                p.copy_(torch.randn(p.shape, generator=g) / math.sqrt(p.shape[1]))
            else:  # position and scale embeddings, CLS
                p.copy_(0.5 * torch.randn(p.shape, generator=g))
    return net.eval()


# --- official Flax checkpoint (.npz, flat '/'-joined keys under opt/target) --------------------

def _unit_index(name: str) -> int:
    m = re.search(r'_(\d+)$', name)
    return int(m.group(1)) if m else 0


def load_flax_npz(path: str, c: Config) -> MUSIQ:
    """The official checkpoints (gresearch/musiq: koniq_ckpt.npz, ava_ckpt.npz, ...): a flat npz
    of the Flax param tree; the parameters are under opt/target/ (run_predict_image.py)."""
    raw = np.load(path)
    t = {k[len('opt/target/'):]: raw[k] for k in raw.files if k.startswith('opt/target/')}
    if not t:
        raise SystemExit(f'{path}: no opt/target/... parameters (is this an official MUSIQ .npz?)')
    net = MUSIQ(c)
    used = set()

    def get(key):
        if key not in t:
            raise SystemExit(f'{path}: missing parameter {key}')
        used.add(key)
        return t[key]

    def conv(mod, key):
        mod.weight.copy_(torch.from_numpy(standardize(get(key + '/kernel'))).permute(3, 2, 0, 1))

    def norm(mod, key):
        mod.weight.copy_(torch.from_numpy(get(key + '/scale').reshape(-1)))
        mod.bias.copy_(torch.from_numpy(get(key + '/bias').reshape(-1)))

    def dense(mod, key, kernel_shape=None):
        k = get(key + '/kernel')
        k = k.reshape(kernel_shape) if kernel_shape else k
        mod.weight.copy_(torch.from_numpy(np.ascontiguousarray(k.T)))
        mod.bias.copy_(torch.from_numpy(get(key + '/bias').reshape(-1)))

    d = c.hidden
    with torch.no_grad():
        conv(net.conv_root, 'conv_root')
        norm(net.gn_root, 'gn_root')
        for part in ('proj', '1', '2', '3'):
            conv(getattr(net.unit, f'conv_{part}' if part == 'proj' else f'conv{part}'), f'block1/unit1/conv{"_" + part if part == "proj" else part}')
            norm(getattr(net.unit, f'gn_{part}' if part == 'proj' else f'gn{part}'), f'block1/unit1/gn{"_" + part if part == "proj" else part}')
        dense(net.embedding, 'embedding')
        net.pos_embedding.copy_(torch.from_numpy(get('Transformer/posembed_input/pos_embedding')[0]))
        net.scale_embedding.copy_(torch.from_numpy(get('Transformer/scaleembed_input/scale_embedding')[0]))
        net.cls.copy_(torch.from_numpy(get('Transformer/cls')))
        for i, blk in enumerate(net.blocks):
            pre = f'Transformer/encoderblock_{i}/'
            # Flax auto-names submodules by kind and a counter: find them by kind, in counter order.
            subs = sorted({k[len(pre):].split('/')[0] for k in t if k.startswith(pre)}, key=_unit_index)
            lns = [s for s in subs if s.startswith('LayerNorm')]
            att = [s for s in subs if 'Attention' in s]
            mlp = [s for s in subs if s.startswith('MlpBlock')]
            if len(lns) != 2 or len(att) != 1 or len(mlp) != 1:
                raise SystemExit(f'{path}: unexpected block layout under {pre}: {subs}')
            norm(blk.ln1, pre + lns[0])
            norm(blk.ln2, pre + lns[1])
            for name, mod in (('query', blk.q), ('key', blk.k), ('value', blk.v)):
                dense(mod, pre + att[0] + '/' + name, (d, d))  # [in, heads, head_dim] -> [in, d]
            dense(blk.o, pre + att[0] + '/out', (d, d))        # [heads, head_dim, out] -> [d, out]
            dense(blk.fc1, pre + mlp[0] + '/Dense_0')
            dense(blk.fc2, pre + mlp[0] + '/Dense_1')
        norm(net.encoder_norm, 'Transformer/encoder_norm')
        dense(net.head, 'head')
    left = sorted(set(t) - used)
    if left:
        raise SystemExit(f'{path}: parameters not used by the model: {left[:8]}')
    return net.eval()


# --- pyiqa's converted checkpoints (musiq_{koniq,spaq,paq2piq,ava}_ckpt-*.pth) ------------------

def load_pyiqa_pth(path: str, c: Config) -> MUSIQ:
    """pyiqa's MUSIQ state dicts (the official weights converted by its convert_musiq_to_pth.py;
    pyiqa's own code is read-only here, its files are the user's): convolutions raw (pyiqa
    standardises at run time), OIHW; the rest as torch Linear/LayerNorm/GroupNorm. The kernels are
    standardised with the population std as the official StdConv does (pyiqa's run-time
    torch.std is the unbiased one: a per-layer constant that the GroupNorm after it cancels)."""
    ck = torch.load(path, map_location='cpu', weights_only=False)
    sd = ck.get('params', ck.get('state_dict', ck)) if isinstance(ck, dict) else ck
    sd = {(k[7:] if k.startswith('module.') else k): v.float() for k, v in sd.items()}
    te = 'transformer_encoder.'
    ours = {}
    for k, v in sd.items():
        if k.endswith('num_batches_tracked'):
            continue
        if k.startswith('block1.'):
            k = 'unit.' + k[len('block1.'):]
        elif k.startswith(te + 'transformer.encoderblock_'):
            i, rest = k[len(te + 'transformer.encoderblock_'):].split('.', 1)
            rest = (rest.replace('norm1.', 'ln1.').replace('norm2.', 'ln2.').replace('attention.query.', 'q.').replace('attention.key.', 'k.')
                    .replace('attention.value.', 'v.').replace('attention.out.', 'o.').replace('mlp.fc1.', 'fc1.').replace('mlp.fc2.', 'fc2.'))
            k = f'blocks.{i}.{rest}'
        elif k == te + 'posembed_input.position_emb':
            k, v = 'pos_embedding', v.reshape(-1, v.shape[-1])
        elif k == te + 'scaleembed_input.scale_emb':
            k, v = 'scale_embedding', v.reshape(-1, v.shape[-1])
        elif k.startswith(te):
            k = k[len(te):]
        elif k.startswith('head.0.'):  # the 10-class head is Sequential(Linear, Softmax)
            k = 'head.' + k[len('head.0.'):]
        if v.ndim == 4:  # conv OIHW: fold the weight standardisation
            v = torch.from_numpy(standardize(v.permute(2, 3, 1, 0).numpy())).permute(3, 2, 0, 1)
        ours[k] = v
    net = MUSIQ(c)
    missing, unexpected = net.load_state_dict(ours, strict=False)
    if missing or unexpected:
        raise SystemExit(f'{path}: not a pyiqa MUSIQ state dict of this shape (missing {missing[:5]}, unexpected {unexpected[:5]})')
    return net.eval()
