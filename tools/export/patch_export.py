"""What every per-patch export tool (export_cnniqa.py, export_wadiqam.py) does the same way: the
common command line, the ONNX export with a dynamic batch axis checked against PyTorch with ONNX
Runtime before anything is written, the manifest's source block and the manifest file."""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
from typing import Callable

import numpy as np
import torch


def common_args(p: argparse.ArgumentParser, name: str | None, tolerance: float = 1e-5, weights: tuple[str, ...] = ('authors', 'random')) -> None:
    p.add_argument('--checkpoint')
    p.add_argument('--weights', choices=list(weights), default='authors')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--out-dir', required=True)
    p.add_argument('--name', default=name)
    p.add_argument('--tolerance', type=float, default=tolerance, help='largest ORT - torch difference, relative to max(1, the largest |value| of the output)')
    p.add_argument('--schema-ref', default=None, help='$schema value written into the manifest')


def export_checked(tool: str, model: torch.nn.Module, sample: Callable[[np.random.Generator, int], np.ndarray], output_names: list[str],
                   out_path: str, tolerance: float) -> str:
    """Exports `model` (input 'patches', batch axis dynamic), runs ORT and torch on sample(rng, n)
    for n = 1, 7, 40 and writes out_path only when every output agrees; returns its sha256."""
    import onnxruntime as ort

    names = output_names
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = os.path.join(tmp, 'model.onnx')
        dummy = torch.from_numpy(sample(np.random.default_rng(0), 2))
        torch.onnx.export(model, dummy, tmp_path, input_names=['patches'], output_names=names,
                          dynamic_axes={'patches': {0: 'n'}, **{n: {0: 'n'} for n in names}}, opset_version=17, dynamo=False)
        sess = ort.InferenceSession(tmp_path, providers=['CPUExecutionProvider'])
        rng = np.random.default_rng(1234)
        worst = 0.0
        for n in (1, 7, 40):
            x = sample(rng, n)
            with torch.no_grad():
                ref = model(torch.from_numpy(x))
            ref = [r.numpy() for r in (ref if isinstance(ref, tuple) else (ref,))]
            for r, g, name in zip(ref, sess.run(names, {'patches': x}), names):
                if g.shape != r.shape:
                    sys.exit(f'{tool}: ORT output {name} has shape {g.shape}, torch {r.shape}; nothing written')
                # Relative to the output's scale in the batch: a weight output centred on 0 has
                # values near 0 whose float32 error is that of the large sums producing them.
                worst = max(worst, float(np.max(np.abs(g - r)) / max(1.0, float(np.max(np.abs(r))))))
        print(f'ORT vs torch: max |delta| / max(1, max |value|) = {worst:.3g} over batches 1, 7, 40 (outputs {", ".join(names)})')
        if not worst <= tolerance:
            sys.exit(f'{tool}: ORT differs from torch by {worst} (relative) > {tolerance}; nothing written')
        with open(tmp_path, 'rb') as src:
            data = src.read()
    os.makedirs(os.path.dirname(out_path) or '.', exist_ok=True)
    with open(out_path, 'wb') as dst:
        dst.write(data)
    digest = hashlib.sha256(data).hexdigest()
    print(f'wrote {out_path} sha256 {digest}')
    return digest


def source(args, licence: str, citation: str, url: str, note: str | None = None) -> dict:
    """The manifest's source block: the checkpoint's licence, url and sha256 (seeded weights say so)."""
    if args.weights == 'random':
        return {'license': 'seeded random weights (test fixture)', 'citation': citation}
    with open(args.checkpoint, 'rb') as f:
        src = {'license': licence, 'citation': citation, 'url': url, 'sha256': hashlib.sha256(f.read()).hexdigest()}
    if note:
        src['note'] = note
    return src


def write_manifest(out_dir: str, manifest: dict) -> None:
    path = os.path.join(out_dir, 'manifest.json')
    with open(path, 'w') as f:
        json.dump(manifest, f, indent=2)
        f.write('\n')
    print(f'wrote {path}')
