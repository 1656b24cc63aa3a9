"""MUSIQ reference: the official run_predict_image.py procedure (google-research musiq/:
preprocessing.get_multiscale_patches with longer sides [224, 384] and all native-resolution
patches, then the model on the concatenated (patches, hashed position, scale id, mask) rows)
re-implemented in numpy + PyTorch, for goldens. Written from the official code's description, not
from ours: Pillow decodes; x / 127.5 - 1; the resize is TensorFlow's own antialiased Gaussian
on those floats, even at the image's own size, as the official code (or, for manifests that
choose it, Pillow's BICUBIC on the 8-bit image: pil_bicubic); TF 'SAME'
zero padding; positions from torch's nearest interpolate of arange(G); each resized scale padded
to ceil(L / 32)^2 rows with zero rows; no bucketing (the sequence is exactly as long as the
official one); the model (tools/export/musiq_model.py) in float64.
"""
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), 'tools', 'export'))
from musiq_model import Config, MUSIQ  # noqa: E402

SCALES = [224, 384]


def hashed(count: int, grid: int) -> np.ndarray:
    g = torch.arange(grid, dtype=torch.float32).view(1, 1, grid)
    return F.interpolate(g, size=count, mode='nearest').view(-1).long().numpy()


def pil_bicubic(img: Image.Image, w: int, h: int) -> Image.Image:
    """Pillow BICUBIC as its Resample.c does it: the horizontal pass, then the vertical one, each
    skipped when its size does not change. As two one-axis calls because the one-call resize of
    the Pillow here (13.0.0 in /work/pyenv) runs the vertical pass first for some shapes
    (1-LSB differences; e.g. 7 x 500 -> 3 x 224), an order iqa's pil_resize does not follow."""
    if w != img.width:
        img = img.resize((w, img.height), Image.BICUBIC)
    if h != img.height:
        img = img.resize((w, h), Image.BICUBIC)
    return img


def scale_rows(x: np.ndarray, patch: int, grid: int, scale_id: int, max_len: int):
    """Rows of one scale: x is H x W x 3 float32 on [-1, 1]."""
    h, w, _ = x.shape
    ch, cw = math.ceil(h / patch), math.ceil(w / patch)
    ph, pw = ch * patch - h, cw * patch - w
    x = np.pad(x, ((ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2), (0, 0)))
    p = x.reshape(ch, patch, cw, patch, 3).transpose(0, 2, 4, 1, 3).reshape(ch * cw, 3, patch, patch)
    pos = (hashed(ch, grid)[:, None] * grid + hashed(cw, grid)[None, :]).reshape(-1)
    n = ch * cw
    sc = np.full(n, scale_id)
    mask = np.ones(n, np.float32)
    if max_len >= 0:  # pad with zero rows, then cut
        pad = max(max_len - n, 0)
        p = np.concatenate([p, np.zeros((pad, 3, patch, patch), np.float32)])[:max_len]
        pos = np.concatenate([pos, np.zeros(pad, np.int64)])[:max_len]
        sc = np.concatenate([sc, np.zeros(pad, np.int64)])[:max_len]
        mask = np.concatenate([mask, np.zeros(pad, np.float32)])[:max_len]
    return p, pos, sc, mask


def tokens(path: str, patch: int = 32, grid: int = 10, resize: str = 'tf-gaussian'):
    """resize 'tf-gaussian': the official tf.image.resize(method=GAUSSIAN) (antialiased) on the
    [-1, 1] float image, as preprocessing.resize_preserve_aspect_ratio (needs tensorflow);
    'pil-bicubic': Pillow bicubic of the 8-bit image, then [-1, 1]."""
    img = Image.open(path).convert('RGB')
    w, h = img.size
    x = np.asarray(img, np.float32) / np.float32(127.5) - np.float32(1)
    parts = []
    for sid, L in enumerate(sorted(SCALES)):
        ratio = np.float32(L) / np.float32(max(h, w))
        rh = max(1, int(np.round(np.float32(h) * ratio)))
        rw = max(1, int(np.round(np.float32(w) * ratio)))
        if resize == 'tf-gaussian':
            import tensorflow as tf
            r = tf.image.resize(x, (rh, rw), method='gaussian', antialias=True).numpy().astype(np.float32)
        else:
            r = np.asarray(pil_bicubic(img, rw, rh), np.float32) / np.float32(127.5) - np.float32(1)
        parts.append(scale_rows(r, patch, grid, sid, math.ceil(L / patch) ** 2))
    parts.append(scale_rows(x, patch, grid, len(SCALES), -1))
    return [np.concatenate([pt[i] for pt in parts]) for i in range(4)]


def load(saved: dict) -> MUSIQ:
    net = MUSIQ(Config(**saved['config']))
    net.load_state_dict(saved['state'])
    return net.double().eval()


def score_image(path: str, net: MUSIQ, resize: str = 'tf-gaussian') -> tuple:
    """(score, token count) of one image: the MOS output, or for 10 outputs sum(softmax * (1..10))."""
    p, pos, sc, mask = tokens(path, net.c.patch, net.c.grid, resize)
    with torch.no_grad():
        out = net(torch.from_numpy(p).double()[None], torch.from_numpy(pos).long()[None], torch.from_numpy(sc).long()[None], torch.from_numpy(mask).double()[None])[0]
    if out.numel() > 1:
        out = (torch.softmax(out, 0) * torch.arange(1, out.numel() + 1, dtype=torch.float64)).sum()
    return float(out), int(len(mask))
