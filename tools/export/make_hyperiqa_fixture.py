#!/usr/bin/env python3
"""Writes the CI fixture for iqa-node's HyperIQA path: a HyperIQA-shaped model with reduced widths
(seeded random weights), its manifest, three test images and golden per-crop scores computed by
PyTorch with the authors' TargetNet (tools/export/hyperiqa_model.py), independent of the ONNX
graph and of iqa-node's native target head.

  /work/pyenv/bin/python tools/export/make_hyperiqa_fixture.py   # -> test/fixtures/hyperiqa-tiny/
  # full-size parity (not committed: 110 MB): IQA_HYPERIQA_FULL=/tmp/hq-full npx vitest run test/model.test.ts
  /work/pyenv/bin/python tools/export/make_hyperiqa_fixture.py --config full --out /tmp/hq-full

Crop positions follow iqa-node's documented generator (models/manifest.schema.json, crop.seed):
splitmix64 seeded with `seed`; for each crop x = next() % (W - w + 1), then y = next() % (H - h + 1).
"""
import argparse
import json
import os
import subprocess
import sys

import cv2
import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
from hyperiqa_model import FULL, HyperNet, TINY, reference_scores  # noqa: E402

OUT = os.path.join(ROOT, 'test', 'fixtures', 'hyperiqa-tiny')
MASK = (1 << 64) - 1
MEAN = np.array([0.485, 0.456, 0.406], np.float32)
STD = np.array([0.229, 0.224, 0.225], np.float32)


def splitmix64(seed):
    state = seed & MASK
    while True:
        state = (state + 0x9E3779B97F4A7C15) & MASK
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        yield z ^ (z >> 31)


def crop_positions(w, h, cw, ch, count, seed):
    g = splitmix64(seed)
    out = []
    for _ in range(count):
        x = next(g) % (w - cw + 1)
        y = next(g) % (h - ch + 1)
        out.append((int(x), int(y)))
    return out


def test_image(w, h, seed):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.zeros((h, w, 3), np.float32)
    for c in range(3):
        img[..., c] = 128 + 70 * np.sin(xx * (c + 1) / (9 + 4 * seed) + yy / 13) + 40 * (rng.random((h, w)) - 0.5)
    img[h // 3: h // 2, w // 4: w // 2] = rng.integers(0, 256, (h // 2 - h // 3, w // 2 - w // 4, 3))
    return np.clip(np.round(img), 0, 255).astype(np.uint8)  # RGB


def to_tensor(rgb_crop):
    x = (rgb_crop.astype(np.float32) / np.float32(255) - MEAN) * (np.float32(1) / STD)
    return torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1)))


def main():
    global OUT
    ap = argparse.ArgumentParser()
    ap.add_argument('--config', choices=['tiny', 'full'], default='tiny')
    ap.add_argument('--out', default=OUT)
    a = ap.parse_args()
    OUT = a.out
    cfg = TINY if a.config == 'tiny' else FULL
    os.makedirs(OUT, exist_ok=True)
    subprocess.run([sys.executable, os.path.join(HERE, 'export_hyperiqa.py'), '--weights', 'random', '--config', a.config,
                    '--seed', '3', '--out-dir', OUT, '--name', 'model', '--schema-ref', '../../../models/manifest.schema.json',
                    '--save-state', os.path.join('/tmp', 'hyperiqa-tiny-state.pt')], check=True)
    # The same weights (same seed) with a raw uint8 BGR NHWC input, normalised in the graph.
    subprocess.run([sys.executable, os.path.join(HERE, 'export_hyperiqa.py'), '--weights', 'random', '--config', a.config,
                    '--seed', '3', '--out-dir', OUT, '--name', 'model-u8', '--uint8-input',
                    '--schema-ref', '../../../models/manifest.schema.json'], check=True)
    for stem, name in (('model', 'hyperiqa-tiny'), ('model-u8', 'hyperiqa-tiny-u8')):
        mpath = os.path.join(OUT, f'{stem}.json')
        m = json.load(open(mpath))
        m['name'] = name if a.config == 'tiny' else name.replace('tiny', 'full-random')
        m['preprocess'] = {'resize': None, 'crop': {'policy': 'random', 'count': 5, 'seed': 7}}
        m['score']['range'] = [-10, 10]
        json.dump(m, open(mpath, 'w'), indent=2)
        open(mpath, 'a').write('\n')
    # The same graph under the 'authors' and 'pyiqa' pipelines of export_hyperiqa.py (golden:
    # scripts/golden/hyperiqa_pipelines.py).
    sys.path.insert(0, HERE)
    from export_hyperiqa import PIPELINES  # noqa: E402
    for pipeline in ('authors', 'pyiqa'):
        m = json.load(open(os.path.join(OUT, 'model.json')))
        m['name'] = f'hyperiqa-tiny-{pipeline}'
        m['preprocess'] = PIPELINES[pipeline]
        with open(os.path.join(OUT, f'model-{pipeline}.json'), 'w') as f:
            json.dump(m, f, indent=2)
            f.write('\n')
    manifest = json.load(open(os.path.join(OUT, 'model.json')))

    net = HyperNet(cfg)
    net.load_state_dict(torch.load('/tmp/hyperiqa-tiny-state.pt'))
    net.eval()
    size = cfg.input_size
    golden = {'generator': 'tools/export/make_hyperiqa_fixture.py', 'reference': 'PyTorch, authors\' HyperNet + TargetNet (grouped conv), float32',
              'torch': torch.__version__, 'crop': manifest['preprocess']['crop'], 'images': []}
    for i, (w, h) in enumerate([(260, 240), (224, 224), (300, 231)]):
        rgb = test_image(w, h, i)
        name = f'img{i}.png'
        cv2.imwrite(os.path.join(OUT, name), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        pos = crop_positions(w, h, size, size, 5, 7)
        batch = torch.stack([to_tensor(rgb[y:y + size, x:x + size]) for x, y in pos])
        center = ((w - size) // 2, (h - size) // 2)
        cx, cy = center
        with torch.no_grad():
            scores = reference_scores(net, batch).double().numpy()
            center_score = float(reference_scores(net, to_tensor(rgb[cy:cy + size, cx:cx + size])[None]).double()[0])
        golden['images'].append({'file': name, 'width': w, 'height': h, 'crops': [list(p) for p in pos],
                                 'cropScores': scores.tolist(), 'score': float(scores.mean()),
                                 'centerCrop': list(center), 'centerScore': center_score})
        print(f'{name}: {w}x{h} crops {pos} -> mean {scores.mean():.6f}, centre {center_score:.6f}')
    with open(os.path.join(OUT, 'golden.json'), 'w') as f:
        json.dump(golden, f, indent=2)
        f.write('\n')


if __name__ == '__main__':
    main()
