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


def manifest_head(name: str, description: str) -> dict:
    """The fields every no-reference image manifest starts with."""
    return {'$schema': 'https://iqa-node.dev/schema/manifest.json', 'schemaVersion': 1, 'name': name, 'task': 'nr-iqa', 'description': description}


def float_rgb_input(width: int, height: int, mean: list, std: list) -> dict:
    """manifest.input of a float32 NCHW RGB graph with a dynamic batch, values on [0, 1] then mean/std."""
    return {'name': 'input', 'layout': 'NCHW', 'width': width, 'height': height, 'channels': 3, 'colorOrder': 'rgb', 'dtype': 'float32',
            'batch': 'dynamic', 'normalize': {'scale': 'unit', 'mean': mean, 'std': std}}


def write_manifest(out_dir: str, name: str, manifest: dict) -> str:
    """Writes DIR/<name>.json (indented, final newline); returns its path."""
    import json
    import os
    path = os.path.join(out_dir, f'{name}.json')
    with open(path, 'w') as f:
        json.dump(manifest, f, indent=2)
        f.write('\n')
    return path


def export_arguments(ap, name: str) -> None:
    """The export CLI convention `iqa models import` relies on: --checkpoint FILE --out-dir DIR, or
    --weights random --seed N for seeded test weights; --config tiny for test fixtures."""
    ap.add_argument('--checkpoint')
    ap.add_argument('--weights', choices=['checkpoint', 'random'], default='checkpoint')
    ap.add_argument('--config', choices=['full', 'tiny'], default='full')
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--out-dir', required=True)
    ap.add_argument('--name', default=name)
    ap.add_argument('--opset', type=int, default=17)
    ap.add_argument('--tol', type=float, default=1e-4)


def check_weights_arguments(args) -> None:
    import sys
    if args.weights == 'checkpoint' and not args.checkpoint:
        sys.exit('--checkpoint FILE is required (or --weights random for seeded test weights)')


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


def recogniser_manifest(name: str, description: str, sha: str, template, size: int, normalize: dict, source: dict) -> dict:
    """A face descriptor (kind 'face') for a recognition network exported as one graph with an
    `embedding` output: RGB NCHW input aligned to a 5-point template, readout = the embedding's norm."""
    return {
        "$schema": "https://github.com/iqa-node/iqa-node/blob/main/models/face-manifest.schema.json",
        "schemaVersion": 1,
        "kind": "face",
        "name": name,
        "description": description,
        "measures": "embedding norm of a face recogniser (not trained as a quality score)",
        "model": {"file": "model.onnx", "sha256": sha},
        "align": {"template": {"points": [round(float(v), 4) for v in template.ravel()], "width": size, "height": size}},
        "input": {"colorOrder": "rgb", "layout": "NCHW", "normalize": normalize},
        "readout": {"type": "norm", "output": "embedding"},
        "mapping": {"type": "identity"},
        "source": source,
    }
