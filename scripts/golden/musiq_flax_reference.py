"""An independent numpy (float64) forward of the official MUSIQ model directly on a Flax
parameter tree (the flat 'opt/target/...' keys of the official .npz checkpoints), written from
google-research musiq/model/{multiscale_transformer,multiscale_transformer_utils,resnet}.py's
structure: HWIO kernels standardised at run time (StdConv), TF SAME convolutions and max pool
(-inf padding), Flax GroupNorm, the [in, heads, head_dim] attention kernels, the padding mask on
queries and keys (-1e10), tanh GELU, LayerNorm eps 1e-6. It shares nothing with
tools/export/musiq_model.py, so it checks that file's checkpoint loader and architecture.

random_tree() writes seeded parameters in that layout (block submodules named as Flax's
auto-naming counter gives them: LayerNorm_0, SelfAttention_1, LayerNorm_2, MlpBlock_3).
"""
import math

import numpy as np


def random_tree(c: dict, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    t = {}
    d, w = c['hidden'], c['width']
    side = c['patch'] // 4

    def kernel(*shape):
        return rng.normal(0, 1, shape).astype(np.float32)

    def norm(key, n):
        t[key + '/scale'] = (1 + 0.2 * rng.normal(0, 1, n)).astype(np.float32)
        t[key + '/bias'] = (0.1 * rng.normal(0, 1, n)).astype(np.float32)

    def dense(key, shape, out):
        t[key + '/kernel'] = (rng.normal(0, 1, shape) / math.sqrt(shape[0])).astype(np.float32)
        t[key + '/bias'] = (0.1 * rng.normal(0, 1, out)).astype(np.float32)

    t['conv_root/kernel'] = kernel(7, 7, 3, w)
    norm('gn_root', w)
    u = 'block1/unit1/'
    t[u + 'conv_proj/kernel'] = kernel(1, 1, w, 4 * w)
    norm(u + 'gn_proj', 4 * w)
    t[u + 'conv1/kernel'] = kernel(1, 1, w, w)
    norm(u + 'gn1', w)
    t[u + 'conv2/kernel'] = kernel(3, 3, w, w)
    norm(u + 'gn2', w)
    t[u + 'conv3/kernel'] = kernel(1, 1, w, 4 * w)
    norm(u + 'gn3', 4 * w)
    dense('embedding', (side * side * 4 * w, d), d)
    t['Transformer/posembed_input/pos_embedding'] = (0.5 * rng.normal(0, 1, (1, c['grid'] ** 2, d))).astype(np.float32)
    t['Transformer/scaleembed_input/scale_embedding'] = (0.5 * rng.normal(0, 1, (1, c['scales'], d))).astype(np.float32)
    t['Transformer/cls'] = (0.5 * rng.normal(0, 1, (1, 1, d))).astype(np.float32)
    h = c['heads']
    for i in range(c['layers']):
        b = f'Transformer/encoderblock_{i}/'
        norm(b + 'LayerNorm_0', d)
        for n in ('query', 'key', 'value'):
            dense(b + 'SelfAttention_1/' + n, (d, h, d // h), (h, d // h))
        t[b + 'SelfAttention_1/out/kernel'] = (rng.normal(0, 1, (h, d // h, d)) / math.sqrt(d)).astype(np.float32)
        t[b + 'SelfAttention_1/out/bias'] = (0.1 * rng.normal(0, 1, d)).astype(np.float32)
        norm(b + 'LayerNorm_2', d)
        dense(b + 'MlpBlock_3/Dense_0', (d, c['mlp']), c['mlp'])
        dense(b + 'MlpBlock_3/Dense_1', (c['mlp'], d), d)
    norm('Transformer/encoder_norm', d)
    dense('head', (d, c['classes']), c['classes'])
    return {'opt/target/' + k: v for k, v in t.items()}


def _same(size, k, s):
    out = -(-size // s)
    total = max((out - 1) * s + k - size, 0)
    return total // 2, total - total // 2


def _conv(x, kern, stride):
    """NHWC x HWIO, TF SAME, stride; kernel standardised (StdConv)."""
    k = kern.astype(np.float64)
    k = (k - k.mean(axis=(0, 1, 2))) / (k.std(axis=(0, 1, 2)) + 1e-5)
    kh, kw, ci, co = k.shape
    n, H, W, _ = x.shape
    (t, b), (l, r) = _same(H, kh, stride), _same(W, kw, stride)
    x = np.pad(x, ((0, 0), (t, b), (l, r), (0, 0)))
    oh, ow = -(-H // stride), -(-W // stride)
    out = np.zeros((n, oh, ow, co))
    for i in range(kh):
        for j in range(kw):
            out += x[:, i:i + stride * oh:stride, j:j + stride * ow:stride, :] @ k[i, j]
    return out


def _maxpool(x):
    n, H, W, C = x.shape
    (t, b), (l, r) = _same(H, 3, 2), _same(W, 3, 2)
    x = np.pad(x, ((0, 0), (t, b), (l, r), (0, 0)), constant_values=-np.inf)
    oh, ow = -(-H // 2), -(-W // 2)
    return np.max([x[:, i:i + 2 * oh:2, j:j + 2 * ow:2, :] for i in range(3) for j in range(3)], axis=0)


def _groupnorm(x, p, key, groups, eps):
    n, H, W, C = x.shape
    g = x.reshape(n, H, W, groups, C // groups)
    mean = g.mean(axis=(1, 2, 4), keepdims=True)
    var = g.var(axis=(1, 2, 4), keepdims=True)
    g = (g - mean) / np.sqrt(var + eps)
    return g.reshape(n, H, W, C) * p[key + '/scale'] + p[key + '/bias']


def _ln(x, p, key):
    m = x.mean(-1, keepdims=True)
    v = x.var(-1, keepdims=True)
    return (x - m) / np.sqrt(v + 1e-6) * p[key + '/scale'] + p[key + '/bias']


def _gelu(x):
    return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))


def forward(tree: dict, rows: np.ndarray, c: dict) -> np.ndarray:
    """rows: [S, P*P*3 + 3] as the official preprocessing concatenates them (patch pixels in
    HWC order, then hashed position, scale id, mask). Returns the head's outputs [classes]."""
    p = {k[len('opt/target/'):]: v.astype(np.float64) for k, v in tree.items()}
    P, G = c['patch'], c['groups']
    pos, scale, mask = rows[:, -3].astype(int), rows[:, -2].astype(int), rows[:, -1] > 0
    x = rows[:, :-3].reshape(-1, P, P, 3).astype(np.float64)
    x = np.maximum(_groupnorm(_conv(x, p['conv_root/kernel'], 2), p, 'gn_root', G, 1e-6), 0)
    x = _maxpool(x)
    u = 'block1/unit1/'
    res = _groupnorm(_conv(x, p[u + 'conv_proj/kernel'], 1), p, u + 'gn_proj', G, 1e-4)
    y = np.maximum(_groupnorm(_conv(x, p[u + 'conv1/kernel'], 1), p, u + 'gn1', G, 1e-4), 0)
    y = np.maximum(_groupnorm(_conv(y, p[u + 'conv2/kernel'], 1), p, u + 'gn2', G, 1e-4), 0)
    y = _groupnorm(_conv(y, p[u + 'conv3/kernel'], 1), p, u + 'gn3', G, 1e-4)
    x = np.maximum(res + y, 0).reshape(len(rows), -1)
    x = x @ p['embedding/kernel'] + p['embedding/bias']
    x = x + p['Transformer/posembed_input/pos_embedding'][0][pos] + p['Transformer/scaleembed_input/scale_embedding'][0][scale]
    x = np.concatenate([p['Transformer/cls'][0], x])
    mask = np.concatenate([[True], mask])
    bias = np.where(mask[:, None] & mask[None, :], 0.0, -1e10)
    hd = c['hidden'] // c['heads']
    for i in range(c['layers']):
        b = f'Transformer/encoderblock_{i}/'
        y = _ln(x, p, b + 'LayerNorm_0')
        a = b + 'SelfAttention_1/'
        q, k, v = (np.einsum('sd,dhk->shk', y, p[a + n + '/kernel']) + p[a + n + '/bias'] for n in ('query', 'key', 'value'))
        logits = np.einsum('qhk,shk->hqs', q / math.sqrt(hd), k) + bias
        w = np.exp(logits - logits.max(-1, keepdims=True))
        w /= w.sum(-1, keepdims=True)
        o = np.einsum('hqs,shk->qhk', w, v)
        x = x + np.einsum('qhk,hkd->qd', o, p[a + 'out/kernel']) + p[a + 'out/bias']
        y = _ln(x, p, b + 'LayerNorm_2')
        y = _gelu(y @ p[b + 'MlpBlock_3/Dense_0/kernel'] + p[b + 'MlpBlock_3/Dense_0/bias'])
        x = x + y @ p[b + 'MlpBlock_3/Dense_1/kernel'] + p[b + 'MlpBlock_3/Dense_1/bias']
    x = _ln(x, p, 'Transformer/encoder_norm')
    return x[0] @ p['head/kernel'] + p['head/bias']


def score(tree: dict, rows: np.ndarray, c: dict) -> float:
    out = forward(tree, rows, c)
    if out.size == 1:
        return float(out[0])
    e = np.exp(out - out.max())
    return float((e / e.sum() * np.arange(1, out.size + 1)).sum())
