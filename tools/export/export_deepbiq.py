#!/usr/bin/env python3
"""Export DeepBIQ (Bianco, Celona, Napoletano, Schettini, SIViP 2018) as its public PyTorch code runs
it (fyqgit/deepbiq = zhl2007/pytorch-image-quality-param-ctrl deepbiq/: comm_model.py, test.py): a
torchvision AlexNet fine-tuned as a 5-class quality classifier, cut after classifier.4 (fc7 before
its ReLU: 4096 features), then scikit-learn's SVR. The graph is N x 3 x 224 x 224 -> `features`
[N, 4096]; the SVR runs natively through the manifest's `svr` head (libsvm), converted here from
the pickled scikit-learn model into libsvm's text format.

  --checkpoint model_best.pth.tar   the fine-tuned AlexNet (a dict with 'state_dict'; classifier.6
                                    is the 5-class layer, dropped)
  --svr svr_mode.pkl                the fitted sklearn SVR or NuSVR (joblib or pickle), or a Pipeline
                                    of a scaler and an SVR
  --scaler svr_process.pkl          optional: the StandardScaler (or MinMaxScaler) applied to the
                                    features before the SVR
  --no-normalize                    test.py feeds ToTensor values without ImageNet normalisation
                                    (commented out there), while training and test_dataset.py
                                    normalise; the default follows training
  --config tiny                     narrow AlexNet (tests; same layer layout)
  --crops N                         N seeded 224 x 224 crops per image (default 1, as test.py)
  --pool scores | features          with several crops: the mean of the crops' SVR scores (default;
                                    the abstract's "average-pooling the scores predicted on multiple
                                    sub-regions") or the mean of their fc7 features, then the SVR
                                    once (manifest score.aggregate 'feature-mean')

No checkpoint is published (the authors released none; the third-party code trains one). One
224 x 224 crop per image as test.py (RandomCrop(224), unseeded there; seeded here: manifest
preprocess.crop.seed). Checks ORT's features against PyTorch and the libsvm text model against
scikit-learn's predict before writing the manifest.

  python3 tools/export/export_deepbiq.py --checkpoint model_best.pth.tar --svr svr_mode.pkl --out-dir DIR
"""
from __future__ import annotations

import argparse
import os
import pickle
import sys

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export_common import export_arguments, float_rgb_input, manifest_head, sha256, write_manifest  # noqa: E402

MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
FULL = {'conv': [64, 192, 384, 256, 256], 'fc': 4096, 'classes': 5}
TINY = {'conv': [8, 16, 24, 16, 16], 'fc': 48, 'classes': 5}


class AlexNetFc7(nn.Module):
    """torchvision's AlexNet layout (features.*, classifier.1 / .4 / .6) at the given widths; forward
    returns classifier.4's output before its ReLU (comm_model.py pops the last Linear and ReLU)."""

    def __init__(self, cfg):
        super().__init__()
        c = cfg['conv']
        self.features = nn.Sequential(
            nn.Conv2d(3, c[0], 11, 4, 2), nn.ReLU(), nn.MaxPool2d(3, 2),
            nn.Conv2d(c[0], c[1], 5, padding=2), nn.ReLU(), nn.MaxPool2d(3, 2),
            nn.Conv2d(c[1], c[2], 3, padding=1), nn.ReLU(), nn.Conv2d(c[2], c[3], 3, padding=1), nn.ReLU(),
            nn.Conv2d(c[3], c[4], 3, padding=1), nn.ReLU(), nn.MaxPool2d(3, 2))
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        f = cfg['fc']
        self.classifier = nn.Sequential(nn.Dropout(), nn.Linear(c[4] * 36, f), nn.ReLU(), nn.Dropout(), nn.Linear(f, f), nn.ReLU(), nn.Linear(f, cfg['classes']))

    def forward(self, x):
        x = torch.flatten(self.avgpool(self.features(x)), 1)
        for i in range(5):
            x = self.classifier[i](x)
        return x


def load_state(path):
    ck = torch.load(path, map_location='cpu', weights_only=False)
    sd = ck.get('state_dict', ck) if isinstance(ck, dict) else None
    if not isinstance(sd, dict):
        sys.exit(f"{path}: expected a torch checkpoint with 'state_dict' (main.py's model_best.pth.tar)")
    return {k.replace('module.', ''): v for k, v in sd.items()}


def seeded(cfg, seed):
    """He-initialised weights (default init gives near-constant fc7 features on real images)."""
    net = AlexNetFc7(cfg)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                m.weight.copy_(torch.randn(m.weight.shape, generator=g) * (2.0 / m.weight[0].numel()) ** 0.5)
                m.bias.copy_(torch.randn(m.bias.shape, generator=g) * 0.05)
    return net.eval()


def load_pickle(path):
    try:
        import joblib
        return joblib.load(path)
    except ImportError:
        with open(path, 'rb') as f:
            return pickle.load(f)


def unpack_svr(svr, scaler):
    """(SVR, (mean, scale) or None) from the pickles; a Pipeline gives both."""
    if hasattr(svr, 'steps'):
        *pre, (_, last) = svr.steps
        if len(pre) > 1 or scaler is not None:
            sys.exit('--svr: a Pipeline may hold one scaler and the SVR, and then no --scaler')
        scaler, svr = (pre[0][1] if pre else None), last
    if type(svr).__name__ not in ('SVR', 'NuSVR'):
        sys.exit(f'--svr: expected a scikit-learn SVR or NuSVR, got {type(svr).__name__}')
    affine = None
    if scaler is not None:
        name = type(scaler).__name__
        n = svr.support_vectors_.shape[1]
        if name == 'StandardScaler':
            mean = scaler.mean_ if scaler.with_mean else np.zeros(n)
            scale = scaler.scale_ if scaler.with_std else np.ones(n)
        elif name == 'MinMaxScaler':  # x * s + m = (x - (-m / s)) / (1 / s)
            mean, scale = -scaler.min_ / scaler.scale_, 1.0 / scaler.scale_
        else:
            sys.exit(f'--scaler: expected a StandardScaler or MinMaxScaler, got {name}')
        affine = (np.asarray(mean, np.float64), np.asarray(scale, np.float64))
    return svr, affine


def write_libsvm(svr, path):
    """svm-train's text model for a fitted sklearn SVR / NuSVR (sklearn wraps libsvm: same decision
    function sum coef_i K(sv_i, x) - rho, with rho = -intercept_)."""
    kernel = svr.kernel
    if kernel not in ('linear', 'poly', 'rbf', 'sigmoid'):
        sys.exit(f'--svr: kernel {kernel!r} has no libsvm text form (linear, poly, rbf, sigmoid)')
    lines = [f"svm_type {'nu_svr' if type(svr).__name__ == 'NuSVR' else 'epsilon_svr'}", f'kernel_type {kernel}']
    if kernel == 'poly':
        lines.append(f'degree {int(svr.degree)}')
    if kernel != 'linear':
        lines.append(f'gamma {float(svr._gamma)!r}')
    if kernel in ('poly', 'sigmoid'):
        lines.append(f'coef0 {float(svr.coef0)!r}')
    sv, coef = np.asarray(svr.support_vectors_, np.float64), np.asarray(svr.dual_coef_, np.float64).ravel()
    lines += ['nr_class 2', f'total_sv {len(coef)}', f'rho {float(-svr.intercept_[0])!r}', 'SV']
    for c, row in zip(coef, sv):
        lines.append(' '.join([repr(float(c))] + [f'{i + 1}:{float(v)!r}' for i, v in enumerate(row) if v != 0]))
    with open(path, 'w') as f:
        f.write('\n'.join(lines) + '\n')
    return sv.shape[1]


def libsvm_predict(path, x):
    """An evaluation of the written file (parsed back), to check it against scikit-learn."""
    head, svs = {}, []
    with open(path) as f:
        rows = f.read().split('\n')
    i = rows.index('SV')
    for r in rows[:i]:
        k, v = r.split(' ', 1)
        head[k] = v
    n = x.shape[1]
    for r in rows[i + 1:]:
        if r:
            c, *pairs = r.split(' ')
            v = np.zeros(n)
            for p in pairs:
                j, val = p.split(':')
                v[int(j) - 1] = float(val)
            svs.append((float(c), v))
    coef, sv = np.array([c for c, _ in svs]), np.stack([v for _, v in svs])
    g, kern = float(head.get('gamma', 0)), head['kernel_type']
    if kern == 'rbf':
        k = np.exp(-g * ((x[:, None, :] - sv[None]) ** 2).sum(-1))
    elif kern == 'linear':
        k = x @ sv.T
    elif kern == 'poly':
        k = (g * x @ sv.T + float(head['coef0'])) ** int(head['degree'])
    else:
        k = np.tanh(g * x @ sv.T + float(head['coef0']))
    return k @ coef - float(head['rho'])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    export_arguments(ap, 'deepbiq')
    ap.add_argument('--svr', required=True)
    ap.add_argument('--scaler')
    ap.add_argument('--no-normalize', action='store_true')
    ap.add_argument('--crop-seed', type=int, default=0)
    ap.add_argument('--crops', type=int, default=1, help='seeded 224 crops per image')
    ap.add_argument('--pool', choices=['scores', 'features'], default='scores', help='several crops: pool the SVR scores or the fc7 features')
    ap.add_argument('--range', type=float, nargs=2, default=[0, 100], help='score range of the SVR targets (LIVE Challenge MOS: 0-100)')
    args = ap.parse_args()
    if args.crops < 1:
        sys.exit('--crops must be at least 1')
    cfg = TINY if args.config == 'tiny' else FULL
    if args.weights == 'random':
        net = seeded(cfg, args.seed)
    elif not args.checkpoint:
        sys.exit('--checkpoint FILE is required (or --weights random for seeded test weights)')
    else:
        net = AlexNetFc7(cfg)
        missing, unexpected = net.load_state_dict(load_state(args.checkpoint), strict=False)
        if missing or unexpected:
            sys.exit(f'{args.checkpoint} is not a DeepBIQ AlexNet of config {args.config}: missing {missing[:5]}, unexpected {unexpected[:5]}')
        net.eval()
    try:
        svr, affine = unpack_svr(load_pickle(args.svr), load_pickle(args.scaler) if args.scaler else None)
    except (ImportError, ModuleNotFoundError) as e:
        sys.exit(f'reading the pickles needs scikit-learn ({e}): pip install scikit-learn')
    os.makedirs(args.out_dir, exist_ok=True)
    path = os.path.join(args.out_dir, f'{args.name}.onnx')
    svr_path = os.path.join(args.out_dir, f'{args.name}.svr')
    x = torch.rand(3, 3, 224, 224, generator=torch.Generator().manual_seed(7))
    if not args.no_normalize:
        x = (x - torch.tensor(MEAN).view(1, 3, 1, 1)) / torch.tensor(STD).view(1, 3, 1, 1)
    with torch.no_grad():
        ref = net(x).numpy().astype(np.float64)
    features = write_libsvm(svr, svr_path)
    if features != ref.shape[1]:
        sys.exit(f'--svr takes {features} features, the network gives {ref.shape[1]} (another --config?)')
    torch.onnx.export(net, (x[:1],), path, input_names=['input'], output_names=['features'],
                      dynamic_axes={'input': {0: 'batch'}, 'features': {0: 'batch'}}, opset_version=args.opset, dynamo=False)
    import onnxruntime as ort
    got = ort.InferenceSession(path, providers=['CPUExecutionProvider']).run(['features'], {'input': x.numpy()})[0].astype(np.float64)
    err = float(np.max(np.abs(got - ref)))
    scaled = ref if affine is None else (ref - affine[0]) / affine[1]
    sk, ours = svr.predict(scaled), libsvm_predict(svr_path, scaled)
    svr_err = float(np.max(np.abs(sk - ours)))
    print(f'ORT vs PyTorch features max |diff| {err:.3g}; libsvm text vs scikit-learn predict {svr_err:.3g} (scores {np.round(sk, 4).tolist()})')
    if not err <= args.tol * max(1.0, float(np.max(np.abs(ref)))):
        sys.exit(f'ONNX Runtime disagrees with PyTorch: {err} > {args.tol}')
    if not svr_err <= 1e-9 * max(1.0, float(np.max(np.abs(sk)))):
        sys.exit(f'the libsvm text model disagrees with scikit-learn: {svr_err}')
    head = {'type': 'svr', 'output': 'features', 'svr': {'model': os.path.basename(svr_path), 'features': features}}
    if affine is not None:
        head['svr'].update(mean=affine[0].tolist(), scale=affine[1].tolist())
    src = ({'url': 'https://github.com/fyqgit/deepbiq (no checkpoint published; MIT)', 'sha256': sha256(args.checkpoint), 'license': 'MIT (third-party DeepBIQ code); weights: as their trainer states'}
           if args.checkpoint else {'license': 'test model with seeded random weights (no checkpoint)', 'note': f'seed {args.seed}, config {args.config}, SVR {os.path.basename(args.svr)}'})
    manifest = {
        **manifest_head(args.name, 'DeepBIQ (Bianco et al., SIViP 2018): AlexNet fc7 (before ReLU) features of '
                        + ('one 224 x 224 crop, support-vector regression' if args.crops == 1 else
                           f'{args.crops} seeded 224 x 224 crops, ' + ('averaged, then support-vector regression' if args.pool == 'features' else 'support-vector regression per crop, scores averaged'))
                        + (' [narrow test model]' if args.config == 'tiny' else '')),
        'model': {'file': os.path.basename(path), 'sha256': sha256(path)},
        'input': float_rgb_input(224, 224, [0.0] if args.no_normalize else MEAN, [1.0] if args.no_normalize else STD),
        'preprocess': {'resize': None, 'crop': {'policy': 'random', 'count': args.crops, 'seed': args.crop_seed}},
        'outputs': [{'name': 'features', 'shape': ['batch', features]}],
        'head': head,
        'score': {'range': args.range, 'higherIsBetter': True, 'aggregate': 'feature-mean' if args.pool == 'features' else 'mean'},
        'source': src,
        'export': {'tool': 'tools/export/export_deepbiq.py', 'config': cfg, 'svr': {'kernel': svr.kernel, 'supportVectors': int(len(svr.dual_coef_.ravel()))},
                   'torch': torch.__version__, 'opset': args.opset},
    }
    write_manifest(args.out_dir, args.name, manifest)
    print(f'wrote {path} ({os.path.getsize(path) / 2**20:.2f} MB), {os.path.basename(svr_path)} and {args.name}.json')


if __name__ == '__main__':
    main()
