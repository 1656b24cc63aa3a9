#!/usr/bin/env python3
"""Export MUSIQ (Ke et al., ICCV 2021; tools/export/musiq_model.py) to ONNX with its manifest.

The graph takes the token sequence the native code builds (manifest preprocess.tokens: the image
resized to longer sides 224 and 384 with aspect kept, plus the image at its own size; 32 x 32
patches with TF SAME zero padding; hashed 10 x 10 positions, scale ids, mask):
patches [N, S, 3, 32, 32] float32 on [-1, 1] (TF's antialiased Gaussian resize as the official code,
or --resize pil-bicubic), pos_idx and scale_idx [N, S] int64, mask [N, S]
float32; output `score` [N, 1] (MOS) or [N, 10] (AVA logits: softmax, mean of 1..10).

Checkpoint: the official Flax checkpoints (GCS bucket gresearch/musiq: koniq_ckpt.npz,
spaq_ckpt.npz, paq2piq_ckpt.npz, ava_ckpt.npz; run_predict_image.py reads opt/target/...), or
pyiqa's conversions of them (musiq_koniq_ckpt-e95806b9.pth etc.; any file not ending in .npz).

  python3 tools/export/export_musiq.py --checkpoint koniq_ckpt.npz --out-dir DIR
  python3 tools/export/export_musiq.py --checkpoint ava_ckpt.npz --dataset ava --name musiq-ava --out-dir DIR
  python3 tools/export/export_musiq.py --weights random --seed 3 --config tiny --out-dir DIR

Checks ONNX Runtime against PyTorch on seeded token batches (two sequence lengths, padded
tokens included) before writing the manifest.
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export_common import check_weights_arguments, export_arguments, manifest_head, sha256, write_manifest  # noqa: E402
from musiq_model import FULL, TINY, load_flax_npz, load_pyiqa_pth, seeded  # noqa: E402

# dataset -> (outputs, score range): KonIQ/SPAQ/PaQ-2-PiQ predict a MOS, AVA a 10-bin distribution.
DATASETS = {'koniq': (1, [0, 100]), 'spaq': (1, [0, 100]), 'paq2piq': (1, [0, 100]), 'ava': (10, [1, 10])}
SCALES = [224, 384]
# Static sequence lengths: 193 tokens of the two resized scales plus the native ones
# (ceil(H/32) ceil(W/32): 768 for a 1024 x 768 KonIQ image). The last is the limit (about 4 MP).
BUCKETS = [256, 384, 512, 768, 1024, 1536, 2048, 3072, 4096]


def tokens_input_spec(patch: int) -> dict:
    return {'name': 'patches', 'layout': 'NCHW', 'width': patch, 'height': patch, 'channels': 3, 'colorOrder': 'rgb', 'dtype': 'float32',
            'batch': 'dynamic', 'normalize': {'scale': 'unit', 'mean': [0.5], 'std': [0.5]}}


def random_tokens(n: int, s: int, valid: int, cfg, seed: int):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, s, 3, cfg.patch, cfg.patch, generator=g) * 2 - 1
    pos = torch.randint(0, cfg.grid * cfg.grid, (n, s), generator=g)
    sc = torch.randint(0, cfg.scales, (n, s), generator=g)
    mask = torch.zeros(n, s)
    mask[:, :valid] = 1
    x[:, valid:] = 0
    pos[:, valid:] = 0
    sc[:, valid:] = 0
    return x, pos, sc, mask


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    export_arguments(ap, 'musiq')
    ap.add_argument('--dataset', choices=sorted(DATASETS), default='koniq', help='what the checkpoint was trained on (ava: 10-bin head)')
    ap.add_argument('--save-state', help='also save {state, config} here, for reference runs')
    ap.add_argument('--resize', choices=['tf-gaussian', 'pil-bicubic'], default='tf-gaussian',
                    help="the scales' resize: the official TF antialiased Gaussian (default) or Pillow bicubic")
    args = ap.parse_args()
    check_weights_arguments(args)
    classes, score_range = DATASETS[args.dataset]
    cfg = dataclasses.replace(TINY if args.config == 'tiny' else FULL, classes=classes)
    if args.weights == 'random':
        net = seeded(cfg, args.seed)
    elif args.checkpoint.endswith('.npz'):
        net = load_flax_npz(args.checkpoint, cfg)
    else:  # pyiqa's converted .pth
        net = load_pyiqa_pth(args.checkpoint, cfg)
    os.makedirs(args.out_dir, exist_ok=True)
    path = os.path.join(args.out_dir, f'{args.name}.onnx')
    names = ['patches', 'pos_idx', 'scale_idx', 'mask']
    dyn = {k: {0: 'batch', 1: 'tokens'} for k in names}
    dyn['score'] = {0: 'batch'}
    torch.onnx.export(net, random_tokens(1, 200, 190, cfg, 1), path, input_names=names, output_names=['score'], dynamic_axes=dyn,
                      opset_version=args.opset, dynamo=False)
    import onnxruntime as ort
    sess = ort.InferenceSession(path, providers=['CPUExecutionProvider'])
    err, scale = 0.0, 1.0
    for n, s, valid in ((2, 256, 230), (1, 384, 300)):
        feeds = random_tokens(n, s, valid, cfg, s)
        with torch.no_grad():
            ref = net(*feeds).numpy().astype(np.float64)
        got = sess.run(['score'], {k: v.numpy() for k, v in zip(names, feeds)})[0].astype(np.float64)
        err = max(err, float(np.max(np.abs(got - ref))))
        scale = max(scale, float(np.max(np.abs(ref))))
    print(f'ORT vs PyTorch max |diff| {err:.3g} (sequence lengths 256 and 384)')
    if not err <= args.tol * scale:
        sys.exit(f'ONNX Runtime disagrees with PyTorch: {err} > {args.tol}')
    if args.save_state:
        torch.save({'state': net.state_dict(), 'config': cfg.to_dict()}, args.save_state)
    src = ({'url': 'https://storage.googleapis.com/gresearch/musiq/ (official checkpoints of google-research/google-research musiq/)', 'sha256': sha256(args.checkpoint),
            'license': 'code Apache-2.0 (google-research/google-research); the checkpoints carry no separate licence statement'}
           if args.checkpoint else {'license': 'test model with seeded random weights (no checkpoint)', 'note': f'seed {args.seed}, config {args.config}'})
    head = ({'type': 'distribution-mean', 'output': 'score', 'bins': list(range(1, 11)), 'softmax': True} if classes == 10 else {'type': 'scalar', 'output': 'score'})
    manifest = {
        **manifest_head(args.name, f'MUSIQ (Ke et al., ICCV 2021), {args.dataset} checkpoint: multi-scale (224, 384, native) 32 x 32 patch tokens, hashed 10 x 10 positions, '
                        f'scale embeddings, {cfg.layers}-block transformer d={cfg.hidden}' + (' [reduced widths, test model]' if args.config == 'tiny' else '')),
        'model': {'file': os.path.basename(path), 'sha256': sha256(path)},
        'input': tokens_input_spec(cfg.patch),
        'preprocess': {'crop': {'policy': 'tokens'},
                       'tokens': {'scales': SCALES, 'native': True, 'grid': cfg.grid, 'interp': args.resize, 'buckets': BUCKETS,
                                  'inputs': {'position': 'pos_idx', 'scale': 'scale_idx', 'mask': 'mask'}}},
        'outputs': [{'name': 'score', 'shape': ['batch', classes]}],
        'head': head,
        'score': {'range': score_range, 'higherIsBetter': True},
        'source': src,
        'export': {'tool': 'tools/export/export_musiq.py', 'dataset': args.dataset, 'config': cfg.to_dict(), 'torch': torch.__version__, 'opset': args.opset},
    }
    write_manifest(args.out_dir, args.name, manifest)
    print(f'wrote {path} ({os.path.getsize(path) / 2**20:.2f} MB) and {args.name}.json')


if __name__ == '__main__':
    main()
