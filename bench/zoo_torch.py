#!/usr/bin/env python3
"""PyTorch reference pipelines for bench/zoo-cpu.mjs, each the authors' test-time procedure run
eagerly image by image; prints one JSON line: images, seconds, images/s, peak RSS.

  cnniqa   scripts/golden/cnniqa_reference.py's procedure (PIL convert('L'), range(0, H-32, 32)
           patches, scipy 3x3 LCN per patch, the net on all patches of an image, mean)

  wadiqam  scripts/golden/wadiqam_reference.py's procedure (RGB 0..255, floor(H/32) x floor(W/32)
           patches, the net on all patches of an image, sum(q a) / sum(a)); seeded full-size weights
           or a Chainer HDF5 checkpoint

  koniqplusplus  the authors' test_image.py --resize procedure (PIL RGB, torchvision resize to
           480 x 640, to_tensor, ImageNet normalize, one pass, q k + b) with
           tools/export/koniqplusplus_model.py (their Model_Joint layout), seeded full-size weights

  python bench/zoo_torch.py --model cnniqa|wadiqam|koniqplusplus (--checkpoint FILE | --seed 0) --threads 2 IMAGE...
"""
import argparse
import json
import os
import resource
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'scripts', 'golden'))
import cnniqa_reference  # noqa: E402  (also puts tools/export on the path)
import wadiqam_reference  # noqa: E402
import wadiqam_model  # noqa: E402
from export_cnniqa import CNNIQA, seeded_model  # noqa: E402


def cnniqa(a):
    if a.checkpoint:
        net = CNNIQA()
        net.load_state_dict(torch.load(a.checkpoint, map_location='cpu', weights_only=True))
    else:
        net = seeded_model(a.seed)
    net.eval()

    def score(path):
        with torch.no_grad():
            return float(net(torch.from_numpy(cnniqa_reference.patches(path))).mean())
    return score


def wadiqam(a):
    if a.checkpoint:
        net = wadiqam_model.WaDIQaMNR(True)
        wadiqam_model.load_chainer_hdf5(net, a.checkpoint)
    else:
        net = wadiqam_model.seeded_model(a.seed, True)
    net.eval()
    return lambda path: wadiqam_reference.score(net, path)['score']


def koniqplusplus(a):
    from PIL import Image
    from torchvision.transforms.functional import normalize, resize, to_tensor
    from koniqplusplus_model import FULL, seeded
    net, k, b = seeded(FULL, a.seed)

    def score(path):
        im = resize(Image.open(path).convert('RGB'), (480, 640))
        x = normalize(to_tensor(im), [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]).unsqueeze(0)
        with torch.no_grad():
            return float(net(x)[0][0, 0]) * k + b
    return score


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--model', choices=['cnniqa', 'wadiqam', 'koniqplusplus'], required=True)
    ap.add_argument('--checkpoint')
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--threads', type=int, default=0)
    ap.add_argument('--warmup', type=int, default=2)
    ap.add_argument('images', nargs='+')
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    score = {'cnniqa': cnniqa, 'wadiqam': wadiqam, 'koniqplusplus': koniqplusplus}[a.model](a)
    for p in a.images[:a.warmup]:
        score(p)
    t = time.perf_counter()
    scores = [score(p) for p in a.images]
    s = time.perf_counter() - t
    print(json.dumps({'images': len(scores), 'seconds': s, 'imagesPerSecond': len(scores) / s, 'threads': torch.get_num_threads(),
                      'maxRssMiB': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 'scores': scores}))


if __name__ == '__main__':
    main()
