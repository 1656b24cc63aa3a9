"""Helpers the export scripts share (imported as a sibling module: the scripts run from this folder)."""
from __future__ import annotations

import hashlib


def sha256(path: str) -> str:
    """Hex digest of a file, read in 1 MiB blocks (what manifests record for each graph)."""
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            h.update(chunk)
    return h.hexdigest()


def seed_batchnorm_stats(net, seed: int) -> None:
    """Non-trivial BatchNorm2d running statistics for a seeded test model (mean ~ N(0, 0.1), var in
    [0.5, 1.5)), from torch.Generator(seed), so that the graph's BN folding is exercised and a
    seeded model's outputs vary with its input like a trained one's."""
    import torch
    g = torch.Generator().manual_seed(seed)
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=g) * 0.1)
            m.running_var.copy_(torch.rand(m.running_var.shape, generator=g) + 0.5)
