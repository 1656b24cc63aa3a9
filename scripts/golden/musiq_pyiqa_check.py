#!/usr/bin/env python3
"""Checks tools/export/musiq_model.py's pyiqa loader and architecture against pyiqa's own MUSIQ
(pyiqa/archs/musiq_arch.py, user-installed; PolyForm Noncommercial: imported here, never copied):
a pyiqa MUSIQ with seeded weights is saved as a .pth, converted by export_musiq.py --checkpoint,
and ONNX Runtime on the exported graph is compared with pyiqa's forward on the same token rows
(musiq_reference.tokens, fed through pyiqa's get_multiscale_patches hook). pyiqa's GELU is the
exact one (the official Flax model uses the tanh approximation, as ours): set to tanh here so
that the comparison is of the loader and the structure; --exact-gelu shows the difference.
Prints the largest difference; writes nothing.

  PYTHONPATH=/path/to/pyiqa /work/pyenv/bin/python scripts/golden/musiq_pyiqa_check.py [--dataset ava] [--exact-gelu]
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from musiq_reference import tokens  # noqa: E402
from seeded_fixture import ROOT, golden_images  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--dataset', choices=['koniq', 'ava'], default='koniq')
    ap.add_argument('--exact-gelu', action='store_true')
    a = ap.parse_args()
    import pyiqa.archs.musiq_arch as arch
    classes = 10 if a.dataset == 'ava' else 1
    net = arch.MUSIQ(pretrained=False, num_class=classes).eval()
    g = torch.Generator().manual_seed(11)
    with torch.no_grad():
        for name, p in net.named_parameters():
            if p.ndim == 1 and ('gn' in name or 'norm' in name) and name.endswith('weight'):
                p.copy_(1 + 0.2 * torch.randn(p.shape, generator=g))
            elif p.ndim == 1:
                p.copy_(0.1 * torch.randn(p.shape, generator=g))
            elif p.ndim == 2 and name.endswith('weight'):
                p.copy_(torch.randn(p.shape, generator=g) / p.shape[1] ** 0.5)
            else:
                p.copy_(torch.randn(p.shape, generator=g) * (1.0 if p.ndim == 4 else 0.5))
    if not a.exact_gelu:
        for mod in list(net.modules()):
            for child_name, child in mod.named_children():
                if isinstance(child, torch.nn.GELU):
                    setattr(mod, child_name, torch.nn.GELU(approximate='tanh'))
    import onnxruntime as ort
    with tempfile.TemporaryDirectory() as tmp:
        ck = os.path.join(tmp, 'musiq_pyiqa.pth')
        torch.save(net.state_dict(), ck)
        subprocess.run([sys.executable, os.path.join(ROOT, 'tools', 'export', 'export_musiq.py'), '--checkpoint', ck, '--dataset', a.dataset, '--out-dir', tmp, '--name', 'm'],
                       check=True, stdout=subprocess.DEVNULL)
        sess = ort.InferenceSession(os.path.join(tmp, 'm.onnx'), providers=['CPUExecutionProvider'])
        worst = 0.0
        for _, f, path in golden_images():
            p, pos, sc, mask = tokens(path)
            rows = np.concatenate([p.reshape(len(p), -1), pos[:, None], sc[:, None], mask[:, None]], axis=1).astype(np.float32)
            arch.get_multiscale_patches = lambda x, **kw: torch.from_numpy(rows)[None]  # pyiqa's rows: patch pixels in CHW order
            with torch.no_grad():
                want = float(net(torch.zeros(1, 3, 8, 8)).reshape(-1)[0])
            o = sess.run(['score'], {'patches': p[None], 'pos_idx': pos[None].astype(np.int64), 'scale_idx': sc[None].astype(np.int64), 'mask': mask[None]})[0][0].astype(np.float64)
            got = float(o[0]) if o.size == 1 else float((np.exp(o - o.max()) / np.exp(o - o.max()).sum() * np.arange(1, 11)).sum())
            worst = max(worst, abs(got - want))
            print(f'{f}: ours {got:.6f} pyiqa {want:.6f} diff {abs(got - want):.2e}')
        print(f'{a.dataset}{" (exact GELU)" if a.exact_gelu else ""}: max |ours - pyiqa| = {worst:.2e}')


if __name__ == '__main__':
    main()
