#!/usr/bin/env python3
"""Writes test/golden/vsfa_pool.json: VSFA's temporal pooling as the authors' VSFA.py computes it
(`TP`: -max_pool1d over -inf-padded past frames, softmin-weighted avg_pool1d over 10000-padded
future frames, in PyTorch), re-implemented here from the paper's description and that code's
published behaviour, on seeded random score sequences. The video score is the mean over frames.
    /work/pyenv/bin/python scripts/golden/vsfa_pool.py
"""
import json
import os

import numpy as np
import torch
import torch.nn.functional as F


def tp(q, tau=12, beta=0.5):
    q = torch.unsqueeze(torch.t(q), 0)
    qm = -float('inf') * torch.ones((1, 1, tau - 1), dtype=q.dtype)
    qp = 10000.0 * torch.ones((1, 1, tau - 1), dtype=q.dtype)
    l = -F.max_pool1d(torch.cat((qm, -q), 2), tau, stride=1)
    m = F.avg_pool1d(torch.cat((q * torch.exp(-q), qp * torch.exp(-qp)), 2), tau, stride=1)
    n = F.avg_pool1d(torch.cat((torch.exp(-q), torch.exp(-qp)), 2), tau, stride=1)
    m = m / n
    return beta * m + (1 - beta) * l


rng = np.random.default_rng(15)
cases = []
for length, tau, beta in [(1, 12, 0.5), (5, 12, 0.5), (40, 12, 0.5), (100, 12, 0.5), (60, 4, 0.25)]:
    q = rng.uniform(0, 1, size=length)
    frames = tp(torch.tensor(q, dtype=torch.float64).reshape(-1, 1), tau, beta)
    cases.append({'scores': q.tolist(), 'tau': tau, 'beta': beta, 'pooled': float(frames.mean())})
out = os.path.join(os.path.dirname(__file__), '..', '..', 'test', 'golden', 'vsfa_pool.json')
with open(out, 'w') as f:
    json.dump({'source': f'torch {torch.__version__}; scripts/golden/vsfa_pool.py', 'cases': cases}, f)
    f.write('\n')
print('wrote', out)
