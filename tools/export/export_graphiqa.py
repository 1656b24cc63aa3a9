#!/usr/bin/env python3
"""Exports GraphIQA (Sun, Yu, Xu, Zhou, Chen, TMM 2022; tools/export/graphiqa_model.py) to ONNX: a per-crop
graph N x 3 x 224 x 224 (ImageNet-normalised RGB) -> mean [N], scale [N], and its manifest (head
'gaussian': the score is the mean, or mean + z * scale in the seeded sampling mode).

Weights (pick one):
  --checkpoint FILE             a state dict as the authors' finetune.py saves it
                                (torch.save(Reg_Domain.state_dict()), 'module.' names from DataParallel
                                accepted; --dosz / --egsz read from its shapes); geekyutao/GraphIQA
                                (Apache-2.0 code) publishes only a pretrain.py model, whose quality
                                regressor is untrained until finetune.py
  --weights random [--seed N]   seeded random weights (tests, benchmarks)
  --config tiny                 narrow ResNet stages and small graph widths (tests only; same graph contract)

Test-time pipelines (--pipeline), as the authors' dataset classes (datasets/folders.py) test:
  koniq  Koniq_10kFolder: torchvision Resize([512, 384]) (H 512, W 384; Pillow bilinear) then
         25 RandomCrop(224) (finetune.py --patch_num 25), here at seeded positions; mean
  full   LIVE / LIVE-C / CSIQ / KADID: 25 random 224 crops of the image at its own size; mean

Per crop, N = 1: the authors' test loader has batch size 1, so each forward pass is a graph over
one crop (see graphiqa_model.py). Before writing, ONNX Runtime (CPU) is compared with PyTorch,
and a batch of crops with the same crops one at a time (the crops must not interact).

  python3 tools/export/export_graphiqa.py --checkpoint ckpt/koniq/koniq_step_12.pth --out-dir /tmp/graphiqa
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export_common import check_weights_arguments, export_arguments, float_rgb_input, manifest_head, sha256, write_manifest  # noqa: E402
from graphiqa_model import FULL, TINY, GraphIQA, config_for_state, randomize, strip_prefix  # noqa: E402

MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]
CROPS = 25
PIPELINES = {
    'koniq': {'resize': {'width': 384, 'height': 512, 'interp': 'pil-bilinear'}, 'crop': {'policy': 'random', 'count': CROPS, 'seed': 0}},
    'full': {'resize': None, 'crop': {'policy': 'random', 'count': CROPS, 'seed': 0}},
}


def build(args):
    cfg = TINY if args.config == 'tiny' else FULL
    torch.manual_seed(args.seed)
    if args.checkpoint:
        sd = torch.load(args.checkpoint, map_location='cpu', weights_only=True)
        if not isinstance(sd, dict):
            sys.exit(f'{args.checkpoint}: expected a state dict (finetune.py saves net.state_dict())')
        sd = strip_prefix(sd.get('state_dict', sd))
        cfg = config_for_state(cfg, sd)
        net = GraphIQA(cfg)
        try:
            missing, unexpected = net.load_state_dict(sd, strict=False)
        except RuntimeError as e:  # shape mismatches
            sys.exit(f'{args.checkpoint} is not a GraphIQA Reg_Domain state dict for config {args.config}: {e}')
        if missing or unexpected:
            sys.exit(f'{args.checkpoint} is not a GraphIQA Reg_Domain state dict for config {args.config}: missing {missing[:6]}, unexpected {unexpected[:6]}')
        net.eval()
    else:
        net = randomize(GraphIQA(cfg), args.seed)
    return cfg, net


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    export_arguments(ap, 'graphiqa')
    ap.add_argument('--pipeline', choices=sorted(PIPELINES), default='koniq')
    ap.add_argument('--sampling-seed', type=int, default=0, help="seed of the gaussian head's sampling mode (the default mode is the mean)")
    ap.add_argument('--save-state', help='also save the state dict here (authors\' key names), for reference runs')
    args = ap.parse_args()
    check_weights_arguments(args)
    cfg, net = build(args)
    os.makedirs(args.out_dir, exist_ok=True)
    path = os.path.join(args.out_dir, f'{args.name}.onnx')
    s = cfg.input_size
    x = torch.randn(4, 3, s, s, generator=torch.Generator().manual_seed(7))
    with torch.no_grad():
        ref_mean, ref_scale = (t.numpy().astype(np.float64) for t in net(x))
    torch.onnx.export(net, (torch.randn(2, 3, s, s),), path, input_names=['input'], output_names=['mean', 'scale'],
                      dynamic_axes={'input': {0: 'batch'}, 'mean': {0: 'batch'}, 'scale': {0: 'batch'}}, opset_version=args.opset, dynamo=False)
    if args.save_state:
        torch.save(net.state_dict(), args.save_state)
    import onnxruntime as ort
    sess = ort.InferenceSession(path, providers=['CPUExecutionProvider'])
    got_mean, got_scale = (a.astype(np.float64) for a in sess.run(['mean', 'scale'], {'input': x.numpy()}))
    one = np.array([[v[0] for v in sess.run(['mean', 'scale'], {'input': x[i:i + 1].numpy()})] for i in range(len(x))], dtype=np.float64)
    err = max(float(np.max(np.abs(got_mean - ref_mean))), float(np.max(np.abs(got_scale - ref_scale))))
    batch_err = float(np.max(np.abs(one - np.stack([got_mean, got_scale], 1))))
    scale_ref = max(1.0, float(np.max(np.abs(ref_mean))), float(np.max(np.abs(ref_scale))))
    print(f'ORT vs PyTorch max |diff| {err:.3g}; batch of {len(x)} vs one at a time {batch_err:.3g} (means {np.round(ref_mean, 4).tolist()}, scales {np.round(ref_scale, 4).tolist()})')
    if not err <= args.tol * scale_ref:
        sys.exit(f'ONNX Runtime disagrees with PyTorch: {err} > {args.tol}')
    if not batch_err <= args.tol * scale_ref:
        sys.exit(f'crops interact inside a batch: {batch_err} > {args.tol}')
    if not args.checkpoint and float(np.std(ref_mean)) < 1e-2:
        sys.exit(f'seeded weights give near-constant means (std {np.std(ref_mean):.3g}): a parity test on them could not fail')
    src = ({'url': 'https://github.com/geekyutao/GraphIQA (no checkpoints published)', 'sha256': sha256(args.checkpoint),
            'license': 'code Apache-2.0 (geekyutao/GraphIQA LICENSE); the checkpoint\'s terms are its trainer\'s'}
           if args.checkpoint else {'license': 'test model with seeded random weights (no checkpoint)', 'note': f'graphiqa_model.randomize(seed {args.seed}), config {args.config}'})
    manifest = {
        **manifest_head(args.name, 'GraphIQA (Sun et al., TMM 2022): ResNet-50 GAP feature, node MLP + edge GCN over a one-crop graph, HyperPred -> (mean, scale) per crop; score = mean (or a seeded sample), mean over 25 crops'
                        + (' [reduced widths, test model]' if args.config == 'tiny' else '')),
        'model': {'file': os.path.basename(path), 'sha256': sha256(path)},
        'input': float_rgb_input(s, s, MEAN, STD),
        'preprocess': PIPELINES[args.pipeline],
        'outputs': [{'name': 'mean', 'shape': ['batch']}, {'name': 'scale', 'shape': ['batch']}],
        'head': {'type': 'gaussian', 'outputs': ['mean', 'scale'], 'sampling': {'mode': 'mean', 'seed': args.sampling_seed}},
        'score': {'range': [0, 100], 'higherIsBetter': True, 'aggregate': 'mean'},
        'source': src,
        'export': {'tool': 'tools/export/export_graphiqa.py', 'pipeline': args.pipeline, 'config': cfg.to_dict(), 'torch': torch.__version__, 'opset': args.opset},
    }
    write_manifest(args.out_dir, args.name, manifest)
    print(f'wrote {path} ({os.path.getsize(path) / 2**20:.2f} MB) and {args.name}.json')


if __name__ == '__main__':
    main()
