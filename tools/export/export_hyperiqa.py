#!/usr/bin/env python3
"""Exports HyperIQA to ONNX (dynamic batch) with an iqa-node manifest.

Weights (pick one):
  --weights authors --checkpoint koniq_pretrained.pkl   the authors' KonIQ-10k checkpoint (SSL92/hyperIQA)
  --weights pyiqa   --checkpoint HyperIQA-resnet50-koniq10k-c96c41b1.pth   pyiqa's re-trained weights
  --weights random  [--seed N]                          seeded random init (tests, benchmarks)

The graph outputs the target network's input vector and per-sample weights/biases (head
'hyperiqa-target', computed by iqa-node natively), or with --fuse-target the per-crop score
(head 'scalar'; batched MatMul inside the graph). Before writing anything the script runs the
graph with ONNX Runtime (CPU) on random inputs and compares it with PyTorch: per-output and
per-crop scores against the authors' TargetNet. --fp16 also writes a half-precision variant
(float32 input/output, computed in fp16; for CUDA). --static-batch N exports a fixed batch N
(no dynamic axis) for ORT's CUDA-graph path.

Examples:
  python tools/export/export_hyperiqa.py --weights authors --checkpoint ~/Downloads/koniq_pretrained.pkl \
      --out-dir models --name hyperiqa-koniq
  python tools/export/export_hyperiqa.py --weights random --seed 0 --out-dir /tmp/hq --name hyperiqa-random
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export_common import seed_batchnorm_stats, sha256  # noqa: E402
from hyperiqa_model import FULL, TINY, HyperNet, HyperNetForExport, IMAGENET_MEAN, IMAGENET_STD, OUTPUT_NAMES, reference_scores  # noqa: E402

AUTHORS_URL = 'https://drive.google.com/file/d/1OOUmnbvpGea0LIGpIWEbOyxfWx6UCiiE/view (koniq_pretrained.pkl, linked from https://github.com/SSL92/hyperIQA)'
PYIQA_URL = 'https://huggingface.co/chaofengc/IQA-PyTorch-Weights/resolve/main/HyperIQA-resnet50-koniq10k-c96c41b1.pth'



def pyiqa_to_authors(sd):
    """Renames pyiqa's HyperNet keys (timm backbone, ModuleLists) to the authors' module names."""
    out = {}
    for k, v in sd.items():
        if k.startswith('base_model.'):
            out['res.' + k[len('base_model.'):]] = v
            continue
        p = k.split('.')
        if p[0] == 'lda_modules':
            i = int(p[1])
            if i < 3 and p[2] == '0':
                out[f'res.lda{i + 1}_pool.0.{p[3]}'] = v
            elif i < 3 and p[2] == '3':
                out[f'res.lda{i + 1}_fc.{p[3]}'] = v
            elif i == 3 and p[2] == '2':
                out[f'res.lda4_fc.{p[3]}'] = v
            else:
                raise KeyError(f'unexpected pyiqa key {k}')
        elif p[0] == 'fc_w_modules':
            i = int(p[1])
            out[f'fc{i + 1}w_conv.{p[-1]}' if i < 4 else f'fc5w_fc.{p[-1]}'] = v
        elif p[0] == 'fc_b_modules':
            out[f'fc{int(p[1]) + 1}b_fc.{p[-1]}'] = v
        elif p[0] == 'conv1':
            out[k] = v
        elif p[0] in ('default_mean', 'default_std'):
            continue
        else:
            raise KeyError(f'unexpected pyiqa key {k}')
    return out


def build(args):
    cfg = TINY if args.config == 'tiny' else FULL
    torch.manual_seed(args.seed)
    net = HyperNet(cfg)
    src = {'url': None, 'sha256': None, 'license': None}
    if args.weights == 'random':
        # Random BN statistics so that the random model's outputs vary with the input like a trained one's.
        seed_batchnorm_stats(net, args.seed + 1)
        src.update(url=None, license='test model with seeded random weights (no checkpoint)', note=f'torch.manual_seed({args.seed}), config {args.config}')
    else:
        if not args.checkpoint:
            sys.exit('--checkpoint is required with --weights authors|pyiqa')
        ckpt = torch.load(args.checkpoint, map_location='cpu', weights_only=False)
        if isinstance(ckpt, dict) and 'params' in ckpt:
            ckpt = ckpt['params']
        if isinstance(ckpt, dict) and 'state_dict' in ckpt:
            ckpt = ckpt['state_dict']
        sd = {k[len('module.'):] if k.startswith('module.') else k: v for k, v in ckpt.items()}
        if args.weights == 'pyiqa':
            sd = pyiqa_to_authors(sd)
        # The backbone's classifier (fc.*) is unused by HyperIQA.
        sd = {k: v for k, v in sd.items() if not k.startswith('res.fc.')}
        missing, unexpected = net.load_state_dict(sd, strict=False)
        if missing or unexpected:
            sys.exit(f'checkpoint does not match HyperIQA: missing {missing[:8]}..., unexpected {unexpected[:8]}...')
        src.update(url=AUTHORS_URL if args.weights == 'authors' else PYIQA_URL, sha256=sha256(args.checkpoint),
                   license='HyperIQA authors: no licence stated in SSL92/hyperIQA (research use); pyiqa weights: IQA-PyTorch terms'
                   if args.weights == 'authors' else 'IQA-PyTorch (chaofengc/IQA-PyTorch) weights, research use (see its README)')
    net.eval()
    return cfg, net, src


TRACE_DEVICE = 'cpu'


def export(net, cfg, path, fuse, half, static_batch, opset, uint8_input=False):
    wrapper = HyperNetForExport(net, fuse_target=fuse, half=half, uint8_input=uint8_input).eval().to(TRACE_DEVICE)
    if half:
        wrapper = wrapper.half()
        wrapper.half_precision = True
    n = static_batch or 2
    s = cfg.input_size
    dummy = torch.randint(0, 256, (n, s, s, 3), dtype=torch.uint8) if uint8_input else torch.rand(n, 3, s, s)
    dummy = dummy.to(TRACE_DEVICE)
    names = ['score'] if fuse else OUTPUT_NAMES
    dyn = None if static_batch else {name: {0: 'batch'} for name in ['input'] + names}
    with torch.no_grad():
        torch.onnx.export(wrapper, (dummy,), path, input_names=['input'], output_names=names, dynamic_axes=dyn,
                          opset_version=opset, dynamo=False, do_constant_folding=True)
    wrapper.to('cpu')  # the check below runs the reference on the CPU
    return names


def target_numpy(outs):
    """Batched target net on the exported outputs (float64) — the form iqa-node's head computes."""
    q = outs[0].astype(np.float64)[:, None, :]
    for i in range(5):
        w, b = outs[1 + 2 * i].astype(np.float64), outs[2 + 2 * i].astype(np.float64)
        q = q @ w.transpose(0, 2, 1) + b[:, None, :]
        if i < 4:
            q = 1 / (1 + np.exp(-np.clip(q, -500, 500)))
    return q.reshape(-1)


def check(net, cfg, path, names, fuse, half, static_batch, tol, uint8_input=False):
    import onnxruntime as ort
    so = ort.SessionOptions()
    sess = ort.InferenceSession(path, so, providers=['CPUExecutionProvider'])
    worst = 0.0
    for n in ([static_batch] if static_batch else [1, 3]):
        s = cfg.input_size
        raw = torch.randint(0, 256, (n, s, s, 3), dtype=torch.uint8)  # BGR, NHWC
        x = raw.permute(0, 3, 1, 2)[:, [2, 1, 0]].float() / 255.0
        x = (x - torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)) / torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
        with torch.no_grad():
            ref = reference_scores(net, x).numpy().astype(np.float64)
        outs = sess.run(names, {'input': raw.numpy() if uint8_input else x.numpy()})
        got = outs[0].astype(np.float64) if fuse else target_numpy(outs)
        diff = float(np.max(np.abs(got - ref)))
        worst = max(worst, diff)
        print(f'  batch {n}: ORT vs PyTorch per-crop score max |diff| = {diff:.3g} (scores {np.round(ref[:3], 4).tolist()}...)')
    limit = tol * (50 if half else 1)
    if not worst <= limit * max(1.0, float(np.max(np.abs(ref)))):
        sys.exit(f'ONNX Runtime disagrees with PyTorch: {worst} > {limit}')
    return worst


# Test-time preprocessing, by whose procedure:
#   authors  SSL92/hyperIQA (KonIQ): torchvision Resize((512, 384)) on the PIL image (height 512,
#            width 384: Pillow bilinear, antialiased), RandomCrop(224) x 25, ImageNet normalisation.
#            The crops are seeded (splitmix64, seed 0) where the authors' are unseeded.
#   pyiqa    pyiqa's hyperiqa: the full image, uniform_crop 25 (a regular grid; images whose short
#            side is at most 224 first enlarged by 225 / short side, torch bilinear).
#   opencv   this project's earlier default: OpenCV area resize to 384x512, the same seeded crops.
PIPELINES = {
    'authors': {'resize': {'width': 384, 'height': 512, 'interp': 'pil-bilinear'}, 'crop': {'policy': 'random', 'count': 25, 'seed': 0}},
    'pyiqa': {'resize': None, 'crop': {'policy': 'uniform', 'count': 25}},
    'opencv': {'resize': {'width': 384, 'height': 512, 'interp': 'area'}, 'crop': {'policy': 'random', 'count': 25, 'seed': 0}},
}


def manifest(args, cfg, names, files, src, fuse):
    t = cfg.target
    outputs = [{'name': 'score', 'shape': ['batch']}] if fuse else [
        {'name': 'target_in_vec', 'shape': ['batch', t[0]]}] + [
        item for i, (o, inn) in enumerate(zip(t[1:] + [1], t)) for item in (
            {'name': f'fc{i + 1}w', 'shape': ['batch', o, inn]}, {'name': f'fc{i + 1}b', 'shape': ['batch', o]})]
    head = {'type': 'scalar', 'output': 'score'} if fuse else {
        'type': 'hyperiqa-target', 'sizes': t + [1], 'outputs': names}
    return {
        '$schema': './manifest.schema.json' if args.schema_ref is None else args.schema_ref,
        'schemaVersion': 1,
        'name': args.name,
        'task': 'nr-iqa',
        'description': 'HyperIQA (Su et al., CVPR 2020): hyper network on a ResNet-50 backbone; per-crop target network; mean over crops'
        + (' [reduced widths, test model]' if args.config == 'tiny' else ''),
        'model': files,
        'input': {'name': 'input', 'layout': 'NHWC', 'width': cfg.input_size, 'height': cfg.input_size, 'channels': 3,
                  'colorOrder': 'bgr', 'dtype': 'uint8', 'batch': args.static_batch or 'dynamic'} if args.uint8_input else
                 {'name': 'input', 'layout': 'NCHW', 'width': cfg.input_size, 'height': cfg.input_size, 'channels': 3,
                  'colorOrder': 'rgb', 'dtype': 'float32', 'batch': args.static_batch or 'dynamic',
                  'normalize': {'scale': 'unit', 'mean': IMAGENET_MEAN, 'std': IMAGENET_STD}},
        'preprocess': PIPELINES[args.pipeline],
        'outputs': outputs,
        'head': head,
        'score': {'range': [0, 100], 'higherIsBetter': True, 'aggregate': 'mean'},
        'source': {k: v for k, v in src.items() if v is not None},
        'export': {'tool': 'tools/export/export_hyperiqa.py', 'weights': args.weights, 'pipeline': args.pipeline, 'config': cfg.to_dict(),
                   'torch': torch.__version__, 'opset': args.opset},
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--weights', choices=['authors', 'pyiqa', 'random'], required=True)
    ap.add_argument('--checkpoint')
    ap.add_argument('--config', choices=['full', 'tiny'], default='full', help='tiny: reduced widths (tests only)')
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--out-dir', required=True)
    ap.add_argument('--name', default='hyperiqa')
    ap.add_argument('--pipeline', choices=sorted(PIPELINES), default='authors',
                    help="test-time preprocessing: the authors' (default), pyiqa's, or OpenCV area resize")
    ap.add_argument('--fuse-target', action='store_true', help="target net inside the graph (head 'scalar')")
    ap.add_argument('--fp16', action='store_true', help='also write an fp16 variant (CUDA)')
    ap.add_argument('--static-batch', type=int, default=0, help='fixed batch size (CUDA graphs); 0 = dynamic')
    ap.add_argument('--uint8-input', action='store_true',
                    help='input is raw uint8 BGR NHWC pixels, normalised inside the graph (4x fewer bytes to pack and copy to the GPU)')
    ap.add_argument('--skip-fp32', action='store_true', help='with --fp16: write only the fp16 graph (the manifest still names the fp32 file)')
    ap.add_argument('--opset', type=int, default=17)
    ap.add_argument('--tol', type=float, default=1e-4)
    ap.add_argument('--schema-ref', default=None, help='$schema value written into the manifest')
    ap.add_argument('--save-state', help='also save the (random) state_dict here, for reference runs')
    ap.add_argument('--trace-device', default='cpu', help="device the graph is traced on ('cuda' is faster for fp16)")
    args = ap.parse_args()
    global TRACE_DEVICE
    TRACE_DEVICE = args.trace_device

    cfg, net, src = build(args)
    os.makedirs(args.out_dir, exist_ok=True)
    suffix = f'.b{args.static_batch}' if args.static_batch else ''
    onnx_name = f'{args.name}{suffix}.onnx'
    path = os.path.join(args.out_dir, onnx_name)
    if not (args.skip_fp32 and args.fp16):
        print(f'exporting {args.weights} weights ({args.config}) -> {path}')
    u8 = args.uint8_input
    if args.skip_fp32 and args.fp16:
        names = ['score'] if args.fuse_target else OUTPUT_NAMES
        files = {'file': onnx_name}
    else:
        names = export(net, cfg, path, args.fuse_target, False, args.static_batch, args.opset, u8)
        check(net, cfg, path, names, args.fuse_target, False, args.static_batch, args.tol, u8)
        files = {'file': onnx_name, 'sha256': sha256(path)}
    if args.fp16:
        fp16_name = f'{args.name}{suffix}.fp16.onnx'
        fp16_path = os.path.join(args.out_dir, fp16_name)
        half_net = HyperNet(cfg)
        half_net.load_state_dict(net.state_dict())
        half_net.eval()
        print(f'exporting the fp16 variant -> {fp16_path}')
        export(half_net, cfg, fp16_path, args.fuse_target, True, args.static_batch, args.opset, u8)
        print('  fp16 vs PyTorch fp32 on ORT CPU (tolerance 1e-2 relative):')
        try:
            check(net, cfg, fp16_path, names, args.fuse_target, True, args.static_batch, 2e-4, u8)
        except SystemExit as e:
            print(f'  fp16 check on CPU: {e}')
        except Exception as e:  # an ORT build without some fp16 CPU kernels: the CUDA run checks it
            print(f'  fp16 check on CPU could not run: {e}')
        files['variants'] = {'fp16': {'file': fp16_name, 'sha256': sha256(fp16_path)}}
    if args.save_state:
        torch.save(net.state_dict(), args.save_state)
    if args.skip_fp32 and args.fp16:
        files['file'] = files['variants']['fp16']['file']  # only the fp16 graph exists
        files['sha256'] = files['variants']['fp16']['sha256']
        del files['variants']
    m = manifest(args, cfg, names, files, src, args.fuse_target)
    mpath = os.path.join(args.out_dir, f'{args.name}{suffix}.json')
    with open(mpath, 'w') as f:
        json.dump(m, f, indent=2)
        f.write('\n')
    print(f'wrote {mpath} ({os.path.getsize(os.path.join(args.out_dir, files["file"])) / 1e6:.1f} MB model)')


if __name__ == '__main__':
    main()
