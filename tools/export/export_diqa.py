#!/usr/bin/env python3
"""Exports DIQA (Kim, Nguyen, Lee, TNNLS 2019) as re-implemented by sandyz1000/deepinsight-iqa to
ONNX: a fully convolutional graph N x 1 x H x W (dynamic N, H, W) -> N x 1 score.

The paper's own network cannot be built (no authors' code or weights, the stage-2 handcrafted
features undefined in any reachable text); this is the re-implementation's network and
preprocessing, with the assumptions listed in models/zoo/diqa.json. Architecture: tools/export/diqa_model.py.

Weights (pick one):
  --checkpoint FILE.h5          Keras weights of the re-implementation's SubjectiveModel
                                (networks/model.py: Conv1..Conv7 + 'bottleneck', dense, dense_1,
                                dense_2), read by layer name with h5py, widths from the kernels;
                                it publishes none
  --weights random [--seed N]   seeded He-normal weights (tests, benchmarks); --widths / --dense
                                shrink the network for small committed fixtures

Preprocessing (manifest mechanisms, run natively): TF rgb_to_grayscale grey (preprocess.gray 'tf'),
high-pass normalisation I - bicubic-up(bicubic-down(Gaussian 16x16 sigma 7/6, 1/4)) with TF's
kernel, SAME zero padding and tf.image.resize bicubic (preprocess.highpass), byte-scale values into
the graph, the whole image at its own size (crop policy 'full'), capped at --max-pixels.

Before writing, ONNX Runtime is compared with PyTorch (explicit TF 'same' padding) on odd and even
sizes and two batch sizes.

Example:
  python tools/export/export_diqa.py --checkpoint diqa-subjective.h5 --out-dir ~/.cache/iqa-node/models/diqa
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from diqa_model import FULL_DENSE, FULL_WIDTHS, Diqa, he_init, load_keras_weights, write_keras_h5  # noqa: E402
from export_common import sha256  # noqa: E402
from patch_export import source, write_manifest  # noqa: E402

HIGHPASS = {'lowpass': {'ksize': 16, 'sigma': 7 / 6}, 'factor': 4, 'interp': 'tf-bicubic'}


def export_same_upper(net: Diqa, path: str, opset: int) -> None:
    """torch.onnx.export with the padding left out, then every Conv marked auto_pad SAME_UPPER:
    TensorFlow's 'same' for any H and W (a traced F.pad would freeze the dummy input's parity)."""
    import onnx
    net.onnx_same = True
    try:
        torch.onnx.export(net, torch.zeros(1, 1, 200, 232), path, input_names=['image'], output_names=['score'],
                          dynamic_axes={'image': {0: 'n', 2: 'h', 3: 'w'}, 'score': {0: 'n'}}, opset_version=opset, dynamo=False)
    finally:
        net.onnx_same = False
    m = onnx.load(path)
    convs = 0
    for node in m.graph.node:
        if node.op_type != 'Conv':
            continue
        kept = [a for a in node.attribute if a.name not in ('pads', 'auto_pad')]
        del node.attribute[:]
        node.attribute.extend(kept + [onnx.helper.make_attribute('auto_pad', 'SAME_UPPER')])
        convs += 1
    if convs != 8:
        sys.exit(f'export_diqa: expected 8 Conv nodes in the exported graph, found {convs}; nothing written')
    onnx.checker.check_model(m)
    onnx.save(m, path)


def check_ort(net: Diqa, path: str, tol: float) -> float:
    import onnxruntime as ort
    sess = ort.InferenceSession(path, providers=['CPUExecutionProvider'])
    rng = np.random.default_rng(1234)
    worst = 0.0
    for n, h, w in ((1, 33, 47), (2, 64, 48), (1, 17, 16), (3, 40, 61)):
        x = rng.normal(0, 30, size=(n, 1, h, w)).astype(np.float32)  # high-pass values on the byte scale
        with torch.no_grad():
            ref = net(torch.from_numpy(x)).numpy()
        got = sess.run(['score'], {'image': x})[0]
        if got.shape != ref.shape:
            sys.exit(f'export_diqa: ORT output shape {got.shape}, torch {ref.shape}; nothing written')
        worst = max(worst, float(np.max(np.abs(got - ref)) / max(1.0, float(np.max(np.abs(ref))))))
    if worst > tol:
        sys.exit(f'export_diqa: ORT differs from PyTorch by {worst:.3g} (> {tol}); nothing written')
    return worst


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--checkpoint')
    p.add_argument('--weights', choices=['checkpoint', 'random'], default='checkpoint')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--out-dir', required=True)
    p.add_argument('--name', default='diqa')
    p.add_argument('--widths', default=','.join(map(str, FULL_WIDTHS)), help='--weights random: the eight conv widths')
    p.add_argument('--dense', type=int, default=FULL_DENSE, help='--weights random: the two dense widths')
    p.add_argument('--output-scale', type=float, default=10.0, help='--weights random: scale of the last layer')
    p.add_argument('--max-pixels', type=int, default=16_000_000, help='largest image scored (ERR_TOO_LARGE beyond)')
    p.add_argument('--write-h5', help='--weights random: also write the weights as a Keras .h5 in the re-implementation\'s layout (tests)')
    p.add_argument('--tolerance', type=float, default=1e-5)
    p.add_argument('--schema-ref', default=None)
    args = p.parse_args()
    widths = tuple(int(v) for v in args.widths.split(','))
    if len(widths) != 8 or min(widths) < 1:
        sys.exit('export_diqa: --widths takes eight positive integers')
    if args.weights == 'random':
        net = he_init(Diqa(widths, args.dense), args.seed, args.output_scale)
    else:
        if not args.checkpoint:
            sys.exit('export_diqa: --checkpoint FILE.h5 is required (or --weights random for seeded test weights)')
        if not os.path.exists(args.checkpoint):
            sys.exit(f'export_diqa: checkpoint not found: {args.checkpoint}')
        net = load_keras_weights(args.checkpoint)
    os.makedirs(args.out_dir, exist_ok=True)
    onnx_file = f'{args.name}.onnx'
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = os.path.join(tmp, onnx_file)
        export_same_upper(net, tmp_path, 17)
        worst = check_ort(net, tmp_path, args.tolerance)
        os.replace(tmp_path, os.path.join(args.out_dir, onnx_file))
    print(f'ORT vs PyTorch: worst relative difference {worst:.3g}')
    if args.write_h5:
        write_keras_h5(net, args.write_h5)
    write_manifest(args.out_dir, manifest(args, onnx_file, sha256(os.path.join(args.out_dir, onnx_file)), widths))


def manifest(args, onnx_file: str, digest: str, widths) -> dict:
    src = source(args, "the re-implementation publishes no weights; its setup.py declares license='APACHE' (no LICENSE file); your checkpoint's terms apply",
                 'J. Kim, A.-D. Nguyen, S. Lee, Deep CNN-Based Blind Image Quality Predictor, IEEE TNNLS 30(1):11-24, 2019',
                 'https://github.com/sandyz1000/deepinsight-iqa (networks/model.py layout)')
    return {
        '$schema': args.schema_ref or './manifest.schema.json',
        'schemaVersion': 1,
        'name': args.name,
        'task': 'nr-iqa',
        'description': 'DIQA as re-implemented by deepinsight-iqa: grey high-pass image -> 8 convs -> GAP -> 2 x Dense(128) -> score; ' +
                       ('weights from ' + os.path.basename(args.checkpoint) if args.weights == 'checkpoint' else f'seeded random weights (seed {args.seed})'),
        'model': {'file': onnx_file, 'sha256': digest},
        # Byte-scale high-pass values (TF on a uint8 image cast to float): scale 'byte', mean 0, std 1.
        'input': {'name': 'image', 'layout': 'NCHW', 'width': 1, 'height': 1, 'channels': 1, 'colorOrder': 'gray', 'dtype': 'float32',
                  'batch': 'dynamic', 'normalize': {'scale': 'byte', 'mean': [0], 'std': [1]}},
        'preprocess': {'gray': 'tf', 'highpass': HIGHPASS, 'crop': {'policy': 'full'}, 'maxPixels': args.max_pixels},
        'outputs': [{'name': 'score', 'shape': ['n', 1]}],
        'head': {'type': 'scalar', 'output': 'score'},
        # The re-implementation regresses MOS of whatever set it was trained on; not clamped.
        'score': {'range': [0, 100], 'higherIsBetter': True, 'aggregate': 'mean'},
        'source': src,
        'export': {'tool': 'tools/export/export_diqa.py', 'weights': args.weights, 'opset': 17,
                   **({'seed': args.seed, 'widths': list(widths), 'dense': args.dense, 'outputScale': args.output_scale} if args.weights == 'random' else {})},
    }


if __name__ == '__main__':
    main()
