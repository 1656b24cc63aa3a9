#!/usr/bin/env python3
"""Golden SER-FIQ scores for the 'stochastic' face readout (native/core/face/pipeline.cpp) on the
seeded tiny iResNet fixture test/fixtures/face/serfiq-tiny (tools/export/serfiq.py --weights random
--seed 14 --layers 1,1,1,1 --widths 8,16,16,16 --embedding 32), written to test/golden/face_serfiq.json.

Reference path, independent of the split graphs: OpenCV-read aligned 112 crops, BGR / 255, the whole
PyTorch network T = 100 times (as the SER-FIQ authors' demo does) with its Dropout2d replaced by the
same channel masks iqa-node draws (splitmix64(seed 0): u = (next() >> 11) / 2^53, kept when u >= p,
scaled by 1 / (1 - p)); the authors' score: unit embeddings, the mean of the T(T-1)/2 Euclidean
distances, q = 2 / (1 + exp(mean)), then 1 / (1 + exp(-130 (q - 0.88))).

  /work/pyenv/bin/python scripts/golden/face_serfiq_golden.py > test/golden/face_serfiq.json
"""
import json
import math
import os
import sys

import cv2
import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, 'tools', 'export'))
from magface_model import IResNet, seeded  # noqa: E402

SHARED = os.path.join(os.path.dirname(ROOT), 'shared', 'data', 'faces', 'lfw-aligned')
FIX = os.path.join(ROOT, 'test', 'fixtures', 'face', 'serfiq-tiny')
MASK = (1 << 64) - 1
T, P, SEED = 100, 0.4, 0


def masks(channels, p=P, passes=T):
    state, out = SEED, np.zeros((passes, channels), np.float32)
    for t in range(passes):
        for c in range(channels):
            state = (state + 0x9E3779B97F4A7C15) & MASK
            z = state
            z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
            u = ((z ^ (z >> 31)) >> 11) * 2.0 ** -53
            out[t, c] = 1 / (1 - p) if u >= p else 0
    return out


def forward(m, x, mask):
    x = m.prelu(m.bn1(m.conv1(x)))
    x = m.bn2(m.layer4(m.layer3(m.layer2(m.layer1(x))))) * mask[:, :, None, None]
    return m.features(m.fc(torch.flatten(x, 1)))


def main():
    model = seeded(IResNet([1, 1, 1, 1], [8, 16, 16, 16], 32, stem=8), 14).eval()
    # A committed synthetic crop (CI has no ../shared) and six LFW crops.
    pattern = os.path.join(FIX, 'pattern.png')
    if not os.path.exists(pattern):
        yy, xx = np.mgrid[0:112, 0:112]
        img = np.stack([128 + 90 * np.sin(xx / (5 + 3 * c) + yy / 9) for c in range(3)], axis=2)
        cv2.imwrite(pattern, np.clip(np.round(img), 0, 255).astype(np.uint8))
    files = [('fixture', 'pattern.png', pattern)] + [('shared', f, os.path.join(SHARED, f)) for f in
             ['1-Harry_Belafonte_1.jpg', '10-Brent_Coles_2.jpg', '2-Elijah_Wood_1.jpg', '20-Dominique_de_Villepin_2.jpg'] if os.path.exists(os.path.join(SHARED, f))]
    mk = torch.from_numpy(masks(16))
    out = {'generator': 'scripts/golden/face_serfiq_golden.py', 'passes': T, 'dropout': P, 'images': []}
    for where, name, path in files:
        x = torch.from_numpy(cv2.imread(path, cv2.IMREAD_COLOR).astype(np.float32).transpose(2, 0, 1) / np.float32(255))[None]
        with torch.no_grad():
            e = forward(model, x.repeat(T, 1, 1, 1), mk).double().numpy()
            plain = model(x)[0].double().numpy()
        u = e / np.linalg.norm(e, axis=1, keepdims=True)
        d = np.sqrt(np.maximum(0, ((u[:, None, :] - u[None, :, :]) ** 2).sum(-1)))[np.triu_indices(T, k=1)]
        q = 2 / (1 + math.exp(float(d.mean())))
        out['images'].append({'where': where, 'file': name, 'raw': q, 'quality': 100 / (1 + math.exp(-130 * (q - 0.88))), 'embedding': plain.tolist()})
        print(f'{name}: q {q:.6f}', file=sys.stderr)
    json.dump(out, sys.stdout, indent=1)
    print()


if __name__ == '__main__':
    main()
