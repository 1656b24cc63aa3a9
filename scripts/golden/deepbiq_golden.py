#!/usr/bin/env python3
"""The DeepBIQ test fixture (test/fixtures/deepbiq-tiny) and goldens (test/golden/deepbiq_tiny.json).

1. A seeded narrow AlexNet in the third-party code's checkpoint layout ({'state_dict', 'epoch'}, with
   the 5-class classifier.6), written here with plain tensors.
2. fc7 features (before ReLU) by a functional PyTorch forward (F.conv2d / F.max_pool2d / F.linear,
   not the exporter's module) of seeded crops of noise images; a scikit-learn StandardScaler + RBF
   SVR fitted on them against seeded targets, pickled with joblib as svr_process.pkl / svr_mode.pkl.
3. tools/export/export_deepbiq.py converts the three files into the fixture (ONNX + libsvm text).
4. The goldens: test.py's procedure on each image (PIL open, convert('RGB'), one 224 crop at
   iqa-node's seeded position (splitmix64(0): x = next() % (W - 223), y = next() % (H - 223); test.py's
   RandomCrop is unseeded), ToTensor, ImageNet Normalize as in training) -> functional AlexNet ->
   scaler.transform -> svr.predict.
5. The multi-crop variants (export_deepbiq.py --crops 5 --pool features: test/fixtures/deepbiq-tiny/
   deepbiq-tiny-features5.json, the same graph and SVR): five crops at iqa-node's seeded positions
   (x, y, x, y, ... from one splitmix64(0)); 'featureMean5' = svr.predict(scaler.transform(mean of
   the five fc7 vectors)), and 'scoreMean5' = the mean of the five crops' svr.predict, which the
   feature pooling must not be.
6. Images: the fixture images, the five calibration images ('shared') and the first 20 BIQ2021
   images by name ('biq2021', 512 x 512 JPEGs) of ../shared when it is there, all scored by 4. and 5.

  /work/pyenv/bin/python scripts/golden/deepbiq_golden.py > test/golden/deepbiq_tiny.json
"""
import csv
import json
import os
import subprocess
import sys
import tempfile

import joblib
import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVR
from torchvision.transforms import functional as TF

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, 'tools', 'export'))
from make_hyperiqa_fixture import crop_positions  # noqa: E402  (iqa-node's documented seeded crop positions)

FIX = os.path.join(ROOT, 'test', 'fixtures', 'deepbiq-tiny')
SHARED = os.path.join(os.path.dirname(ROOT), 'shared', 'data', 'calibration', 'dist_dir')
BIQ2021 = os.path.join(os.path.dirname(ROOT), 'shared', 'data', 'biq2021')
IMAGES = os.path.join(ROOT, 'test', 'fixtures', 'hyperiqa-tiny')
CONV, FC, SEED = [8, 16, 24, 16, 16], 48, 4
MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
# torchvision AlexNet: (index in features, kernel, stride, padding) of each conv
CONVS = [(0, 11, 4, 2), (3, 5, 1, 2), (6, 3, 1, 1), (8, 3, 1, 1), (10, 3, 1, 1)]


def state_dict():
    g = torch.Generator().manual_seed(SEED)
    sd, cin = {}, 3
    for (i, k, _, _), c in zip(CONVS, CONV):
        sd[f'features.{i}.weight'] = torch.randn(c, cin, k, k, generator=g) * (2.0 / (cin * k * k)) ** 0.5
        sd[f'features.{i}.bias'] = torch.randn(c, generator=g) * 0.05
        cin = c
    for i, (a, b) in [(1, (CONV[-1] * 36, FC)), (4, (FC, FC)), (6, (FC, 5))]:
        sd[f'classifier.{i}.weight'] = torch.randn(b, a, generator=g) * (2.0 / a) ** 0.5
        sd[f'classifier.{i}.bias'] = torch.randn(b, generator=g) * 0.05
    return sd


def fc7(sd, x):
    """AlexNet up to classifier.4 (comm_model.py pops the last Linear and ReLU)."""
    for i, _, s, p in CONVS:
        x = F.relu(F.conv2d(x, sd[f'features.{i}.weight'], sd[f'features.{i}.bias'], s, p))
        if i in (0, 3, 10):
            x = F.max_pool2d(x, 3, 2)
    x = F.adaptive_avg_pool2d(x, (6, 6)).flatten(1)
    x = F.relu(F.linear(x, sd['classifier.1.weight'], sd['classifier.1.bias']))
    return F.linear(x, sd['classifier.4.weight'], sd['classifier.4.bias'])


def crops_tensor(img, n, seed=0):
    """n crops at iqa-node's seeded positions: one splitmix64 stream, x then y for each crop."""
    return torch.stack([TF.normalize(TF.to_tensor(TF.crop(img, y, x, 224, 224)), MEAN, STD)
                        for x, y in crop_positions(img.width, img.height, 224, 224, n, seed)])


def crop_tensor(img, seed=0):
    return crops_tensor(img, 1, seed)[0]


MULTI = 5


def main():
    sd = state_dict()
    rng = np.random.default_rng(SEED)
    # Training features: crops of smooth random images (noise blurred by a resize), seeded targets.
    train = []
    for _ in range(40):
        small = rng.integers(0, 256, (rng.integers(4, 24), rng.integers(4, 24), 3), dtype=np.uint8)
        train.append(crop_tensor(Image.fromarray(small).resize((256, 256), Image.BILINEAR), int(rng.integers(0, 1 << 31))))
    with torch.no_grad():
        feats = fc7({k: v.double() for k, v in sd.items()}, torch.stack(train).double()).numpy()
    scaler = StandardScaler().fit(feats)
    svr = SVR(kernel='rbf', C=20.0, epsilon=0.5, gamma='scale').fit(scaler.transform(feats), rng.uniform(10, 90, len(feats)))
    os.makedirs(FIX, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        ck, mode, proc = (os.path.join(tmp, n) for n in ('model_best.pth.tar', 'svr_mode.pkl', 'svr_process.pkl'))
        torch.save({'state_dict': sd, 'epoch': 1}, ck)
        joblib.dump(svr, mode)
        joblib.dump(scaler, proc)
        subprocess.run([sys.executable, os.path.join(ROOT, 'tools/export/export_deepbiq.py'), '--checkpoint', ck, '--svr', mode, '--scaler', proc, '--config', 'tiny',
                        '--out-dir', FIX, '--name', 'deepbiq-tiny'], check=True, stdout=sys.stderr)
        multi = os.path.join(tmp, 'multi')
        subprocess.run([sys.executable, os.path.join(ROOT, 'tools/export/export_deepbiq.py'), '--checkpoint', ck, '--svr', mode, '--scaler', proc, '--config', 'tiny',
                        '--crops', str(MULTI), '--pool', 'features', '--out-dir', multi, '--name', 'deepbiq-tiny'], check=True, stdout=sys.stderr)
        for f in ('deepbiq-tiny.onnx', 'deepbiq-tiny.svr'):  # the variant shares the fixture's graph and SVR
            with open(os.path.join(multi, f), 'rb') as a, open(os.path.join(FIX, f), 'rb') as b:
                if a.read() != b.read():
                    sys.exit(f'the multi-crop export wrote another {f}')
        with open(os.path.join(multi, 'deepbiq-tiny.json')) as a, open(os.path.join(FIX, f'deepbiq-tiny-features{MULTI}.json'), 'w') as b:
            b.write(a.read())
        # The import test needs the authors' files without scikit-learn's pickles being rebuilt.
        for src, dst in ((ck, 'model_best.pth.tar'), (mode, 'svr_mode.pkl'), (proc, 'svr_process.pkl')):
            with open(src, 'rb') as a, open(os.path.join(FIX, 'source-' + dst), 'wb') as b:
                b.write(a.read())
    images = [('fixture', f) for f in sorted(os.listdir(IMAGES)) if f.endswith('.png')]
    images += [('shared', f) for f in sorted(os.listdir(SHARED))] if os.path.isdir(SHARED) else []
    if os.path.isdir(BIQ2021):
        with open(os.path.join(BIQ2021, 'train-subset.csv')) as f:
            images += [('biq2021', n) for n in sorted(r['image'] for r in csv.DictReader(f))[:20]]
    folder = {'fixture': IMAGES, 'shared': SHARED, 'biq2021': os.path.join(BIQ2021, 'images')}
    out = []
    sd64 = {k: v.double() for k, v in sd.items()}
    for where, f in images:
        img = Image.open(os.path.join(folder[where], f)).convert('RGB')
        with torch.no_grad():
            feat = fc7(sd64, crop_tensor(img)[None].double()).numpy()
            multi = fc7(sd64, crops_tensor(img, MULTI).double()).numpy()
        out.append({'where': where, 'file': f, 'score': float(svr.predict(scaler.transform(feat))[0]),
                    f'featureMean{MULTI}': float(svr.predict(scaler.transform(multi.mean(0, keepdims=True)))[0]),
                    f'scoreMean{MULTI}': float(svr.predict(scaler.transform(multi)).mean())})
        print(f"{f}: {out[-1]['score']:.6f}, {MULTI} crops: features pooled {out[-1][f'featureMean{MULTI}']:.6f}, scores pooled {out[-1][f'scoreMean{MULTI}']:.6f}", file=sys.stderr)
    json.dump({'source': 'scripts/golden/deepbiq_golden.py', 'seed': SEED, 'multiCrops': MULTI, 'supportVectors': int(len(svr.dual_coef_.ravel())), 'images': out}, sys.stdout, indent=2)
    print()


if __name__ == '__main__':
    main()
