#!/usr/bin/env python3
"""Export KonIQ++ (Su et al., BMVC 2021; tools/export/koniqplusplus_model.py) to ONNX with its
manifest: one 480 x 640 (H x W) image in (Pillow bilinear resize, ImageNet normalisation, fp32),
outputs `quality` [N, 1] (before the checkpoint's k, b: the manifest's score.affine) and
`defects` [N, 4] (noise, blur, contrast, color: the manifest's head.extras).

Checkpoint: the authors' training output (SSL92/koniqplusplus main.py / test_image.py): a
torch.save'd dict with 'model' (Model_Joint's state dict), 'k' and 'b' (LinearityIQA's linear
mapping; score = q k[0] + b[0]). No checkpoint is published.

  python3 tools/export/export_koniqplusplus.py --checkpoint FILE --out-dir DIR
  python3 tools/export/export_koniqplusplus.py --weights random --seed 3 --config tiny --out-dir DIR

Checks ONNX Runtime against PyTorch on a seeded batch before writing the manifest.
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export_common import check_weights_arguments, export_arguments, float_rgb_input, manifest_head, sha256, write_manifest  # noqa: E402
from koniqplusplus_model import DEFECTS, FULL, TINY, KonIQPlusPlus, seeded  # noqa: E402

MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]


def scalar(v, index: int = 0) -> float:
    """k and b are saved as lists, arrays or tensors (test_image.py reads k[0], b[0]; LinearityIQA's
    test_demo.py reads k[-1], b[-1])."""
    if isinstance(v, torch.Tensor):
        v = v.detach().cpu().numpy()
    return float(np.asarray(v, dtype=np.float64).ravel()[index])


def load_checkpoint(path: str, index: int = 0):
    """(state dict without DataParallel's 'module.', k[index], b[index]) of a LinearityIQA-style
    checkpoint {'model', 'k', 'b', ...}."""
    ck = torch.load(path, map_location='cpu', weights_only=False)
    if not isinstance(ck, dict) or 'model' not in ck or 'k' not in ck or 'b' not in ck:
        sys.exit(f"{path}: expected the authors' checkpoint, a dict with 'model', 'k' and 'b'")
    state = {(key[7:] if key.startswith('module.') else key): v for key, v in ck['model'].items()}
    return state, scalar(ck['k'], index), scalar(ck['b'], index)


class Outputs(torch.nn.Module):
    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        return self.net(x)


def build(args):
    cfg = TINY if args.config == 'tiny' else FULL
    if args.weights == 'random':
        net, k, b = seeded(cfg, args.seed)
    else:
        net = KonIQPlusPlus(cfg)
        state, k, b = load_checkpoint(args.checkpoint)
        missing, unexpected = net.load_state_dict(state, strict=False)
        unexpected = [u for u in unexpected if not u.endswith('num_batches_tracked')]
        if missing or unexpected:
            sys.exit(f'checkpoint does not match KonIQ++ (missing {missing[:5]}, unexpected {unexpected[:5]})')
    return cfg, net.eval(), k, b


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    # --config tiny: the test fixture's narrow widths (seeded, or a checkpoint of that shape in tests)
    export_arguments(ap, 'koniqplusplus')
    ap.add_argument('--save-state', help='also save {state, k, b} here, for reference runs')
    args = ap.parse_args()
    check_weights_arguments(args)
    cfg, net, k, b = build(args)
    os.makedirs(args.out_dir, exist_ok=True)
    path = os.path.join(args.out_dir, f'{args.name}.onnx')
    shape = (3, cfg.height, cfg.width)
    x = torch.randn(2, *shape, generator=torch.Generator().manual_seed(7))
    with torch.no_grad():
        ref_q, ref_d = (t.numpy().astype(np.float64) for t in net(x))
    torch.onnx.export(Outputs(net).eval(), (torch.randn(1, *shape),), path, input_names=['input'], output_names=['quality', 'defects'],
                      dynamic_axes={'input': {0: 'batch'}, 'quality': {0: 'batch'}, 'defects': {0: 'batch'}}, opset_version=args.opset, dynamo=False)
    if args.save_state:
        torch.save({'state': net.state_dict(), 'k': k, 'b': b, 'config': cfg.to_dict()}, args.save_state)
    import onnxruntime as ort
    sess = ort.InferenceSession(path, providers=['CPUExecutionProvider'])
    got_q, got_d = (t.astype(np.float64) for t in sess.run(['quality', 'defects'], {'input': x.numpy()}))
    err = max(float(np.max(np.abs(got_q - ref_q))), float(np.max(np.abs(got_d - ref_d))))
    scale = max(1.0, float(np.max(np.abs(ref_q))), float(np.max(np.abs(ref_d))))
    print(f'ORT vs PyTorch max |diff| {err:.3g} over quality and defects (quality {np.round(ref_q.ravel(), 4).tolist()})')
    if not err <= args.tol * scale:
        sys.exit(f'ONNX Runtime disagrees with PyTorch: {err} > {args.tol}')
    src = ({'url': 'https://github.com/SSL92/koniqplusplus (no checkpoint published)', 'sha256': sha256(args.checkpoint), 'license': 'no licence stated (SSL92/koniqplusplus has no licence file)'}
           if args.checkpoint else {'license': 'test model with seeded random weights (no checkpoint)', 'note': f'seed {args.seed}, config {args.config}'})
    manifest = {
        **manifest_head(args.name, 'KonIQ++ (Su et al., BMVC 2021): ResNeXt-101 32x8d taps, quality and defect side networks with SoftPool fusion; score q k + b, four defect predictions'
        + (' [reduced widths, test model]' if args.config == 'tiny' else '')),
        'model': {'file': os.path.basename(path), 'sha256': sha256(path)},
        'input': float_rgb_input(cfg.width, cfg.height, MEAN, STD),
        # The global SoftPool scales by h / w: the authors' 480 x 640 resize is part of the model.
        'preprocess': {'crop': {'policy': 'resize'}, 'resize': {'width': cfg.width, 'height': cfg.height, 'interp': 'pil-bilinear'}},
        'outputs': [{'name': 'quality', 'shape': ['batch', 1]}, {'name': 'defects', 'shape': ['batch', 4]}],
        'head': {'type': 'scalar', 'output': 'quality', 'extras': [{'name': n, 'output': 'defects', 'index': i} for i, n in enumerate(DEFECTS)]},
        'score': {'range': [0, 100], 'higherIsBetter': True, 'aggregate': 'mean', 'affine': {'scale': k, 'offset': b}},
        'source': src,
        'export': {'tool': 'tools/export/export_koniqplusplus.py', 'config': cfg.to_dict(), 'torch': torch.__version__, 'opset': args.opset},
    }
    write_manifest(args.out_dir, args.name, manifest)
    print(f'wrote {path} ({os.path.getsize(path) / 2**20:.2f} MB) and {args.name}.json')


if __name__ == '__main__':
    main()
